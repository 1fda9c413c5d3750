package resp_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// Functions (FUNCTION and FCALL), compared with redis-server byte for
// byte. Redis lists libraries, and a library's functions, in the order of
// its hash tables, which a random seed changes from run to run: cases that
// list more than one never depend on the order (one library of one
// function, or replies compared as sorted lines).

func fload(code string) []string { return []string{"FUNCTION", "LOAD", code} }

func lib(name, body string) string { return "#!lua name=" + name + "\n" + body }

var functionCases = []scriptCase{
	// FUNCTION LOAD: metadata, names, registrations.
	sc("load metadata", fload("return 1"), fload("#!lua"), fload("#!lua\n"), fload("#!js name=x\nreturn 1"),
		fload("#!lua name=a b=c\n"), fload("#!lua name=a name=b\n"), fload("#!lua name=a-b\n"),
		fload("#!lua name=\n"), fload("#! name=a\n"), fload(`#!lua "name=a`+"\n"), fload("#!lua NAME=q\nreturn 1"),
		fload("#!LUA name=up\nredis.register_function('up', function() return 1 end)"),
		fload("#!lua \"name=quoted\"\nredis.register_function('qf', function() return 2 end)"),
		[]string{"FCALL", "up", "0"}, []string{"FCALL", "qf", "0"},
		[]string{"FUNCTION", "LOAD"}, []string{"FUNCTION", "LOAD", "REPLACE"}, []string{"FUNCTION", "LOAD", "bogus", "x"},
		[]string{"FUNCTION", "LOAD", "REPLACE", "REPLACE", lib("up", "redis.register_function('up', function() return 3 end)")},
		[]string{"FCALL", "up", "0"}),
	sc("load errors", fload(lib("a", "return 1")), fload(lib("a", "local a =\n\n")), fload(lib("a", "error('boom')")),
		fload(lib("a", "redis.call('ping')")), fload(lib("a", "x = 1")), fload(lib("a", "return string.len('x')")),
		fload(lib("a", "return KEYS")), fload(lib("a", "redis.setresp(3)")), fload(lib("a", "redis.foo = 1")),
		fload(lib("a", "redis.register_function()")), fload(lib("a", "redis.register_function(1)")),
		fload(lib("a", "redis.register_function('f')")), fload(lib("a", "redis.register_function({}, function() end)")),
		fload(lib("a", "redis.register_function('f', 1)")), fload(lib("a", "redis.register_function('f', function() end, 1)")),
		fload(lib("a", "redis.register_function('f-g', function() end)")), fload(lib("a", "redis.register_function('', function() end)")),
		fload(lib("a", "redis.register_function('f', function() end)\nredis.register_function('f', function() end)")),
		fload(lib("a", "redis.register_function{callback=function() end}")),
		fload(lib("a", "redis.register_function{function_name='f'}")),
		fload(lib("a", "redis.register_function{function_name=function() end, callback=function() end}")),
		fload(lib("a", "redis.register_function{function_name='f', callback='x'}")),
		fload(lib("a", "redis.register_function{function_name='f', callback=function() end, flags='no-writes'}")),
		fload(lib("a", "redis.register_function{function_name='f', callback=function() end, flags={'bogus'}}")),
		fload(lib("a", "redis.register_function{function_name='f', callback=function() end, description={}}")),
		fload(lib("a", "redis.register_function{function_name='f', callback=function() end, other=1}")),
		fload(lib("a", "redis.register_function{[1]='f'}")),
		fload(lib("a", "local i = 0 while true do i = i + 1 end")),
		[]string{"FUNCTION", "LIST"}),
	sc("after a load timeout", fload(lib("kept", "local calls = 0\nredis.register_function('kf', function(keys, args) calls = calls + 1 return {calls, args[1]} end)")),
		[]string{"FCALL", "kf", "0", "a"}, fload(lib("slow", "while true do end")),
		[]string{"FCALL", "kf", "0", "b"}, fload(lib("fast", "redis.register_function('ff', function() return 'ff' end)")),
		[]string{"FCALL", "ff", "0"}, []string{"FUNCTION", "LIST", "LIBRARYNAME", "slow"}),
	sc("load log and version", fload(lib("lv", "redis.log(redis.LOG_NOTICE, 'loading')\nlocal n = redis.REDIS_VERSION_NUM\nredis.register_function('lv', function() return type(n) end)")),
		[]string{"FCALL", "lv", "0"}),
	sc("replace and collisions", fload(lib("one", "redis.register_function('f1', function() return 'one' end)")),
		fload(lib("one", "redis.register_function('f2', function() end)")), fload(lib("one", "return +")),
		fload(lib("two", "redis.register_function('f1', function() return 'two' end)")),
		[]string{"FUNCTION", "LOAD", "REPLACE", lib("two", "redis.register_function('f1', function() return 'two' end)")},
		[]string{"FUNCTION", "LOAD", "REPLACE", lib("one", "redis.register_function('g1', function() return 'g1' end)")},
		[]string{"FCALL", "f1", "0"}, []string{"FCALL", "g1", "0"},
		[]string{"FUNCTION", "DELETE", "one"}, []string{"FUNCTION", "DELETE", "one"}, []string{"FCALL", "g1", "0"},
		[]string{"FUNCTION", "LIST", "WITHCODE"}),

	// FCALL and FCALL_RO.
	sc("fcall", fload(lib("calls", `redis.register_function('echo', function(keys, args) return {keys, args, #keys, #args} end)`)),
		[]string{"FCALL", "echo", "2", "k1", "k2", "a1", "a2"}, []string{"FCALL", "echo", "0"},
		[]string{"FCALL", "echo", "3", "a", "b"}, []string{"FCALL", "echo", "-1"}, []string{"FCALL", "echo", "x"},
		[]string{"FCALL", "echo", "1.5", "a"}, []string{"FCALL", "nosuch", "0"}, []string{"FCALL", "ECHO", "0"},
		[]string{"FCALL", "echo"}, []string{"FCALL_RO", "echo", "0"}),
	sc("fcall errors and globals", fload(lib("errs", `
redis.register_function('boom', function() error('boom') end)
redis.register_function('tbl', function() error({err='MY boom'}) end)
redis.register_function('nocmd', function() return redis.call('nosuch') end)
redis.register_function('arity', function() return redis.call('get') end)
redis.register_function('glob', function() return KEYS end)
redis.register_function('setg', function() x = 1 end)
redis.register_function('rf', function() return type(redis.register_function) end)
redis.register_function('libs', function() return {string.rep('a', 2), table.concat({'x','y'}), type(redis.setresp), tostring(math.floor(2.5))} end)
redis.register_function('pc', function() return redis.pcall('incr', 'str') end)`)),
		[]string{"SET", "str", "abc"},
		[]string{"FCALL", "boom", "0"}, []string{"FCALL", "tbl", "0"}, []string{"FCALL", "nocmd", "0"},
		[]string{"FCALL", "arity", "0"}, []string{"FCALL", "glob", "0"}, []string{"FCALL", "setg", "0"},
		[]string{"FCALL", "rf", "0"}, []string{"FCALL", "libs", "0"}, []string{"FCALL", "pc", "0"}),
	sc("no-writes", fload(lib("rw", `
redis.register_function('w', function(keys) return redis.call('incr', keys[1]) end)
redis.register_function{function_name='r', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}
redis.register_function{function_name='rw', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'NO-WRITES'}}`)),
		[]string{"FCALL", "w", "1", "n"}, []string{"FCALL_RO", "w", "1", "n"}, []string{"FCALL_RO", "r", "1", "n"},
		[]string{"FCALL", "r", "1", "n"}, []string{"FCALL", "rw", "1", "n"}, []string{"FCALL_RO", "rw", "1", "n"},
		[]string{"GET", "n"}),
	sc("fcall in multi", fload(lib("m", "redis.register_function('inc', function(keys) return redis.call('incr', keys[1]) end)")),
		[]string{"MULTI"}, []string{"FCALL", "inc", "1", "m"}, []string{"FCALL", "inc", "1", "m"}, []string{"FCALL", "nosuch", "0"},
		[]string{"FUNCTION", "LOAD", "x"}, []string{"EXEC"}),
	sc("functions from scripts", fload(lib("fs", "redis.register_function('fs', function() return redis.call('fcall', 'fs', 0) end)")),
		[]string{"FCALL", "fs", "0"}, ev(`return redis.call('fcall', 'fs', 0)`, "0"), ev(`return redis.call('function', 'list')`, "0"),
		ev(`return redis.pcall('function', 'flush')`, "0")),
	sc("acl", fload(lib("acl", "redis.register_function('acl', function(keys) return redis.call('set', keys[1], 'v') end)\nredis.register_function('acl2', function() return redis.call('set', 'b', 'v') end)")),
		[]string{"ACL", "SETUSER", "fuser", "on", "nopass", "~a*", "+@all", "-function"},
		[]string{"AUTH", "fuser", "x"}, []string{"FCALL", "acl", "1", "a1"}, []string{"FCALL", "acl", "1", "b1"},
		[]string{"FCALL", "acl2", "0"}, fload(lib("x", "return 1")), []string{"FUNCTION", "LIST"}),

	// The other subcommands.
	sc("list", fload(lib("listed", `redis.register_function{function_name='lf', callback=function() end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}, description='a description'}`)),
		[]string{"FUNCTION", "LIST"}, []string{"FUNCTION", "LIST", "WITHCODE"}, []string{"FUNCTION", "LIST", "LIBRARYNAME", "list*"},
		[]string{"FUNCTION", "LIST", "LIBRARYNAME", "LIST*", "WITHCODE"}, []string{"FUNCTION", "LIST", "libraryname", "x*"},
		[]string{"FUNCTION", "LIST", "LIBRARYNAME"}, []string{"FUNCTION", "LIST", "WITHCODE", "WITHCODE"},
		[]string{"FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"}, []string{"FUNCTION", "LIST", "bogus"},
		fload(lib("nodesc", `redis.register_function{function_name='nd', callback=function() end, description=5}`)),
		[]string{"FUNCTION", "LIST", "LIBRARYNAME", "nodesc"}),
	sc3("list and stats in resp3", fload(lib("r3", `redis.register_function{function_name='r3', callback=function() return {double=1.5} end, flags={'no-writes'}}`)),
		[]string{"FUNCTION", "LIST", "WITHCODE"}, []string{"FUNCTION", "STATS"}, []string{"FCALL", "r3", "0"}),
	sc("stats and kill", []string{"FUNCTION", "STATS"}, []string{"FUNCTION", "KILL"}, []string{"FUNCTION", "KILL", "x"},
		[]string{"FUNCTION", "STATS", "x"}, fload(lib("st", "redis.register_function('s1', function() end)")),
		[]string{"FUNCTION", "STATS"}),
	sc("flush", fload(lib("fl", "redis.register_function('fl', function() end)")),
		[]string{"FUNCTION", "FLUSH", "bogus"}, []string{"FUNCTION", "FLUSH", "SYNC", "x"}, []string{"FUNCTION", "FLUSH", "ASYNC"},
		[]string{"FUNCTION", "LIST"}, fload(lib("fl", "redis.register_function('fl', function() end)")),
		[]string{"FUNCTION", "FLUSH"}, []string{"FCALL", "fl", "0"},
		fload(lib("kept", "redis.register_function('kept', function() return 'kept' end)")),
		[]string{"FLUSHALL"}, []string{"FCALL", "kept", "0"}),
	sc("restore errors", []string{"FUNCTION", "RESTORE", "x"}, []string{"FUNCTION", "RESTORE", ""},
		[]string{"FUNCTION", "RESTORE", "x", "bogus"}, []string{"FUNCTION", "RESTORE", "x", "append", "y"},
		[]string{"FUNCTION", "RESTORE", "\x00\x01abc\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
		[]string{"FUNCTION", "RESTORE"}),
	sc("help and unknown", []string{"FUNCTION", "HELP"}, []string{"FUNCTION", "bogus"}, []string{"FUNCTION"},
		[]string{"FUNCTION", "HELP", "x"}, []string{"FCALL"}),
	sc("info", fload(lib("inf", "redis.register_function('i1', function() end)\nredis.register_function('i2', function() end)")),
		[]string{"EVAL", "return redis.call('info', 'memory'):match('number_of_functions:%d+')", "0"},
		[]string{"EVAL", "return redis.call('info', 'memory'):match('number_of_libraries:%d+')", "0"}),
}

// TestFunctionRepliesMatchRedis runs every case on both servers.
func TestFunctionRepliesMatchRedis(t *testing.T) { compareCases(t, functionCases) }

// sortedLines is a raw reply's lines, sorted: replies whose order is
// Redis's hash order compare as these.
func sortedLines(raw []byte) []string {
	lines := strings.Split(string(raw), "\r\n")
	slices.Sort(lines)
	return lines
}

// TestFunctionDumpRestoreAcrossServers: FUNCTION DUMP of one server is
// restored by the other, both ways, under each policy; the libraries then
// list and run the same.
func TestFunctionDumpRestoreAcrossServers(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	libs := []string{
		lib("first", "redis.register_function('f1', function(keys, args) return 'first:' .. args[1] end)\n"+
			"redis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes'}, description='two'}"),
		lib("second", "redis.register_function('s1', function() return 's1' end)"),
		// Long enough for Redis to LZF-compress it in its payload.
		lib("third", strings.Repeat("-- padding padding padding\n", 20)+"redis.register_function('t1', function() return 't1' end)"),
	}
	for _, pair := range []struct{ from, to string }{{r.Addr, s.Addr}, {s.Addr, r.Addr}} {
		from, to := dialRaw(t, pair.from), dialRaw(t, pair.to)
		for _, c := range []*rconn{from, to} {
			_, err := c.do("FUNCTION", "FLUSH")
			require.NoError(t, err)
		}
		for _, l := range libs {
			v, err := from.do("FUNCTION", "LOAD", l)
			require.NoError(t, err)
			require.False(t, v.isErr(), v.String())
		}
		dump, err := from.do("FUNCTION", "DUMP")
		require.NoError(t, err)
		require.Equal(t, byte('$'), dump.typ)

		v, err := to.do("FUNCTION", "RESTORE", dump.str)
		require.NoError(t, err)
		require.Equal(t, okR, string(v.raw))
		v, err = to.do("FUNCTION", "RESTORE", dump.str)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(v.str, "ERR Library ") && strings.HasSuffix(v.str, " already exists"), v.String())
		for _, policy := range []string{"REPLACE", "FLUSH", "APPEND"} {
			if policy == "APPEND" {
				_, err = to.do("FUNCTION", "DELETE", "second")
				require.NoError(t, err)
				_, err = to.do("FUNCTION", "DELETE", "first")
				require.NoError(t, err)
				v, err = to.do("FUNCTION", "RESTORE", dump.str, policy)
				require.NoError(t, err)
				require.Equal(t, "-ERR Library third already exists\r\n", string(v.raw))
				_, err = to.do("FUNCTION", "DELETE", "third")
				require.NoError(t, err)
			}
			v, err = to.do("FUNCTION", "RESTORE", dump.str, policy)
			require.NoError(t, err)
			require.Equal(t, okR, string(v.raw), policy)
		}
		a, err := from.do("FUNCTION", "LIST", "WITHCODE")
		require.NoError(t, err)
		b, err := to.do("FUNCTION", "LIST", "WITHCODE")
		require.NoError(t, err)
		require.Equal(t, sortedLines(a.raw), sortedLines(b.raw))
		for _, call := range [][]string{{"FCALL", "f1", "0", "x"}, {"FCALL_RO", "f2", "0"}, {"FCALL", "s1", "0"}, {"FCALL", "t1", "0"}} {
			a, err := from.do(call...)
			require.NoError(t, err)
			b, err := to.do(call...)
			require.NoError(t, err)
			require.Equal(t, string(a.raw), string(b.raw), "%q", call)
		}
		// A payload changed in one byte is refused.
		bad := []byte(dump.str)
		bad[3] ^= 1
		v, err = to.do("FUNCTION", "RESTORE", string(bad))
		require.NoError(t, err)
		require.Equal(t, "-ERR DUMP payload version or checksum are wrong\r\n", string(v.raw))
	}
}

// functionKillFlow runs a function that never ends, waits for BUSY and
// checks what each kill does, then one that wrote, which no kill stops.
func functionKillFlow(t *testing.T, addr string) []string {
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	var out []string
	rec := func(v rv, err error) {
		require.NoError(t, err)
		out = append(out, string(v.raw))
	}
	rec(b.do("CONFIG", "SET", "busy-reply-threshold", "100"))
	rec(b.do("FUNCTION", "FLUSH"))
	rec(b.do("FUNCTION", "LOAD", lib("busy", `
local n = 0
redis.register_function('count', function() n = n + 1 return n end)
redis.register_function{function_name='spin', callback=function() local i = 0 while true do i = i + 1 end end, flags={'no-writes'}}
redis.register_function('spinw', function() redis.call('set', 'w', '1')
`+busyScript(1500)+`
return redis.call('get', 'w') end)`)))
	rec(b.do("FCALL", "count", "0"))
	_, err := a.c.Write(encodeCommand([]string{"FCALL", "spin", "0"}))
	require.NoError(t, err)
	out = append(out, waitBusy(t, b))
	rec(b.do("GET", "x"))
	rec(b.do("SCRIPT", "KILL"))
	rec(b.do("FUNCTION", "LOAD", lib("other", "redis.register_function('o', function() end)")))
	stats, err := b.do("FUNCTION", "STATS")
	require.NoError(t, err)
	require.Len(t, stats.elems, 4)
	run := stats.elems[1]
	require.Len(t, run.elems, 6)
	out = append(out, run.elems[1].str, run.elems[3].elems[0].str, run.elems[3].elems[1].str, string(stats.elems[3].raw))
	rec(b.do("FUNCTION", "KILL"))
	a.c.SetDeadline(time.Now().Add(5 * time.Second))
	rec(readReply(a.br))
	rec(b.do("FUNCTION", "KILL"))
	rec(b.do("FUNCTION", "STATS"))
	rec(b.do("FCALL", "count", "0")) // the library's state survives the kill

	// An EVAL that is busy is SCRIPT KILL's, not FUNCTION KILL's.
	_, err = a.c.Write(encodeCommand(ev(`local n = 0 while true do n = n + 1 end`, "0")))
	require.NoError(t, err)
	out = append(out, waitBusy(t, b))
	rec(b.do("FUNCTION", "KILL"))
	rec(b.do("FUNCTION", "STATS"))
	rec(b.do("SCRIPT", "KILL"))
	rec(readReply(a.br))

	// A function that wrote cannot be killed; it finishes.
	_, err = a.c.Write(encodeCommand([]string{"FCALL", "spinw", "0"}))
	require.NoError(t, err)
	out = append(out, waitBusy(t, b))
	rec(b.do("FUNCTION", "KILL"))
	rec(b.do("SCRIPT", "KILL"))
	rec(readReply(a.br))
	rec(b.do("FCALL", "spin", "x"))
	return out
}

func TestFunctionKillMatchesRedis(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	require.Equal(t, functionKillFlow(t, r.Addr), functionKillFlow(t, s.Addr))
}

// TestFunctionOOM: over maxmemory, a function runs only if it declares
// allow-oom or no-writes, as in Redis.
func TestFunctionOOM(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	p := newPair(t, s.Addr, r.Addr)
	p.same(t, "FUNCTION", "LOAD", lib("oom", `
redis.register_function('plain', function() return 1 end)
redis.register_function{function_name='ro', callback=function() return 2 end, flags={'no-writes'}}
redis.register_function{function_name='ok', callback=function() return redis.call('set', 'k', 'v') end, flags={'allow-oom'}}`))
	p.same(t, "SET", "pad", strings.Repeat("x", 1000))
	p.same(t, "CONFIG", "SET", "maxmemory", "1")
	defer p.same(t, "CONFIG", "SET", "maxmemory", "0")
	for _, args := range [][]string{{"FCALL", "plain", "0"}, {"FCALL", "ro", "0"}, {"FCALL_RO", "ro", "0"}, {"FCALL", "ok", "0"},
		{"FCALL", "nosuch", "0"}, {"FUNCTION", "LOAD", lib("x", "redis.register_function('x', function() end)")}, {"FUNCTION", "DELETE", "x"}} {
		p.same(t, args...)
	}
}

// TestScriptOOM: over maxmemory a script without a shebang runs, but its
// first write of a command that may grow memory fails (a write after
// another write does not: the script cannot stop halfway); a script with
// a shebang is refused unless it declares allow-oom or no-writes, as an
// EVALSHA of it is; inside MULTI every script is refused. As in Redis.
func TestScriptOOM(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	p := newPair(t, s.Addr, r.Addr)
	shebang := "#!lua\nreturn redis.call('set', 'k', 'v')"
	p.same(t, "SET", "pad", strings.Repeat("x", 1000))
	p.same(t, "SCRIPT", "LOAD", shebang)
	p.same(t, "CONFIG", "SET", "maxmemory", "1")
	defer p.same(t, "CONFIG", "SET", "maxmemory", "0")
	for _, args := range [][]string{
		{"EVAL", "return redis.call('set', 'k', 'v')", "0"},
		{"EVAL", "return redis.pcall('set', 'k', 'v')", "0"},
		{"EVAL", "return redis.pcall('get', 'pad') ~= nil", "0"},
		{"EVAL", "redis.call('del', 'nosuch'); return redis.call('set', 'k', 'v')", "0"},
		{"EVAL", "redis.call('set', 'k', 'v'); return redis.call('set', 'k', 'w')", "0"},
		{"EVAL", shebang, "0"},
		{"EVALSHA", luascriptSHA(shebang), "0"},
		{"EVAL_RO", "#!lua\nreturn 1", "0"},
		{"EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'k2', 'v')", "0"},
		{"EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k2')", "0"},
		{"EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'k2', 'w')", "0"},
	} {
		p.same(t, args...)
	}
	p.same(t, "MULTI")
	p.same(t, "EVAL", "return 1", "0")
	p.same(t, "EXEC")
}

// TestTrackingFunctions: what a function reads is tracked for its caller
// and what it writes invalidates, as for scripts; its writes touch WATCHed
// keys.
func TestTrackingFunctions(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		b := e.dial("B", 2)
		b.doArgs("FUNCTION LOAD trk", "FUNCTION", "LOAD", lib("trk",
			"redis.register_function{function_name='rd', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}\n"+
				"redis.register_function('wr', function(keys, args) return redis.call('set', keys[1], args[1]) end)"))
		a, to := e.trackingClient(3, "")
		a.do("FCALL_RO rd 1 f1")
		a.do("FCALL rd 1 f2")
		b.do("FCALL wr 1 f1 x")
		require.Equal(e.t, []string{"f1"}, to.sync())
		b.do("SET f2 y")
		require.Equal(e.t, []string{"f2"}, to.sync())
		a.do("FCALL wr 1 f3 own")
		b.do("SET f3 other")
		require.Empty(e.t, to.sync(), "a function's write does not make its caller track the key")

		w := e.dial("W", 2)
		w.do("WATCH wk")
		b.do("FCALL wr 1 wk v")
		w.do("MULTI")
		w.do("GET wk")
		w.do("EXEC")
		b.doArgs("FUNCTION FLUSH", "FUNCTION", "FLUSH")
	})
}

// TestFunctionPauseWrite: CLIENT PAUSE WRITE holds a function that may
// write and lets one declaring no-writes run, as Redis does.
func TestFunctionPauseWrite(t *testing.T) {
	for _, addr := range []string{testserver.StartRedis(t).Addr, testserver.Start(t).Addr} {
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		v, err := a.do("FUNCTION", "LOAD", lib("pause", "redis.register_function{function_name='ro', callback=function() return 'ro' end, flags={'no-writes'}}\n"+
			"redis.register_function('rw', function() return 'rw' end)"))
		require.NoError(t, err)
		require.Equal(t, "pause", v.str)
		v, err = a.do("CLIENT", "PAUSE", "400", "WRITE")
		require.NoError(t, err)
		require.Equal(t, okR, string(v.raw))
		start := time.Now()
		v, err = b.do("FCALL", "ro", "0")
		require.NoError(t, err)
		require.Equal(t, "ro", v.str)
		require.Less(t, time.Since(start), 200*time.Millisecond, addr)
		v, err = b.do("FCALL", "rw", "0")
		require.NoError(t, err)
		require.Equal(t, "rw", v.str)
		require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, addr)
	}
}

// TestFunctionsGoRedis drives functions through go-redis's typed API, in
// RESP2 and RESP3, and requires what it parses to be what it parses from
// redis-server.
func TestFunctionsGoRedis(t *testing.T) {
	ctx := context.Background()
	code := lib("gr", "redis.register_function{function_name='grw', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end, description='writes'}\n"+
		"redis.register_function{function_name='grr', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-stale'}}")
	run := func(addr string, proto int) []any {
		rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto})
		defer rdb.Close()
		require.NoError(t, rdb.FunctionFlush(ctx).Err())
		var out []any
		name, err := rdb.FunctionLoad(ctx, code).Result()
		out = append(out, name, fmt.Sprint(err))
		_, err = rdb.FunctionLoad(ctx, code).Result()
		out = append(out, fmt.Sprint(err))
		name, err = rdb.FunctionLoadReplace(ctx, code).Result()
		out = append(out, name, fmt.Sprint(err))
		v, err := rdb.FCall(ctx, "grw", []string{"k"}, "v1").Result()
		out = append(out, v, fmt.Sprint(err))
		v, err = rdb.FCallRo(ctx, "grr", []string{"k"}).Result()
		out = append(out, v, fmt.Sprint(err))
		_, err = rdb.FCallRo(ctx, "grw", []string{"k"}, "v").Result()
		out = append(out, fmt.Sprint(err))
		libs, err := rdb.FunctionList(ctx, redis.FunctionListQuery{LibraryNamePattern: "g*", WithCode: true}).Result()
		require.NoError(t, err)
		for i := range libs {
			slices.SortFunc(libs[i].Functions, func(a, b redis.Function) int { return strings.Compare(a.Name, b.Name) })
		}
		out = append(out, libs)
		stats, err := rdb.FunctionStats(ctx).Result()
		require.NoError(t, err)
		out = append(out, stats.Engines, stats.Running())
		dump, err := rdb.FunctionDump(ctx).Result()
		require.NoError(t, err)
		require.NoError(t, rdb.FunctionFlush(ctx).Err())
		out = append(out, rdb.FunctionRestore(ctx, dump).Val())
		v, err = rdb.FCall(ctx, "grr", []string{"k"}).Result()
		out = append(out, v, fmt.Sprint(err))
		out = append(out, rdb.FunctionDelete(ctx, "gr").Val(), fmt.Sprint(rdb.FunctionDelete(ctx, "gr").Err()))
		return out
	}
	r, s := testserver.StartRedis(t), testserver.Start(t)
	for _, proto := range []int{2, 3} {
		require.Equal(t, run(r.Addr, proto), run(s.Addr, proto), "RESP%d", proto)
	}
}

// fcallAfterReplaceFlow: while a slow function runs, another client's
// FUNCTION LOAD REPLACE of library L and then an FCALL of L's function
// wait for the gate; the FCALL runs the new function.
func fcallAfterReplaceFlow(t *testing.T, addr string) []string {
	a, b, c := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
	var out []string
	rec := func(v rv, err error) {
		require.NoError(t, err)
		out = append(out, string(v.raw))
	}
	rec(a.do("CONFIG", "SET", "busy-reply-threshold", "60000"))
	rec(a.do("FUNCTION", "FLUSH"))
	rec(a.do("FUNCTION", "LOAD", lib("slow", "redis.register_function{function_name='spin', callback=function(k, a) local i = 0 while i < tonumber(a[1]) do i = i + 1 end return i end, flags={'no-writes'}}")))
	rec(a.do("FUNCTION", "LOAD", lib("L", "redis.register_function('f', function() return 'old' end)")))
	send := func(c *rconn, args ...string) {
		_, err := c.c.Write(encodeCommand(args))
		require.NoError(t, err)
	}
	send(a, "FCALL", "spin", "0", "5000000") // long enough for the other two to queue behind it
	time.Sleep(100 * time.Millisecond)
	send(b, "FUNCTION", "LOAD", "REPLACE", lib("L", "redis.register_function('f', function() return 'ok' end)"))
	time.Sleep(100 * time.Millisecond)
	send(c, "FCALL", "f", "0")
	for _, x := range []*rconn{a, b, c} {
		x.c.SetDeadline(time.Now().Add(60 * time.Second))
		rec(readReply(x.br))
	}
	return out
}

// TestFcallAfterReplaceMatchesRedis: FCALL looked its function up before
// it waited for the gate, and ran the replaced one: "Function not found".
func TestFcallAfterReplaceMatchesRedis(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	require.Equal(t, fcallAfterReplaceFlow(t, r.Addr), fcallAfterReplaceFlow(t, s.Addr))
}
