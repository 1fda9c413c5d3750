package resp_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/internal/testserver"
)

// memPair runs the same commands on sessiond and redis-server and requires
// identical raw replies.
type memPair struct {
	t    *testing.T
	a, b *rconn
}

func newMemPair(t *testing.T, sessOpts ...testserver.Option) (*memPair, *testserver.Sessiond) {
	red := testserver.StartRedis(t)
	s := testserver.Start(t, sessOpts...)
	return &memPair{t: t, a: dialRaw(t, s.Addr), b: dialRaw(t, red.Addr)}, s
}

func (p *memPair) same(args ...string) rv {
	p.t.Helper()
	a, err := p.a.do(args...)
	require.NoError(p.t, err)
	b, err := p.b.do(args...)
	require.NoError(p.t, err)
	require.Equal(p.t, string(b.raw), string(a.raw), "%q", args)
	return a
}

// The OOM refusals, with Redis's exact texts, inside and outside MULTI.
func TestMaxmemoryOOMMatchesRedis(t *testing.T) {
	p, _ := newMemPair(t)
	p.same("SET", "a", "b")
	p.same("MULTI")
	p.same("SET", "q", "1")
	// Redis's used memory is never 0, sessiond's dataset is not 0 either
	// (key a): both are over a 1-byte limit from here on.
	p.same("CONFIG", "SET", "maxmemory", "1")
	p.same("EXEC") // EXECABORT ... because of: OOM ...
	p.same("SET", "x", "y")
	p.same("INCR", "n")
	p.same("SADD", "s", "m")
	p.same("GET", "a")
	p.same("EXISTS", "x")
	p.same("MULTI")
	p.same("GET", "a") // inside MULTI even reads are refused
	p.same("EXEC")
	p.same("MULTI")
	p.same("DISCARD")
	p.same("DEL", "nosuchkey")
	p.same("CONFIG", "SET", "maxmemory-policy", "volatile-lru") // no key has a TTL: still nothing to evict
	p.same("SET", "x", "y")
	p.same("CONFIG", "SET", "maxmemory", "0")
	p.same("SET", "x", "y")
	p.same("CONFIG", "SET", "maxmemory-policy", "noeviction")
}

func TestObjectMatchesRedis(t *testing.T) {
	p, _ := newMemPair(t)
	for i, v := range []string{"12345", "hello", strings.Repeat("x", 44), strings.Repeat("x", 45), "-0", "007", "+1", " 1",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "", "3.5"} {
		k := fmt.Sprint("s", i)
		p.same("SET", k, v)
		p.same("OBJECT", "ENCODING", k)
		p.same("OBJECT", "REFCOUNT", k)
		p.same("OBJECT", "IDLETIME", k)
	}
	p.same("INCR", "counter")
	p.same("OBJECT", "ENCODING", "counter")
	p.same("OBJECT", "REFCOUNT", "counter")
	p.same("SET", "big", "123456")
	p.same("OBJECT", "REFCOUNT", "big")
	p.same("SADD", "ints", "1", "2", "-3")
	p.same("OBJECT", "ENCODING", "ints")
	args := []string{"SADD", "large"}
	for i := range 200 {
		args = append(args, fmt.Sprint("member:", i))
	}
	p.same(args...)
	p.same("OBJECT", "ENCODING", "large") // hashtable (7.0 and 7.2 agree past 128 members)
	p.same("OBJECT", "REFCOUNT", "large")
	p.same("OBJECT", "ENCODING", "nokey")
	p.same("OBJECT", "FREQ", "nokey")
	p.same("OBJECT", "FREQ", "s1")
	p.same("OBJECT", "foo")
	p.same("OBJECT", "ENCODING")
	p.same("OBJECT", "ENCODING", "a", "b")
	p.same("OBJECT")

	p.same("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
	p.same("OBJECT", "IDLETIME", "s1")
	p.same("SET", "f", "v")
	p.same("OBJECT", "FREQ", "f") // LFU_INIT_VAL
	p.same("GET", "f")
	p.same("OBJECT", "FREQ", "f") // the first hits always count
	p.same("CONFIG", "SET", "maxmemory", "100mb")
	p.same("SET", "n", "5")
	p.same("OBJECT", "REFCOUNT", "n") // no shared integers under an LFU policy with maxmemory
	p.same("CONFIG", "SET", "maxmemory", "0")
	p.same("CONFIG", "SET", "maxmemory-policy", "noeviction")

	// OBJECT HELP: Redis 7.0 ends with "Prints this help.", 7.2 (whose
	// replies sessiond gives) with "Print this help."
	a, err := p.a.do("OBJECT", "HELP")
	require.NoError(t, err)
	b, err := p.b.do("OBJECT", "HELP")
	require.NoError(t, err)
	require.Equal(t, len(b.elems), len(a.elems))
	for i := range len(a.elems) - 1 {
		require.Equal(t, b.elems[i].str, a.elems[i].str)
	}
	require.Equal(t, "    Print this help.", a.elems[len(a.elems)-1].str)
}

// Small sets are listpacks in Redis 7.2 (7.0 reports hashtable): sessiond
// reports what 7.2 would.
func TestObjectEncodingSets72(t *testing.T) {
	s := testserver.Start(t)
	c := dialRaw(t, s.Addr)
	enc := func(args ...string) string {
		_, err := c.do(args...)
		require.NoError(t, err)
		v, err := c.do("OBJECT", "ENCODING", args[1])
		require.NoError(t, err)
		return v.str
	}
	require.Equal(t, "listpack", enc("SADD", "u", "sess:a", "sess:b"))
	require.Equal(t, "intset", enc("SADD", "i", "1", "2"))
	require.Equal(t, "listpack", enc("SADD", "i", "x"))
	require.Equal(t, "hashtable", enc("SADD", "long", strings.Repeat("m", 65)))
}

func TestMemoryMatchesRedis(t *testing.T) {
	p, _ := newMemPair(t)
	p.same("SET", "k", strings.Repeat("v", 1000))
	p.same("MEMORY", "USAGE", "nokey")
	p.same("MEMORY", "USAGE", "k", "SAMPLES", "-1")
	p.same("MEMORY", "USAGE", "k", "SAMPLES", "x")
	p.same("MEMORY", "USAGE", "k", "SAMPLES")
	p.same("MEMORY", "USAGE", "k", "foo")
	p.same("MEMORY", "USAGE")
	p.same("MEMORY", "foo")
	p.same("MEMORY", "DOCTOR") // an almost empty instance
	p.same("MEMORY", "PURGE")
	p.same("MEMORY", "STATS", "x")

	// MEMORY USAGE: plausible against the stored size (Redis says 1080 or so).
	a, err := p.a.do("MEMORY", "USAGE", "k", "SAMPLES", "0")
	require.NoError(t, err)
	n := 0
	fmt.Sscan(a.str, &n)
	require.GreaterOrEqual(t, n, 1001)
	require.Less(t, n, 1300)

	// MEMORY STATS: the same field names, in the same order.
	names := func(c *rconn) []string {
		v, err := c.do("MEMORY", "STATS")
		require.NoError(t, err)
		var out []string
		for i := 0; i+1 < len(v.elems); i += 2 {
			out = append(out, v.elems[i].str)
			if strings.HasPrefix(v.elems[i].str, "db.") {
				for j := 0; j+1 < len(v.elems[i+1].elems); j += 2 {
					out = append(out, "  "+v.elems[i+1].elems[j].str)
				}
			}
		}
		return out
	}
	require.Equal(t, names(p.b), names(p.a))

	// MEMORY HELP as OBJECT HELP: all but the last line as 7.0.
	a, err = p.a.do("MEMORY", "HELP")
	require.NoError(t, err)
	b, err := p.b.do("MEMORY", "HELP")
	require.NoError(t, err)
	require.Equal(t, len(b.elems), len(a.elems))
	for i := range len(a.elems) - 1 {
		require.Equal(t, b.elems[i].str, a.elems[i].str)
	}
	// Debian's Redis is built with jemalloc and prints its report; sessiond
	// answers as a Redis built without it does.
	a, err = p.a.do("MEMORY", "MALLOC-STATS")
	require.NoError(t, err)
	require.Equal(t, "Stats not supported for the current allocator", a.str)
}

func TestMemoryStatsResp3(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 3})
	defer c.Close()
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	m, err := c.Do(ctx, "MEMORY", "STATS").Result()
	require.NoError(t, err)
	mm := m.(map[any]any)
	require.EqualValues(t, 1, mm["keys.count"])
	require.Contains(t, mm, "db.0")
	require.IsType(t, float64(0), mm["dataset.percentage"])
	d, err := c.Do(ctx, "MEMORY", "DOCTOR").Text()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(d, "Hi Sam"), d)
}

func TestClientNoTouch(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	s := testserver.Start(t, testserver.WithClock(clk))
	c := dialRaw(t, s.Addr)
	do := func(args ...string) string {
		v, err := c.do(args...)
		require.NoError(t, err)
		return v.str
	}
	do("SET", "k", "v")
	clk.Advance(20 * time.Second)
	require.Equal(t, "20", do("OBJECT", "IDLETIME", "k"))
	do("ZADD", "z", "1", "a")
	do("SADD", "s", "a")
	clk.Advance(20 * time.Second)
	do("CLIENT", "NO-TOUCH", "ON")
	do("GET", "k")
	do("STRLEN", "k")
	require.Equal(t, "40", do("OBJECT", "IDLETIME", "k"))
	// Commands whose keys follow a count (key positions found from the
	// key specs, as COMMAND GETKEYS finds them) do not touch them either.
	do("ZUNION", "2", "z", "s")
	do("SINTERCARD", "2", "s", "z")
	require.Equal(t, "20", do("OBJECT", "IDLETIME", "z"))
	require.Equal(t, "20", do("OBJECT", "IDLETIME", "s"))
	clk.Advance(-20 * time.Second)
	do("TOUCH", "k") // TOUCH touches even in no-touch mode, as in Redis
	require.Equal(t, "0", do("OBJECT", "IDLETIME", "k"))
	clk.Advance(7 * time.Second)
	do("CLIENT", "NO-TOUCH", "OFF")
	do("GET", "k")
	require.Equal(t, "0", do("OBJECT", "IDLETIME", "k"))
	clk.Advance(3 * time.Second)
	do("TTL", "k")
	do("TYPE", "k")
	do("EXISTS", "k")
	require.Equal(t, "3", do("OBJECT", "IDLETIME", "k"))
}

// A client keeps writing with a small maxmemory: under every policy the
// dataset stays under the limit, and the right class of keys goes.
func TestEvictionUnderSteadyWrites(t *testing.T) {
	const (
		maxmem = 1 << 20
		valLen = 400
		total  = 6000 // about 3 MB written, three times the limit
	)
	for _, pol := range []string{"allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"} {
		t.Run(pol, func(t *testing.T) {
			// LRU has Redis's one-second resolution: the fake clock moves a
			// second per batch so that idle times differ.
			clk := clocktest.NewFake(time.Now())
			s := testserver.Start(t, testserver.WithClock(clk),
				testserver.WithConfig("maxmemory", fmt.Sprint(maxmem)), testserver.WithConfig("maxmemory-policy", pol))
			ctx := context.Background()
			c := redis.NewClient(&redis.Options{Addr: s.Addr})
			defer c.Close()
			volatile := strings.HasPrefix(pol, "volatile")
			// Persistent keys a volatile policy must never evict.
			for i := range 100 {
				require.NoError(t, c.Set(ctx, fmt.Sprint("keep:", i), strings.Repeat("k", valLen), 0).Err())
			}
			val := strings.Repeat("v", valLen)
			peak := int64(0)
			start := time.Now()
			for i := 0; i < total; i += 100 {
				pipe := c.Pipeline()
				for j := i; j < i+100; j++ {
					pipe.Set(ctx, fmt.Sprint("sess:", j), val, time.Hour+time.Duration(j)*time.Second)
				}
				_, err := pipe.Exec(ctx)
				require.NoError(t, err)
				clk.Advance(time.Second)
				if i%50 == 0 { // a recently read key: LRU/LFU keep it
					if err := c.Get(ctx, "sess:0").Err(); err != redis.Nil {
						require.NoError(t, err)
					}
				}
				peak = max(peak, s.Keyspace.UsedMemory())
			}
			elapsed := time.Since(start)
			// Each command evicts before it runs, so the dataset exceeds
			// maxmemory by at most the one key just written.
			require.LessOrEqual(t, peak, int64(maxmem+2*valLen))
			info, err := c.Info(ctx, "stats").Result()
			require.NoError(t, err)
			var evicted int
			for _, l := range strings.Split(info, "\r\n") {
				if v, ok := strings.CutPrefix(l, "evicted_keys:"); ok {
					fmt.Sscan(v, &evicted)
				}
			}
			require.Greater(t, evicted, total/2)
			if volatile {
				for i := range 100 {
					require.EqualValues(t, 1, c.Exists(ctx, fmt.Sprint("keep:", i)).Val(), "volatile policy evicted a key without TTL")
				}
			}
			switch pol {
			case "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu":
				require.EqualValues(t, 1, c.Exists(ctx, "sess:0").Val(), "the key read all along was evicted")
			case "volatile-ttl": // the nearest deadlines went first: the oldest sessions
				require.Zero(t, c.Exists(ctx, "sess:1", "sess:100", "sess:1000").Val())
				require.EqualValues(t, 1, c.Exists(ctx, fmt.Sprint("sess:", total-1)).Val())
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t.Logf("%s: dataset peak %d bytes (limit %d), %d evicted, %.0f writes/s with eviction; test process heap after GC %d bytes",
				pol, peak, maxmem, evicted, float64(total)/elapsed.Seconds(), ms.HeapAlloc)
		})
	}
}

// Lowering maxmemory evicts at once, and reports the eviction rate.
func TestConfigSetMaxmemoryEvicts(t *testing.T) {
	s := testserver.Start(t, testserver.WithConfig("maxmemory-policy", "allkeys-lru"))
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	defer c.Close()
	for i := 0; i < 40000; i += 1000 {
		pipe := c.Pipeline()
		for j := i; j < i+1000; j++ {
			pipe.Set(ctx, fmt.Sprint("sess:", j), strings.Repeat("v", 200), 0)
		}
		_, err := pipe.Exec(ctx)
		require.NoError(t, err)
	}
	used := s.Keyspace.UsedMemory()
	start := time.Now()
	require.NoError(t, c.ConfigSet(ctx, "maxmemory", fmt.Sprint(used/2)).Err())
	el := time.Since(start)
	require.LessOrEqual(t, s.Keyspace.UsedMemory(), used/2)
	n := s.Keyspace.Stats().EvictedKeys
	require.Greater(t, n, int64(15000))
	t.Logf("evicted %d keys in %v: %.0f keys/s", n, el, float64(n)/el.Seconds())
}
