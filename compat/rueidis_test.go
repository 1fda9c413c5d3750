package compat

// rueidis (github.com/redis/rueidis) with its default options: RESP3 and
// client-side caching, for which it sends CLIENT TRACKING ON OPTIN at
// connect and, per cached read, CLIENT CACHING YES, MULTI, PTTL key, the
// command, EXEC (the PTTL bounds the cached value's life). valkey-go, its
// fork, is driven the same way (valkey_test.go).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rueidisClient connects to addr with rueidis's defaults (plus opt's
// fields); closed when the test ends.
func rueidisClient(t testing.TB, addr string, opt rueidis.ClientOption) rueidis.Client {
	t.Helper()
	opt.InitAddress = []string{addr}
	c, err := rueidis.NewClient(opt)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// TestRueidisHandshake: what rueidis sends at connect, and that sessiond
// accepts all of it.
func TestRueidisHandshake(t *testing.T) {
	_, px := startSessiond(t)
	c := rueidisClient(t, px.Addr, rueidis.ClientOption{ClientName: "compat-rueidis"})
	ctx := context.Background()
	require.NoError(t, c.Do(ctx, c.B().Ping().Build()).Error())
	var all []string
	for _, conn := range px.Conns() {
		for _, cmd := range conn {
			all = append(all, lower(strings.Join(cmd, " ")))
		}
	}
	assert.Contains(t, all, "client tracking on optin", "rueidis turns client-side caching on at connect")
	for _, cmd := range all {
		if strings.HasPrefix(cmd, "hello") {
			assert.True(t, strings.HasPrefix(cmd, "hello 3"), "RESP3: %q", cmd)
		}
	}
}

func TestRueidisDo(t *testing.T) {
	srv := startServer(t)
	c := rueidisClient(t, srv.Addr, rueidis.ClientOption{})
	ctx := context.Background()
	require.NoError(t, c.Do(ctx, c.B().Set().Key("k").Value("v").Ex(time.Minute).Build()).Error())
	v, err := c.Do(ctx, c.B().Get().Key("k").Build()).ToString()
	require.NoError(t, err)
	assert.Equal(t, "v", v)
	_, err = c.Do(ctx, c.B().Get().Key("missing").Build()).ToString()
	assert.True(t, rueidis.IsRedisNil(err), "a missing key: %v", err)
	ttl, err := c.Do(ctx, c.B().Ttl().Key("k").Build()).AsInt64()
	require.NoError(t, err)
	assert.InDelta(t, 60, ttl, 1)
	n, err := c.Do(ctx, c.B().Hset().Key("h").FieldValue().FieldValue("a", "1").FieldValue("b", "2").Build()).AsInt64()
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	h, err := c.Do(ctx, c.B().Hgetall().Key("h").Build()).AsStrMap()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "1", "b": "2"}, h)
	err = c.Do(ctx, c.B().Incr().Key("h").Build()).Error()
	assert.ErrorContains(t, err, "WRONGTYPE")

	res := c.DoMulti(ctx,
		c.B().Set().Key("m1").Value("1").Build(),
		c.B().Incr().Key("m1").Build(),
		c.B().Mget().Key("m1", "m2").Build())
	require.NoError(t, res[0].Error())
	i, err := res[1].AsInt64()
	require.NoError(t, err)
	assert.EqualValues(t, 2, i)
	vals, err := res[2].ToArray()
	require.NoError(t, err)
	require.Len(t, vals, 2)
	s, _ := vals[0].ToString()
	assert.Equal(t, "2", s)
	assert.True(t, vals[1].IsNil())

	// A transaction on a dedicated connection, as rueidis does it.
	err = c.Dedicated(func(d rueidis.DedicatedClient) error {
		r := d.DoMulti(ctx, d.B().Multi().Build(), d.B().Set().Key("tx").Value("1").Build(), d.B().Incr().Key("tx").Build(), d.B().Exec().Build())
		arr, err := r[3].ToArray()
		if err != nil {
			return err
		}
		if len(arr) != 2 {
			return fmt.Errorf("EXEC: %d replies", len(arr))
		}
		return nil
	})
	require.NoError(t, err)
	v, err = c.Do(ctx, c.B().Get().Key("tx").Build()).ToString()
	require.NoError(t, err)
	assert.Equal(t, "2", v)
}

// cachedGet is DoCache of GET key: the value ("" and nil=true for a
// missing key) and whether it came from the cache.
func cachedGet(t testing.TB, c rueidis.Client, key string, ttl time.Duration) (v string, isNil, hit bool, pttl int64) {
	t.Helper()
	r := c.DoCache(context.Background(), c.B().Get().Key(key).Cache(), ttl)
	v, err := r.ToString()
	if rueidis.IsRedisNil(err) {
		return "", true, r.IsCacheHit(), r.CachePTTL()
	}
	require.NoError(t, err)
	return v, false, r.IsCacheHit(), r.CachePTTL()
}

// eventuallyGet waits until the cached GET of key returns want (isNil
// for a missing key) from the server, not from the cache: another
// client's write reaches the cache asynchronously, as an invalidation.
func eventuallyGet(t testing.TB, c rueidis.Client, key, want string, wantNil bool) {
	t.Helper()
	require.Eventually(t, func() bool {
		v, isNil, _, _ := cachedGet(t, c, key, time.Minute)
		return v == want && isNil == wantNil
	}, 3*time.Second, 2*time.Millisecond, "GET %s never became %q (nil %v)", key, want, wantNil)
}

// eventuallyCached is eventuallyGet, then checks that the value is cached
// again.
func eventuallyCached(t testing.TB, c rueidis.Client, key, want string, wantNil bool) {
	t.Helper()
	eventuallyGet(t, c, key, want, wantNil)
	_, _, hit, _ := cachedGet(t, c, key, time.Minute)
	assert.True(t, hit, "cached again after the invalidation")
}

func TestRueidisDoCache(t *testing.T) {
	srv := startServer(t)
	c := rueidisClient(t, srv.Addr, rueidis.ClientOption{})
	w := rueidisClient(t, srv.Addr, rueidis.ClientOption{DisableCache: true})
	ctx := context.Background()
	set := func(args ...string) {
		t.Helper()
		require.NoError(t, w.Do(ctx, w.B().Arbitrary(args[0]).Args(args[1:]...).Build()).Error())
	}

	set("SET", "k", "v1")
	v, _, hit, pttl := cachedGet(t, c, "k", time.Minute)
	assert.Equal(t, "v1", v)
	assert.False(t, hit, "the first read goes to the server")
	assert.InDelta(t, time.Minute.Milliseconds(), pttl, 1000, "no TTL on the key: the cache TTL given")
	v, _, hit, _ = cachedGet(t, c, "k", time.Minute)
	assert.Equal(t, "v1", v)
	assert.True(t, hit, "the second read is a cache hit")

	// The key's own TTL (PTTL) bounds the cached value's life.
	set("SET", "t", "x", "PX", "5000")
	_, _, _, pttl = cachedGet(t, c, "t", time.Minute)
	assert.True(t, pttl > 3000 && pttl <= 5000, "cache PTTL from the key's PTTL: %d", pttl)

	t.Run("invalidated by another client's write", func(t *testing.T) {
		set("SET", "k", "v2")
		eventuallyCached(t, c, "k", "v2", false)
		set("APPEND", "k", "+")
		eventuallyCached(t, c, "k", "v2+", false)
	})
	t.Run("invalidated by DEL", func(t *testing.T) {
		set("DEL", "k")
		eventuallyCached(t, c, "k", "", true)
		set("SET", "k", "back") // a cached miss is invalidated too
		eventuallyCached(t, c, "k", "back", false)
	})
	t.Run("invalidated by expiry", func(t *testing.T) {
		// The cache TTL, not the key's, is what is asked for: only the
		// server's invalidation (or the PTTL bound) ends the cached value.
		set("SET", "e", "soon", "PX", "150")
		v, _, _, _ := cachedGet(t, c, "e", time.Minute)
		assert.Equal(t, "soon", v)
		eventuallyGet(t, c, "e", "", true)
		// Expiry set later by another client: a write, so invalidated.
		set("SET", "e2", "x")
		cachedGet(t, c, "e2", time.Minute)
		set("PEXPIRE", "e2", "300")
		require.Eventually(t, func() bool { // re-read, with the new PTTL
			v, _, _, pttl := cachedGet(t, c, "e2", time.Minute)
			return v == "x" && pttl <= 300
		}, 3*time.Second, 2*time.Millisecond)
		eventuallyGet(t, c, "e2", "", true)
	})
	t.Run("invalidated by FLUSHALL", func(t *testing.T) {
		set("MSET", "f1", "1", "f2", "2")
		cachedGet(t, c, "f1", time.Minute)
		cachedGet(t, c, "f2", time.Minute)
		set("FLUSHALL")
		eventuallyCached(t, c, "f1", "", true)
		eventuallyCached(t, c, "f2", "", true)
	})
	t.Run("own writes", func(t *testing.T) {
		cachedGet(t, c, "own", time.Minute)
		require.NoError(t, c.Do(ctx, c.B().Set().Key("own").Value("mine").Build()).Error())
		eventuallyCached(t, c, "own", "mine", false)
	})
	t.Run("other commands", func(t *testing.T) {
		set("HSET", "h", "a", "1")
		r := c.DoCache(ctx, c.B().Hgetall().Key("h").Cache(), time.Minute)
		m, err := r.AsStrMap()
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"a": "1"}, m)
		set("HSET", "h", "b", "2")
		require.Eventually(t, func() bool {
			m, err := c.DoCache(ctx, c.B().Hgetall().Key("h").Cache(), time.Minute).AsStrMap()
			return err == nil && len(m) == 2
		}, 3*time.Second, 2*time.Millisecond)
		set("SADD", "s", "x")
		n, err := c.DoCache(ctx, c.B().Scard().Key("s").Cache(), time.Minute).AsInt64()
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		set("SADD", "s", "y")
		require.Eventually(t, func() bool {
			n, err := c.DoCache(ctx, c.B().Scard().Key("s").Cache(), time.Minute).AsInt64()
			return err == nil && n == 2
		}, 3*time.Second, 2*time.Millisecond)
	})
}

func TestRueidisDoMultiCache(t *testing.T) {
	srv := startServer(t)
	c := rueidisClient(t, srv.Addr, rueidis.ClientOption{})
	w := rueidisClient(t, srv.Addr, rueidis.ClientOption{DisableCache: true})
	ctx := context.Background()
	require.NoError(t, w.Do(ctx, w.B().Mset().KeyValue().KeyValue("a", "1").KeyValue("b", "2").Build()).Error())
	read := func() (vals []string, hits int) {
		res := c.DoMultiCache(ctx,
			rueidis.CT(c.B().Get().Key("a").Cache(), time.Minute),
			rueidis.CT(c.B().Get().Key("b").Cache(), time.Minute),
			rueidis.CT(c.B().Get().Key("c").Cache(), time.Minute))
		for _, r := range res {
			v, err := r.ToString()
			if rueidis.IsRedisNil(err) {
				v = "(nil)"
			} else {
				require.NoError(t, err)
			}
			vals = append(vals, v)
			if r.IsCacheHit() {
				hits++
			}
		}
		return vals, hits
	}
	vals, hits := read()
	assert.Equal(t, []string{"1", "2", "(nil)"}, vals)
	assert.Zero(t, hits)
	vals, hits = read()
	assert.Equal(t, []string{"1", "2", "(nil)"}, vals)
	assert.Equal(t, 3, hits, "all three cached, the missing key too")

	require.NoError(t, w.Do(ctx, w.B().Mset().KeyValue().KeyValue("b", "20").KeyValue("c", "30").Build()).Error())
	require.Eventually(t, func() bool {
		vals, _ := read()
		return strings.Join(vals, ",") == "1,20,30"
	}, 3*time.Second, 2*time.Millisecond)
	_, hits = read()
	assert.Equal(t, 3, hits)
	// MGET through the cache: one entry for the command, invalidated by
	// any of its keys (CLIENT CACHING YES covers the whole MULTI rueidis
	// wraps the read in, not only the PTTL of the first key).
	require.NoError(t, w.Do(ctx, w.B().Mset().KeyValue().KeyValue("x1", "1").KeyValue("x2", "2").Build()).Error())
	mget := func() string {
		vs, err := c.DoCache(ctx, c.B().Mget().Key("x1", "x2").Cache(), time.Minute).AsStrSlice()
		require.NoError(t, err)
		return strings.Join(vs, ",")
	}
	assert.Equal(t, "1,2", mget())
	require.NoError(t, w.Do(ctx, w.B().Set().Key("x2").Value("20").Build()).Error())
	require.Eventually(t, func() bool { return mget() == "1,20" }, 3*time.Second, 2*time.Millisecond)
	require.NoError(t, w.Do(ctx, w.B().Set().Key("x1").Value("10").Build()).Error())
	require.Eventually(t, func() bool { return mget() == "10,20" }, 3*time.Second, 2*time.Millisecond)
}

// TestRueidisSessionStore: what a session store over rueidis does: SETEX
// on login and on every change, reads through the cache on every request,
// DEL on logout, seen across two application instances (two clients).
func TestRueidisSessionStore(t *testing.T) {
	srv := startServer(t)
	app1 := rueidisClient(t, srv.Addr, rueidis.ClientOption{})
	app2 := rueidisClient(t, srv.Addr, rueidis.ClientOption{})
	ctx := context.Background()
	save := func(c rueidis.Client, id, data string) {
		t.Helper()
		require.NoError(t, c.Do(ctx, c.B().Setex().Key("sess:"+id).Seconds(1800).Value(data).Build()).Error())
	}
	load := func(c rueidis.Client, id string) (string, bool) {
		t.Helper()
		v, isNil, _, pttl := cachedGet(t, c, "sess:"+id, time.Hour)
		if !isNil {
			assert.True(t, pttl > 0 && pttl <= 1800*1000, "a session's cache life is its TTL: %d", pttl)
		}
		return v, !isNil
	}
	save(app1, "abc", `{"user":1,"cart":[]}`)
	v, ok := load(app1, "abc")
	require.True(t, ok)
	assert.Equal(t, `{"user":1,"cart":[]}`, v)
	v, ok = load(app2, "abc")
	require.True(t, ok)
	assert.Equal(t, `{"user":1,"cart":[]}`, v)
	for i := range 20 { // requests alternate between the instances
		c, other := app1, app2
		if i%2 == 1 {
			c, other = app2, app1
		}
		data := fmt.Sprintf(`{"user":1,"cart":[%d]}`, i)
		save(c, "abc", data)
		for _, x := range []rueidis.Client{c, other} {
			require.Eventually(t, func() bool {
				v, ok := load(x, "abc")
				return ok && v == data
			}, 3*time.Second, time.Millisecond, "request %d: the session update is seen", i)
		}
	}
	require.NoError(t, app2.Do(ctx, app2.B().Del().Key("sess:abc").Build()).Error()) // logout
	// Both forget it, the writer too, but not necessarily by the time its
	// DEL returns: a client's own invalidation follows the write's reply,
	// in Redis 7.0 as here (tracking_pending_keys), and rueidis reads the
	// two in turn (this failed once in CI).
	for _, x := range []rueidis.Client{app1, app2} {
		require.Eventually(t, func() bool { _, ok := load(x, "abc"); return !ok }, 3*time.Second, time.Millisecond)
	}
}

// TestRueidisConcurrentCache: goroutines read a small key set through the
// cache while others write random values to it, through the same client
// and through another. After the writers stop and the invalidations on
// the way have arrived, every cached read must return the server's value:
// a stale cache is the worst possible bug here.
func TestRueidisConcurrentCache(t *testing.T) {
	srv := startServer(t)
	c := rueidisClient(t, srv.Addr, rueidis.ClientOption{})
	w := rueidisClient(t, srv.Addr, rueidis.ClientOption{DisableCache: true})
	c2 := rueidisClient(t, srv.Addr, rueidis.ClientOption{})
	ctx := context.Background()
	keys := []string{"c0", "c1", "c2", "c3", "c4"}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads, hits, writes atomic.Int64
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			cl := []rueidis.Client{c, c2}[g%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := keys[r.IntN(len(keys))]
				var res rueidis.RedisResult
				if r.IntN(4) == 0 {
					res = cl.DoMultiCache(ctx, rueidis.CT(cl.B().Get().Key(k).Cache(), time.Minute),
						rueidis.CT(cl.B().Strlen().Key(keys[r.IntN(len(keys))]).Cache(), time.Minute))[0]
				} else {
					res = cl.DoCache(ctx, cl.B().Get().Key(k).Cache(), time.Minute)
				}
				if err := res.Error(); err != nil && !rueidis.IsRedisNil(err) {
					t.Error(err)
					return
				}
				reads.Add(1)
				if res.IsCacheHit() {
					hits.Add(1)
				}
			}
		}()
	}
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 2))
			cl := []rueidis.Client{w, c, c2}[g]
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := keys[r.IntN(len(keys))]
				val := fmt.Sprintf("w%d-%d", g, i)
				var cmd rueidis.Completed
				switch r.IntN(10) {
				case 0:
					cmd = cl.B().Del().Key(k).Build()
				case 1:
					cmd = cl.B().Append().Key(k).Value("+").Build()
				case 2:
					cmd = cl.B().Setex().Key(k).Seconds(60).Value(val).Build()
				default:
					cmd = cl.B().Set().Key(k).Value(val).Build()
				}
				if err := cl.Do(ctx, cmd).Error(); err != nil {
					t.Error(err)
					return
				}
				writes.Add(1)
				time.Sleep(time.Duration(r.IntN(200)) * time.Microsecond)
			}
		}()
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d reads (%d cache hits), %d writes", reads.Load(), hits.Load(), writes.Load())
	require.Positive(t, hits.Load(), "the cache was used")

	// Quiet: a PING through each caching client is answered after the
	// invalidations queued before it, which rueidis handles in order.
	for _, cl := range []rueidis.Client{c, c2} {
		require.NoError(t, cl.Do(ctx, cl.B().Ping().Build()).Error())
	}
	for _, cl := range []rueidis.Client{c, c2} {
		for _, k := range keys {
			want, err := w.Do(ctx, w.B().Get().Key(k).Build()).ToString()
			if rueidis.IsRedisNil(err) {
				want = "(nil)"
			}
			got, isNil, hit, _ := cachedGet(t, cl, k, time.Minute)
			if isNil {
				got = "(nil)"
			}
			assert.Equal(t, want, got, "%s: stale cached value (cache hit %v)", k, hit)
		}
	}
}
