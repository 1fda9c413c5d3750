package luascript

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// state is one Lua interpreter with Redis's sandbox.
type state struct {
	L       *lua.LState
	store   *lua.LTable // the real globals
	env     *lua.LTable // the protected view of store every script runs in
	handler *lua.LFunction
	ro      map[*lua.LTable]bool // tables scripts may not modify
	null    *lua.LUserData       // cjson.null, Lua CJSON's NULL light userdata

	// Per run.
	host   Host
	resp3  bool
	nested int // pcall and xpcall calls under way (maxNestedCalls)

	// Function states only (functions.go): while loading is set, globals
	// resolve in loadAPI (the load-time API, only "redis") instead of
	// store, as Redis swaps its globals' __index during FUNCTION LOAD.
	loadAPI *lua.LTable
	loading bool
	pending []registered // what the library being loaded registered
}

// The Lua stack (gopher-lua's registry) grows in registryStep steps up to
// registryMax values, past what Lua 5.1 lets a C function push
// (LUAI_MAXCSTACK, unpack's bound): a script that needs more gets an
// error, not the server a panic.
//
// callStackMax bounds nested calls: Redis's Lua 5.1 runs a recursion some
// 20,000 calls deep before "stack overflow" (LUAI_MAXCALLS), gopher-lua's
// default is 256. Not 20,000: when the stack is full, gopher-lua's error
// path formats a traceback with a walk from the top per frame, quadratic
// in the depth (an overflow at 20,000 took 0.7 s, 13 s under -race; at
// 4,000, 30 ms). The frames are one array per state (320 KB), allocated
// when the first script runs.
// (gopher-lua's growing stack, MinimizeStackMemory, panics at its limit
// instead of raising the Lua error.) maxNestedCalls is what is left of
// LUAI_MAXCCALLS (200) for pcall and xpcall, the script's own call
// taking one: the 199th nested pcall fails with "C stack overflow", as
// in Redis, and the Go stack under nested pcalls stays bounded.
const (
	maxCStack      = 8000
	registryMax    = 256 * 1024
	callStackMax   = 4000
	maxNestedCalls = 198
	registryStep   = 4096
	coRegistry     = 1024
)

// maxString bounds string.rep's result (proto-max-bulk-len's default):
// Redis's Lua would try to allocate whatever it is asked for.
const maxString = 512 << 20

// unpack is Lua 5.1's, which refuses more results than a C function may
// push ("too many results to unpack"); gopher-lua's pushes them all.
func unpack(L *lua.LState) int {
	t := L.CheckTable(1)
	i := L.OptInt(2, 1)
	e := L.OptInt(3, t.Len())
	if i > e {
		return 0
	}
	n := e - i + 1
	if n <= 0 || n+L.GetTop() > maxCStack {
		errorAt(L, lua.LString("too many results to unpack"), 1)
	}
	for ; i <= e; i++ {
		L.Push(t.RawGetInt(i))
	}
	return n
}

// strRep is string.rep, bounded by maxString ("not enough memory", Lua's
// allocation error).
func strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if n > maxString/len(s) {
		errorAt(L, lua.LString("not enough memory"), 1)
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

// tableConcat is Lua 5.1's table.concat (ltablib.c's tconcat). gopher-lua's
// pushed every element on the Lua stack, so a table of some 130,000
// strings failed with "registry overflow" (Redis's builds the string in a
// buffer), and it clamped the range, refused a number as the separator or
// a bound, printed numbers in Go's form and worded its errors otherwise.
// The result is bounded by maxString and SCRIPT KILL stops a long one,
// as the libraries' encoders are.
func tableConcat(L *lua.LState) int {
	sep := ""
	if L.Get(2) != lua.LNil { // luaL_optlstring, checked before the table
		sep = checkString(L, 2)
	}
	t, ok := L.Get(1).(*lua.LTable)
	if !ok {
		typeError(L, 1, "table")
	}
	i := int64(int32(optInteger(L, 3, 1))) // luaL_optint: a C int
	last := int64(t.Len())
	if L.Get(4) != lua.LNil {
		last = int64(int32(checkInteger(L, 4)))
	}
	var b strings.Builder
	add := func(i int64) {
		switch v := t.RawGetInt(int(i)).(type) {
		case lua.LString:
			b.WriteString(string(v))
		case lua.LNumber:
			b.WriteString(formatG(float64(v), 14))
		default:
			libError(L, "invalid value (%s) at index %d in table for 'concat'", v.Type(), i)
		}
		checkRun(L, b.Len(), int(i))
	}
	for ; i < last; i++ {
		add(i)
		b.WriteString(sep)
	}
	if i == last {
		add(i)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// builtins are the base library functions Redis 7.0 keeps (its
// lua_builtins_allow_list less what luaRemoveUnsupportedFunctions and
// the sandbox take away); dofile, loadfile, print, require, module,
// getfenv, setfenv, newproxy and gopher-lua's extras are dropped. With
// getfenv and setfenv one script or library could swap another's
// environment and intercept its redis.call.
var builtins = []string{
	"xpcall", "tostring", "setmetatable", "next", "assert", "tonumber", "rawequal",
	"collectgarbage", "getmetatable", "rawset", "pcall", "type", "select", "unpack",
	"pairs", "rawget", "loadstring", "ipairs", "_VERSION", "load", "error",
}

func (e *Engine) newState() *state {
	return newState(e.version(), e.jsonConfig())
}

// newState makes a Lua state with Redis's libraries and sandbox; json is
// the global cjson's settings.
func newState(version string, json *jsonConfig) *state {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistryMaxSize: registryMax, RegistryGrowStep: registryStep, CallStackSize: callStackMax})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	st := &state{L: L, ro: map[*lua.LTable]bool{}, null: L.NewUserData()}
	opened := L.G.Global
	store := L.NewTable()
	for _, name := range builtins {
		if v := opened.RawGetString(name); v != lua.LNil {
			store.RawSetString(name, v)
		}
	}
	store.RawSetString("pcall", L.NewFunction(st.pcall))
	store.RawSetString("xpcall", L.NewFunction(st.xpcall(store.RawGetString("xpcall").(*lua.LFunction))))
	store.RawSetString("rawset", L.NewFunction(st.rawset))
	store.RawSetString("error", L.NewFunction(luaError))
	store.RawSetString("unpack", L.NewFunction(unpack))
	baseToNumber := store.RawGetString("tonumber").(*lua.LFunction)
	store.RawSetString("tonumber", L.NewFunction(func(L *lua.LState) int {
		if s, ok := L.Get(1).(lua.LString); ok && L.GetTop() == 1 {
			if f, ok := str2number(string(s)); ok {
				L.Push(lua.LNumber(f))
			} else {
				L.Push(lua.LNil)
			}
			return 1
		}
		return callBase(L, baseToNumber, 1)
	}))
	baseToString := store.RawGetString("tostring").(*lua.LFunction)
	store.RawSetString("tostring", L.NewFunction(func(L *lua.LState) int {
		if L.Get(1) == st.null { // C's "%p" of NULL
			L.Push(lua.LString(nullString))
			return 1
		}
		return callBase(L, baseToString, 1)
	}))
	baseSetMetatable := store.RawGetString("setmetatable").(*lua.LFunction)
	store.RawSetString("setmetatable", L.NewFunction(func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok && st.ro[t] {
			refuseReadOnly(L)
		}
		return callBase(L, baseSetMetatable, 1)
	}))
	strlib := opened.RawGetString("string").(*lua.LTable)
	strlib.RawSetString("rep", L.NewFunction(strRep))
	strlib.RawSetString("gsub", L.NewFunction(strGsub))
	tablib := opened.RawGetString("table").(*lua.LTable)
	tablib.RawSetString("concat", L.NewFunction(tableConcat))
	// table.insert writes raw, past the views' __newindex. (remove and
	// sort find a view empty and write nothing, as Redis's do.)
	insert := tablib.RawGetString("insert").(*lua.LFunction)
	tablib.RawSetString("insert", L.NewFunction(func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok && st.ro[t] {
			refuseReadOnly(L)
		}
		return callBase(L, insert, 0)
	}))
	wrapCoroutines(L, opened.RawGetString("coroutine").(*lua.LTable))
	for _, name := range []string{"string", "table", "math", "coroutine"} {
		store.RawSetString(name, st.readOnly(opened.RawGetString(name).(*lua.LTable)))
	}
	st.protectStringMeta(store.RawGetString("string").(*lua.LTable))
	store.RawSetString("bit", st.readOnly(st.bitLib()))
	store.RawSetString("cjson", st.readOnly(st.cjsonLib(json)))
	store.RawSetString("cmsgpack", st.readOnly(st.cmsgpackLib()))
	store.RawSetString("struct", st.readOnly(st.structLib()))
	store.RawSetString("redis", st.readOnly(st.redisLib(version)))

	// The globals: reading a missing one and creating one are errors, as
	// with Redis's scriptingEnableGlobalsProtection and read-only tables.
	env := st.globalsView(func() *lua.LTable {
		if st.loading {
			return st.loadAPI
		}
		return store
	})
	store.RawSetString("_G", env)
	st.store, st.env = store, env
	L.G.Global = env
	L.Env = env
	st.handler = L.NewFunction(st.errorHandler)
	return st
}

// globalsView is a read-only table whose reads go to the table src
// returns, where a missing name is an error ("nonexistent global
// variable"), as Redis's globals protection has it: the globals of
// scripts and functions, and the load-time API of libraries.
func (st *state) globalsView(src func() *lua.LTable) *lua.LTable {
	L := st.L
	view := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := L.Get(2)
		v := src().RawGet(k)
		if v == lua.LNil {
			L.RaiseError("Script attempted to access nonexistent global variable '%s'", lua.LVAsString(k))
		}
		L.Push(v)
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(readOnlyError))
	mt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(view, mt)
	st.ro[view] = true
	return view
}

// wrapCoroutines makes a coroutine run under the context of the call
// that resumes it. gopher-lua gives a coroutine a child of its creator's
// context, which ends with the script or function that created it: a
// coroutine kept in a library's upvalue died on the next FCALL ("context
// canceled"), where Redis resumes it. Under the resumer's context
// FUNCTION KILL still stops a loop inside it.
func wrapCoroutines(L *lua.LState, co *lua.LTable) {
	// A coroutine is a gopher-lua state made with its creator's options:
	// it would get callStackMax frames (320 KB) and 5,120 registry slots,
	// all counted in used_memory. It gets gopher-lua's default 256 frames
	// and a registry that starts at coRegistry slots and grows on demand,
	// about 45 KB of used_memory (Redis's: about 22 KB).
	baseCreate := co.RawGetString("create").(*lua.LFunction)
	create := L.NewFunction(func(L *lua.LState) int {
		saved := L.Options
		defer func() { L.Options = saved }()
		L.Options.CallStackSize, L.Options.RegistrySize = lua.CallStackSize, coRegistry
		return callBase(L, baseCreate, 1)
	})
	co.RawSetString("create", create)
	resume := co.RawGetString("resume").(*lua.LFunction)
	resumeIn := func(L *lua.LState) int {
		if th, ok := L.Get(1).(*lua.LState); ok {
			if th.Dead || L.G.CurrentThread == th { // Lua 5.1's words
				L.Push(lua.LFalse)
				if th.Dead {
					L.Push(lua.LString("cannot resume dead coroutine"))
				} else {
					L.Push(lua.LString("cannot resume running coroutine"))
				}
				return 2
			}
			if ctx := L.Context(); ctx != nil {
				th.SetContext(ctx)
			}
		}
		return callBase(L, resume, lua.MultRet)
	}
	co.RawSetString("resume", L.NewFunction(resumeIn))
	// wrap is Lua 5.1's auxwrap on that resume: an error is raised again,
	// a string one with the caller's position in front.
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		L.CheckFunction(1)
		L.Push(create)
		L.Push(L.Get(1))
		L.Call(1, 1)
		th := L.Get(-1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			L.Insert(th, 1)
			n := resumeIn(L)
			base := L.GetTop() - n
			if L.Get(base+1) == lua.LFalse {
				msg := L.Get(base + 2)
				if _, ok := msg.(lua.LString); ok {
					errorAt(L, msg, 1)
				}
				L.Error(msg, 0)
			}
			return n - 1
		}))
		return 1
	}))
}

// protectStringMeta gives strings a metatable whose __index is the
// read-only string library view strlib; getmetatable of a string returns
// a read-only view of it. gopher-lua's own is the string library itself,
// so that one script could replace string.format for every later script
// and library; Redis refuses both writes.
func (st *state) protectStringMeta(strlib *lua.LTable) {
	L := st.L
	shown := L.NewTable()
	shown.RawSetString("__index", strlib)
	mt := L.NewTable()
	mt.RawSetString("__index", strlib)
	mt.RawSetString("__metatable", st.readOnly(shown))
	L.SetMetatable(lua.LString(""), mt)
}

func (e *Engine) version() string {
	if e.Version == "" {
		return "7.2.4"
	}
	return e.Version
}

const msgReadOnly = "Attempt to modify a readonly table"

// nullString is tostring(cjson.null) in Redis: glibc prints a NULL
// pointer as "(nil)".
const nullString = "userdata: (nil)"

func readOnlyError(L *lua.LState) int {
	L.RaiseError(msgReadOnly)
	return 0
}

// refuseReadOnly is the error of rawset, table.insert and setmetatable on
// a read-only table: Redis raises it from C, so without a position.
func refuseReadOnly(L *lua.LState) {
	L.Error(lua.LString(msgReadOnly), 0)
}

// readOnly returns a view of t that scripts cannot modify.
func (st *state) readOnly(t *lua.LTable) *lua.LTable {
	L := st.L
	view := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(readOnlyError))
	mt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(view, mt)
	st.ro[view] = true
	return view
}

// str2number is Lua 5.1's luaO_str2d: strtod (exponents, inf, nan), or a
// hexadecimal integer, with white space around. gopher-lua's tonumber
// rejects exponents. Lua reads the string as C does, up to a NUL.
func str2number(s string) (float64, bool) {
	t := strings.Trim(cstr(s), " \t\n\v\f\r")
	if t == "" {
		return 0, false
	}
	u, neg := t, false
	if u[0] == '-' || u[0] == '+' {
		u, neg = u[1:], u[0] == '-'
	}
	if len(u) > 2 && u[0] == '0' && (u[1] == 'x' || u[1] == 'X') {
		if n, err := strconv.ParseUint(u[2:], 16, 64); err == nil {
			if neg {
				return -float64(n), true
			}
			return float64(n), true
		}
	}
	if strings.ContainsRune(t, '_') {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// luaError is Lua 5.1's error: no argument raises nil, and a number gets
// the position as a string does.
func luaError(L *lua.LState) int {
	obj := L.Get(1)
	if n, ok := obj.(lua.LNumber); ok {
		obj = lua.LString(n.String())
	}
	errorAt(L, obj, L.OptInt(2, 1))
	return 0
}

// errorAt raises obj with the position of the function level levels up,
// as luaL_error and error do: none when that function is not Lua's.
func errorAt(L *lua.LState, obj lua.LValue, level int) {
	if dbg, ok := L.GetStack(level); ok && level > 0 {
		// luaL_where names no position when the function at that level
		// is not Lua's (error called straight by pcall).
		if _, err := L.GetInfo("S", dbg, nil); err == nil && dbg.What == "G" {
			level = 0
		}
	}
	L.Error(obj, level)
}

// rawset refuses the protected tables, which a plain rawset would bypass.
func (st *state) rawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if st.ro[t] {
		refuseReadOnly(L)
	}
	L.RawSet(t, L.CheckAny(2), L.CheckAny(3))
	L.SetTop(1)
	return 1
}

// pcall is Redis's: an error raised as a table with an err field (what
// redis.call raises) is returned as that string.
func (st *state) pcall(L *lua.LState) int {
	L.CheckAny(1)
	if st.nested >= maxNestedCalls {
		L.Push(lua.LFalse)
		L.Push(lua.LString(msgCStack))
		return 2
	}
	st.nested++
	defer func() { st.nested-- }()
	nargs := L.GetTop() - 1
	if err := L.PCall(nargs, lua.MultRet, nil); err != nil {
		obj := lua.LValue(lua.LString(err.Error()))
		if ae, ok := err.(*lua.ApiError); ok {
			obj = ae.Object
		}
		if t, ok := obj.(*lua.LTable); ok {
			if s, ok := t.RawGetString("err").(lua.LString); ok {
				obj = s
			}
		}
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// callBase calls base, the function a wrapper stands in for, with the
// wrapper's arguments, and returns its nret results (lua.MultRet: all).
func callBase(L *lua.LState, base *lua.LFunction, nret int) int {
	L.Insert(base, 1)
	L.Call(L.GetTop()-1, nret)
	if nret == lua.MultRet {
		return L.GetTop()
	}
	return nret
}

// msgCStack is Lua 5.1's error for a call past LUAI_MAXCCALLS. It has no
// position: the call that fails is made from C (pcall's).
const msgCStack = "C stack overflow"

// xpcall is base's xpcall counted with pcall (maxNestedCalls). Past the
// limit the handler gets "C stack overflow", as Lua 5.1's does.
func (st *state) xpcall(base *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if st.nested >= maxNestedCalls {
			if err := L.CallByParam(lua.P{Fn: L.Get(2), NRet: 1, Protect: true}, lua.LString(msgCStack)); err != nil {
				L.Push(lua.LFalse)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			v := L.Get(-1)
			L.Push(lua.LFalse)
			L.Push(v)
			return 2
		}
		st.nested++
		defer func() { st.nested-- }()
		return callBase(L, base, lua.MultRet)
	}
}

// errorTable is luaPushError: "-CODE msg" or "msg" (code ERR) as {err="CODE msg"}.
func errorTable(L *lua.LState, msg string) *lua.LTable {
	code := "ERR"
	if strings.HasPrefix(msg, "-") {
		if i := strings.IndexByte(msg, ' '); i >= 0 {
			code, msg = msg[1:i], msg[i+1:]
		} else {
			msg = msg[1:]
		}
	}
	t := L.NewTable()
	t.RawSetString("err", lua.LString(code+" "+strings.Trim(msg, "\r\n")))
	return t
}

func raise(L *lua.LState, msg string) {
	L.Error(errorTable(L, msg), 0)
}

func (st *state) redisLib(version string) *lua.LTable {
	L := st.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":  func(L *lua.LState) int { return st.call(L, true) },
		"pcall": func(L *lua.LState) int { return st.call(L, false) },
		"error_reply": func(L *lua.LState) int {
			s, ok := L.Get(1).(lua.LString)
			if L.GetTop() != 1 || !ok {
				L.Push(errorTable(L, "wrong number or type of arguments"))
				return 1
			}
			msg := string(s)
			if !strings.HasPrefix(msg, "-") {
				msg = "-" + msg
			}
			L.Push(errorTable(L, msg))
			return 1
		},
		"status_reply": func(L *lua.LState) int {
			s, ok := L.Get(1).(lua.LString)
			if L.GetTop() != 1 || !ok {
				L.Push(errorTable(L, "wrong number or type of arguments"))
				return 1
			}
			r := L.NewTable()
			r.RawSetString("ok", s)
			L.Push(r)
			return 1
		},
		"sha1hex": func(L *lua.LState) int {
			if L.GetTop() != 1 {
				raise(L, "wrong number of arguments")
			}
			s, _ := luaString(L.Get(1))
			L.Push(lua.LString(SHA1Hex([]byte(s))))
			return 1
		},
		"log": func(L *lua.LState) int {
			n := L.GetTop()
			if n < 2 {
				raise(L, "redis.log() requires two arguments or more.")
			}
			lv, ok := luaNumber(L.Get(1))
			if !ok {
				raise(L, "First argument must be a number (log level).")
			}
			if lv < 0 || lv > 3 {
				raise(L, "Invalid debug level.")
			}
			var parts []string
			for i := 2; i <= n; i++ {
				if s, ok := luaString(L.Get(i)); ok {
					parts = append(parts, s)
				}
			}
			st.host.Log(int(lv), strings.Join(parts, " "))
			return 0
		},
		"setresp": func(L *lua.LState) int {
			if L.GetTop() != 1 {
				raise(L, "redis.setresp() requires one argument.")
			}
			n, _ := luaNumber(L.Get(1))
			if int(n) != 2 && int(n) != 3 {
				raise(L, "RESP version must be 2 or 3.")
			}
			st.resp3 = int(n) == 3
			return 0
		},
		"set_repl": func(L *lua.LState) int {
			if L.GetTop() != 1 {
				raise(L, "redis.set_repl() requires two arguments.")
			}
			n, _ := luaNumber(L.Get(1))
			if int(n)&^3 != 0 {
				raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
			}
			return 0 // nothing is replicated: accepted and ignored
		},
		"replicate_commands": func(L *lua.LState) int {
			L.Push(lua.LTrue) // always on since Redis 5
			return 1
		},
		"breakpoint": func(L *lua.LState) int { L.Push(lua.LFalse); return 1 }, // no debugger attached
		"debug":      func(L *lua.LState) int { return 0 },
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, n := range map[string]int{"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3} {
		t.RawSetString(name, lua.LNumber(n))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(version))
	num := 0
	for _, p := range strings.SplitN(version, ".", 3) {
		d, _ := strconv.Atoi(p)
		num = num<<8 | d
	}
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(num))
	return t
}

// luaString is lua_tolstring: strings, and numbers formatted by Lua.
func luaString(v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return v.String(), true
	}
	return "", false
}

// luaNumber is lua_tonumber: numbers, and strings that convert.
func luaNumber(v lua.LValue) (float64, bool) {
	switch v := v.(type) {
	case lua.LNumber:
		return float64(v), true
	case lua.LString:
		f, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64)
		return f, err == nil
	}
	return 0, false
}

// call is redis.call (raise) and redis.pcall.
func (st *state) call(L *lua.LState, raiseErr bool) int {
	n := L.GetTop()
	fail := func(msg string) int {
		t := errorTable(L, msg)
		if raiseErr {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	if n == 0 {
		return fail("Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(v)
		case lua.LNumber:
			// Not Lua's own %.14g, which loses precision (luaArgsToRedisArgv).
			args[i-1] = strconv.AppendFloat(nil, float64(v), 'g', 17, 64)
		default:
			return fail("Lua redis lib command arguments must be strings or integers")
		}
	}
	L.SetTop(0)
	rep := st.host.Call(args, st.resp3)
	if rep.Kind == Error {
		return fail("-" + rep.Str)
	}
	L.Push(st.toLua(rep))
	return 1
}

// toLua converts a command's reply to Lua (redisProtocolToLuaType).
func (st *state) toLua(v Value) lua.LValue {
	L := st.L
	switch v.Kind {
	case Status:
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(v.Str))
		return t
	case Error:
		return errorTable(L, "-"+v.Str)
	case Int:
		return lua.LNumber(v.Int)
	case Bulk:
		return lua.LString(v.Str)
	case Nil:
		return lua.LFalse
	case Null:
		return lua.LNil
	case Bool:
		return lua.LBool(v.Int != 0)
	case Double:
		t := L.NewTable()
		t.RawSetString("double", lua.LNumber(v.Float))
		return t
	case BigNumber:
		t := L.NewTable()
		t.RawSetString("big_number", lua.LString(v.Str))
		return t
	case Verbatim:
		in := L.NewTable()
		in.RawSetString("string", lua.LString(v.Str))
		in.RawSetString("format", lua.LString(v.Format))
		t := L.NewTable()
		t.RawSetString("verbatim_string", in)
		return t
	case Map:
		m := L.NewTable()
		for i := 0; i+1 < len(v.Elems); i += 2 {
			k := st.toLua(v.Elems[i])
			if k != lua.LNil {
				m.RawSet(k, st.toLua(v.Elems[i+1]))
			}
		}
		t := L.NewTable()
		t.RawSetString("map", m)
		return t
	case Set:
		m := L.NewTable()
		for _, e := range v.Elems {
			if k := st.toLua(e); k != lua.LNil {
				m.RawSet(k, lua.LTrue)
			}
		}
		t := L.NewTable()
		t.RawSetString("set", m)
		return t
	case Array:
		t := L.CreateTable(len(v.Elems), 0)
		for i, e := range v.Elems {
			t.RawSetInt(i+1, st.toLua(e))
		}
		return t
	}
	return lua.LNil
}

// maxReplyDepth bounds the conversion of nested tables (a table holding
// itself would recurse forever); Redis stops at its Lua stack limit.
const maxReplyDepth = 1000

// fromLua converts a script's return value to a reply (luaReplyToRedisReply).
func (st *state) fromLua(v lua.LValue, depth int) Value {
	if depth > maxReplyDepth {
		return ErrorValue("ERR reached lua stack limit")
	}
	switch v := v.(type) {
	case lua.LString:
		return Value{Kind: Bulk, Str: string(v)}
	case lua.LBool:
		if !st.resp3 {
			if v {
				return Value{Kind: Int, Int: 1}
			}
			return Value{Kind: Null}
		}
		return Value{Kind: Bool, Int: int64(boolInt(bool(v)))}
	case lua.LNumber:
		return Value{Kind: Int, Int: toInt64(float64(v))}
	case *lua.LTable:
		if s, ok := v.RawGetString("err").(lua.LString); ok {
			return ErrorValue(string(s))
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			return Value{Kind: Status, Str: string(s)}
		}
		if n, ok := v.RawGetString("double").(lua.LNumber); ok {
			return Value{Kind: Double, Float: float64(n)}
		}
		if s, ok := v.RawGetString("big_number").(lua.LString); ok {
			return Value{Kind: BigNumber, Str: string(s)}
		}
		if vt, ok := v.RawGetString("verbatim_string").(*lua.LTable); ok {
			f, fok := vt.RawGetString("format").(lua.LString)
			s, sok := vt.RawGetString("string").(lua.LString)
			if fok && sok {
				return Value{Kind: Verbatim, Format: string(f), Str: string(s)}
			}
		}
		if m, ok := v.RawGetString("map").(*lua.LTable); ok {
			out := Value{Kind: Map}
			m.ForEach(func(k, val lua.LValue) {
				out.Elems = append(out.Elems, st.fromLua(k, depth+1), st.fromLua(val, depth+1))
			})
			return out
		}
		if m, ok := v.RawGetString("set").(*lua.LTable); ok {
			out := Value{Kind: Set}
			m.ForEach(func(k, _ lua.LValue) { out.Elems = append(out.Elems, st.fromLua(k, depth+1)) })
			return out
		}
		out := Value{Kind: Array}
		for i := 1; ; i++ {
			e := v.RawGetInt(i)
			if e == lua.LNil {
				break
			}
			out.Elems = append(out.Elems, st.fromLua(e, depth+1))
		}
		return out
	}
	return Value{Kind: Null}
}

// toInt64 is C's (long long) cast of a double, as x86 does it: NaN and
// out-of-range values become the smallest integer.
func toInt64(f float64) int64 {
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(f)
}

// errorHandler is Redis's __redis__err__handler: it turns the error into
// {err=..., source=..., line=...} with the position of the function that
// raised it.
func (st *state) errorHandler(L *lua.LState) int {
	errv := L.Get(1)
	t, ok := errv.(*lua.LTable)
	if !ok {
		s, _ := luaString(errv)
		if errv.Type() != lua.LTString && errv.Type() != lua.LTNumber {
			s = errv.String()
		}
		if errv == st.null {
			s = nullString
		}
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+lua51Message(s)))
	}
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("Sl", dbg, nil); err == nil && dbg.What == "G" {
			if d2, ok2 := L.GetStack(2); ok2 {
				if _, err := L.GetInfo("Sl", d2, nil); err == nil {
					dbg = d2
				}
			}
		}
		if dbg.What != "G" && dbg.Source != "" {
			t.RawSetString("source", lua.LString("@"+dbg.Source))
			t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		}
	}
	L.Push(t)
	return 1
}

// run runs one script. reuse is false when the state must not be used
// again (the script was killed mid-instruction).
func (st *state) run(ctx context.Context, s *Script, keys, argv [][]byte, host Host) (v Value, reuse bool) {
	st.store.RawSetString("KEYS", st.array(keys))
	st.store.RawSetString("ARGV", st.array(argv))
	fn := st.L.NewFunctionFromProto(s.proto)
	fn.Env = st.env
	return st.invoke(ctx, fn, nil, s.SHA, host)
}

// invoke calls fn with args (KEYS and ARGV for a function, none for a
// script); name is what errors call it (the script's SHA, the function's
// name). A killed function gets the same text as a script, SCRIPT KILL
// and all, as in Redis.
func (st *state) invoke(ctx context.Context, fn *lua.LFunction, args []lua.LValue, name string, host Host) (v Value, reuse bool) {
	L := st.L
	st.host, st.resp3 = host, false
	defer func() { st.host = nil }()
	L.SetContext(ctx)
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	err, panicked := protectedCall(L, len(args), 1, st.handler)
	L.RemoveContext()
	if panicked != nil {
		// gopher-lua failed where its PCall does not catch it (a stack
		// overflow leaves no room for the error handler): the state is not
		// to be trusted, the server goes on. A Lua error keeps its text and
		// position, as Redis's handler would have given it.
		if ae, ok := panicked.(*lua.ApiError); ok {
			if msg, ok := ae.Object.(lua.LString); ok && rePosition.MatchString(string(msg)) {
				return unhandledError(name, string(msg)), false
			}
		}
		return ErrorValue("ERR Error running script " + name + ", " + truncate(fmt.Sprint(panicked), 100)), false
	}
	if ctx.Err() != nil {
		// Killed: whatever the script was doing, the reply is Redis's.
		pos := ""
		if ae, ok := err.(*lua.ApiError); ok {
			if t, ok := ae.Object.(*lua.LTable); ok {
				pos = position(name, t)
			}
		}
		return ErrorValue("ERR Script killed by user with SCRIPT KILL..." + pos), false
	}
	if err != nil {
		ae, ok := err.(*lua.ApiError)
		if !ok {
			return ErrorValue("ERR Error running script " + name + ", " + truncate(err.Error(), 100)), false
		}
		t, ok := ae.Object.(*lua.LTable)
		if msg, isStr := ae.Object.(lua.LString); isStr && rePosition.MatchString(string(msg)) {
			// The handler could not run (a stack overflow leaves it no
			// room): the text and position are the message's.
			return unhandledError(name, string(msg)), false
		}
		if !ok {
			msg, _ := luaString(ae.Object)
			if msg == "" {
				msg = "execution failure"
			}
			return ErrorValue("ERR Error running script " + name + ", " + truncate(msg, 100)), true
		}
		msg, _ := luaString(t.RawGetString("err"))
		return ErrorValue(msg + position(name, t)), true
	}
	ret := L.Get(-1)
	L.Pop(1)
	return st.fromLua(ret, 0), true
}

// rePosition is the "<chunk>:<line>:" a Lua error message starts with.
var rePosition = regexp.MustCompile(`^(user_script|user_function):(\d+):`)

// unhandledError is the reply to an error the handler did not see,
// msg starting with its position: what the handler would have made of it.
func unhandledError(name, msg string) Value {
	m := rePosition.FindStringSubmatch(msg)
	return ErrorValue("ERR " + lua51Message(msg) + " script: " + name + ", on @" + m[1] + ":" + m[2] + ".")
}

// protectedCall is L.PCall, with any panic that escapes it returned.
func protectedCall(L *lua.LState, nargs, nret int, handler *lua.LFunction) (err error, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			panicked = r
		}
	}()
	return L.PCall(nargs, nret, handler), nil
}

// position is the " script: <name>, on @user_script:<line>." suffix.
func position(name string, t *lua.LTable) string {
	src, sok := t.RawGetString("source").(lua.LString)
	line, lok := luaString(t.RawGetString("line"))
	if !sok || !lok {
		return ""
	}
	return " script: " + name + ", on " + string(src) + ":" + line + "."
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (st *state) array(items [][]byte) *lua.LTable {
	t := st.L.CreateTable(len(items), 0)
	for i, b := range items {
		t.RawSetInt(i+1, lua.LString(b))
	}
	return t
}
