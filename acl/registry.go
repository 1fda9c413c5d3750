package acl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Registry holds the users. The default user always exists and keeps its
// identity (connections hold it) across ACL LOAD.
type Registry struct {
	mu    sync.RWMutex
	users map[string]*User
	def   *User
}

// NewRegistry returns a registry with only the default user, as Redis
// creates it: on, nopass, ~*, &*, +@all.
func NewRegistry() *Registry {
	def := newUser("default")
	def.r.Store(defaultRules())
	return &Registry{users: map[string]*User{"default": def}, def: def}
}

func defaultRules() *rules {
	r := &rules{}
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		if err := r.apply(op); err != nil {
			panic(err)
		}
	}
	r.refresh()
	return r
}

// Default returns the default user.
func (g *Registry) Default() *User { return g.def }

// Get returns the user named name, or nil.
func (g *Registry) Get(name string) *User {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.users[name]
}

// Authenticate returns the user if name exists, is on and pass is one of
// its passwords (or it is nopass); nil otherwise.
func (g *Registry) Authenticate(name, pass []byte) *User {
	u := g.Get(string(name))
	if u == nil || !u.CheckPassword(pass) {
		return nil
	}
	return u
}

// SetUserError is ACL SETUSER's error for one rule.
type SetUserError struct {
	Op  string
	Err error
}

func (e *SetUserError) Error() string {
	return "Error in ACL SETUSER modifier '" + e.Op + "': " + e.Err.Error()
}

func (e *SetUserError) Unwrap() error { return e.Err }

// applyOps applies ops to a copy of r; on error r is unchanged.
func applyOps(r *rules, ops []string) (*rules, error) {
	n := r.clone()
	for _, op := range ops {
		if err := n.apply(op); err != nil {
			return nil, &SetUserError{Op: op, Err: err}
		}
	}
	n.refresh()
	return n, nil
}

// ErrUserName is returned for a user name with spaces or NUL bytes.
var ErrUserName = errors.New("Usernames can't contain spaces or null characters")

// SetUser creates or modifies a user: all rules apply, or none.
func (g *Registry) SetUser(name string, ops ...string) error {
	if hasSpaces(name) {
		return ErrUserName
	}
	for _, op := range ops {
		if len(op) > 0 && op[0] == '(' {
			return &SetUserError{Op: op, Err: ErrNoSelectors}
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.users[name]
	base := &rules{}
	if u != nil {
		base = u.r.Load()
	}
	n, err := applyOps(base, ops)
	if err != nil {
		return err
	}
	if u == nil {
		u = newUser(name)
		g.users[name] = u
	}
	u.r.Store(n)
	return nil
}

// SetDefaultPassword makes pw the default user's only password, or the
// default user nopass if pw is empty: what requirepass means.
func (g *Registry) SetDefaultPassword(pw string) {
	op := "nopass"
	if pw != "" {
		op = ">" + pw
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	n, err := applyOps(g.def.r.Load(), []string{"resetpass", op})
	if err != nil {
		panic(err)
	}
	g.def.r.Store(n)
}

// ErrDeleteDefault is ACL DELUSER default's error.
var ErrDeleteDefault = errors.New("The 'default' user cannot be removed")

// DelUser removes the named users and returns those that existed.
func (g *Registry) DelUser(names ...string) ([]*User, error) {
	if slices.Contains(names, "default") {
		return nil, ErrDeleteDefault
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*User
	for _, n := range names {
		if u := g.users[n]; u != nil {
			delete(g.users, n)
			u.r.Store(&rules{}) // a connection still holding it can do nothing
			out = append(out, u)
		}
	}
	return out, nil
}

// Names returns the user names in byte order (ACL USERS).
func (g *Registry) Names() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	names := make([]string, 0, len(g.users))
	for n := range g.users {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// List returns "user NAME RULES" for every user in name order (ACL LIST,
// and the lines of an ACL file).
func (g *Registry) List() []string {
	var out []string
	for _, n := range g.Names() {
		if u := g.Get(n); u != nil {
			out = append(out, "user "+n+" "+u.Describe())
		}
	}
	return out
}

// ParseFile reads an ACL file in Redis's format: one "user NAME rules..."
// per line, blank lines allowed, nothing else (not even comments: ACL SAVE
// rewrites the file). It returns the users it defines, or every problem
// found, each with its line number, worded as Redis words them. name is
// the file name used in messages.
func ParseFile(name string, data []byte) (map[string]*User, error) {
	users := map[string]*User{}
	var errs strings.Builder
	for i, line := range bytes.Split(data, []byte("\n")) {
		ln := i + 1
		text := strings.Trim(string(line), " \t\r\n")
		if text == "" {
			continue
		}
		argv := strings.Split(text, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", name, ln)
			continue
		}
		uname := argv[1]
		if hasSpaces(uname) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", name, ln, uname)
			continue
		}
		if users[uname] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", uname, ln)
			continue
		}
		r := &rules{}
		syntaxErr := false
		for _, op := range argv[2:] {
			op = strings.Trim(op, "\t\r\n")
			if err := r.apply(op); err != nil {
				switch {
				case errors.Is(err, ErrUnknownName), errors.Is(err, ErrNoSelectors):
					fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", name, ln, op, err)
				case !syntaxErr:
					fmt.Fprintf(&errs, "%s:%d: %s. ", name, ln, err)
					syntaxErr = true
				}
			}
		}
		r.refresh()
		u := newUser(uname)
		u.r.Store(r)
		users[uname] = u
	}
	if errs.Len() > 0 {
		errs.WriteString("WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
		return nil, errors.New(errs.String())
	}
	return users, nil
}

// Load replaces every user with those of the ACL file at path (ACL LOAD);
// on any error nothing changes. The default user keeps its identity and
// takes the file's rules (Redis's defaults if the file has none). It
// returns the users that were replaced: their connections must be closed.
func (g *Registry) Load(path string) ([]*User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("Error loading ACLs, opening file '%s': %s", path, errText(err))
	}
	users, err := ParseFile(path, data)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var old []*User
	for n, u := range g.users {
		if n != "default" {
			u.r.Store(&rules{}) // a connection still holding it can do nothing
			old = append(old, u)
		}
	}
	if d := users["default"]; d != nil {
		g.def.r.Store(d.r.Load())
	} else {
		g.def.r.Store(defaultRules())
	}
	users["default"] = g.def
	g.users = users
	return old, nil
}

// errText is strerror's wording for the common file errors.
func errText(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Save writes every user to path (ACL SAVE): a temporary file in the same
// directory, then a rename over path.
func (g *Registry) Save(path string) error {
	var b strings.Builder
	for _, l := range g.List() {
		b.WriteString(l + "\n")
	}
	tmp := fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), time.Now().UnixMilli())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
