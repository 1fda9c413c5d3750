package compat

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// TestGoRedisBigRequests: the shapes connect-redis clear()/all() and big
// session payloads produce: one MGET and one DEL with thousands of keys,
// and multi-megabyte values, in both protocols.
func TestGoRedisBigRequests(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, c *redis.Client, _ *testserver.Sessiond) {
		ctx := context.Background()
		const n = 5000
		keys := make([]string, n)
		pairs := make([]any, 0, 2*n)
		for i := range keys {
			keys[i] = fmt.Sprintf("sess:%05d", i)
			pairs = append(pairs, keys[i], strings.Repeat("v", i%300))
		}
		require.NoError(t, c.MSet(ctx, pairs...).Err())
		vals, err := c.MGet(ctx, keys...).Result()
		require.NoError(t, err)
		require.Len(t, vals, n)
		for i, v := range vals {
			require.Equal(t, strings.Repeat("v", i%300), v, "MGET value %d", i)
		}
		deleted, err := c.Del(ctx, append(keys, "sess:missing")...).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(n), deleted)
		assert.Equal(t, int64(0), c.DBSize(ctx).Val())

		big := strings.Repeat("0123456789abcdef", 4<<20/16) // 4 MiB
		require.NoError(t, c.Set(ctx, "big", big, time.Minute).Err())
		got, err := c.Get(ctx, "big").Result()
		require.NoError(t, err)
		assert.True(t, got == big, "4 MiB value came back different (len %d)", len(got))
		assert.Equal(t, int64(len(big)), c.StrLen(ctx, "big").Val())
	})
}

// TestGoRedisConcurrentSessions: many goroutines sharing one pooled
// client run a session-store mix (SET EX, GET, EXPIRE, DEL) without
// errors or cross-talk between connections.
func TestGoRedisConcurrentSessions(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := goRedisClient(t, &redis.Options{Addr: srv.Addr, PoolSize: 16})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := fmt.Sprintf("sess:%d:%d", w, i)
				v := fmt.Sprintf("data-%d-%d", w, i)
				if err := c.Set(ctx, k, v, time.Hour).Err(); err != nil {
					errs <- err
					return
				}
				got, err := c.Get(ctx, k).Result()
				if err != nil || got != v {
					errs <- fmt.Errorf("GET %s = %q, %v; want %q", k, got, err, v)
					return
				}
				if ok, err := c.Expire(ctx, k, 2*time.Hour).Result(); err != nil || !ok {
					errs <- fmt.Errorf("EXPIRE %s = %v, %v", k, ok, err)
					return
				}
				if i%2 == 0 {
					if n, err := c.Del(ctx, k).Result(); err != nil || n != 1 {
						errs <- fmt.Errorf("DEL %s = %d, %v", k, n, err)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, int64(32*100), c.DBSize(ctx).Val())
}
