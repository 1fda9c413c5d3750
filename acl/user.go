package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
)

type keyPerm uint8

const (
	permRead  keyPerm = 1
	permWrite keyPerm = 2
	permAll           = permRead | permWrite
)

type keyPattern struct {
	perm    keyPerm
	pattern string
}

func (p keyPattern) String() string {
	switch p.perm {
	case permRead:
		return "%R~" + p.pattern
	case permWrite:
		return "%W~" + p.pattern
	}
	return "~" + p.pattern
}

// rules is a user's complete state. A published rules value is never
// modified: changes build a copy and swap it in, so the command path reads
// a user's rules with one atomic load and no lock.
type rules struct {
	enabled     bool
	nopass      bool
	sanitize    int8     // 0 unset, 1 sanitize-payload, -1 skip-sanitize-payload (listed only)
	passwords   []string // SHA-256 hex digests, in the order added
	allKeys     bool
	patterns    []keyPattern
	allChannels bool
	channels    []string
	allCommands bool // +@all and no command removed since: the bitmap need not be read
	bits        [maxCommands / 64]uint64
	firstArgs   map[int][]string // allowed first arguments of otherwise denied commands (+select|0)
	// unrestricted: every command, key and channel allowed. The dispatch
	// path tests only this for the default user of a server without ACLs.
	unrestricted bool
}

func (r *rules) clone() *rules {
	c := *r
	c.passwords = slices.Clone(r.passwords)
	c.patterns = slices.Clone(r.patterns)
	c.channels = slices.Clone(r.channels)
	if r.firstArgs != nil {
		c.firstArgs = make(map[int][]string, len(r.firstArgs))
		for k, v := range r.firstArgs {
			c.firstArgs[k] = slices.Clone(v)
		}
	}
	return &c
}

func (r *rules) bit(id int) bool { return r.bits[id/64]&(1<<(id%64)) != 0 }

func (r *rules) setBit(id int, v bool) {
	if v {
		r.bits[id/64] |= 1 << (id % 64)
	} else {
		r.bits[id/64] &^= 1 << (id % 64)
		r.allCommands = false
	}
}

// changePerm allows or denies a command and, for a container, all its
// subcommands (acl.c ACLChangeSelectorPerm).
func (r *rules) changePerm(c *Command, v bool) {
	r.setBit(c.ID, v)
	delete(r.firstArgs, c.ID)
	for _, s := range c.Subs {
		r.setBit(s.ID, v)
	}
}

func (r *rules) setCategory(cat Category, v bool) {
	for _, c := range Commands() {
		if c.Cats&cat != 0 {
			r.changePerm(c, v)
		}
	}
}

// User is an ACL user. Its rules change atomically: a connection
// authenticated as the user sees each ACL SETUSER whole, from its next
// command on.
type User struct {
	name string
	r    atomic.Pointer[rules]
}

// Name is the user's name.
func (u *User) Name() string { return u.name }

func (u *User) rules() *rules { return u.r.Load() }

// Unrestricted reports whether the user may run every command on every key
// and channel, so that no per-command check is needed.
func (u *User) Unrestricted() bool { return u.r.Load().unrestricted }

// AllKeysReadable reports whether the user may read every key: allkeys,
// or a pattern of exactly "*" with read permission (acl.c
// ACLSelectorHasUnrestrictedKeyAccess). SORT asks it before BY and GET
// patterns read keys that no ACL key check has seen.
func (u *User) AllKeysReadable() bool {
	r := u.r.Load()
	if r.allKeys {
		return true
	}
	for _, p := range r.patterns {
		if p.pattern == "*" && p.perm&permRead != 0 {
			return true
		}
	}
	return false
}

// Enabled reports whether the user is "on".
func (u *User) Enabled() bool { return u.r.Load().enabled }

// NoPass reports whether the user accepts any password.
func (u *User) NoPass() bool { return u.r.Load().nopass }

// newUser returns a user as Redis creates one: off, no passwords, no
// commands, no keys, no channels.
func newUser(name string) *User {
	u := &User{name: name}
	u.r.Store(&rules{})
	return u
}

// CheckPassword reports whether pass is one of the user's passwords, and
// the user is enabled. It compares SHA-256 digests, as Redis stores them,
// in constant time.
func (u *User) CheckPassword(pass []byte) bool {
	r := u.r.Load()
	if !r.enabled {
		return false
	}
	if r.nopass {
		return true
	}
	h := hashPassword(pass)
	ok := 0
	for _, p := range r.passwords {
		ok |= subtle.ConstantTimeCompare([]byte(p), []byte(h))
	}
	return ok == 1
}

func hashPassword(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Rule errors, worded as Redis's ACLSetUserStringError.
var (
	ErrUnknownName  = errors.New("Unknown command or category name in ACL")
	ErrRuleSyntax   = errors.New("Syntax error")
	ErrKeyAfterAll  = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	ErrChanAfterAll = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	ErrNoSuchPass   = errors.New("The password you are trying to remove from the user does not exist")
	ErrBadHash      = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	ErrSubFirstArg  = errors.New("Allowing first-arg of a subcommand is not supported")
	ErrNoSelectors  = errors.New("Selectors are not supported by sessiond")
)

func hasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0:
			return true
		}
	}
	return false
}

// apply applies one rule to r (acl.c ACLSetUser and ACLSetSelector).
func (r *rules) apply(op string) error {
	if op == "" {
		return nil
	}
	switch strings.ToLower(op) {
	case "on":
		r.enabled = true
		return nil
	case "off":
		r.enabled = false
		return nil
	case "skip-sanitize-payload":
		r.sanitize = -1
		return nil
	case "sanitize-payload":
		r.sanitize = 1
		return nil
	case "nopass":
		r.nopass, r.passwords = true, nil
		return nil
	case "resetpass":
		r.nopass, r.passwords = false, nil
		return nil
	case "clearselectors":
		return nil // sessiond users have only the root selector
	case "reset":
		r.nopass, r.passwords = false, nil
		r.allKeys, r.patterns = false, nil
		r.allChannels, r.channels = false, nil
		r.enabled = false
		r.sanitize = 1
		r.applyAll(false)
		return nil
	case "allkeys", "~*":
		r.allKeys, r.patterns = true, nil
		return nil
	case "resetkeys":
		r.allKeys, r.patterns = false, nil
		return nil
	case "allchannels", "&*":
		r.allChannels, r.channels = true, nil
		return nil
	case "resetchannels":
		r.allChannels, r.channels = false, nil
		return nil
	case "allcommands", "+@all":
		r.applyAll(true)
		return nil
	case "nocommands", "-@all":
		r.applyAll(false)
		return nil
	}
	switch op[0] {
	case '>', '#':
		var h string
		if op[0] == '>' {
			h = hashPassword([]byte(op[1:]))
		} else {
			if h = op[1:]; !validHash(h) {
				return ErrBadHash
			}
		}
		if !slices.Contains(r.passwords, h) {
			r.passwords = append(r.passwords, h)
		}
		r.nopass = false
		return nil
	case '<', '!':
		var h string
		if op[0] == '<' {
			h = hashPassword([]byte(op[1:]))
		} else {
			if h = op[1:]; !validHash(h) {
				return ErrBadHash
			}
		}
		i := slices.Index(r.passwords, h)
		if i < 0 {
			return ErrNoSuchPass
		}
		r.passwords = slices.Delete(r.passwords, i, i+1)
		return nil
	case '(':
		if op[len(op)-1] == ')' {
			return ErrNoSelectors
		}
	case '~', '%':
		return r.addKeyPattern(op)
	case '&':
		if r.allChannels {
			return ErrChanAfterAll
		}
		if hasSpaces(op[1:]) {
			return ErrRuleSyntax
		}
		if !slices.Contains(r.channels, op[1:]) {
			r.channels = append(r.channels, op[1:])
		}
		return nil
	case '+', '-':
		if len(op) > 1 && op[1] == '@' {
			cat, ok := CategoryByName(op[2:])
			if !ok {
				return ErrUnknownName
			}
			r.setCategory(cat, op[0] == '+')
			return nil
		}
		return r.applyCommand(op)
	}
	return ErrRuleSyntax
}

func (r *rules) applyAll(v bool) {
	var w uint64
	if v {
		w = ^uint64(0)
	}
	for i := range r.bits {
		r.bits[i] = w
	}
	r.allCommands = v
	r.firstArgs = nil
}

func (r *rules) addKeyPattern(op string) error {
	if r.allKeys {
		return ErrKeyAfterAll
	}
	perm, off := permAll, 1
	if op[0] == '%' {
		perm = 0
		for ; off < len(op); off++ {
			switch c := op[off]; {
			case (c == 'R' || c == 'r') && perm&permRead == 0:
				perm |= permRead
			case (c == 'W' || c == 'w') && perm&permWrite == 0:
				perm |= permWrite
			case c == '~':
				off++
				goto done
			default:
				return ErrRuleSyntax
			}
		}
	done:
	}
	pat := op[off:]
	if hasSpaces(pat) {
		return ErrRuleSyntax
	}
	if perm == 0 { // "%" or "%~": Redis stores a pattern with no permission, which it cannot describe
		return ErrRuleSyntax
	}
	for i := range r.patterns {
		if r.patterns[i].pattern == pat {
			r.patterns[i].perm |= perm
			return nil
		}
	}
	r.patterns = append(r.patterns, keyPattern{perm: perm, pattern: pat})
	return nil
}

func (r *rules) applyCommand(op string) error {
	name := op[1:]
	if op[0] == '-' {
		c := Lookup(name)
		if c == nil {
			return ErrUnknownName
		}
		r.changePerm(c, false)
		return nil
	}
	i := strings.LastIndexByte(name, '|')
	if i < 0 {
		c := Lookup(name)
		if c == nil {
			return ErrUnknownName
		}
		r.changePerm(c, true)
		return nil
	}
	c, sub := Lookup(name[:i]), name[i+1:]
	switch {
	case c == nil:
		return ErrUnknownName
	case c.Parent != nil:
		return ErrSubFirstArg
	case sub == "":
		return ErrRuleSyntax
	}
	if len(c.Subs) > 0 {
		s := Lookup(name)
		if s == nil {
			return ErrUnknownName
		}
		r.changePerm(s, true)
		return nil
	}
	// A first argument of a command without subcommands (+select|0).
	for _, a := range r.firstArgs[c.ID] {
		if strings.EqualFold(a, sub) {
			return nil
		}
	}
	if r.firstArgs == nil {
		r.firstArgs = map[int][]string{}
	}
	r.firstArgs[c.ID] = append(r.firstArgs[c.ID], sub)
	return nil
}

// refresh recomputes derived fields; called once a batch of rules applied.
func (r *rules) refresh() {
	r.unrestricted = r.allCommands && r.allKeys && r.allChannels
}
