package resp_test

// COMMAND DOCS (docs.go) against a real redis-server 7.0.15, and what
// redis-cli makes of it.

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// docsRedis72 are the commands that are Redis 7.2's in sessiond, documented
// by hand in commanddocs72.txt as 7.2 documents them, in 7.0.15's reply
// format: the whole COMMAND DOCS entry of each, pinned.
var docsRedis72 = map[string]docMap{
	"client|no-touch": {
		"summary", "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
		"since", "7.2.0", "group", "connection", "complexity", "O(1)",
		"arguments", []any{docMap{"name", "enabled", "type", "oneof", "arguments", []any{
			docMap{"name", "on", "type", "pure-token", "token", "ON"},
			docMap{"name", "off", "type", "pure-token", "token", "OFF"},
		}}},
	},
	"client|setinfo": {
		"summary", "Sets information specific to the client or connection.",
		"since", "7.2.0", "group", "connection", "complexity", "O(1)",
		"arguments", []any{docMap{"name", "attr", "type", "oneof", "arguments", []any{
			docMap{"name", "libname", "type", "string", "token", "lib-name"},
			docMap{"name", "libver", "type", "string", "token", "lib-ver"},
		}}},
	},
	"zrank":    zrankDoc("Returns the index of a member in a sorted set ordered by ascending scores."),
	"zrevrank": zrankDoc("Returns the index of a member in a sorted set ordered by descending scores."),
}

func zrankDoc(summary string) docMap {
	return docMap{
		"summary", summary, "since", "2.0.0", "group", "sorted-set", "complexity", "O(log(N))",
		"history", docSet{[]any{"7.2.0", "Added the optional `WITHSCORE` argument."}},
		"arguments", []any{
			docMap{"name", "key", "type", "key", "key_spec_index", 0},
			docMap{"name", "member", "type", "string"},
			docMap{"name", "withscore", "type", "pure-token", "token", "WITHSCORE", "flags", docSet{status("optional")}},
		},
	}
}

// A reply written out: docMap is a map (key, value, ...), docSet a set,
// []any an array, string a bulk string, status a simple string.
type (
	docMap []any
	docSet []any
	status string
)

func encodeDoc(v any, resp3 bool) []byte {
	agg := func(typ byte, n int, elems []any) []byte {
		if !resp3 {
			typ = '*'
		}
		b := fmt.Appendf(nil, "%c%d\r\n", typ, n)
		for _, e := range elems {
			b = append(b, encodeDoc(e, resp3)...)
		}
		return b
	}
	switch v := v.(type) {
	case string:
		return fmt.Appendf(nil, "$%d\r\n%s\r\n", len(v), v)
	case status:
		return fmt.Appendf(nil, "+%s\r\n", v)
	case int:
		return fmt.Appendf(nil, ":%d\r\n", v)
	case []any:
		return agg('*', len(v), v)
	case docSet:
		return agg('~', len(v), v)
	case docMap:
		if resp3 {
			return agg('%', len(v)/2, v)
		}
		return agg('*', len(v), v)
	}
	panic(fmt.Sprintf("encodeDoc: %T", v))
}

// normDocs re-encodes a COMMAND DOCS reply with each container's
// subcommands cut to those keep accepts, sorted by name: Redis lists them
// in its hash table's order (seeded at random on each start) and has some
// sessiond has not. A reply with no subcommands comes out as it was read.
func normDocs(reply rv, keep func(string) bool) []byte {
	return encodeRV(normPairs(reply, keep, false))
}

// normPairs normalizes a name-to-docs map (a flat array in RESP2).
func normPairs(v rv, keep func(string) bool, subs bool) rv {
	var pairs [][2]rv
	for i := 0; i+1 < len(v.elems); i += 2 {
		name, doc := v.elems[i], v.elems[i+1]
		if subs && !keep(name.str) {
			continue
		}
		doc.elems = slices.Clone(doc.elems)
		for j := 0; j+1 < len(doc.elems); j += 2 {
			if doc.elems[j].str == "subcommands" {
				doc.elems[j+1] = normPairs(doc.elems[j+1], keep, true)
			}
		}
		pairs = append(pairs, [2]rv{name, doc})
	}
	if subs {
		slices.SortFunc(pairs, func(a, b [2]rv) int { return strings.Compare(a[0].str, b[0].str) })
	}
	out := rv{typ: v.typ, elems: []rv{}}
	for _, p := range pairs {
		out.elems = append(out.elems, p[0], p[1])
	}
	return out
}

func encodeRV(v rv) []byte {
	if !v.isAgg() {
		return v.raw
	}
	n := len(v.elems)
	if v.typ == '%' {
		n /= 2
	}
	b := fmt.Appendf(nil, "%c%d\r\n", v.typ, n)
	for _, e := range v.elems {
		b = append(b, encodeRV(e)...)
	}
	return b
}

// TestCommandDocsRedis: COMMAND DOCS of every command and subcommand
// sessiond has is redis-server 7.0.15's, byte for byte in RESP2 and RESP3
// (a container's subcommands cut to sessiond's and sorted), except
// docsRedis72's, which are pinned; COMMAND DOCS alone gives every command
// of the table, each as COMMAND DOCS <name> does; unknown names, names in
// any case and "container|sub" forms are answered as Redis answers them.
func TestCommandDocsRedis(t *testing.T) {
	text, err := os.ReadFile("commanddocs72.txt")
	require.NoError(t, err)
	var byHand []string
	for _, line := range strings.Split(string(text), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			byHand = append(byHand, f[0])
		}
	}
	var pinned []string
	for n := range docsRedis72 {
		pinned = append(pinned, n)
	}
	assert.ElementsMatch(t, pinned, byHand, "the commands commanddocs72.txt documents are those pinned here")

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
			keep := func(name string) bool { return ours[name] && docsRedis72[name] == nil }

			single := map[string]rv{} // name: sessiond's COMMAND DOCS name
			for name := range ours {
				got := do(s, "COMMAND", "DOCS", name)
				single[name] = got
				if doc, ok := docsRedis72[name]; ok {
					assert.Equal(t, string(encodeDoc(docMap{name, doc}, resp3)), string(got.raw), "%s (7.2)", name)
					continue
				}
				want := do(r, "COMMAND", "DOCS", name)
				if !assert.Len(t, want.elems, 2, "redis-server has no %s", name) {
					continue
				}
				assert.Equal(t, string(normDocs(want, keep)), string(normDocs(got, keep)), "%s", name)
			}

			all := do(s, "COMMAND", "DOCS")
			var names []string
			for i := 0; i+1 < len(all.elems); i += 2 {
				name := all.elems[i].str
				names = append(names, name)
				if one, ok := single[name]; assert.True(t, ok, "%s is not in COMMAND LIST", name) {
					assert.Equal(t, string(one.elems[1].raw), string(all.elems[i+1].raw), "%s alone and in COMMAND DOCS", name)
				}
			}
			assert.ElementsMatch(t, top, names)
			assert.Equal(t, fmt.Sprintf(":%d\r\n", len(names)), string(do(s, "COMMAND", "COUNT").raw))

			for _, args := range [][]string{
				{"nosuch"}, {""}, {"get", "nosuch", "SET", "Get", "get"},
				{"client|kill", "CLIENT|KILL", "Config|Get", "client|nosuch", "client|", "|kill", "get|x", "client|kill|x", "nosuch|kill"},
			} {
				args = append([]string{"COMMAND", "DOCS"}, args...)
				assert.Equal(t, do(r, args...).String(), do(s, args...).String(), "%q", args)
			}
		})
	}
}

// TestCommandDocsRedisCLI: redis-cli 7.0 builds `help <command>` and its
// interactive argument hints from the same COMMAND DOCS arguments (the
// "params" of redis-cli.c's help entries); its help for commands and for
// whole groups sessiond has all of is the same against sessiond as
// against redis-server, and ZRANK's shows 7.2's WITHSCORE.
func TestCommandDocsRedisCLI(t *testing.T) {
	sd, red := testserver.Start(t).Addr, testserver.StartRedis(t).Addr
	for _, topic := range [][]string{
		{"set"}, {"GETEX"}, {"client", "kill"}, {"migrate"}, {"config", "set"}, {"zadd"}, {"hello"},
		{"@string"}, {"@hash"}, {"@list"}, {"@set"}, {"@pubsub"}, {"@transactions"},
	} {
		args := append([]string{"help"}, topic...)
		want, err := runRedisCLI(t, red, args...)
		require.NoError(t, err, want)
		require.Contains(t, want, "summary:")
		got, err := runRedisCLI(t, sd, args...)
		require.NoError(t, err, got)
		assert.Equal(t, want, got, "%q", args)
	}
	got, err := runRedisCLI(t, sd, "help", "zrank")
	require.NoError(t, err, got)
	assert.Contains(t, got, "\x1b[1mZRANK\x1b[0m \x1b[90mkey member [WITHSCORE]\x1b[0m")
}
