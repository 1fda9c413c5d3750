package resp_test

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// scriptCase is a sequence of commands whose raw replies must be the same
// on sessiond and redis-server. resp3 sends HELLO 3 first.
type scriptCase struct {
	name  string
	resp3 bool
	cmds  [][]string
}

func ev(script string, args ...string) []string {
	return append([]string{"EVAL", script}, args...)
}

func sc(name string, cmds ...[]string) scriptCase { return scriptCase{name: name, cmds: cmds} }

func sc3(name string, cmds ...[]string) scriptCase {
	return scriptCase{name: name, resp3: true, cmds: cmds}
}

var scriptCases = []scriptCase{
	// Lua -> RESP conversions.
	sc("number truncates", ev("return 3.99", "0"), ev("return -3.99", "0"), ev("return 1e3", "0")),
	sc("booleans and nil", ev("return true", "0"), ev("return false", "0"), ev("return nil", "0")),
	sc("array stops at nil", ev(`return {1,2,3,"a",nil,4}`, "0")),
	sc("nested", ev(`return {1, {2, {3, "x"}}, {ok="s"}, {err="E x"}, true, false}`, "0")),
	sc("status and error tables", ev(`return {ok="fine"}`, "0"), ev(`return {err="bad thing"}`, "0")),
	sc("error_reply and status_reply", ev(`return redis.error_reply("My err")`, "0"), ev(`return redis.error_reply("-X y")`, "0"),
		ev(`return redis.status_reply("FINE")`, "0"), ev(`return redis.error_reply(5)`, "0"), ev(`return redis.status_reply()`, "0")),
	sc("double map set in resp2", ev(`return {double=3.5}`, "0"), ev(`return {map={a=1}}`, "0"), ev(`return {set={a=true}}`, "0")),
	sc("empty table", ev(`return {}`, "0")),
	// Commands called from a script are checked against the caller's ACL.
	sc("acl in scripts", []string{"ACL", "SETUSER", "scriptuser", "on", "nopass", "~a*", "+@all", "-set"},
		[]string{"AUTH", "scriptuser", "x"}, ev(`return redis.pcall('set','a','b')`, "0"), ev(`return redis.call('set','a','b')`, "0"),
		ev(`return redis.pcall('get','zz')`, "0"), ev(`return redis.pcall('get','a1')`, "0")),
	sc("function returns null", ev(`return print`, "0")),
	sc("sha1hex", ev(`return redis.sha1hex("")`, "0"), ev(`return redis.sha1hex("abc")`, "0"), ev(`return redis.sha1hex()`, "0")),
	sc("KEYS and ARGV", ev(`return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}`, "2", "k1", "k2", "a1", "a2")),
	sc("no keys", ev(`return {#KEYS, #ARGV}`, "0", "x")),

	// RESP -> Lua conversions.
	sc("call replies", []string{"SET", "s", "abc"}, []string{"SADD", "set", "m"},
		ev(`return redis.call("get", KEYS[1])`, "1", "s"),
		ev(`return redis.call("incr", "n")`, "0"),
		ev(`return type(redis.call("get", "nokey"))`, "0"),
		ev(`return tostring(redis.call("get", "nokey"))`, "0"),
		ev(`return redis.call("set", "k", "v")`, "0"),
		ev(`local r = redis.call("set", "k", "v"); return r.ok`, "0"),
		ev(`return redis.call("smembers", "set")`, "0"),
		ev(`return redis.call("mget", "s", "nokey", "s")`, "0"),
		ev(`return redis.call("ping")`, "0"),
		ev(`return redis.pcall("incr", "s")`, "0"),
		ev(`local r = redis.pcall("incr", "s"); return r.err`, "0"),
		ev(`return {pcall(redis.call, "incr", "s")}`, "0"),
		ev(`return redis.call("set", "f", 3.0)`, "0"),
		ev(`redis.call("set", "f", 0.1); return redis.call("get", "f")`, "0")),
	sc("select does not leak", []string{"SET", "k", "db0"},
		ev(`redis.call("select", "1"); redis.call("set", "k", "db1"); return redis.call("get", "k")`, "0"),
		[]string{"GET", "k"}, []string{"SELECT", "1"}, []string{"GET", "k"}),

	// RESP3.
	sc3("resp3 returns", ev(`return {double=3.5}`, "0"), ev(`return true`, "0"), ev(`return false`, "0"),
		ev(`return {map={a=1}}`, "0"), ev(`return {set={a=true}}`, "0"), ev(`return {big_number="123"}`, "0"),
		ev(`return {verbatim_string={format="txt", string="hi"}}`, "0"), ev("return nil", "0")),
	sc3("setresp 3", []string{"SADD", "st", "a"},
		ev(`redis.setresp(3); return redis.call("get", "nokey")`, "0"),
		ev(`redis.setresp(3); return tostring(redis.call("get", "nokey"))`, "0"),
		ev(`redis.setresp(3); return redis.call("smembers", "st")`, "0"),
		ev(`redis.setresp(3); local r = redis.call("smembers", "st"); return r.set.a`, "0"),
		ev(`redis.setresp(3); return true`, "0"),
		ev(`redis.setresp(3); return redis.call("incrbyfloat", "f", "1.5")`, "0")),
	sc("setresp 3 on a resp2 client", ev(`redis.setresp(3); return true`, "0"), ev(`redis.setresp(3); return false`, "0"),
		ev(`redis.setresp(3); return redis.call("smembers", "none")`, "0"),
		ev(`redis.setresp(2); return false`, "0")),

	// Errors.
	sc("globals", ev("return x", "0"), ev("x = 1", "0"), ev("return _G.y", "0"), ev("string.x = 1", "0"),
		ev("redis.call = 1", "0"), ev("return os.time()", "0"), ev("return loadfile", "0"), ev("return type(dofile)", "0")),
	sc("raised errors", ev(`error("boom")`, "0"), ev(`error({err="MY boom"})`, "0"), ev(`error()`, "0"),
		ev(`error(12)`, "0"), ev(`error("x", 0)`, "0"), ev("local function f() error(\"deep\") end\nf()", "0"),
		ev("\n\nerror('line three')", "0"), ev(`return {pcall(error, 'x')}`, "0"), ev(`return {pcall(error, 'x', 2)}`, "0"),
		ev(`return {pcall(function() error('y', 2) end)}`, "0"), ev(`return {pcall(error)}`, "0"),
		ev(`return {xpcall(error, function(e) return 'h:' .. tostring(e) end)}`, "0")),
	sc("runtime errors", ev("return nil + 1", "0"), ev("return 1 + {}", "0"), ev("return {} .. 'x'", "0"),
		ev("return 'x' .. nil", "0"), ev("return {} < {}", "0"),
		ev("return 1 < 'x'", "0"), ev("local t = {} return #t + redis.call('get', 'nokey')", "0")),
	sc("call errors", []string{"SET", "s", "abc"},
		ev(`return redis.call("incr", KEYS[1])`, "1", "s"),
		ev(`return redis.call("nosuch")`, "0"), ev(`return redis.call("get")`, "0"),
		ev(`return redis.call("save")`, "0"), ev(`return redis.call("multi")`, "0"),
		ev(`return redis.call("eval", "return 1", "0")`, "0"),
		ev(`return redis.call()`, "0"), ev(`return redis.call(1.5)`, "0"), ev(`return redis.call({})`, "0"),
		ev(`return redis.call("get", true)`, "0"),
		ev(`return redis.pcall("nosuch")`, "0"), ev(`return redis.pcall()`, "0")),
	sc("compile errors", ev("return 1 +", "0"), ev(`return "abc`, "0"), ev("return 1 ..", "0")),
	sc("numkeys", ev("return 1", "-1"), ev("return 1", "2", "a"), ev("return 1", "x"), ev("return 1"),
		[]string{"EVALSHA", "abc", "0"}, []string{"EVALSHA", "0123456789012345678901234567890123456789", "0"},
		[]string{"EVALSHA", "abc", "-1"}),
	sc("read-only", []string{"EVAL_RO", `return redis.call("set", "a", "b")`, "1", "a"},
		[]string{"EVAL_RO", `return redis.call("get", "a")`, "1", "a"},
		ev("#!lua flags=no-writes\nreturn redis.call('set','x','y')", "0"),
		[]string{"EVAL_RO", "#!lua\nreturn 1", "0"},
		[]string{"EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"},
		ev("#!lua flags=bogus\nreturn 1", "0"), ev("#!python\nreturn 1", "0"), ev("#!lua", "0"),
		ev("#!lua foo=bar\nreturn 1", "0")),
	sc("redis lib", ev(`return redis.log(redis.LOG_WARNING, "hi")`, "0"), ev(`return redis.log(9, "hi")`, "0"),
		ev(`return redis.log(1)`, "0"), ev(`return redis.log("x", "y")`, "0"),
		ev(`return redis.replicate_commands()`, "0"), ev(`return redis.set_repl(redis.REPL_ALL)`, "0"),
		ev(`return redis.set_repl(8)`, "0"), ev(`return redis.set_repl()`, "0"), ev(`redis.setresp(4)`, "0"),
		ev(`redis.setresp()`, "0"), ev(`return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}`, "0")),
	sc("bit", ev(`return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(3, 1), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tobit(4294967297)}`, "0"),
		ev(`return {bit.tohex(65535), bit.tohex(-1, -4), bit.tohex(255, 2)}`, "0")),
	sc("libraries", ev(`return {string.format("%d-%s", 5, "x"), string.rep("ab", 3), table.concat({"a", "b"}, ","), math.floor(2.5), string.upper("x")}`, "0"),
		ev(`local t = {3, 1, 2}; table.sort(t); return t`, "0"), ev(`return tonumber("12") + 1`, "0"),
		ev(`return select("#", 1, 2, 3)`, "0"),
		ev(`local out = {} for i, s in ipairs(ARGV) do out[i] = tostring(tonumber(s) ~= nil) end return out`, "0",
			"1e3", "0x10", " 5 ", "5.", ".5", "1e", "inf", "nan", "1E2", "0X1f", "1 2", "12abc", "0x", "1_0", "-0x10"),
		ev(`return {tonumber("1e3"), tonumber("ff", 16), tonumber(12), tonumber("z", 36), tonumber("-0x10")}`, "0"), ev(`local ok, err = pcall(function() error({err="T"}) end); return err`, "0")),
	// Lua reads a string as a number up to a NUL, as C does.
	sc("tonumber ends at a NUL", ev(`return {tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])}`, "0", "6\x00x", " 0x10\x00", "\x007")),

	// SCRIPT.
	sc("script subcommands", []string{"SCRIPT", "LOAD", "return 1"},
		[]string{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
		[]string{"EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"},
		[]string{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "ffff"},
		[]string{"SCRIPT", "FLUSH", "bogus"}, []string{"SCRIPT", "FLUSH", "sync", "x"}, []string{"SCRIPT", "FLUSH", "ASYNC"},
		[]string{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"},
		[]string{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"},
		ev("return 1", "0"), []string{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"},
		[]string{"SCRIPT", "FLUSH"}, []string{"SCRIPT", "LOAD", "return +"},
		[]string{"SCRIPT", "KILL"}, []string{"SCRIPT", "bogus"}, []string{"SCRIPT"}, []string{"SCRIPT", "HELP"},
		[]string{"SCRIPT", "LOAD"}, []string{"SCRIPT", "EXISTS"}, []string{"SCRIPT", "KILL", "x"}),
	sc("eval in multi", []string{"MULTI"}, ev(`return redis.call("incr", "m")`, "0"), ev(`return redis.call("incr", "m")`, "0"),
		[]string{"EXEC"}),

	// What session stores send.
	sc("laravel lock", []string{"SET", "lock", "owner1", "EX", "10", "NX"}, []string{"SET", "lock", "owner2", "EX", "10", "NX"},
		ev(releaseLock, "1", "lock", "owner2"), []string{"GET", "lock"},
		ev(releaseLock, "1", "lock", "owner1"), []string{"EXISTS", "lock"},
		ev(releaseLock, "1", "lock", "owner1"),
		[]string{"SET", "lock", "owner2", "EX", "10", "NX"}),
	sc("rate limiter", slices3(rateLimit, 6)...),
}

const releaseLock = `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end`

// rateLimit is a fixed-window-log limiter on a set (sessiond has no sorted
// sets): the first ARGV[1] requests within the window are allowed.
const rateLimit = `
local key, limit, now = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local n = redis.call("scard", key)
if n >= limit then
  return {0, n, redis.call("ttl", key)}
end
redis.call("sadd", key, now)
if n == 0 then redis.call("expire", key, 60) end
return {1, n + 1, redis.call("ttl", key)}`

func slices3(script string, n int) [][]string {
	var out [][]string
	for i := range n {
		out = append(out, ev(script, "1", "rl:user1", "4", fmt.Sprint(1000+i)))
	}
	return out
}

// runCases runs each case on a fresh connection to addr, after resetting
// the data, the scripts, the functions and the test user, and returns the
// raw replies by case name.
func runCases(t *testing.T, addr string, cases []scriptCase) map[string][]string {
	out := map[string][]string{}
	for _, tc := range cases {
		c := dialRaw(t, addr)
		for _, args := range [][]string{{"FLUSHALL"}, {"SCRIPT", "FLUSH"}, {"FUNCTION", "FLUSH"}, {"ACL", "DELUSER", "fuser"}} {
			_, err := c.do(args...)
			require.NoError(t, err)
		}
		if tc.resp3 {
			_, err := c.do("HELLO", "3")
			require.NoError(t, err)
		}
		for _, args := range tc.cmds {
			v, err := c.do(args...)
			require.NoError(t, err, "%s: %q", tc.name, args)
			out[tc.name] = append(out[tc.name], string(v.raw))
		}
		c.close()
	}
	return out
}

// compareCases runs cases on both servers and compares the raw replies
// byte for byte.
func compareCases(t *testing.T, cases []scriptCase) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	want := runCases(t, r.Addr, cases)
	got := runCases(t, s.Addr, cases)
	for _, tc := range cases {
		for i, args := range tc.cmds {
			if want[tc.name][i] != got[tc.name][i] {
				t.Errorf("%s: %q\n redis:    %q\n sessiond: %q", tc.name, args, want[tc.name][i], got[tc.name][i])
			}
		}
	}
}

// TestScriptRepliesMatchRedis runs every case on both servers.
func TestScriptRepliesMatchRedis(t *testing.T) { compareCases(t, scriptCases) }

// diffScripts are the scripts the differential test sends, with their
// numkeys and argument count: read-modify-write on generated keys, typed
// errors through call and pcall, conversions.
var diffScripts = []struct {
	body       string
	nkeys, arg int
}{
	{releaseLock, 1, 1},
	{`return redis.call("get", KEYS[1])`, 1, 0},
	{`return redis.call("set", KEYS[1], ARGV[1])`, 1, 1},
	{`return redis.pcall("incr", KEYS[1])`, 1, 0},
	{`return redis.call("incr", KEYS[1])`, 1, 0},
	{`return {redis.call("exists", KEYS[1], KEYS[2]), redis.call("type", KEYS[1])}`, 2, 0},
	{`return redis.call("exists", KEYS[1]) < 1 and redis.call("setex", KEYS[1], 100, ARGV[1])`, 1, 1},
	{`return redis.call("sadd", KEYS[1], ARGV[1])`, 1, 1},
	{`return redis.call("scard", KEYS[1])`, 1, 0},
	{`return redis.call("mget", KEYS[1], KEYS[2])`, 2, 0},
	{`local v = redis.call("get", KEYS[1]); if v then return #v end return false`, 1, 0},
	{`return {ARGV[1], tonumber(ARGV[1]), #KEYS}`, 0, 1},
}

func (g *gen) genEval(_ bool) op {
	s := diffScripts[g.n(len(diffScripts))]
	nk := fmt.Sprint(s.nkeys)
	if g.chance(0.05) {
		nk = g.pick([]string{"-1", "9", "x"})
	}
	args := []string{g.cs("eval"), s.body, nk}
	for range s.nkeys {
		args = append(args, g.key())
	}
	for range s.arg {
		args = append(args, g.value())
	}
	if g.chance(0.2) {
		args[0], args[1] = g.cs("evalsha"), luascriptSHA(s.body)
	}
	return op{args: args}
}

// diffLibrary registers every diffScripts body as a function, d0, d1...:
// its parameters are named KEYS and ARGV, so the body runs unchanged.
// Those that only read declare no-writes.
func diffLibrary() string {
	var b strings.Builder
	b.WriteString("#!lua name=diff\n")
	for i, s := range diffScripts {
		flags := ""
		if !strings.Contains(s.body, "set") && !strings.Contains(s.body, "incr") && !strings.Contains(s.body, "sadd") {
			flags = "'no-writes'"
		}
		fmt.Fprintf(&b, "redis.register_function{function_name='d%d', flags={%s}, callback=function(KEYS, ARGV)\n%s\nend}\n", i, flags, s.body)
	}
	return b.String()
}

// genFcall calls one of diffLibrary's functions, now and then with FCALL_RO
// or a bad numkeys.
func (g *gen) genFcall(_ bool) op {
	i := g.n(len(diffScripts))
	s := diffScripts[i]
	nk := fmt.Sprint(s.nkeys)
	if g.chance(0.05) {
		nk = g.pick([]string{"-1", "9", "x"})
	}
	cmd := "fcall"
	if g.chance(0.3) {
		cmd = "fcall_ro"
	}
	args := []string{g.cs(cmd), fmt.Sprintf("d%d", i), nk}
	for range s.nkeys {
		args = append(args, g.key())
	}
	for range s.arg {
		args = append(args, g.value())
	}
	return op{args: args}
}

func luascriptSHA(body string) string {
	sum := sha1.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}
