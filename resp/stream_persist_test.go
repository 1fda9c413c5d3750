package resp_test

// Streams moved between sessiond and redis-server 7.0.15: a snapshot
// sessiond saves loads in Redis with the same XINFO STREAM FULL (times
// included: they travel in the file), a dump.rdb Redis saves loads in
// sessiond the same way, and DUMP payloads RESTORE across in both
// directions. XINFO's radix-tree-nodes is masked (not modelled).

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
	"sessiond/snapshot"
)

// streamBuild fills streams with explicit IDs through c: nodes of
// several layouts, tombstones, trims, groups with pending entries,
// consumers, an empty stream with a group, a deadline.
func streamBuild(t testing.TB, do func(args ...string) rv, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 7))
	keys := []string{"st:a", "st:b", "st:c", "st:empty", "st:ttl"}
	for _, k := range keys[:3] {
		n := 50 + r.IntN(400)
		for i := 1; i <= n; i++ {
			args := []string{"XADD", k, fmt.Sprintf("%d-%d", 1000+i/3, i%3)}
			switch r.IntN(5) {
			case 0:
				args = append(args, "f", strconv.Itoa(r.IntN(100000)), "g", strings.Repeat("y", r.IntN(200)))
			case 1:
				args = append(args, "other", strings.Repeat("z", r.IntN(3000)))
			case 2:
				args = append(args, "n", strconv.Itoa(-r.IntN(1<<30)), "m", "-0", "o", "007")
			default:
				args = append(args, "f", strconv.Itoa(r.IntN(1000)), "g", "x")
			}
			do(args...)
		}
		for range n / 10 {
			i := 1 + r.IntN(n)
			do("XDEL", k, fmt.Sprintf("%d-%d", 1000+i/3, i%3))
		}
		do("XGROUP", "CREATE", k, "g1", "0")
		do("XGROUP", "CREATE", k, "g2", "$")
		do("XGROUP", "CREATE", k, "g3", "1010-0", "ENTRIESREAD", "5")
		do("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "30", "STREAMS", k, ">")
		do("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "20", "STREAMS", k, ">")
		do("XREADGROUP", "GROUP", "g1", "carol", "COUNT", "5", "NOACK", "STREAMS", k, ">")
		do("XGROUP", "CREATECONSUMER", k, "g2", "dave")
		do("XACK", k, "g1", "1001-0", "1002-1", "1003-2", "1004-0")
		do("XCLAIM", k, "g1", "erin", "0", "1005-0", "1006-1", "1007-2", "JUSTID")
	}
	do("XTRIM", "st:b", "MAXLEN", "~", "40")
	do("XTRIM", "st:c", "MINID", "1050")
	do("XSETID", "st:c", "999999-5", "ENTRIESADDED", "100000", "MAXDELETEDID", "5000-0")
	do("XGROUP", "CREATE", "st:empty", "g", "$", "MKSTREAM")
	do("XGROUP", "CREATECONSUMER", "st:empty", "g", "c")
	do("XADD", "st:ttl", "1-1", "f", "v")
	do("PEXPIREAT", "st:ttl", "99999999999999")
	return keys
}

// requireSameState compares two streamState results item by item.
func requireSameState(t testing.TB, want, got []string, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	for i := range want {
		require.Equal(t, want[i], got[i], "%s: item %d", msg, i)
	}
}

// streamState is what a stream's commands report, for comparisons across
// servers.
func streamState(t testing.TB, do func(args ...string) rv, keys []string) []string {
	var out []string
	for _, k := range keys {
		for _, args := range [][]string{{"XINFO", "STREAM", k, "FULL", "COUNT", "0"}, {"XINFO", "GROUPS", k}, {"XLEN", k},
			{"XRANGE", k, "-", "+"}, {"XREVRANGE", k, "+", "-", "COUNT", "7"}, {"PEXPIRETIME", k}, {"TYPE", k}, {"OBJECT", "ENCODING", k}} {
			out = append(out, normStream(do(args...), args))
		}
	}
	return out
}

func TestStreamSnapshotToRedis(t *testing.T) {
	srv := testserver.Start(t)
	c := dialRaw(t, srv.Addr)
	do := func(args ...string) rv {
		v, err := c.do(args...)
		require.NoError(t, err)
		require.False(t, v.isErr(), "%q: %s", args, v)
		return v
	}
	keys := streamBuild(t, do, 1)
	want := streamState(t, do, keys)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "dump.rdb"))
	require.NoError(t, err)
	_, err = snapshot.Save(f, srv.Keyspace, nil)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	red := testserver.StartRedis(t, "--dir", dir, "--dbfilename", "dump.rdb")
	rc := dialRaw(t, red.Addr)
	rdo := func(args ...string) rv {
		v, err := rc.do(args...)
		require.NoError(t, err)
		return v
	}
	requireSameState(t, want, streamState(t, rdo, keys), "redis loading sessiond's snapshot")
	// And back: Redis's own save of what it loaded loads in sessiond the same.
	rdo("SAVE")
	srv2 := testserver.Start(t)
	st, err := snapshot.LoadFile(filepath.Join(dir, "dump.rdb"), srv2.Keyspace, snapshot.LoadOptions{})
	require.EqualValues(t, len(keys), st.Keys)
	require.NoError(t, err)
	c2 := dialRaw(t, srv2.Addr)
	requireSameState(t, want, streamState(t, func(args ...string) rv {
		v, err := c2.do(args...)
		require.NoError(t, err)
		return v
	}, keys), "sessiond loading redis's save of it")
}

func TestStreamRedisSnapshotToSessiond(t *testing.T) {
	for seed := range uint64(3) {
		red := testserver.StartRedis(t)
		rc := dialRaw(t, red.Addr)
		rdo := func(args ...string) rv {
			v, err := rc.do(args...)
			require.NoError(t, err)
			require.False(t, v.isErr(), "%q: %s", args, v)
			return v
		}
		keys := streamBuild(t, rdo, seed)
		want := streamState(t, rdo, keys)
		rdo("SAVE")
		srv := testserver.Start(t)
		st, err := snapshot.LoadFile(filepath.Join(red.Dir, "dump.rdb"), srv.Keyspace, snapshot.LoadOptions{})
		require.EqualValues(t, len(keys), st.Keys)
		require.NoError(t, err)
		c := dialRaw(t, srv.Addr)
		requireSameState(t, want, streamState(t, func(args ...string) rv {
			v, err := c.do(args...)
			require.NoError(t, err)
			return v
		}, keys), "sessiond loading redis's snapshot")
	}
}

// TestStreamDumpRestoreCrossServer moves each stream by DUMP and RESTORE
// both ways and compares what the receiving server reports; a payload
// sessiond writes is byte for byte Redis's when the stream has no
// pending entries (their times differ between the two servers).
func TestStreamDumpRestoreCrossServer(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	rc, sc := dialRaw(t, red.Addr), dialRaw(t, srv.Addr)
	on := func(c *rconn) func(args ...string) rv {
		return func(args ...string) rv {
			v, err := c.do(args...)
			require.NoError(t, err)
			require.False(t, v.isErr(), "%q: %s", args, v)
			return v
		}
	}
	keys := streamBuild(t, on(rc), 5)
	streamBuild(t, on(sc), 5)
	keys = keys[:4] // RESTORE ... 0: no deadline
	// Plain streams, built the same way on both, dump to the same bytes.
	for _, c := range []*rconn{rc, sc} {
		on(c)("XADD", "plain", "1-1", "a", "1", "b", "hello")
		on(c)("XADD", "plain", "1-2", "a", "2", "b", "world")
		on(c)("XADD", "plain", "2-0", "c", "3")
		on(c)("XDEL", "plain", "1-2")
	}
	require.Equal(t, string(on(rc)("DUMP", "plain").raw), string(on(sc)("DUMP", "plain").raw))
	for _, k := range keys {
		p := on(rc)("DUMP", k)
		on(sc)("RESTORE", "from-redis:"+k, "0", p.str)
		q := on(sc)("DUMP", k)
		on(rc)("RESTORE", "from-sd:"+k, "0", q.str)
	}
	for _, k := range keys {
		requireSameState(t, streamState(t, on(rc), []string{k}), streamState(t, on(sc), []string{"from-redis:" + k}), k)
		requireSameState(t, streamState(t, on(sc), []string{k}), streamState(t, on(rc), []string{"from-sd:" + k}), k)
	}
}

// TestStreamAppendBelowTombstones: a MINID trim can leave a node of
// tombstones, XSETID then lowers the last ID below it and XADD appends
// there. Redis takes it; sessiond once put the entry below its node's
// master ID, lost it for XREVRANGE and XDEL, and wrote a snapshot and a
// DUMP it then refused to load (helper-65's review).
func TestStreamAppendBelowTombstones(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	p := newPair(t, srv.Addr, red.Addr)
	for _, c := range []string{"XADD s 5-1 a 1", "XADD s 5-2 a 1", "XDEL s 5-2", "XTRIM s MINID 5-2", "XSETID s 0-1",
		"XADD s 0-2 a 1", "XLEN s", "XRANGE s - +", "XREVRANGE s 0-2 0-2", "XREVRANGE s + -", "XADD s 0-3 b 2"} {
		p.same(t, sp(c)...)
	}
	// Each server's DUMP restores in itself, and Redis's in sessiond (its
	// node keeps the tombstones, with the entries below its master).
	sd, rd := p.do(t, "DUMP", "s")
	v, err := p.r.do("RESTORE", "copy", "0", rd.str)
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))
	for _, payload := range []string{sd.str, rd.str} {
		v, err := p.s.do("RESTORE", "copy", "0", payload, "REPLACE")
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", string(v.raw))
		p.same(t, "XRANGE", "copy", "-", "+")
		p.same(t, "XREVRANGE", "copy", "+", "-")
	}
	p.same(t, "XDEL", "s", "0-2")
	p.same(t, "XRANGE", "s", "-", "+")

	// A snapshot of it loads.
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "dump.rdb"))
	require.NoError(t, err)
	_, err = snapshot.Save(f, srv.Keyspace, nil)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	srv2 := testserver.Start(t)
	_, err = snapshot.LoadFile(filepath.Join(dir, "dump.rdb"), srv2.Keyspace, snapshot.LoadOptions{})
	require.NoError(t, err)
	v, err = dialRaw(t, srv2.Addr).do("XRANGE", "copy", "-", "+")
	require.NoError(t, err)
	w, err := p.r.do("XRANGE", "copy", "-", "+")
	require.NoError(t, err)
	require.Equal(t, string(w.raw), string(v.raw))
}

// TestStreamIDSyntaxMatchesRedis: an ID's numbers are read as Redis's
// string2ull reads them, strtoull's leading white space, '+' and zeros
// included.
func TestStreamIDSyntaxMatchesRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	for _, c := range [][]string{
		{"XADD", "s", "+2-+1", "a", "1"}, {"XADD", "s", " 3-1", "a", "1"}, {"XADD", "s", "0004-01", "a", "1"},
		{"XADD", "s", "5 -1", "a", "1"}, {"XADD", "s", "++6-1", "a", "1"}, {"XADD", "s", "\t+6", "a", "1"},
		{"XADD", "s", "000000000000000000000007-1", "a", "1"}, {"XADD", "s", "18446744073709551616-1", "a", "1"},
		{"XRANGE", "s", "+1", "+"}, {"XRANGE", "s", "  1-1", "+"}, {"XRANGE", "s", "1-+1", "+"}, {"XRANGE", "s", "+", "\v4"},
		{"XRANGE", "s", "-", "+"}, {"XGROUP", "CREATE", "s", "g", "+1"}, {"XDEL", "s", "+2-1"}, {"XRANGE", "s", "-", "+"},
	} {
		p.same(t, c...)
	}
}
