package compat

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// javaDouble formats an epoch in milliseconds as Java's Double.toString
// does (what Lettuce sends for a double score): 1732000000123 becomes
// "1.732000000123E12", 1732000000000 "1.732E12".
func javaDouble(ms int64) string {
	s := strconv.FormatFloat(float64(ms), 'E', -1, 64) // 1.732000000123E+12
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

func TestJavaDouble(t *testing.T) {
	assert.Equal(t, "1.732000000123E12", javaDouble(1732000000123))
	assert.Equal(t, "1.732E12", javaDouble(1732000000000))
	assert.Equal(t, "1.0E13", javaDouble(10000000000000))
}

// springZsetFlow replays, through go-redis, what Spring Session's reactive
// indexed repository (ReactiveRedisIndexedSessionRepository, with its
// SortedSetReactiveRedisSessionExpirationStore) sends: on save the session
// hash, its PEXPIRE, the principal index, and ZADD of the session id to
// <ns>sessions:expirations with its expiry in epoch milliseconds as the
// score (Lettuce writes the double as Java prints it, 1.732000000123E12);
// on delete ZREM; and the cleanup task's
// reverseRangeByScore(key, Range.closed(0, now), Limit.count(100)), which
// Lettuce sends as ZREVRANGEBYSCORE key <now> 0.0 LIMIT 0 100. Time is
// fixed (now = 1732000000000) so that two servers can be compared. It
// returns a transcript of the replies.
func springZsetFlow(t *testing.T, addr string, proto int) []string {
	ctx := context.Background()
	c := goRedisClient(t, &redis.Options{Addr: addr, Protocol: proto})
	require.NoError(t, c.FlushAll(ctx).Err())
	var log []string
	record := func(what string, v any, err error) {
		log = append(log, fmt.Sprintf("%s -> %v %v", what, v, err))
	}

	const ns = "spring:session:"
	expKey := ns + "sessions:expirations"
	const now = int64(1732000000000)
	type session struct {
		id  string
		exp int64
	}
	sessions := []session{
		{"5f3c1a2e-0001-4c1e-8a2f-0b6d7e9c4a11", now - 60000},
		{"5f3c1a2e-0002-4c1e-8a2f-0b6d7e9c4a11", now - 1},
		{"5f3c1a2e-0004-4c1e-8a2f-0b6d7e9c4a11", now}, // a tie: ordered by id
		{"5f3c1a2e-0003-4c1e-8a2f-0b6d7e9c4a11", now},
		{"5f3c1a2e-0005-4c1e-8a2f-0b6d7e9c4a11", now + 1},
		{"5f3c1a2e-0006-4c1e-8a2f-0b6d7e9c4a11", now + 1800000},
	}
	principal := ns + "index:org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME:alice"
	save := func(s session, i int) {
		key := ns + "sessions:" + s.id
		require.NoError(t, c.HSet(ctx, key, "creationTime", now-3600000, "lastAccessedTime", now,
			"maxInactiveInterval", 1800, "sessionAttr:SPRING_SECURITY_CONTEXT", "ctx").Err())
		require.True(t, c.PExpire(ctx, key, 35*time.Minute).Val())
		require.NoError(t, c.SAdd(ctx, principal, s.id).Err())
		require.NoError(t, c.SAdd(ctx, key+":idx", principal).Err())
		var added int64
		var err error
		switch i % 3 {
		case 0: // as Lettuce sends it
			added, err = c.Do(ctx, "zadd", expKey, javaDouble(s.exp), s.id).Int64()
		case 1: // go-redis's own formatting: 1732000000000
			added, err = c.ZAdd(ctx, expKey, redis.Z{Score: float64(s.exp), Member: s.id}).Result()
		default: // a BigDecimal-style string with trailing zeros
			ds := strconv.FormatInt(s.exp, 10)
			added, err = c.Do(ctx, "zadd", expKey, ds[:1]+"."+ds[1:]+"00E"+strconv.Itoa(len(ds)-1), s.id).Int64()
		}
		require.NoError(t, err)
		assert.Equal(t, int64(1), added, "ZADD of a new session id")
		record("zadd "+s.id, added, err)
	}
	for i, s := range sessions {
		save(s, i)
	}
	n, err := c.Do(ctx, "zadd", expKey, "1.7320000000E12", sessions[2].id).Int64()
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "re-saving with the same expiry adds nothing")

	assert.Equal(t, int64(len(sessions)), c.ZCard(ctx, expKey).Val())
	for _, s := range sessions {
		score, err := c.ZScore(ctx, expKey, s.id).Result()
		require.NoError(t, err)
		assert.Equal(t, float64(s.exp), score, "expiry of %s", s.id)
		record("zscore "+s.id, score, err)
	}
	scores, err := c.ZMScore(ctx, expKey, sessions[0].id, "no-such-session").Result()
	require.NoError(t, err)
	assert.Equal(t, []float64{float64(now - 60000), 0}, scores)
	all, err := c.ZRangeWithScores(ctx, expKey, 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, all, len(sessions))
	wantOrder := []string{sessions[0].id, sessions[1].id, sessions[3].id, sessions[2].id, sessions[4].id, sessions[5].id}
	for i, z := range all {
		assert.Equal(t, wantOrder[i], z.Member)
	}
	record("zrange withscores", all, err)

	// The cleanup task: expired sessions, latest first, at most 100.
	expired, err := c.Do(ctx, "zrevrangebyscore", expKey, javaDouble(now), "0.0", "LIMIT", "0", "100").StringSlice()
	require.NoError(t, err)
	assert.Equal(t, []string{sessions[2].id, sessions[3].id, sessions[1].id, sessions[0].id}, expired)
	record("zrevrangebyscore java", expired, err)
	viaGoRedis, err := c.ZRevRangeByScore(ctx, expKey, &redis.ZRangeBy{Max: strconv.FormatInt(now, 10), Min: "0", Count: 100}).Result()
	require.NoError(t, err)
	assert.Equal(t, expired, viaGoRedis)
	withScores, err := c.ZRevRangeByScoreWithScores(ctx, expKey, &redis.ZRangeBy{Max: strconv.FormatInt(now, 10), Min: "0", Count: 2}).Result()
	require.NoError(t, err)
	assert.Equal(t, []redis.Z{{Score: float64(now), Member: sessions[2].id}, {Score: float64(now), Member: sessions[3].id}}, withScores)
	record("zrevrangebyscore withscores", withScores, err)

	// Each expired session is deleted: the hash, its index entries, and
	// its id in the expiration store.
	for _, id := range expired {
		key := ns + "sessions:" + id
		require.NoError(t, c.Del(ctx, key, key+":idx").Err())
		require.NoError(t, c.SRem(ctx, principal, id).Err())
		removed, err := c.ZRem(ctx, expKey, id).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), removed)
		record("zrem "+id, removed, err)
	}
	assert.Equal(t, int64(0), c.ZRem(ctx, expKey, expired[0]).Val(), "ZREM of an id already removed")
	left, err := c.Do(ctx, "zrevrangebyscore", expKey, javaDouble(now), "0.0", "LIMIT", "0", "100").StringSlice()
	require.NoError(t, err)
	assert.Empty(t, left)
	assert.Equal(t, int64(2), c.ZCard(ctx, expKey).Val())
	assert.Equal(t, "zset", c.Type(ctx, expKey).Val())

	// An access moves the session's expiry.
	later := now + 1800000 + 5000
	n, err = c.Do(ctx, "zadd", expKey, javaDouble(later), sessions[4].id).Int64()
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "ZADD of an existing id updates its score")
	assert.Equal(t, float64(later), c.ZScore(ctx, expKey, sessions[4].id).Val())
	expired, err = c.Do(ctx, "zrevrangebyscore", expKey, javaDouble(later), "0.0", "LIMIT", "0", "100").StringSlice()
	require.NoError(t, err)
	assert.Equal(t, []string{sessions[4].id, sessions[5].id}, expired)
	record("after access", expired, err)

	// Many sessions expire at once: the cleanup takes them 100 at a time
	// (and the sorted set grows past a listpack's 128 entries).
	_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 150 {
			p.Do(ctx, "zadd", expKey, javaDouble(now-int64(1000*i)), fmt.Sprintf("bulk-%03d", i))
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, int64(152), c.ZCard(ctx, expKey).Val())
	enc, err := c.ObjectEncoding(ctx, expKey).Result()
	require.NoError(t, err)
	assert.Equal(t, "skiplist", enc)
	for batch, want := range []int{100, 50, 0} {
		ids, err := c.Do(ctx, "zrevrangebyscore", expKey, javaDouble(now), "0.0", "LIMIT", "0", "100").StringSlice()
		require.NoError(t, err)
		require.Len(t, ids, want, "cleanup batch %d", batch)
		for i, id := range ids {
			assert.Equal(t, fmt.Sprintf("bulk-%03d", 100*batch+i), id, "cleanup batch %d, latest expiry first", batch)
		}
		record(fmt.Sprintf("batch %d", batch), ids, err)
		if len(ids) > 0 {
			members := make([]any, len(ids))
			for i, id := range ids {
				members[i] = id
			}
			removed, err := c.ZRem(ctx, expKey, members...).Result()
			require.NoError(t, err)
			assert.Equal(t, int64(len(ids)), removed)
		}
	}

	// Logout of the last sessions; the key goes with the last id.
	assert.Equal(t, int64(2), c.ZRem(ctx, expKey, sessions[4].id, sessions[5].id, "unknown").Val())
	assert.Equal(t, int64(0), c.Exists(ctx, expKey).Val())
	return log
}

// TestGoRedisSpringSessionExpirations runs the Spring Session expiration
// store flow against sessiond in both protocols and, when redis-server is
// installed, against Redis too, and compares the two transcripts.
func TestGoRedisSpringSessionExpirations(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("proto%d", proto), func(t *testing.T) {
			srv := startServer(t)
			got := springZsetFlow(t, srv.Addr, proto)
			t.Run("same as redis-server", func(t *testing.T) {
				// Skips loudly without redis-server; fails under CI=true.
				red := testserver.StartRedis(t)
				want := springZsetFlow(t, red.Addr, proto)
				assert.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"), "sessiond and Redis replied differently")
			})
		})
	}
}
