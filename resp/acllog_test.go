package resp_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/internal/testserver"
)

// maskACLLog writes an ACL LOG reply with its volatile parts masked:
// age-seconds is its RESP type and whether it is a number from 0 to 60,
// and client-info as maskClientLine masks it. Every other byte of the
// reply is kept: its types, lengths, keys and values.
func maskACLLog(v rv, ids map[string]int) string {
	if v.typ != '*' {
		return v.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\n", len(v.elems))
	for _, e := range v.elems {
		fmt.Fprintf(&b, "  %c%d\n", e.typ, len(e.elems))
		for i := 0; i+1 < len(e.elems); i += 2 {
			k, val := e.elems[i], e.elems[i+1]
			fmt.Fprintf(&b, "    %s: ", k)
			switch k.str {
			case "age-seconds":
				f, err := strconv.ParseFloat(val.str, 64)
				fmt.Fprintf(&b, "%c number in [0, 60]: %v\n", val.typ, err == nil && f >= 0 && f <= 60)
			case "client-info":
				fmt.Fprintf(&b, "%c %s\n", val.typ, maskClientLine(val.str, ids))
			default:
				fmt.Fprintf(&b, "%s\n", val)
			}
		}
	}
	return b.String()
}

// TestACLLogMatchesRedis refuses AUTHs, commands, keys and channels at
// top level, in MULTI (queued and at EXEC) and in scripts and functions,
// and compares ACL LOG with redis-server's, in RESP2 and RESP3, masking
// only what cannot be the same (maskACLLog).
func TestACLLogMatchesRedis(t *testing.T) {
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			red := testserver.StartRedis(t)
			sess := testserver.Start(t)
			ar := newACLRunner(t, sess.Addr, red.Addr)
			// Every connection first says HELLO and has its id noted.
			ids := map[string]map[string]int{}
			for _, addr := range []string{sess.Addr, red.Addr} {
				ids[addr] = map[string]int{}
				for i := range 4 {
					c := ar.conn(addr, i)
					_, err := c.do("HELLO", proto)
					require.NoError(t, err)
					v, err := c.do("CLIENT", "ID")
					require.NoError(t, err)
					ids[addr][v.str] = i
				}
			}
			logOf := func(addr string, args ...string) string {
				v, err := ar.conn(addr, 0).do(args...)
				require.NoError(t, err)
				return maskACLLog(v, ids[addr])
			}
			same := func(args ...string) {
				t.Helper()
				want, got := logOf(red.Addr, args...), logOf(sess.Addr, args...)
				assert.Equal(t, want, got, "%q", args)
			}

			ar.run([]aclStep{
				s(0, "ACL", "SETUSER", "u", "on", ">p", "~k*", "&ch*", "+get", "+set", "+mget", "+multi", "+exec",
					"+eval", "+fcall", "+publish", "+subscribe", "+client|setname", "+ping"),
				s(0, "FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function(keys, args) return redis.pcall('get', 'fz') end)"),
				s(0, "ACL", "LOG"),
				// auth: the object is the command's name as written.
				s(1, "AUTH", "u", "wrong"),
				s(1, "auth", "u", "wrong"),
				s(1, "AUTH", "nobody", "x"),
				s(1, "HELLO", proto, "AUTH", "u", "wrong"),
				s(1, "AUTH", "u", "wrong"), // counted in the first
				s(1, "AUTH", "u", "p"),
				s(1, "CLIENT", "SETNAME", "app"),
				// toplevel: key, command, subcommand, channel.
				s(1, "GET", "x"),
				s(1, "MGET", "k1", "y"),
				s(1, "DEL", "k1"),
				s(1, "CLIENT", "LIST"),
				s(1, "PUBLISH", "other", "m"),
				s(1, "SUBSCRIBE", "ch1", "other"),
				s(1, "GET", "x"),
				// multi: refused while queueing, then at EXEC.
				s(1, "MULTI"),
				s(1, "SET", "k1", "v"),
				s(1, "GET", "y"),
				s(1, "DEL", "k1"),
				s(1, "EXEC"),
				s(1, "MULTI"),
				s(1, "SET", "k2", "v"),
				s(1, "GET", "k2"),
				s(1, "AUTH", "u", "bad"),
				s(1, "EVAL", "return redis.pcall('get', 'zz')", "0"),
				s(0, "ACL", "SETUSER", "u", "-set"),
				s(1, "EXEC"),
				// lua: scripts and functions.
				s(1, "EVAL", "return redis.pcall('get', 'zz')", "0"),
				s(1, "EVAL", "return redis.pcall('del', 'k1')", "0"),
				s(1, "EVAL", "return redis.pcall('publish', 'nope', 'm')", "0"),
				s(1, "EVAL", "return redis.call('get', KEYS[1])", "1", "zz"), // EVAL's own key: toplevel
				s(1, "FCALL", "f", "0"),
				s(2, "AUTH", "u", "p"),
				s(2, "GET", "x"), // another client: counted, with its line
				s(2, "ACL", "LOG"),
			})
			same("ACL", "LOG")
			same("ACL", "LOG", "100")
			same("ACL", "LOG", "3")
			same("ACL", "LOG", "1")
			same("ACL", "LOG", "0")
			same("ACL", "LOG", "-1")
			ar.run([]aclStep{
				s(0, "ACL", "LOG", "x"),
				s(0, "ACL", "LOG", "1.5"),
				s(0, "ACL", "LOG", "99999999999999999999"),
				s(0, "ACL", "LOG", "1", "2"),
				s(0, "ACL", "LOG", "RESET", "x"),
				s(0, "ACL", "LOG", "reset"),
				s(0, "ACL", "LOG"),
				s(3, "AUTH", "nobody", "x"),
				s(3, "AUTH", "u", "p"),
				s(3, "SUBSCRIBE", "ch1"),
			})
			// A subscribed RESP2 client is refused by the ACLs before
			// the subscriber context is checked.
			ar.run([]aclStep{s(3, "GET", "x")})
			same("ACL", "LOG")
			ar.run([]aclStep{s(0, "ACL", "LOG", "RESET")})
			same("ACL", "LOG")
		})
	}
}

// TestACLLogGroupsAndTrims runs on a fake clock: a refusal like one of
// the 10 newest entries within 60 s of it is counted there, the entry
// moving to the front; the log keeps acllog-max-len entries, trimmed when
// a new one comes.
func TestACLLogGroupsAndTrims(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	sess := testserver.Start(t, testserver.WithClock(clk))
	admin := dialRaw(t, sess.Addr)
	u := dialRaw(t, sess.Addr)
	do := func(c *rconn, args ...string) rv {
		t.Helper()
		v, err := c.do(args...)
		require.NoError(t, err)
		return v
	}
	require.Equal(t, "OK", do(admin, "ACL", "SETUSER", "u", "on", "nopass", "~k*", "+get").str)
	require.Equal(t, "OK", do(u, "AUTH", "u", "x").str)
	type entry struct {
		count  int64
		object string
		age    string
	}
	log := func(args ...string) []entry {
		t.Helper()
		v := do(admin, append([]string{"ACL", "LOG"}, args...)...)
		require.Equal(t, byte('*'), v.typ, "%s", v)
		var out []entry
		for _, e := range v.elems {
			f := map[string]string{}
			for i := 0; i+1 < len(e.elems); i += 2 {
				f[e.elems[i].str] = e.elems[i+1].str
			}
			n, err := strconv.ParseInt(f["count"], 10, 64)
			require.NoError(t, err)
			out = append(out, entry{n, f["object"], f["age-seconds"]})
		}
		return out
	}

	do(u, "GET", "a")
	clk.Advance(60 * time.Second) // exactly 60 s later: still the same entry
	do(u, "GET", "a")
	assert.Equal(t, []entry{{2, "a", "0"}}, log())
	clk.Advance(60*time.Second + time.Millisecond) // then a new one
	do(u, "GET", "a")
	clk.Advance(1500 * time.Millisecond)
	assert.Equal(t, []entry{{1, "a", "1.5"}, {2, "a", "61.500999999999998"}}, log())

	// Only the 10 newest entries are searched: "a" is counted again while
	// it is among them, and moves to the front; past them it is new.
	require.Equal(t, "OK", do(admin, "ACL", "LOG", "RESET").str)
	do(u, "GET", "a")
	for i := range 9 {
		do(u, "GET", "b"+strconv.Itoa(i))
	}
	do(u, "GET", "a")
	got := log("2")
	assert.Equal(t, []entry{{2, "a", "0"}, {1, "b8", "0"}}, got)
	for i := range 10 {
		do(u, "GET", "c"+strconv.Itoa(i))
	}
	do(u, "GET", "a")
	got = log("100")
	require.Len(t, got, 21)
	assert.Equal(t, entry{1, "a", "0"}, got[0])
	assert.Equal(t, entry{2, "a", "0"}, got[11])

	// acllog-max-len: lowering it trims at the next new entry, as Redis;
	// a refusal counted in an entry trims nothing; 0 keeps nothing.
	require.Equal(t, "OK", do(admin, "CONFIG", "SET", "acllog-max-len", "3").str)
	assert.Equal(t, []string{"acllog-max-len", "3"}, func() []string {
		v := do(admin, "CONFIG", "GET", "acllog-max-len")
		return []string{v.elems[0].str, v.elems[1].str}
	}())
	assert.Len(t, log("100"), 21)
	do(u, "GET", "a") // counted in the front entry
	assert.Len(t, log("100"), 21)
	do(u, "GET", "d")
	assert.Equal(t, []entry{{1, "d", "0"}, {2, "a", "0"}, {1, "c9", "0"}}, log("100"))
	require.Equal(t, "OK", do(admin, "CONFIG", "SET", "acllog-max-len", "0").str)
	do(u, "GET", "e")
	assert.Empty(t, log())
	require.Equal(t, "OK", do(admin, "CONFIG", "SET", "acllog-max-len", "128").str)
	for i := range 200 {
		do(u, "GET", "f"+strconv.Itoa(i))
	}
	got = log("1000")
	require.Len(t, got, 128)
	assert.Equal(t, "f199", got[0].object)
	assert.Equal(t, "f72", got[127].object)
}

// TestACLLogConfigMatchesRedis: acllog-max-len's default and CONFIG SET
// errors are Redis's, and ACL HELP lists LOG as Redis does (its last line
// is 7.2's "Print this help.", as every HELP of sessiond's; 7.0: "Prints").
func TestACLLogConfigMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sess := testserver.Start(t)
	runACLScript(t, sess.Addr, red.Addr, []aclStep{
		s(0, "CONFIG", "GET", "acllog-max-len"),
		s(0, "CONFIG", "SET", "acllog-max-len", "-1"),
		s(0, "CONFIG", "SET", "acllog-max-len", "x"),
		s(0, "CONFIG", "SET", "acllog-max-len", "9223372036854775807"),
		s(0, "CONFIG", "GET", "acllog-max-len"),
		s(0, "CONFIG", "SET", "acllog-max-len", "9223372036854775808"),
		s(0, "CONFIG", "SET", "acllog-max-len", "0"),
		s(0, "CONFIG", "GET", "acllog-max-len"),
	})
	help := func(addr string) []string {
		v, err := dialRaw(t, addr).do("ACL", "HELP")
		require.NoError(t, err)
		var lines []string
		for _, e := range v.elems {
			lines = append(lines, string(e.typ)+e.str)
		}
		return lines
	}
	want, got := help(red.Addr), help(sess.Addr)
	require.Contains(t, want, "+LOG [<count> | RESET]")
	require.Equal(t, "+    Prints this help.", want[len(want)-1])
	want[len(want)-1] = "+    Print this help."
	assert.Equal(t, want, got)
}

// TestACLLogConcurrent: clients on event loops and on goroutines add to
// the log while others read it, reset it and change acllog-max-len.
// Under -race this fails if the log is touched outside its lock.
func TestACLLogConcurrent(t *testing.T) {
	for _, loops := range []string{"2", "-1"} {
		t.Run("event-loops="+loops, func(t *testing.T) {
			sess := testserver.Start(t, testserver.WithConfig("event-loops", loops))
			admin := dialRaw(t, sess.Addr)
			_, err := admin.do("ACL", "SETUSER", "u", "on", "nopass", "~k*", "+get", "+multi", "+exec", "+eval")
			require.NoError(t, err)
			var wg sync.WaitGroup
			for w := range 4 {
				c := dialRaw(t, sess.Addr)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 100 {
						for _, args := range [][]string{
							{"AUTH", "u", "x"}, {"GET", "x" + strconv.Itoa(i%12)}, {"SET", "k", "v"},
							{"MULTI"}, {"GET", "y"}, {"DISCARD"}, {"EVAL", "return redis.pcall('get', 'z')", "0"},
							{"AUTH", "nobody" + strconv.Itoa(w), "x"},
						} {
							if _, err := c.do(args...); err != nil {
								t.Errorf("%v: %v", args, err)
								return
							}
						}
					}
				}()
			}
			for i := range 200 {
				args := []string{"ACL", "LOG"}
				switch i % 20 {
				case 5:
					args = []string{"ACL", "LOG", "RESET"}
				case 10:
					args = []string{"CONFIG", "SET", "acllog-max-len", strconv.Itoa(i % 7)}
				case 15:
					args = []string{"CONFIG", "SET", "acllog-max-len", "128"}
				}
				v, err := admin.do(args...)
				require.NoError(t, err)
				require.False(t, v.isErr(), "%q: %s", args, v)
			}
			wg.Wait()
			v, err := admin.do("ACL", "LOG", "1000")
			require.NoError(t, err)
			assert.LessOrEqual(t, len(v.elems), 128)
		})
	}
}
