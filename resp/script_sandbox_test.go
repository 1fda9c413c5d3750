package resp_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// The sandbox's edges, compared with redis-server 7.0.15: what one script
// or library can reach must not change what another sees.

const (
	victimLib = "redis.register_function('victim', function(k, a) local s = string.format('%s', 'x') return redis.call('get', k[1]) end)"
	evilLib   = `redis.register_function('evil', function(k, a)
 local mt = getmetatable('') local realfmt = mt.__index.format
 mt.__index.format = function(...) local env = getfenv(2) setfenv(2, setmetatable({redis={call=function(c, k) return 'intercepted '..c..' '..k end}}, {__index=env})) return realfmt(...) end
 return 'armed' end)`
)

var sandboxCases = []scriptCase{
	sc("string metatable across libraries", []string{"SET", "secret", "s3cr3t"},
		fload(lib("victim", victimLib)), fload(lib("evil", evilLib)),
		[]string{"FCALL", "evil", "0"}, []string{"FCALL", "victim", "1", "secret"},
		[]string{"FUNCTION", "DELETE", "evil"}, []string{"FCALL", "victim", "1", "secret"}),
	sc("string metatable across scripts",
		ev("getmetatable('').__index = {} return 1", "0"),
		ev("getmetatable('').__index.upper = nil return 1", "0"),
		ev("getmetatable('').__index.upper = function() return 'evil' end return 1", "0"),
		ev("getmetatable('').x = 1 return 1", "0"),
		ev("rawset(getmetatable(''), '__index', {}) return 1", "0"),
		ev("return ('a'):upper()", "0"), ev("return string.upper('b')", "0"),
		ev("return type(getmetatable(''))", "0"), ev("return type(getmetatable('').__index)", "0"),
		ev("return tostring(getmetatable('').__index == string)", "0"),
		ev("return tostring(getmetatable('') == getmetatable('a'))", "0"),
		ev("return type(getmetatable('').__metatable)", "0")),
	sc("no environment functions", ev("return type(getfenv)", "0"), ev("return type(setfenv)", "0"),
		ev("return type(newproxy)", "0"), ev("return type(loadstring)", "0"), ev("return type(rawset)", "0")),
	sc("table functions on read-only tables",
		ev("table.insert(_G, 1) return 1", "0"), ev("table.insert(redis, 1) return 1", "0"),
		ev("table.insert(string, 1) return 1", "0"), ev("table.insert(table, 1, 2) return 1", "0"),
		ev("return redis[1]", "0"), ev("return #string", "0"),
		ev("table.remove(redis) return 1", "0"), ev("table.sort(redis) return 1", "0"),
		ev("setmetatable(redis, {}) return 1", "0"), ev("setmetatable(_G, {}) return 1", "0"),
		ev("local t = {} table.insert(t, 'a') table.insert(t, 1, 'b') return t", "0")),
	sc("functions get the same sandbox", fload(lib("sb", `
redis.register_function('fenv', function() return type(getfenv) end)
redis.register_function('ins', function() table.insert(redis, 1) return 1 end)
redis.register_function('meta', function() getmetatable('').__index.upper = nil return 1 end)
redis.register_function('up', function() return ('a'):upper() end)`)),
		[]string{"FCALL", "fenv", "0"}, []string{"FCALL", "ins", "0"}, []string{"FCALL", "meta", "0"},
		[]string{"FCALL", "up", "0"}),
}

// TestScriptSandboxMatchesRedis: no script or library can reach into
// another's environment or the shared string metatable, and the read-only
// tables stay read-only whatever writes to them.
func TestScriptSandboxMatchesRedis(t *testing.T) { compareCases(t, sandboxCases) }

// limitCases are scripts and functions that reach gopher-lua's limits;
// each must end in Redis's error, and the server go on.
var limitCases = []scriptCase{
	sc("unpack", ev("return {unpack({}, 1, 1e7)}", "0"), ev("return #{unpack({}, 1, 7990)}", "0"),
		ev("return select('#', unpack({}, 1, 7997))", "0"), ev("return select('#', unpack({}, 1, 7998))", "0"),
		ev("return {pcall(unpack, {}, 1, 1e7)}", "0"), ev("return {unpack({1, 2, 3}, 2)}", "0"),
		ev("return {unpack({1, 2}, 3, 1)}", "0"),
		ev("return 'still here'", "0")),
	sc("unpack in a function", fload(lib("unp", "redis.register_function('unp', function() return {unpack({}, 1, 1e7)} end)\n"+
		"local n = 0\nredis.register_function('cnt', function() n = n + 1 return n end)")),
		[]string{"FCALL", "cnt", "0"}, []string{"FCALL", "unp", "0"}, []string{"FCALL", "cnt", "0"},
		fload(lib("unpload", "local t = {unpack({}, 1, 1e7)}")), []string{"FCALL", "cnt", "0"}),
	sc("stack overflow", ev("local function f() f() end f()", "0"),
		ev("local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(100)", "0"),
		ev("return 'still here'", "0")),
	// Lua 5.1 allows 20,000 nested calls, sessiond 4,000 (gopher-lua 256
	// by default).
	sc("deep recursion", ev("local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(tonumber(ARGV[1]))", "0", "1000"),
		ev("local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(tonumber(ARGV[1]))", "0", "3900"),
		ev("return {pcall(function() local function f() f() end f() end)}", "0"),
		ev("local ok, e = pcall(function() local function f() f() end f() end) return e", "0")),
	// table.concat is Lua 5.1's: no stack per element (gopher-lua's failed
	// past some 130,000), numbers as "%.14g", its bounds and errors.
	sc("table.concat", ev("local t = {} for i = 1, 300000 do t[i] = 'ab' end return #table.concat(t, ',')", "0"),
		ev("return table.concat({1, 2.5, 1/3, 1e100, 'x'}, ', ', 2)", "0"), ev("return table.concat({1, 2, 3}, 5)", "0"),
		ev("return table.concat({1, 2, 3}, ',', '2', '3')", "0"), ev("return table.concat({1, 2, 3}, ',', 1.5, 2.7)", "0"),
		ev("return table.concat({1, 2, 3}, ',', 3, 1)", "0"), ev("return table.concat({1, 2, 3}, nil, 2)", "0"),
		ev("return table.concat({}, '', 1, 3)", "0"), ev("return table.concat({1, 2, 3}, ',', 0)", "0"),
		ev("return table.concat({1, {}, 3}, ',')", "0"), ev("return table.concat({true}, ',')", "0"),
		ev("return table.concat(nil)", "0"), ev("return table.concat()", "0"), ev("return table.concat({1}, {})", "0"),
		ev("return table.concat({1, 2, 3}, ',', 'x')", "0"), ev("return {pcall(table.concat, {1, nil, 3}, ',', 1, 3)}", "0"),
		ev("local t = setmetatable({}, {__index = function() return 'x' end}) return table.concat(t, ',', 1, 2)", "0")),
	// string.gsub is Lua 5.1's around gopher-lua's matcher: replacement
	// strings, values and errors as str_gsub's, in linear time (64 KB of
	// matches took a second).
	sc("string.gsub", ev("return {string.gsub('hello world', 'o', '0')}", "0"),
		ev("return {string.gsub('hello world', 'o', '0', 1)}", "0"),
		ev("return {string.gsub('hello world', 'o', '0', 0)}", "0"),
		ev("return {string.gsub('hello world', 'o', '0', -1)}", "0"),
		ev("return {string.gsub('hello world', '(o)', '[%1]')}", "0"),
		ev("return {string.gsub('hello world', 'o', '%0%0')}", "0"),
		ev("return {string.gsub('hello world', 'o', '%x')}", "0"),
		ev("return {string.gsub('hello world', 'o', 'a%')}", "0"),
		ev("return {string.gsub('hello world', 'o', '%2')}", "0"),
		ev("return {string.gsub('hello world', '(l)(l)', '%2%1')}", "0"),
		ev("return {string.gsub('abc', '()b', '%1')}", "0"),
		ev("return {string.gsub('abc', '', '-')}", "0"),
		ev("return {string.gsub('abc', '^a', 'X')}", "0"),
		ev("return {string.gsub('abc', 'b*', '-')}", "0"),
		ev("return {string.gsub('hello world', '%w+', function(w) return w:upper() end)}", "0"),
		ev("return {string.gsub('hello world', '(%w)(%w*)', function(a, b) return b .. a end)}", "0"),
		ev("return {string.gsub('hello world', '%w+', function(w) return nil end)}", "0"),
		ev("return {string.gsub('hello world', '%w+', function(w) return false end)}", "0"),
		ev("return {string.gsub('hello world', '%w+', function(w) return 5 end)}", "0"),
		ev("return {string.gsub('hello world', '%w+', function(w) return {} end)}", "0"),
		ev("return {string.gsub('hello world', '%w+', {hello='HI'})}", "0"),
		ev("return {string.gsub('hello world', '(%w+)', {hello=1.5})}", "0"),
		ev("return {string.gsub('hello world', '%w+', {hello=true})}", "0"),
		ev("return {string.gsub('abc', '()', {[1]='one'})}", "0"),
		ev("return {string.gsub('hello', 'l', 7)}", "0"),
		ev("return {string.gsub('hello', 'l', 0.1)}", "0"),
		ev("return {string.gsub(12345, 3, 9)}", "0"),
		ev("return {string.gsub('hello', 'l')}", "0"),
		ev("return {string.gsub('hello', 'l', true)}", "0"),
		ev("return {string.gsub('hello')}", "0"),
		ev("return {string.gsub('hello', 'l', 'x', 'y')}", "0"),
		ev("return {string.gsub('hello', 'l', 'x', 1.9)}", "0"),
		ev("return {('x'):rep(10):gsub('x', 'yz')}", "0"),
		ev("local s = string.rep('a', 65536) local r, n = s:gsub('a', 'b') return {#r, n}", "0"),
		ev("local s = string.rep('ab', 30000) local r, n = s:gsub('(a)(b)', function(a, b) return b .. a end) return {#r, n, r:sub(1, 10)}", "0"),
		ev("return {pcall(string.gsub, 'hello', 'l', function() error('boom') end)}", "0"),
		ev("return {string.gsub('hello world', '%s', '%%')}", "0"),
		ev("return {string.gsub('a.b.c', '%.', '%%%%')}", "0")),
	// The 199th nested pcall or xpcall fails: LUAI_MAXCCALLS.
	sc("nested pcall", ev(nestedPcall, "0", "198"), ev(nestedPcall, "0", "199"), ev(nestedPcall, "0", "250"),
		ev(nestedXpcall, "0", "198"), ev(nestedXpcall, "0", "199"),
		ev("return {xpcall(function() error('x') end, function(e) return 'h:'..e end)}", "0"),
		fload(lib("nest", "local function f(n) if n == 0 then return 'ok' end local ok, v = pcall(f, n-1) return v end\n"+
			"redis.register_function('nest', function(k, a) return f(tonumber(a[1])) end)")),
		[]string{"FCALL", "nest", "0", "198"}, []string{"FCALL", "nest", "0", "199"},
		ev("return 'still here'", "0")),
	sc("big strings", ev("return #string.rep('x', 1e6)", "0"), ev("return string.rep('x', -1)", "0"),
		ev("return string.rep('', 1e9)", "0"),
		ev("local t = {} for i = 1, 100 do t[i] = string.rep('x', 1000) end return #table.concat(t, ',')", "0")),
}

const (
	nestedPcall  = "local function f(n) if n == 0 then return 'ok' end local ok, v = pcall(f, n-1) return v end return f(tonumber(ARGV[1]))"
	nestedXpcall = "local function f(n) if n == 0 then return 'ok' end local ok, v = xpcall(function() return f(n-1) end, function(e) return 'H:'..tostring(e) end) return v end return f(tonumber(ARGV[1]))"
)

// TestScriptLimitsMatchRedis: unpack of more values than Lua 5.1 allows
// panicked the process ("registry overflow") instead of failing the script.
func TestScriptLimitsMatchRedis(t *testing.T) { compareCases(t, limitCases) }

// TestScriptHugeStringRefused: string.rep past proto-max-bulk-len fails the
// script instead of allocating it (Redis's Lua tries, and may take the
// machine's memory); the server goes on.
func TestScriptHugeStringRefused(t *testing.T) {
	s := testserver.Start(t)
	c := dialRaw(t, s.Addr)
	v, err := c.do("EVAL", "return #string.rep('x', 1e10)", "0")
	require.NoError(t, err)
	require.Contains(t, v.str, "not enough memory")
	v, err = c.do("EVAL", "return 1", "0")
	require.NoError(t, err)
	require.Equal(t, ":1\r\n", string(v.raw))
}

var coroutineCases = []scriptCase{
	sc("coroutine kept across calls", fload(lib("CO", `local co
redis.register_function{function_name='gen', callback=function(k, a)
 if co == nil or coroutine.status(co) == 'dead' then co = coroutine.create(function() local i = 0 while true do i = i + 1 coroutine.yield(i) end end) end
 return {coroutine.resume(co)} end, flags={'no-writes'}}
local w
redis.register_function{function_name='wgen', callback=function(k, a)
 if w == nil then w = coroutine.wrap(function() local i = 0 while true do i = i + 10 coroutine.yield(i) end end) end
 return w() end, flags={'no-writes'}}`)),
		[]string{"FCALL", "gen", "0"}, []string{"FCALL", "gen", "0"}, []string{"FCALL", "gen", "0"},
		[]string{"FCALL", "wgen", "0"}, []string{"FCALL", "wgen", "0"}),
	sc("coroutine.wrap errors", ev("return coroutine.wrap(function() return {unpack({}, 1, 1e7)} end)()", "0"),
		ev("return coroutine.wrap(function() error({err='X y'}) end)()", "0"),
		ev("local f = coroutine.wrap(function() return 1 end) f() return f()", "0"),
		ev("local co co = coroutine.create(function() return {coroutine.resume(co)} end) return {coroutine.resume(co)}", "0"),
		ev("return {coroutine.wrap(function(a, b) local c = coroutine.yield(a + b) return c end)(1, 2)}", "0")),
}

// TestCoroutinesMatchRedis: a coroutine created by one FCALL resumes in
// the next; it died with "context canceled".
func TestCoroutinesMatchRedis(t *testing.T) { compareCases(t, coroutineCases) }

// TestCoroutinesAreSmall: a coroutine is a gopher-lua state made with its
// creator's options, and took 113 KB of used_memory each (Redis's take
// about 22 KB); with the main state's 4,000-frame call stack it would
// have taken 400 KB.
func TestCoroutinesAreSmall(t *testing.T) {
	s := testserver.Start(t)
	c := dialRaw(t, s.Addr)
	// A library keeps its coroutines alive, so that the collector cannot
	// take them before used_memory is read.
	_, err := c.do("FUNCTION", "LOAD", "#!lua name=co\nlocal keep = {}\n"+
		"redis.register_function('mk', function(k, a) for i = 1, 2000 do keep[#keep + 1] = coroutine.create(function() end) end return #keep end)")
	require.NoError(t, err)
	used := func() int64 {
		n, err := strconv.ParseInt(infoField(t, s.Addr, "memory", "used_memory"), 10, 64)
		require.NoError(t, err)
		return n
	}
	before := used()
	v, err := c.do("FCALL", "mk", "0")
	require.NoError(t, err)
	require.Equal(t, ":2000\r\n", string(v.raw))
	perCoroutine := (used() - before) / 2000
	t.Logf("used_memory per coroutine: %d bytes", perCoroutine)
	require.Less(t, perCoroutine, int64(64<<10), "used_memory per coroutine")
}

// TestKillInsideResumedCoroutine: FUNCTION KILL stops a loop inside a
// coroutine that an earlier call created.
func TestKillInsideResumedCoroutine(t *testing.T) {
	s := testserver.Start(t)
	a, b := dialRaw(t, s.Addr), dialRaw(t, s.Addr)
	for _, args := range [][]string{{"CONFIG", "SET", "busy-reply-threshold", "100"},
		{"FUNCTION", "LOAD", lib("spinco", `local co
redis.register_function{function_name='step', callback=function()
 co = co or coroutine.create(function() coroutine.yield(1) local i = 0 while true do i = i + 1 end end)
 return {coroutine.resume(co)} end, flags={'no-writes'}}`)},
		{"FCALL", "step", "0"}} {
		v, err := a.do(args...)
		require.NoError(t, err)
		require.False(t, v.isErr(), v.String())
	}
	_, err := a.c.Write(encodeCommand([]string{"FCALL", "step", "0"}))
	require.NoError(t, err)
	waitBusy(t, b)
	v, err := b.do("FUNCTION", "KILL")
	require.NoError(t, err)
	require.Equal(t, okR, string(v.raw))
	a.c.SetDeadline(time.Now().Add(5 * time.Second))
	v, err = readReply(a.br)
	require.NoError(t, err)
	require.Contains(t, v.String(), "Script killed by user")
}

var metadataCases = []scriptCase{
	sc("shebang NUL and white space", fload("#!lua name=a22\v\nredis.register_function('x', function() return 1 end)"),
		fload("#!lua\x00 name=a\nredis.register_function('y', function() return 1 end)"),
		fload("#!lua name=a\x00\nredis.register_function('y', function() return 1 end)"),
		fload("#!lua\vname=vt\nredis.register_function('z', function() return 1 end)"),
		fload("#!lua \vname=vt\nredis.register_function('z', function() return 1 end)"),
		fload("#!lua name=tab\t\nredis.register_function('t', function() return 1 end)"),
		// One library a list: Redis lists them in a random hash order.
		[]string{"FUNCTION", "LIST", "LIBRARYNAME", "vt"}, []string{"FUNCTION", "LIST", "LIBRARYNAME", "tab"},
		[]string{"FUNCTION", "LIST", "LIBRARYNAME", "a*"}),
	sc("function redis API", fload(lib("chk", "redis.register_function('chk', function() return {type(redis.breakpoint), "+
		"type(redis.debug), type(redis.replicate_commands), type(redis.set_repl), type(redis.setresp), type(redis.sha1hex), "+
		"type(redis.log), type(redis.error_reply), type(redis.status_reply), type(redis.pcall), type(redis.REPL_ALL), "+
		"type(redis.register_function)} end)")), []string{"FCALL", "chk", "0"},
		ev("return {type(redis.breakpoint), type(redis.debug), type(redis.replicate_commands)}", "0")),
}

// TestFunctionMetadataMatchesRedis: a library's first line ends at a NUL
// as Redis's strchr does, only space, \n, \r, \t end an unquoted word, and
// functions lack the debugger's and EVAL's compatibility API.
func TestFunctionMetadataMatchesRedis(t *testing.T) { compareCases(t, metadataCases) }
