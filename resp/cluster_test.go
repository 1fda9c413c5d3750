package resp_test

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// TestClusterCommandsMatchRedis: CLUSTER's subcommands, ASKING, READONLY
// and READWRITE answer as a Redis without cluster support does (tools probe
// with CLUSTER INFO and expect that error, not "unknown command"), arity
// and unknown-subcommand errors first; RESTORE-ASKING is RESTORE. RESP2
// and RESP3.
func TestClusterCommandsMatchRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	for _, proto := range []string{"2", "3"} {
		if proto == "3" {
			p.do(t, "HELLO", "3") // the reply names each server's version: not compared
		}
		for _, args := range []string{
			"CLUSTER", "CLUSTER HELP", "CLUSTER help x", "CLUSTER nosuch", "CLUSTER INFO", "cluster info x",
			"CLUSTER SLOTS", "CLUSTER SHARDS", "CLUSTER NODES", "CLUSTER MYID", "CLUSTER KEYSLOT", "CLUSTER KEYSLOT foo",
			"CLUSTER COUNTKEYSINSLOT 1", "CLUSTER GETKEYSINSLOT 1 10", "CLUSTER ADDSLOTS 1 2", "CLUSTER SETSLOT 1 NODE x",
			"CLUSTER RESET HARD", "CLUSTER FAILOVER", "CLUSTER MEET 127.0.0.1 7000",
			"ASKING", "ASKING x", "READONLY", "READWRITE",
		} {
			v := p.same(t, strings.Fields(args)...)
			require.True(t, v.isErr(), "%s: %s", args, v)
		}
		v := p.same(t, "CLUSTER", "INFO")
		require.Equal(t, "-ERR This instance has cluster support disabled\r\n", string(v.raw))
		p.same(t, "MULTI")
		p.same(t, "ASKING")
		p.same(t, "CLUSTER", "INFO")
		p.same(t, "EXEC")
	}

	p.same(t, "DEL", "k", "copy")
	p.same(t, "SET", "k", "v")
	payload, err := p.r.do("DUMP", "k")
	require.NoError(t, err)
	p.same(t, "RESTORE-ASKING", "copy", "0", payload.str)
	p.same(t, "RESTORE-ASKING", "copy", "0", payload.str)
	p.same(t, "GET", "copy")
	p.same(t, "RESTORE-ASKING", "copy")
}

// TestCommandInfoMatchesRedis: COMMAND INFO of every command and
// subcommand sessiond has is redis-server 7.0.15's, byte for byte in RESP2
// and RESP3: name, arity, flags, key positions, ACL categories, tips, key
// specs and the subcommands' entries (a container's cut to sessiond's and
// sorted by name: Redis lists them in its hash table's order, and has some
// sessiond has not); COMMAND gives each of them as Redis's COMMAND does, in
// name order. Exceptions are 7.2's, which sessiond follows where its
// behaviour is 7.2's, pinned: ZRANK and ZREVRANK take WITHSCORE (arity -3),
// and CLIENT NO-TOUCH and SETINFO are new in 7.2 (as 7.2.4's commands.def
// has them, with the @slow a command without the fast flag gets).
func TestCommandInfoMatchesRedis(t *testing.T) {
	info72 := map[string]func(redis rv, resp3 bool) rv{
		"zrank": arity72, "zrevrank": arity72,
		"client|no-touch": pinnedInfo([]any{"client|no-touch", 3,
			docSet{status("noscript"), status("loading"), status("stale")}, 0, 0, 0,
			docSet{status("@slow"), status("@connection")}, docSet{}, docSet{}, docSet{}}),
		"client|setinfo": pinnedInfo([]any{"client|setinfo", 4,
			docSet{status("noscript"), status("loading"), status("stale")}, 0, 0, 0,
			docSet{status("@slow"), status("@connection")},
			docSet{"request_policy:all_nodes", "response_policy:all_succeeded"}, docSet{}, docSet{}}),
	}
	sd, red := testserver.Start(t).Addr, testserver.StartRedis(t).Addr
	for _, proto := range []string{"2", "3"} {
		t.Run("resp"+proto, func(t *testing.T) {
			resp3 := proto == "3"
			s, r := dialRaw(t, sd), dialRaw(t, red)
			do := func(c *rconn, args ...string) rv {
				t.Helper()
				v, err := c.do(args...)
				require.NoError(t, err)
				require.False(t, v.isErr(), "%q: %s", args, v)
				return v
			}
			do(s, "HELLO", proto)
			do(r, "HELLO", proto)
			ours := map[string]bool{}
			var top []string
			for _, e := range do(s, "COMMAND", "LIST").elems {
				ours[e.str] = true
				if !strings.Contains(e.str, "|") {
					top = append(top, e.str)
				}
			}
			require.Greater(t, len(ours), 300)

			// want is the entry sessiond should give for Redis's entry e
			// of a command it has.
			var want func(e rv) rv
			want = func(e rv) rv {
				name := e.elems[0].str
				if f := info72[name]; f != nil {
					e = f(e, resp3)
				}
				if subs := e.elems[9]; len(subs.elems) > 0 {
					var kept []rv
					for _, sub := range subs.elems {
						if ours[sub.elems[0].str] {
							kept = append(kept, want(sub))
						}
					}
					for n, f := range info72 {
						if strings.HasPrefix(n, name+"|") {
							kept = append(kept, f(rv{}, resp3))
						}
					}
					slices.SortFunc(kept, func(a, b rv) int { return strings.Compare(a.elems[0].str, b.elems[0].str) })
					e.elems = slices.Clone(e.elems)
					e.elems[9] = rv{typ: subs.typ, elems: kept}
				}
				return rv{typ: e.typ, elems: e.elems, raw: encodeRV(e)}
			}

			subs := 0
			single := map[string][]byte{}
			for name := range ours {
				got := do(s, "COMMAND", "INFO", name)
				require.Len(t, got.elems, 1, name)
				single[name] = got.elems[0].raw
				var exp rv
				if f := info72[name]; f != nil && strings.Contains(name, "|") {
					exp = f(rv{}, resp3)
				} else {
					red := do(r, "COMMAND", "INFO", name)
					require.Len(t, red.elems, 1, name)
					if !assert.False(t, red.elems[0].null, "redis-server has no %s", name) {
						continue
					}
					exp = want(red.elems[0])
				}
				assert.Equal(t, string(exp.raw), string(got.elems[0].raw), "%s", name)
				subs += len(got.elems[0].elems[9].elems)
			}
			require.Greater(t, subs, 100, "subcommands compared")

			redisAll := map[string]rv{}
			for _, e := range do(r, "COMMAND").elems {
				redisAll[e.elems[0].str] = e
			}
			all := do(s, "COMMAND")
			var names []string
			for _, e := range all.elems {
				name := e.elems[0].str
				names = append(names, name)
				assert.Equal(t, string(single[name]), string(e.raw), "%s alone and in COMMAND", name)
				if red, ok := redisAll[name]; assert.True(t, ok, "redis-server's COMMAND has no %s", name) {
					assert.Equal(t, string(want(red).raw), string(e.raw), "%s in COMMAND", name)
				}
			}
			assert.Equal(t, top, names, "COMMAND: every command, in name order")

			for _, args := range [][]string{
				{"get", "nosuch", "SET", "Get", "get"}, {"client|kill", "CLIENT|KILL", "Config|Get", "client|nosuch", "client|", "|kill", "get|x", "nosuch|kill"},
				{"sort", "sort_ro", "set", "getex", "eval", "bitfield", "pfcount", "del", "scan"}, {""},
			} {
				args = append([]string{"COMMAND", "INFO"}, args...)
				assert.Equal(t, do(r, args...).String(), do(s, args...).String(), "%q", args)
			}
		})
	}
}

// arity72 is Redis 7.0.15's entry for ZRANK or ZREVRANK with 7.2's arity.
func arity72(e rv, _ bool) rv {
	e.elems = slices.Clone(e.elems)
	e.elems[1] = rv{typ: ':', str: "-3", raw: []byte(":-3\r\n")}
	return rv{typ: e.typ, elems: e.elems, raw: encodeRV(e)}
}

// pinnedInfo is a COMMAND INFO entry written out (docs_test.go's encodeDoc).
func pinnedInfo(entry []any) func(rv, bool) rv {
	return func(_ rv, resp3 bool) rv {
		v, err := readReply(bufio.NewReader(bytes.NewReader(encodeDoc(entry, resp3))))
		if err != nil {
			panic(err)
		}
		return v
	}
}
