package compat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// goRedisClient returns a go-redis client for addr; it is closed when the
// test ends.
func goRedisClient(t testing.TB, opt *redis.Options) *redis.Client {
	t.Helper()
	if opt.DialTimeout == 0 {
		opt.DialTimeout = 2 * time.Second
		opt.ReadTimeout = 2 * time.Second
		opt.WriteTimeout = 2 * time.Second
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestGoRedisHandshake checks the go-redis v9 connection handshake in both
// protocols, with and without requirepass, through the recording proxy.
func TestGoRedisHandshake(t *testing.T) {
	for _, proto := range []int{3, 2} {
		for _, pw := range []string{"", "pw"} {
			t.Run(fmt.Sprintf("proto%d/password=%q", proto, pw), func(t *testing.T) {
				var opts []testserver.Option
				if pw != "" {
					opts = append(opts, testserver.WithConfig("requirepass", pw))
				}
				_, px := startSessiond(t, opts...)
				ctx := context.Background()
				o := &redis.Options{Addr: px.Addr, Password: pw, ClientName: "compat-app"}
				if proto == 2 {
					o.Protocol = 2
				}
				c := goRedisClient(t, o)
				require.Equal(t, "PONG", c.Ping(ctx).Val())

				conns := px.Conns()
				require.NotEmpty(t, conns)
				first := lower(strings.Join(conns[0][0], " "))
				want := fmt.Sprintf("hello %d", proto)
				if pw != "" {
					want += " auth default " + pw
				}
				want += " setname compat-app"
				assert.Equal(t, want, first, "go-redis negotiates with one HELLO; sessiond must accept it (no AUTH fallback)")
				for _, cmd := range px.All() {
					assert.NotEqual(t, "auth", lower(strings.Fields(cmd)[0]), "go-redis fell back to AUTH: HELLO was rejected")
				}
				px.waitFor(t, "client setinfo lib-name", func(c string) bool {
					return strings.HasPrefix(lower(c), "client setinfo lib-name go-redis")
				})
				if proto == 3 {
					// Auto mode: sessiond answers -ERR unknown subcommand,
					// go-redis disables the feature and keeps the connection.
					px.waitFor(t, "client maint_notifications", func(c string) bool {
						return strings.HasPrefix(lower(c), "client maint_notifications on")
					})
				}

				// The handshake left a working, named, identified connection.
				info, err := c.ClientInfo(ctx).Result()
				require.NoError(t, err)
				assert.Equal(t, "compat-app", info.Name)
				if !againstRedis() { // CLIENT SETINFO is Redis >= 7.2
					assert.True(t, strings.HasPrefix(info.LibName, "go-redis"), "lib-name %q", info.LibName)
					assert.Equal(t, redis.Version(), info.LibVer)
				}
				assert.Equal(t, proto, info.Resp)

				// HELLO reply shape as go-redis reads it.
				hello, err := c.Do(ctx, "hello", proto).Result()
				require.NoError(t, err)
				m, ok := hello.(map[any]any)
				if proto == 2 {
					// RESP2: a flat array of 14 items.
					arr, isArr := hello.([]any)
					require.True(t, isArr, "HELLO 2 reply %T", hello)
					require.Len(t, arr, 14)
					m = map[any]any{}
					for i := 0; i < len(arr); i += 2 {
						m[arr[i]] = arr[i+1]
					}
					ok = true
				}
				require.True(t, ok, "HELLO 3 reply %T", hello)
				assert.Equal(t, int64(proto), m["proto"])
				assert.Equal(t, "redis", m["server"])
				assert.Equal(t, "master", m["role"])

				// A GET miss is redis.Nil in both protocols.
				assert.ErrorIs(t, c.Get(ctx, "missing").Err(), redis.Nil)

				// Explicit MAINT_NOTIFICATIONS gets an error reply, and the
				// connection stays usable.
				err = c.Do(ctx, "client", "maint_notifications", "on", "moving-endpoint-type", "internal-ip").Err()
				require.Error(t, err)
				assert.Contains(t, err.Error(), "unknown subcommand")
				assert.Equal(t, "PONG", c.Ping(ctx).Val())
			})
		}
	}
}

// TestGoRedisAuthFailures: a wrong password fails the connection with
// WRONGPASS, and no password with requirepass gets NOAUTH.
func TestGoRedisAuthFailures(t *testing.T) {
	srv := startServer(t, testserver.WithConfig("requirepass", "pw"))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		bad := goRedisClient(t, &redis.Options{Addr: srv.Addr, Password: "nope", Protocol: proto, MaxRetries: -1})
		err := bad.Ping(ctx).Err()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "WRONGPASS")

		none := goRedisClient(t, &redis.Options{Addr: srv.Addr, Protocol: proto, MaxRetries: -1})
		err = none.Get(ctx, "k").Err()
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "NOAUTH"), "got %v", err)
	}
}

// forEachProtocol runs f against a fresh sessiond with a RESP3 client and
// with a RESP2 client.
func forEachProtocol(t *testing.T, f func(t *testing.T, c *redis.Client, srv *testserver.Sessiond)) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("proto%d", proto), func(t *testing.T) {
			srv := startServer(t)
			f(t, goRedisClient(t, &redis.Options{Addr: srv.Addr, Protocol: proto}), srv)
		})
	}
}

func TestGoRedisPipeline(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := 0; i < 50; i++ {
				p.Set(ctx, fmt.Sprintf("p:%d", i), i, time.Minute)
			}
			for i := 0; i < 49; i++ {
				p.Get(ctx, fmt.Sprintf("p:%d", i))
			}
			p.Get(ctx, "p:missing") // a nil in the middle of a pipeline
			return nil
		})
		require.ErrorIs(t, err, redis.Nil, "Pipelined reports the first error, the GET miss")
		require.Len(t, cmds, 100)
		for i := 0; i < 50; i++ {
			assert.Equal(t, "OK", cmds[i].(*redis.StatusCmd).Val())
		}
		for i := 0; i < 49; i++ {
			assert.Equal(t, fmt.Sprint(i), cmds[50+i].(*redis.StringCmd).Val())
		}
		assert.ErrorIs(t, cmds[99].Err(), redis.Nil)
		n, err := c.DBSize(ctx).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(50), n)
	})
}

func TestGoRedisTxPipelined(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		var incr *redis.IntCmd
		var get *redis.StringCmd
		cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "tx:a", "1", 0)
			incr = p.Incr(ctx, "tx:a")
			p.Expire(ctx, "tx:a", time.Minute)
			get = p.Get(ctx, "tx:a")
			return nil
		})
		require.NoError(t, err)
		require.Len(t, cmds, 4)
		assert.Equal(t, int64(2), incr.Val())
		assert.Equal(t, "2", get.Val())
		within(t, c.TTL(ctx, "tx:a").Val(), 59*time.Second, time.Minute, "TTL")

		// A runtime error inside EXEC fails that command only.
		var bad *redis.IntCmd
		_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "tx:s", "notanumber", 0)
			bad = p.Incr(ctx, "tx:s")
			p.Set(ctx, "tx:after", "x", 0)
			return nil
		})
		require.Error(t, err)
		assert.Contains(t, bad.Err().Error(), "ERR value is not an integer or out of range")
		assert.Equal(t, "x", c.Get(ctx, "tx:after").Val())
	})
}

func TestGoRedisWatch(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, srv *testserver.Sessiond) {
		ctx := context.Background()
		other := goRedisClient(t, &redis.Options{Addr: srv.Addr})
		require.NoError(t, c.Set(ctx, "w:counter", "10", 0).Err())

		// Optimistic increment without interference succeeds.
		incr := func(conflict bool) error {
			return c.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ctx, "w:counter").Int()
				if err != nil {
					return err
				}
				if conflict {
					// Another client writes the watched key between
					// WATCH and EXEC.
					if err := other.Set(ctx, "w:counter", "100", 0).Err(); err != nil {
						return err
					}
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "w:counter", n+1, 0)
					return nil
				})
				return err
			}, "w:counter")
		}
		require.NoError(t, incr(false))
		assert.Equal(t, "11", c.Get(ctx, "w:counter").Val())

		err := incr(true)
		require.ErrorIs(t, err, redis.TxFailedErr, "EXEC must abort (null reply) after a conflicting write")
		assert.Equal(t, "100", c.Get(ctx, "w:counter").Val(), "the aborted transaction must not write")

		// Watching a key that expires... and a retry loop that succeeds.
		require.NoError(t, incr(false))
		assert.Equal(t, "101", c.Get(ctx, "w:counter").Val())
	})
}

func TestGoRedisSetOptions(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		// EX (whole seconds) and PX (sub-second precision).
		require.NoError(t, c.Set(ctx, "s:ex", "v", 10*time.Second).Err())
		within(t, c.TTL(ctx, "s:ex").Val(), 9*time.Second, 10*time.Second, "TTL after SET EX")
		require.NoError(t, c.Set(ctx, "s:px", "v", 1500*time.Millisecond).Err())
		within(t, c.PTTL(ctx, "s:px").Val(), 1200*time.Millisecond, 1500*time.Millisecond, "PTTL after SET PX")

		// KEEPTTL keeps the TTL; a plain SET clears it.
		require.NoError(t, c.Set(ctx, "s:ex", "v2", redis.KeepTTL).Err())
		assert.Equal(t, "v2", c.Get(ctx, "s:ex").Val())
		within(t, c.TTL(ctx, "s:ex").Val(), 9*time.Second, 10*time.Second, "TTL after SET KEEPTTL")
		require.NoError(t, c.Set(ctx, "s:ex", "v3", 0).Err())
		assert.Equal(t, time.Duration(-1), c.TTL(ctx, "s:ex").Val())

		// NX.
		ok, err := c.SetNX(ctx, "s:nx", "first", time.Minute).Result()
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = c.SetNX(ctx, "s:nx", "second", time.Minute).Result()
		require.NoError(t, err)
		assert.False(t, ok, "SET NX on an existing key must fail (null reply)")
		assert.Equal(t, "first", c.Get(ctx, "s:nx").Val())
		// SetArgs NX + PX, as phpredis session locks and django-redis add().
		res, err := c.SetArgs(ctx, "s:nx", "third", redis.SetArgs{Mode: "NX", TTL: 2500 * time.Millisecond}).Result()
		assert.ErrorIs(t, err, redis.Nil)
		assert.Equal(t, "", res)

		// GET returns the old value (or nil) and sets the new one.
		old, err := c.SetArgs(ctx, "s:get", "new", redis.SetArgs{Get: true}).Result()
		assert.ErrorIs(t, err, redis.Nil, "SET GET on a missing key returns nil")
		assert.Equal(t, "", old)
		old, err = c.SetArgs(ctx, "s:get", "newer", redis.SetArgs{Get: true, TTL: time.Minute}).Result()
		require.NoError(t, err)
		assert.Equal(t, "new", old)
		assert.Equal(t, "newer", c.Get(ctx, "s:get").Val())
		within(t, c.TTL(ctx, "s:get").Val(), 59*time.Second, time.Minute, "TTL after SET GET EX")

		// SETEX as redistore and phpredis send it.
		require.NoError(t, c.SetEx(ctx, "s:setex", "v", 30*time.Second).Err())
		within(t, c.TTL(ctx, "s:setex").Val(), 29*time.Second, 30*time.Second, "TTL after SETEX")

		// Binary-safe values (gob/serialize payloads).
		bin := string([]byte{0, 1, 2, '\r', '\n', 0xff, 0xfe})
		require.NoError(t, c.Set(ctx, "s:bin", bin, 0).Err())
		assert.Equal(t, bin, c.Get(ctx, "s:bin").Val())

		// SET EX 0 is an error, as in Redis.
		err = c.Do(ctx, "set", "s:zero", "v", "ex", "0").Err()
		require.Error(t, err)
		assert.Equal(t, "ERR invalid expire time in 'set' command", err.Error())
	})
}

func TestGoRedisGetEx(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		require.NoError(t, c.Set(ctx, "gx", "v", 0).Err())
		v, err := c.GetEx(ctx, "gx", 20*time.Second).Result()
		require.NoError(t, err)
		assert.Equal(t, "v", v)
		within(t, c.TTL(ctx, "gx").Val(), 19*time.Second, 20*time.Second, "TTL after GETEX EX")
		v, err = c.GetEx(ctx, "gx", 0).Result() // GETEX PERSIST
		require.NoError(t, err)
		assert.Equal(t, "v", v)
		assert.Equal(t, time.Duration(-1), c.TTL(ctx, "gx").Val())
		_, err = c.GetEx(ctx, "gx:missing", time.Second).Result()
		assert.ErrorIs(t, err, redis.Nil)
		v, err = c.GetDel(ctx, "gx").Result()
		require.NoError(t, err)
		assert.Equal(t, "v", v)
		assert.Equal(t, int64(0), c.Exists(ctx, "gx").Val())
	})
}

func TestGoRedisScan(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := 0; i < 250; i++ {
				p.Set(ctx, fmt.Sprintf("sess:%03d", i), i, time.Hour)
			}
			for i := 0; i < 60; i++ {
				p.Set(ctx, fmt.Sprintf("other:%d", i), i, 0)
			}
			return nil
		})
		require.NoError(t, err)

		seen := map[string]bool{}
		it := c.Scan(ctx, 0, "sess:*", 20).Iterator()
		for it.Next(ctx) {
			k := it.Val()
			assert.True(t, strings.HasPrefix(k, "sess:"), "SCAN MATCH returned %q", k)
			seen[k] = true
		}
		require.NoError(t, it.Err())
		assert.Len(t, seen, 250)

		// MATCH without COUNT, as scs goredisstore sends it; and a manual
		// cursor loop that must end with cursor 0.
		var cursor uint64
		total := map[string]bool{}
		for i := 0; ; i++ {
			require.Less(t, i, 1000, "SCAN never returned cursor 0")
			var keys []string
			keys, cursor, err = c.Scan(ctx, cursor, "other:*", 0).Result()
			require.NoError(t, err)
			for _, k := range keys {
				total[k] = true
			}
			if cursor == 0 {
				break
			}
		}
		assert.Len(t, total, 60)

		keys, err := c.Keys(ctx, "sess:00*").Result()
		require.NoError(t, err)
		slices.Sort(keys)
		assert.Equal(t, []string{"sess:000", "sess:001", "sess:002", "sess:003", "sess:004", "sess:005", "sess:006", "sess:007", "sess:008", "sess:009"}, keys)
	})
}

func TestGoRedisSets(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		n, err := c.SAdd(ctx, "idx:user:1", "s1", "s2", "s3", "s2").Result()
		require.NoError(t, err)
		assert.Equal(t, int64(3), n)
		n, err = c.SRem(ctx, "idx:user:1", "s2", "nope").Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		m, err := c.SMembers(ctx, "idx:user:1").Result()
		require.NoError(t, err)
		slices.Sort(m)
		assert.Equal(t, []string{"s1", "s3"}, m)
		isMember, err := c.SIsMember(ctx, "idx:user:1", "s3").Result()
		require.NoError(t, err)
		assert.True(t, isMember)
		m, err = c.SMembers(ctx, "idx:none").Result()
		require.NoError(t, err)
		assert.Empty(t, m)
		assert.Equal(t, int64(2), c.SCard(ctx, "idx:user:1").Val())

		// Wrong type errors are WRONGTYPE, as drivers classify them.
		require.NoError(t, c.Set(ctx, "str", "v", 0).Err())
		err = c.SAdd(ctx, "str", "x").Err()
		require.Error(t, err)
		assert.Equal(t, "WRONGTYPE Operation against a key holding the wrong kind of value", err.Error())
		assert.Equal(t, "set", c.Type(ctx, "idx:user:1").Val())
		assert.Equal(t, "string", c.Type(ctx, "str").Val())
		assert.Equal(t, "none", c.Type(ctx, "missing").Val())
	})
}

func TestGoRedisExpire(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		assert.Equal(t, time.Duration(-2), c.TTL(ctx, "e:missing").Val(), "TTL of a missing key is -2")
		assert.Equal(t, time.Duration(-2), c.PTTL(ctx, "e:missing").Val())
		require.NoError(t, c.Set(ctx, "e:k", "v", 0).Err())
		assert.Equal(t, time.Duration(-1), c.TTL(ctx, "e:k").Val(), "TTL without expiry is -1")

		ok, err := c.ExpireNX(ctx, "e:k", 30*time.Second).Result()
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = c.ExpireNX(ctx, "e:k", time.Hour).Result()
		require.NoError(t, err)
		assert.False(t, ok, "EXPIRE NX on a key with a TTL must not change it")
		within(t, c.TTL(ctx, "e:k").Val(), 29*time.Second, 30*time.Second, "TTL")
		within(t, c.PTTL(ctx, "e:k").Val(), 29*time.Second, 30*time.Second, "PTTL")

		ok, err = c.Expire(ctx, "e:k", time.Hour).Result()
		require.NoError(t, err)
		assert.True(t, ok)
		within(t, c.TTL(ctx, "e:k").Val(), 3599*time.Second, time.Hour, "TTL")
		ok, err = c.Expire(ctx, "e:missing", time.Hour).Result()
		require.NoError(t, err)
		assert.False(t, ok)

		ok, err = c.PExpire(ctx, "e:k", 1500*time.Millisecond).Result()
		require.NoError(t, err)
		assert.True(t, ok)
		within(t, c.PTTL(ctx, "e:k").Val(), time.Second, 1500*time.Millisecond, "PTTL")

		ok, err = c.Persist(ctx, "e:k").Result()
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, time.Duration(-1), c.TTL(ctx, "e:k").Val())

		// EXPIRE with 0 (connect-redis touch of an expired cookie) and
		// PEXPIREAT in the past (scs) delete the key and return 1.
		ok, err = c.Do(ctx, "expire", "e:k", 0).Bool()
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, int64(0), c.Exists(ctx, "e:k").Val())
		require.NoError(t, c.Set(ctx, "e:k2", "v", 0).Err())
		ok, err = c.PExpireAt(ctx, "e:k2", time.Now().Add(-time.Second)).Result()
		require.NoError(t, err)
		assert.True(t, ok)
		assert.ErrorIs(t, c.Get(ctx, "e:k2").Err(), redis.Nil)

		// A key really expires.
		require.NoError(t, c.Set(ctx, "e:short", "v", 50*time.Millisecond).Err())
		time.Sleep(120 * time.Millisecond)
		assert.ErrorIs(t, c.Get(ctx, "e:short").Err(), redis.Nil)
		assert.Equal(t, time.Duration(-2), c.TTL(ctx, "e:short").Val())
	})
}

func TestGoRedisMGetAndDel(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		require.NoError(t, c.MSet(ctx, "m:1", "a", "m:3", "c").Err())
		vals, err := c.MGet(ctx, "m:1", "m:2", "m:3").Result()
		require.NoError(t, err)
		assert.Equal(t, []any{"a", nil, "c"}, vals)
		n, err := c.Del(ctx, "m:1", "m:2", "m:3").Result()
		require.NoError(t, err)
		assert.Equal(t, int64(2), n)
		n, err = c.Unlink(ctx, "m:1").Result()
		require.NoError(t, err)
		assert.Equal(t, int64(0), n)
	})
}

func TestGoRedisClientNameAndDB(t *testing.T) {
	srv, px := startSessiond(t)
	ctx := context.Background()
	db3 := goRedisClient(t, &redis.Options{Addr: px.Addr, DB: 3})
	db0 := goRedisClient(t, &redis.Options{Addr: srv.Addr})

	require.NoError(t, db3.Set(ctx, "only-in-3", "v", 0).Err())
	assert.ErrorIs(t, db0.Get(ctx, "only-in-3").Err(), redis.Nil, "DB 3 data must not be visible in DB 0")
	again := goRedisClient(t, &redis.Options{Addr: srv.Addr, DB: 3})
	assert.Equal(t, "v", again.Get(ctx, "only-in-3").Val())
	px.waitFor(t, "select 3", func(c string) bool { return lower(c) == "select 3" })

	ci, err := db3.ClientInfo(ctx).Result()
	require.NoError(t, err)
	assert.Equal(t, 3, ci.DB)

	// ClientSetName on a single connection, read back with GETNAME.
	conn := db0.Conn()
	defer conn.Close()
	require.NoError(t, conn.ClientSetName(ctx, "worker-1").Err())
	assert.Equal(t, "worker-1", conn.ClientGetName(ctx).Val())
	err = conn.ClientSetName(ctx, "bad name").Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Client names cannot contain spaces")
	id, err := conn.ClientID(ctx).Result()
	require.NoError(t, err)
	assert.Positive(t, id)

	// DB out of range fails the connection, as in Redis.
	bad := goRedisClient(t, &redis.Options{Addr: srv.Addr, DB: 16, MaxRetries: -1})
	err = bad.Ping(ctx).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ERR DB index is out of range")
}

func TestGoRedisInfo(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		require.NoError(t, c.Set(ctx, "i:1", "v", time.Hour).Err())
		require.NoError(t, c.Set(ctx, "i:2", "v", 0).Err())

		raw, err := c.Info(ctx).Result()
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(raw, "# Server\r\n"), "INFO must start with # Server (redis-cli looks for \\nredis_version:)")
		assert.Contains(t, raw, "\r\nredis_version:")
		assert.Contains(t, raw, "\r\nloading:0\r\n", "ioredis' ready check reads loading")

		m, err := c.InfoMap(ctx, "server", "keyspace").Result()
		require.NoError(t, err)
		require.Contains(t, m, "Server")
		ver := m["Server"]["redis_version"]
		var major int
		_, err = fmt.Sscanf(ver, "%d.", &major)
		require.NoError(t, err, "redis_version %q", ver)
		assert.GreaterOrEqual(t, major, 7, "Rails gates EXPIRE NX on redis_version >= 7")
		require.Contains(t, m, "Keyspace")
		assert.True(t, strings.HasPrefix(m["Keyspace"]["db0"], "keys=2,expires=1"), "db0: %q", m["Keyspace"]["db0"])

		// An unknown command keeps the Redis error format that client
		// fallbacks match on.
		err = c.Do(ctx, "nosuchcommand", "a").Err()
		require.Error(t, err)
		assert.Equal(t, "ERR unknown command 'nosuchcommand', with args beginning with: 'a' ", err.Error())
		assert.False(t, errors.Is(err, redis.Nil))
	})
}
