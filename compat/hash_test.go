package compat

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoRedisSpringSessionFlow replays what Spring Session's
// RedisSessionRepository sends for one session's life, through go-redis in
// both protocols: HMSET of the session hash and PEXPIRE on save, HGETALL
// on load, HSET/HDEL of single attributes, RENAME on a session id change
// (login), PEXPIRE on each access, DEL on logout. Run with
// COMPAT_AGAINST_REDIS=1 to check the test itself against Redis.
func TestGoRedisSpringSessionFlow(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("proto%d", proto), func(t *testing.T) {
			srv, _ := startSessiond(t)
			ctx := context.Background()
			c := goRedisClient(t, &redis.Options{Addr: srv.Addr, Protocol: proto})
			require.NoError(t, c.FlushAll(ctx).Err())

			key := "spring:session:sessions:5f3c1a2e-9d7b-4c1e-8a2f-0b6d7e9c4a11"
			now := time.Now().UnixMilli()
			session := map[string]any{
				"creationTime":        now,
				"lastAccessedTime":    now,
				"maxInactiveInterval": 1800,
				"sessionAttr:locale":  `"en_GB"`,
				"sessionAttr:cart":    `{"items":2}`,
			}
			require.True(t, c.HMSet(ctx, key, session).Val(), "HMSET replies OK")
			require.True(t, c.PExpire(ctx, key, 30*time.Minute).Val())

			got, err := c.HGetAll(ctx, key).Result()
			require.NoError(t, err)
			assert.Equal(t, map[string]string{
				"creationTime": strconv.FormatInt(now, 10), "lastAccessedTime": strconv.FormatInt(now, 10),
				"maxInactiveInterval": "1800", "sessionAttr:locale": `"en_GB"`, "sessionAttr:cart": `{"items":2}`,
			}, got)

			// An access: lastAccessedTime and one attribute change, one goes.
			later := now + 5000
			require.Equal(t, int64(1), c.HSet(ctx, key, "lastAccessedTime", later, "sessionAttr:user", "42").Val())
			require.Equal(t, int64(1), c.HDel(ctx, key, "sessionAttr:cart", "sessionAttr:none").Val())
			require.True(t, c.PExpire(ctx, key, 30*time.Minute).Val())
			vals, err := c.HMGet(ctx, key, "lastAccessedTime", "sessionAttr:cart", "sessionAttr:user").Result()
			require.NoError(t, err)
			assert.Equal(t, []any{strconv.FormatInt(later, 10), nil, "42"}, vals)

			// Login changes the session id.
			newKey := "spring:session:sessions:0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
			require.NoError(t, c.Rename(ctx, key, newKey).Err())
			assert.Equal(t, int64(0), c.Exists(ctx, key).Val())
			ttl := c.PTTL(ctx, newKey).Val()
			assert.Greater(t, ttl, 29*time.Minute, "RENAME keeps the TTL")
			assert.Equal(t, int64(5), c.HLen(ctx, newKey).Val())
			assert.True(t, c.HExists(ctx, newKey, "sessionAttr:user").Val())
			assert.Equal(t, "hash", c.Type(ctx, newKey).Val())

			// Counters and random sampling, as other session stores use them.
			assert.Equal(t, int64(1801), c.HIncrBy(ctx, newKey, "maxInactiveInterval", 1).Val())
			assert.Equal(t, 1.5, c.HIncrByFloat(ctx, newKey, "score", 1.5).Val())
			kvs, err := c.HRandFieldWithValues(ctx, newKey, 2).Result()
			require.NoError(t, err)
			require.Len(t, kvs, 2)
			all := c.HGetAll(ctx, newKey).Val()
			for _, kv := range kvs {
				assert.Equal(t, all[kv.Key], kv.Value)
			}
			keys, cursor, err := c.HScan(ctx, newKey, 0, "sessionAttr:*", 10).Result()
			require.NoError(t, err)
			assert.Equal(t, uint64(0), cursor)
			assert.ElementsMatch(t, []string{"sessionAttr:locale", `"en_GB"`, "sessionAttr:user", "42"}, keys)
			scanned, _, err := c.Scan(ctx, 0, "spring:session:*", 100).Result()
			require.NoError(t, err)
			assert.Equal(t, []string{newKey}, scanned)
			typed, _, err := c.ScanType(ctx, 0, "*", 100, "hash").Result()
			require.NoError(t, err)
			assert.Equal(t, []string{newKey}, typed)

			// A string command on the hash is WRONGTYPE.
			err = c.Get(ctx, newKey).Err()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "WRONGTYPE")

			// Logout.
			assert.Equal(t, int64(1), c.Del(ctx, newKey).Val())
			assert.Equal(t, int64(0), c.Exists(ctx, newKey).Val())
		})
	}
}

// TestGoRedisWatchHash: a WATCHed hash written by another client aborts
// the transaction; a write that changes nothing (HSETNX of an existing
// field, HDEL of a missing one) does not, as in Redis.
func TestGoRedisWatchHash(t *testing.T) {
	srv, _ := startSessiond(t)
	ctx := context.Background()
	c := goRedisClient(t, &redis.Options{Addr: srv.Addr})
	other := goRedisClient(t, &redis.Options{Addr: srv.Addr})
	require.NoError(t, c.FlushAll(ctx).Err())
	require.NoError(t, c.HSet(ctx, "h", "f", "1").Err())

	run := func(interfere func()) error {
		return c.Watch(ctx, func(tx *redis.Tx) error {
			interfere()
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, "h", "t", "1")
				return nil
			})
			return err
		}, "h")
	}
	require.NoError(t, run(func() {
		other.HSetNX(ctx, "h", "f", "x")
		other.HDel(ctx, "h", "missing")
	}))
	for _, w := range []struct {
		name  string
		write func()
	}{
		{"hset", func() { other.HSet(ctx, "h", "g", "1") }},
		{"hincrby", func() { other.HIncrBy(ctx, "h", "f", 1) }},
		{"hincrbyfloat", func() { other.HIncrByFloat(ctx, "h", "f", 0.5) }},
		{"hdel", func() { other.HDel(ctx, "h", "g") }},
	} {
		err := run(w.write)
		assert.True(t, errors.Is(err, redis.TxFailedErr), "%s: %v", w.name, err)
	}
}
