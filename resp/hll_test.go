package resp_test

// HyperLogLog commands compared with a real redis-server 7.0.15, byte for
// byte: every reply, and the values themselves (GET), which users move
// between the two servers.

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// hllHeader is a sparse HLL header with a stale cache.
const hllHeader = "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"

// hllCases are command sequences run from an empty database on both
// servers; every reply is compared. Each ends with GETs of its keys, so
// the stored bytes are compared too.
var hllCases = [][][]string{
	// Arity and the empty PFADD, which creates the key.
	{{"PFADD"}, {"PFCOUNT"}, {"PFMERGE"}, {"PFADD", "k"}, {"GET", "k"}, {"PFADD", "k"}, {"PFCOUNT", "k"}, {"GET", "k"}, {"EXISTS", "k"}},
	// Adds, the cache written by PFCOUNT, its reuse, its invalidation.
	{{"PFADD", "k", "a", "b", "c"}, {"GET", "k"}, {"PFADD", "k", "a"}, {"PFADD", "k", "a", "b", "d"}, {"PFCOUNT", "k"}, {"GET", "k"},
		{"PFCOUNT", "k"}, {"PFADD", "k", "e"}, {"GET", "k"}, {"PFCOUNT", "k"}, {"STRLEN", "k"}, {"TYPE", "k"}},
	// Missing keys.
	{{"PFCOUNT", "nokey"}, {"PFCOUNT", "no1", "no2"}, {"EXISTS", "nokey"}, {"PFMERGE", "d"}, {"GET", "d"}, {"PFCOUNT", "d"}, {"GET", "d"}},
	// Several keys: the union, and no change to any of them.
	{{"PFADD", "a", "1", "2", "3"}, {"PFADD", "b", "3", "4", "5", "6"}, {"PFCOUNT", "a", "b"}, {"PFCOUNT", "a", "nokey", "b", "a"},
		{"GET", "a"}, {"GET", "b"}, {"PFCOUNT", "a"}, {"PFCOUNT", "a", "b"}, {"GET", "a"}},
	// PFMERGE into a missing and an existing key, itself, with a TTL.
	{{"PFADD", "a", "x", "y"}, {"PFADD", "b", "y", "z", "w"}, {"PFMERGE", "m", "a", "b"}, {"GET", "m"}, {"PFCOUNT", "m"},
		{"PFMERGE", "m", "a"}, {"GET", "m"}, {"PFADD", "c", "q"}, {"EXPIRE", "c", "1000"}, {"PFMERGE", "c", "a", "nokey"}, {"GET", "c"},
		{"TTL", "c"}, {"PFMERGE", "a", "a"}, {"GET", "a"}, {"PFMERGE", "n", "nokey"}, {"GET", "n"}, {"PFMERGE", "a"}, {"GET", "a"}},
	// Strings that are not HLLs, and other types.
	{{"SET", "s", "hello"}, {"PFADD", "s", "a"}, {"PFADD", "s"}, {"PFCOUNT", "s"}, {"PFCOUNT", "nokey", "s"}, {"PFMERGE", "d", "s"},
		{"EXISTS", "d"}, {"PFMERGE", "s", "nokey"}, {"SET", "i", "12345"}, {"PFADD", "i", "x"}, {"SET", "h", "HYLL"}, {"PFCOUNT", "h"},
		{"SET", "e", ""}, {"PFCOUNT", "e"}, {"SET", "x", "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"}, {"PFADD", "x", "a"},
		{"SET", "dn", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"}, {"PFCOUNT", "dn"}, {"PFMERGE", "dn"},
		{"SET", "mg", "HYLX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"}, {"PFCOUNT", "mg"},
		{"SADD", "set", "a"}, {"PFADD", "set", "a"}, {"PFCOUNT", "set"}, {"PFCOUNT", "nokey", "set"}, {"PFMERGE", "set", "nokey"},
		{"PFADD", "k", "a"}, {"PFMERGE", "k", "set"}, {"PFMERGE", "set2", "k", "set"}, {"EXISTS", "set2"}, {"GET", "k"},
		{"LPUSH", "l", "a"}, {"PFCOUNT", "l"}, {"HSET", "hh", "a", "b"}, {"PFADD", "hh"}, {"ZADD", "z", "1", "a"}, {"PFMERGE", "z"}},
	// Damaged sparse values set with SET: too few registers, no opcodes,
	// a trailing value opcode (accepted by merges, not by PFCOUNT of one
	// key), a valid cache over damage (PFCOUNT answers it unchecked).
	{{"SET", "c", hllHeader + "\x7f\xfe"}, {"PFCOUNT", "c"}, {"PFCOUNT", "c", "nokey"}, {"PFMERGE", "d", "c"}, {"EXISTS", "d"},
		{"PFADD", "c"}, {"PFADD", "c", "a"}, {"GET", "c"},
		{"SET", "z", hllHeader}, {"PFADD", "z", "a"}, {"PFCOUNT", "z"}, {"PFMERGE", "z"},
		{"SET", "t", hllHeader + "\x7f\xff\x80"}, {"PFCOUNT", "t"}, {"PFCOUNT", "t", "nokey"}, {"PFMERGE", "tm", "t"}, {"GET", "tm"},
		{"PFMERGE", "t"}, {"GET", "t"}, {"PFADD", "t", "a", "b"}, {"GET", "t"},
		{"SET", "v", "HYLL\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00garbage"}, {"PFCOUNT", "v"}, {"PFCOUNT", "v", "nokey"},
		{"SET", "o", hllHeader + "\x7f\xff\x7f\xff"}, {"PFCOUNT", "o"}, {"PFCOUNT", "o", "nokey"}, {"PFADD", "o", "a", "b", "c"}, {"GET", "o"},
		{"SET", "cut", hllHeader + "\x7f"}, {"PFCOUNT", "cut"}, {"PFADD", "cut", "a"}, {"GET", "cut"}},
	// A damaged value PFADD edits before it meets the damage, which
	// Redis keeps: registers 0-7999 only.
	{{"SET", "p", hllHeader + "\x5f\x3f"}, {"PFADD", "p", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}, {"GET", "p"},
		{"PFCOUNT", "p"}},
	// A dense value with every register at 63 (values over 51 are not
	// counted) and one at 0; merged into sparse and dense targets.
	{{"SET", "dd", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80" + strings.Repeat("\xff", 12288)}, {"PFCOUNT", "dd"},
		{"GET", "dd"}, {"PFADD", "dd", "a"}, {"PFCOUNT", "dd", "nokey"}, {"PFADD", "sp", "a"}, {"PFMERGE", "sp", "dd"}, {"GET", "sp"},
		{"PFCOUNT", "sp"}, {"SET", "d0", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80" + strings.Repeat("\x00", 12288)},
		{"PFCOUNT", "d0"}, {"PFADD", "d0", "x"}, {"GET", "d0"}, {"PFMERGE", "d0", "sp"}, {"GET", "d0"}},
	// hll-sparse-max-bytes.
	{{"CONFIG", "GET", "hll-sparse-max-bytes"}, {"CONFIG", "SET", "hll-sparse-max-bytes", "-1"}, {"CONFIG", "SET", "hll-sparse-max-bytes", "x"},
		{"CONFIG", "SET", "hll-sparse-max-bytes", "1kb"}, {"CONFIG", "GET", "hll-sparse-max-bytes"},
		{"CONFIG", "SET", "hll-sparse-max-bytes", "30"}, {"PFADD", "a", "1", "2", "3", "4"}, {"GET", "a"}, {"PFADD", "a", "5", "6"}, {"GET", "a"},
		{"PFADD", "a", "7", "8", "9", "10", "11", "12"}, {"GET", "a"}, {"PFCOUNT", "a"},
		{"CONFIG", "SET", "hll-sparse-max-bytes", "0"}, {"PFADD", "b"}, {"PFADD", "b", "x"}, {"STRLEN", "b"}, {"GET", "b"},
		{"PFADD", "c", "x"}, {"CONFIG", "SET", "hll-sparse-max-bytes", "18"}, {"PFMERGE", "m", "c"}, {"GET", "m"},
		{"CONFIG", "SET", "hll-sparse-max-bytes", "3000"}, {"CONFIG", "GET", "hll-sparse-max-bytes"}},
}

// hllConn is a connection to each server.
type hllConn struct{ red, sd *rconn }

func dialHLL(t *testing.T, redAddr, sdAddr string, resp3 bool) *hllConn {
	h := &hllConn{dialRaw(t, redAddr), dialRaw(t, sdAddr)}
	if resp3 {
		for _, c := range []*rconn{h.red, h.sd} {
			v, err := c.do("HELLO", "3")
			require.NoError(t, err)
			require.False(t, v.isErr(), "%s", v)
		}
	}
	return h
}

// both runs args on both servers and requires the same reply.
func (h *hllConn) both(t *testing.T, args ...string) string {
	t.Helper()
	want, err := h.red.do(args...)
	require.NoError(t, err, "redis: %q", args)
	got, err := h.sd.do(args...)
	require.NoError(t, err, "sessiond: %q", args)
	require.Equal(t, string(want.raw), string(got.raw), "%.200q", args)
	return string(want.raw)
}

// TestHLLRedis runs hllCases on both servers, in RESP2 and RESP3.
func TestHLLRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	for _, proto := range []string{"resp2", "resp3"} {
		t.Run(proto, func(t *testing.T) {
			h := dialHLL(t, red.Addr, srv.Addr, proto == "resp3")
			for i, c := range hllCases {
				t.Run(strconv.Itoa(i), func(t *testing.T) {
					h.both(t, "FLUSHALL")
					for _, args := range c {
						h.both(t, args...)
					}
				})
			}
		})
	}
}

// TestHLLPromotion adds elements a few at a time until the value turns
// dense, at the default limit and at others set with CONFIG SET,
// comparing the value after every step.
func TestHLLPromotion(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	h := dialHLL(t, red.Addr, srv.Addr, false)
	for _, limit := range []string{"3000", "200", "5000"} {
		h.both(t, "FLUSHALL")
		h.both(t, "CONFIG", "SET", "hll-sparse-max-bytes", limit)
		dense := false
		for i := 0; !dense; i += 7 {
			require.Less(t, i, 100000, "never turned dense")
			args := []string{"PFADD", "k"}
			for j := i; j < i+7; j++ {
				args = append(args, fmt.Sprint("el:", j))
			}
			h.both(t, args...)
			v := h.both(t, "GET", "k")
			dense = strings.HasPrefix(v, "$12304\r\nHYLL\x00")
			if i%70 == 0 || dense {
				h.both(t, "PFCOUNT", "k")
			}
		}
	}
	h.both(t, "CONFIG", "SET", "hll-sparse-max-bytes", "3000")
}

// TestHLLDiffRedis is a randomized differential test: PFADDs of random
// elements (up to tens of thousands per key, so values turn dense),
// PFCOUNTs and PFMERGEs over a few keys, WRONGTYPE keys among them, and
// changes of hll-sparse-max-bytes; every reply and, at the end of each
// sequence, every key's bytes are compared. DIFF_SEED replays a run.
func TestHLLDiffRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	seed := diffSeedValue()
	t.Logf("seed=%d (replay with DIFF_SEED=%d)", seed, seed)
	keys := []string{"h0", "h1", "h2", "h3", "h4", "str", "set"}
	seqs, cmds := envInt("DIFF_SEQS", 6), envInt("DIFF_CMDS", 400)
	for seq := range seqs {
		resp3 := seq%2 == 1
		h := dialHLL(t, red.Addr, srv.Addr, resp3)
		r := rand.New(rand.NewPCG(uint64(seed), uint64(seq)))
		h.both(t, "FLUSHALL")
		h.both(t, "CONFIG", "SET", "hll-sparse-max-bytes", "3000")
		h.both(t, "SET", "str", "not an hll")
		h.both(t, "SADD", "set", "x")
		key := func() string {
			if r.IntN(20) == 0 {
				return keys[5+r.IntN(2)]
			}
			return keys[r.IntN(5)]
		}
		elem := func() string {
			if r.IntN(4) == 0 {
				return fmt.Sprint("common", r.IntN(50)) // repeated: adds that change nothing
			}
			return fmt.Sprint("u", r.Uint64()%1_000_000)
		}
		for range cmds {
			var args []string
			switch n := r.IntN(100); {
			case n < 55:
				args = []string{"PFADD", key()}
				count := r.IntN(8)
				if r.IntN(5) == 0 {
					count = r.IntN(600)
				}
				for range count {
					args = append(args, elem())
				}
			case n < 75:
				args = []string{"PFCOUNT", key()}
				for range r.IntN(3) {
					args = append(args, key())
				}
			case n < 88:
				args = []string{"PFMERGE", key()}
				for range r.IntN(4) {
					args = append(args, key())
				}
			case n < 97:
				args = []string{"GET", key()}
			default:
				args = []string{"CONFIG", "SET", "hll-sparse-max-bytes", []string{"3000", "0", "40", "500", "20000"}[r.IntN(5)]}
			}
			h.both(t, args...)
		}
		for _, k := range keys {
			h.both(t, "GET", k)
		}
	}
	h := dialHLL(t, red.Addr, srv.Addr, false)
	h.both(t, "CONFIG", "SET", "hll-sparse-max-bytes", "3000")
}

// TestHLLFromRedisBytes: values Redis made, sparse and dense, with valid
// and stale caches, moved to sessiond with GET/SET and with DUMP/RESTORE,
// then used on both.
func TestHLLFromRedisBytes(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	rc, sc := dialRaw(t, red.Addr), dialRaw(t, srv.Addr)
	h := &hllConn{rc, sc}
	h.both(t, "FLUSHALL")
	for i, n := range []int{1, 50, 300, 3000, 20000} {
		key := fmt.Sprint("r", i)
		for j := 0; j < n; j += 500 {
			args := []string{"PFADD", key}
			for k := j; k < min(n, j+500); k++ {
				args = append(args, fmt.Sprint("v", k))
			}
			_, err := rc.do(args...)
			require.NoError(t, err)
		}
		if i%2 == 0 {
			_, err := rc.do("PFCOUNT", key) // a valid cache
			require.NoError(t, err)
		}
	}
	for i := range 5 {
		key := fmt.Sprint("r", i)
		v, err := rc.do("GET", key)
		require.NoError(t, err)
		set, err := sc.do("SET", key, v.str)
		require.NoError(t, err)
		require.Equal(t, okR, string(set.raw))
		d, err := rc.do("DUMP", key)
		require.NoError(t, err)
		for _, c := range []*rconn{rc, sc} {
			res, err := c.do("RESTORE", key+"d", "0", d.str)
			require.NoError(t, err)
			require.Equal(t, okR, string(res.raw))
		}
	}
	for i := range 5 { // every key copied first: the merges read r1
		key := fmt.Sprint("r", i)
		for _, k := range []string{key, key + "d"} {
			h.both(t, "GET", k)
			h.both(t, "PFCOUNT", k)
			h.both(t, "PFADD", k, "new1", "new2", "v1")
			h.both(t, "PFCOUNT", k, "r0")
			h.both(t, "PFMERGE", "m"+k, k, "r1")
			h.both(t, "GET", "m"+k)
			h.both(t, "GET", k)
		}
	}
}

// hllNotifyCommands: which keyspace events the PF commands cause.
var hllNotifyCommands = [][]string{
	{"PFADD", "a"}, {"PFADD", "a"}, {"PFADD", "a", "x"}, {"PFADD", "a", "x"}, {"PFCOUNT", "a"}, {"PFCOUNT", "a"}, {"PFCOUNT", "nokey"},
	{"PFCOUNT", "a", "nokey", "a2"}, {"PFMERGE", "m", "a", "nokey"}, {"PFMERGE", "m"}, {"PFMERGE", "a"}, {"SET", "s", "x"},
	{"PFADD", "s", "y"}, {"PFCOUNT", "nokey", "s", "nokey2"}, {"PFMERGE", "nod", "nokey", "s"}, {"SET", "c", hllHeader + "\x7f\xfe"},
	{"PFCOUNT", "c"}, {"PFADD", "c", "z"}, {"PFADD", "last"},
}

// TestHLLNotificationsMatchRedis compares the event streams.
func TestHLLNotificationsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, events := range []string{"KEA", "K$", "Em", "En"} {
		t.Run(events, func(t *testing.T) {
			stream := func(addr string) []string {
				c, sub := dialRaw(t, addr), dialRaw(t, addr)
				for _, args := range [][]string{{"FLUSHALL"}, {"CONFIG", "SET", "notify-keyspace-events", events}} {
					v, err := c.do(args...)
					require.NoError(t, err)
					require.Equal(t, okR, string(v.raw))
				}
				_, err := sub.do("PSUBSCRIBE", "__key*__:*")
				require.NoError(t, err)
				for _, args := range hllNotifyCommands {
					_, err := c.do(args...)
					require.NoError(t, err)
				}
				_, err = c.do("PUBLISH", "__keymarker__:end", "done")
				require.NoError(t, err)
				return collect(t, sub)
			}
			want := stream(red.Addr)
			require.Equal(t, strings.Join(want, "\n"), strings.Join(stream(sd.Addr), "\n"))
			if events == "KEA" {
				require.Greater(t, len(want), 15)
			}
		})
	}
}

// hllWatchCommands run between WATCH h and EXEC: the ones that change h
// (PFCOUNT writing the cache included) abort the transaction.
var hllWatchCommands = []string{
	"PFADD h a", "PFADD h x", "PFADD h", "PFCOUNT h", "PFCOUNT h other", "PFMERGE h", "PFMERGE h other", "PFMERGE other h",
	"PFADD other q", "PFCOUNT cached",
}

// TestHLLWatchMatchesRedis compares which commands abort a transaction.
func TestHLLWatchMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	run := func(addr string) []string {
		var out []string
		for _, cmd := range hllWatchCommands {
			c1, c2 := dialRaw(t, addr), dialRaw(t, addr)
			for _, args := range [][]string{{"FLUSHALL"}, {"PFADD", "h", "a", "b"}, {"PFADD", "cached", "a"}, {"PFCOUNT", "cached"}, {"WATCH", "h"}} {
				_, err := c1.do(args...)
				require.NoError(t, err)
			}
			v, err := c2.do(strings.Fields(cmd)...)
			require.NoError(t, err)
			for _, args := range [][]string{{"MULTI"}, {"PING"}} {
				_, err = c1.do(args...)
				require.NoError(t, err)
			}
			e, err := c1.do("EXEC")
			require.NoError(t, err)
			out = append(out, fmt.Sprintf("%s -> %q; EXEC %q", cmd, v.raw, e.raw))
			c1.close()
			c2.close()
		}
		return out
	}
	want := run(red.Addr)
	require.Contains(t, want, `PFCOUNT h -> ":2\r\n"; EXEC "*-1\r\n"`)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(run(sd.Addr), "\n"))
}
