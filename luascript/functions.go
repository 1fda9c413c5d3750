package luascript

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Redis 7.0 functions (FUNCTION LOAD, FCALL): libraries of Lua code that
// register named functions with redis.register_function when loaded.
//
// The libraries share one Lua state, apart from the scripts'.
// Loading a library runs its code with only the load-time API visible (the
// globals resolve to a table holding just "redis", with register_function,
// log, the LOG_ levels and the version), as Redis swaps its globals'
// __index during FUNCTION LOAD; the functions it registers later run with
// the full sandbox, their keys and arguments as their two parameters.
//
// A function killed by FUNCTION KILL, or a library's code stopped by the
// load timeout, is stopped by a Lua error raised between two instructions
// (gopher-lua checks the context there), which unwinds the stack as any
// error does: the state goes on, the libraries' upvalues with it, as in
// Redis. The libraries' code is the truth all the same: after FLUSH, or
// a failure the state may not survive, the next use builds a state by
// loading every library again.

// FuncFlags are a function's flags (register_function's flags table).
type FuncFlags uint8

// The flags, in the order Redis lists them (scripts_flags_def).
const (
	FlagNoWrites FuncFlags = 1 << iota
	FlagAllowOOM
	FlagAllowStale
	FlagNoCluster
	FlagAllowCrossSlot
)

// FlagNames are the flags' names, bit by bit.
var FlagNames = []string{"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}

// Names returns the names of the flags set in f, in Redis's order.
func (f FuncFlags) Names() []string {
	var out []string
	for i, n := range FlagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// EngineName is the only engine, as FUNCTION LIST and STATS name it.
const EngineName = "LUA"

// LoadTimeout bounds the run of a library's code at FUNCTION LOAD, as
// Redis's LOAD_TIMEOUT_MS.
const LoadTimeout = 500 * time.Millisecond

// functionChunk is the chunk name of a library's code.
const functionChunk = "user_function"

// Library is a loaded library. It is not modified once loaded.
type Library struct {
	Name      string
	Code      string      // the whole payload, shebang line included
	Functions []*Function // by name
}

// Function is a function a library registered.
type Function struct {
	Name    string
	Desc    string
	HasDesc bool
	Flags   FuncFlags
	Lib     *Library
}

// Functions holds the loaded libraries. Its methods are safe for
// concurrent use; Call runs one function at a time (callers run one
// script or function at a time anyway: resp's gate).
type Functions struct {
	// Version is redis.REDIS_VERSION.
	Version string
	// Log is redis.log while a library loads (nil: dropped).
	Log func(level int, msg string)

	mu    sync.Mutex // libs, funcs
	libs  map[string]*Library
	funcs map[string]*Function // by lower-case name: FCALL's lookup ignores case, as Redis's

	run  sync.Mutex // st and its use
	st   *state
	refs map[*Function]*lua.LFunction // the callbacks in st
	// json is the global cjson's settings. Redis never replaces the
	// functions' Lua state, so they last as long as the server, through
	// FUNCTION FLUSH and the states sessiond discards.
	json *jsonConfig
}

// errLoadTimeout is FUNCTION LOAD's error for a library that ran too long.
var errLoadTimeout = errors.New("FUNCTION LOAD timeout")

// Lookup returns the function named name (any case), or nil.
func (fs *Functions) Lookup(name string) *Function {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.funcs[strings.ToLower(name)]
}

// Libraries returns the loaded libraries by name.
func (fs *Functions) Libraries() []*Library {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]*Library, 0, len(fs.libs))
	for _, l := range fs.libs {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *Library) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Count returns the number of libraries and of functions, and the bytes
// of the libraries' code.
func (fs *Functions) Count() (libs, funcs int, bytes int64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, l := range fs.libs {
		bytes += int64(len(l.Code))
	}
	return len(fs.libs), len(fs.funcs), bytes
}

// Delete removes the library named name; false if there is none.
func (fs *Functions) Delete(name string) bool {
	fs.run.Lock()
	defer fs.run.Unlock()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	l := fs.libs[name]
	if l == nil {
		return false
	}
	fs.unlink(l)
	return true
}

// unlink removes l (fs.run and fs.mu held).
func (fs *Functions) unlink(l *Library) {
	delete(fs.libs, l.Name)
	for _, f := range l.Functions {
		delete(fs.funcs, strings.ToLower(f.Name))
		delete(fs.refs, f)
	}
}

// link adds l, whose callbacks are in refs (fs.run and fs.mu held).
func (fs *Functions) link(l *Library, refs map[*Function]*lua.LFunction) {
	if fs.libs == nil {
		fs.libs = map[string]*Library{}
		fs.funcs = map[string]*Function{}
	}
	fs.libs[l.Name] = l
	for _, f := range l.Functions {
		fs.funcs[strings.ToLower(f.Name)] = f
		if fs.refs != nil && refs[f] != nil {
			fs.refs[f] = refs[f]
		}
	}
}

// Flush removes every library (FUNCTION FLUSH).
func (fs *Functions) Flush() {
	fs.run.Lock()
	defer fs.run.Unlock()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.libs, fs.funcs = nil, nil
	fs.drop()
}

// drop discards the Lua state (fs.run held).
func (fs *Functions) drop() {
	if fs.st != nil {
		fs.st.L.Close()
	}
	fs.st, fs.refs = nil, nil
}

// metadata is a library's shebang line: "#!<engine> name=<name>".
type metadata struct {
	name, engine string
	code         string // what follows the shebang line, its newline included
}

// parseMetadata reads code's shebang line as Redis's
// functionExtractLibMetaData does; the error is Redis's text.
func parseMetadata(code string) (metadata, error) {
	var md metadata
	if !strings.HasPrefix(code, "#!") {
		return md, errors.New("ERR Missing library metadata")
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 || strings.IndexByte(code[:end], 0) >= 0 { // strchr stops at a NUL
		return md, errors.New("ERR Invalid library metadata")
	}
	parts, ok := splitArgs(code[:end])
	if !ok || len(parts) == 0 {
		return md, errors.New("ERR Invalid library metadata")
	}
	md.engine = strings.TrimPrefix(parts[0], "#!")
	if len(parts[0]) < 2 {
		md.engine = ""
	}
	named := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(p[:5], "name=") {
			if named {
				return md, errors.New("ERR Invalid metadata value, name argument was given multiple times")
			}
			md.name, named = p[5:], true
			continue
		}
		return md, errors.New("ERR Invalid metadata value given: " + cstr(p))
	}
	if !named {
		return md, errors.New("ERR Library name was not given")
	}
	md.code = code[end:]
	return md, nil
}

// cstr is s as far as its first NUL, as C's %s prints it.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// splitArgs splits a line into words as Redis's sdssplitargs does:
// white space separates them (only space, \n, \r, \t and NUL end an
// unquoted word, though isspace's \v and \f are skipped before one), and "..." (with backslash escapes) and '...'
// quote them; an unbalanced quote, or a closing quote not followed by
// white space, fails.
func splitArgs(line string) ([]string, bool) {
	var out []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return out, true
		}
		var b strings.Builder
		inq, insq := false, false
		for done := false; !done; {
			if i >= len(line) {
				if inq || insq {
					return nil, false
				}
				break
			}
			c := line[i]
			switch {
			case inq:
				if c == '\\' && i+3 < len(line) && line[i+1] == 'x' && hexDigit(line[i+2]) >= 0 && hexDigit(line[i+3]) >= 0 {
					b.WriteByte(byte(hexDigit(line[i+2])<<4 | hexDigit(line[i+3])))
					i += 3
				} else if c == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						b.WriteByte('\n')
					case 'r':
						b.WriteByte('\r')
					case 't':
						b.WriteByte('\t')
					case 'b':
						b.WriteByte('\b')
					case 'a':
						b.WriteByte('\a')
					default:
						b.WriteByte(line[i])
					}
				} else if c == '"' {
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				} else {
					b.WriteByte(c)
				}
			case insq:
				if c == '\\' && i+1 < len(line) && line[i+1] == '\'' {
					i++
					b.WriteByte('\'')
				} else if c == '\'' {
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				} else {
					b.WriteByte(c)
				}
			default:
				switch {
				case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0: // not \v or \f
					done = true
				case c == '"':
					inq = true
				case c == '\'':
					insq = true
				default:
					b.WriteByte(c)
				}
			}
			i++
		}
		out = append(out, b.String())
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

// validName is functionsVerifyName: letters, digits and underscores, at
// least one.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

const msgBadName = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// Load loads a library (FUNCTION LOAD [REPLACE]) and returns its name.
// timeout bounds its code's run (0: none). The error's text is Redis's
// reply.
func (fs *Functions) Load(code []byte, replace bool, timeout time.Duration) (string, error) {
	fs.run.Lock()
	defer fs.run.Unlock()
	l, refs, err := fs.create(string(code), timeout, func(name string) bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return fs.libs[name] != nil && !replace
	})
	if err != nil {
		return "", err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	old := fs.libs[l.Name]
	for _, f := range l.Functions {
		if g := fs.funcs[strings.ToLower(f.Name)]; g != nil && g.Lib != old {
			return "", errors.New("ERR Function " + f.Name + " already exists")
		}
	}
	if old != nil {
		fs.unlink(old)
	}
	fs.link(l, refs)
	return l.Name, nil
}

// RestorePolicy is FUNCTION RESTORE's.
type RestorePolicy int

// The policies.
const (
	RestoreAppend RestorePolicy = iota
	RestoreReplace
	RestoreFlush
)

// Restore loads every library of codes (FUNCTION RESTORE, a snapshot):
// all or nothing. The error's text is Redis's reply.
func (fs *Functions) Restore(codes []string, policy RestorePolicy) error {
	fs.run.Lock()
	defer fs.run.Unlock()
	libs := map[string]*Library{}
	funcs := map[string]bool{}
	refs := map[*Function]*lua.LFunction{}
	for _, code := range codes {
		l, r, err := fs.create(code, 0, func(name string) bool { return libs[name] != nil })
		if err != nil {
			return err
		}
		for _, f := range l.Functions {
			if funcs[strings.ToLower(f.Name)] {
				return errors.New("ERR Function " + f.Name + " already exists")
			}
			funcs[strings.ToLower(f.Name)] = true
		}
		libs[l.Name] = l
		for f, lf := range r {
			refs[f] = lf
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if policy == RestoreFlush {
		fs.libs, fs.funcs = nil, nil
		if fs.refs != nil {
			fs.refs = map[*Function]*lua.LFunction{}
		}
	} else {
		names := make([]string, 0, len(libs))
		for n := range libs {
			names = append(names, n)
		}
		slices.Sort(names)
		var replaced []*Library
		for _, n := range names {
			if old := fs.libs[n]; old != nil {
				if policy != RestoreReplace {
					return errors.New("ERR Library " + n + " already exists")
				}
				replaced = append(replaced, old)
			}
		}
		for _, l := range libs {
			for _, f := range l.Functions {
				if g := fs.funcs[strings.ToLower(f.Name)]; g != nil && !slices.Contains(replaced, g.Lib) {
					return errors.New("ERR Function " + f.Name + " already exists")
				}
			}
		}
		for _, old := range replaced {
			fs.unlink(old)
		}
	}
	for _, l := range libs {
		fs.link(l, refs)
	}
	return nil
}

// create runs a library's code and returns what it registered, with the
// callbacks in the current state (fs.run held). taken reports whether a
// library of that name is in the way, which Redis checks before it
// compiles.
func (fs *Functions) create(code string, timeout time.Duration, taken func(name string) bool) (*Library, map[*Function]*lua.LFunction, error) {
	md, err := parseMetadata(code)
	if err != nil {
		return nil, nil, err
	}
	if !validName(md.name) {
		return nil, nil, errors.New(msgBadName)
	}
	if !strings.EqualFold(md.engine, "lua") {
		return nil, nil, errors.New("ERR Engine '" + md.engine + "' not found")
	}
	if taken(md.name) {
		return nil, nil, errors.New("ERR Library '" + md.name + "' already exists")
	}
	if err := fs.ensureState(); err != nil {
		return nil, nil, err
	}
	l := &Library{Name: md.name, Code: code}
	refs, err := fs.runLibrary(l, md.code, timeout)
	if err != nil {
		return nil, nil, err
	}
	if len(l.Functions) == 0 {
		return nil, nil, errors.New("ERR No functions registered")
	}
	return l, refs, nil
}

// ensureState makes the Lua state if there is none, loading every
// library into it (fs.run held).
func (fs *Functions) ensureState() error {
	if fs.st != nil {
		return nil
	}
	if fs.json == nil {
		fs.json = newJSONConfig()
	}
	version := (&Engine{Version: fs.Version}).version()
	st := newState(version, fs.json)
	st.loadAPI = st.loadLib(version)
	// Functions have no debugger and always replicate commands: Redis
	// 7.0's function API has no redis.breakpoint, redis.debug or
	// redis.replicate_commands.
	api := st.redisLib(version)
	for _, name := range []string{"breakpoint", "debug", "replicate_commands"} {
		api.RawSetString(name, lua.LNil)
	}
	st.store.RawSetString("redis", st.readOnly(api))
	fs.st, fs.refs = st, map[*Function]*lua.LFunction{}
	fs.mu.Lock()
	libs := make([]*Library, 0, len(fs.libs))
	for _, l := range fs.libs {
		libs = append(libs, l)
	}
	fs.mu.Unlock()
	for _, l := range libs {
		md, err := parseMetadata(l.Code)
		if err != nil {
			return err // loaded before: cannot happen
		}
		again := &Library{Name: l.Name}
		refs, err := fs.runLibrary(again, md.code, 0)
		if err != nil {
			fs.drop()
			return err
		}
		for _, f := range l.Functions {
			for g, lf := range refs {
				if g.Name == f.Name {
					fs.refs[f] = lf
				}
			}
		}
	}
	return nil
}

// runLibrary compiles and runs a library's code (after its shebang line)
// in load mode, adding what it registers to l (fs.run held).
func (fs *Functions) runLibrary(l *Library, code string, timeout time.Duration) (map[*Function]*lua.LFunction, error) {
	chunk, err := parse.Parse(strings.NewReader(code), functionChunk)
	var proto *lua.FunctionProto
	if err == nil {
		proto, err = lua.Compile(chunk, functionChunk)
	}
	if err != nil {
		return nil, errors.New("ERR Error compiling function: " + compileError(err, functionChunk, code))
	}
	st := fs.st
	L := st.L
	fn := L.NewFunctionFromProto(proto)
	fn.Env = st.env
	st.loading, st.pending, st.host = true, nil, loadHost{fs.Log}
	defer func() { st.loading, st.pending, st.host = false, nil, nil }()
	ctx := context.Background()
	var cancel context.CancelFunc = func() {}
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	L.SetContext(ctx)
	L.Push(fn)
	err, panicked := protectedCall(L, 0, 0, nil)
	L.RemoveContext()
	if panicked != nil {
		fs.drop() // the state is not to be trusted; the libraries are loaded again
		return nil, errors.New("ERR Error registering functions: ERR " + fmt.Sprint(panicked))
	}
	timedOut := ctx.Err() != nil
	if err != nil {
		msg := "ERR " + errLoadTimeout.Error()
		if !timedOut {
			msg = loadError(err)
		}
		return nil, errors.New("ERR Error registering functions: " + msg)
	}
	refs := map[*Function]*lua.LFunction{}
	for _, r := range st.pending {
		r.f.Lib = l
		l.Functions = append(l.Functions, r.f)
		refs[r.f] = r.fn
	}
	slices.SortFunc(l.Functions, func(a, b *Function) int { return strings.Compare(a.Name, b.Name) })
	return refs, nil
}

// loadError is the message of an error a library's code raised while
// loading (luaExtractErrorInformation): a table's err field, or "ERR " and
// a string.
func loadError(err error) string {
	ae, ok := err.(*lua.ApiError)
	if !ok {
		return "ERR " + err.Error()
	}
	if t, ok := ae.Object.(*lua.LTable); ok {
		s, _ := luaString(t.RawGetString("err"))
		return s
	}
	s, _ := luaString(ae.Object)
	return "ERR " + lua51Message(s)
}

// loadHost serves redis.log while a library loads.
type loadHost struct{ log func(int, string) }

func (h loadHost) Call([][]byte, bool) Value { return ErrorValue("ERR not allowed while loading") }
func (h loadHost) Log(level int, msg string) {
	if h.log != nil {
		h.log(level, msg)
	}
}

// Call runs f with keys and args (FCALL). Cancelling ctx kills it, as
// Run's scripts.
func (fs *Functions) Call(ctx context.Context, f *Function, keys, args [][]byte, host Host) Value {
	fs.run.Lock()
	defer fs.run.Unlock()
	if err := fs.ensureState(); err != nil {
		return ErrorValue(err.Error())
	}
	lf := fs.refs[f]
	if lf == nil {
		return ErrorValue("ERR Function not found")
	}
	st := fs.st
	v, reuse := st.invoke(ctx, lf, []lua.LValue{st.array(keys), st.array(args)}, f.Name, host)
	if !reuse && ctx.Err() == nil {
		fs.drop()
	}
	return v
}

// registered is one redis.register_function of the library loading.
type registered struct {
	f  *Function
	fn *lua.LFunction
}

// loadLib makes the load-time globals: "redis" alone, holding
// register_function, log, the LOG_ levels and the version; reading
// anything else in it is an error, as in Redis.
func (st *state) loadLib(version string) *lua.LTable {
	L := st.L
	full := st.redisLib(version)
	r := L.NewTable()
	for _, k := range []string{"log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"} {
		r.RawSetString(k, full.RawGetString(k))
	}
	r.RawSetString("register_function", L.NewFunction(st.registerFunction))
	view := st.globalsView(func() *lua.LTable { return r })
	api := L.NewTable()
	api.RawSetString("redis", view)
	return api
}

// registerFunction is redis.register_function, in its two forms:
// (name, callback) and a table of named arguments.
func (st *state) registerFunction(L *lua.LState) int {
	if !st.loading {
		raise(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	var f Function
	var fn *lua.LFunction
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			raise(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		named := false
		var msg string
		t.ForEach(func(k, v lua.LValue) {
			if msg != "" {
				return
			}
			key, ok := luaString(k)
			if !ok {
				msg = "named argument key given to redis.register_function is not a string"
				return
			}
			switch strings.ToLower(key) {
			case "function_name":
				if f.Name, ok = luaString(v); !ok {
					msg = "function_name argument given to redis.register_function must be a string"
				}
				named = true
			case "description":
				if f.Desc, ok = luaString(v); !ok {
					msg = "description argument given to redis.register_function must be a string"
				}
				f.HasDesc = true
			case "callback":
				if fn, ok = v.(*lua.LFunction); !ok {
					msg = "callback argument given to redis.register_function must be a function"
				}
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					msg = "flags argument to redis.register_function must be a table representing function flags"
					return
				}
				for i := 1; ; i++ {
					e := ft.RawGetInt(i)
					if e == lua.LNil {
						break
					}
					name, ok := luaString(e)
					j := slices.IndexFunc(FlagNames, func(n string) bool { return strings.EqualFold(n, name) })
					if !ok || j < 0 {
						msg = "unknown flag given"
						return
					}
					f.Flags |= 1 << j
				}
			default:
				msg = "unknown argument given to redis.register_function"
			}
		})
		switch {
		case msg != "":
			raise(L, msg)
		case !named:
			raise(L, "redis.register_function must get a function name argument")
		case fn == nil:
			raise(L, "redis.register_function must get a callback argument")
		}
	case 2:
		var ok bool
		if f.Name, ok = luaString(L.Get(1)); !ok {
			raise(L, "first argument to redis.register_function must be a string")
		}
		if fn, ok = L.Get(2).(*lua.LFunction); !ok {
			raise(L, "second argument to redis.register_function must be a function")
		}
	default:
		raise(L, "wrong number of arguments to redis.register_function")
	}
	if !validName(f.Name) {
		raise(L, strings.TrimPrefix(msgBadName, "ERR "))
	}
	for _, r := range st.pending {
		if r.f.Name == f.Name {
			raise(L, "Function already exists in the library")
		}
	}
	st.pending = append(st.pending, registered{f: &f, fn: fn})
	return 0
}
