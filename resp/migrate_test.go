package resp_test

// MIGRATE out of sessiond, into a real redis-server and into another
// sessiond, and its replies compared with Redis 7.0's MIGRATE for the same
// requests to the same target. (MIGRATE from Redis into sessiond, which
// exercises RESTORE, is in dump_test.go.)

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// migrateFill stores one key of every type, and one with a TTL, in db 0.
func migrateFill(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	big := strings.Repeat("x", 10000)
	require.NoError(t, c.Set(ctx, "str", "hello", 0).Err())
	require.NoError(t, c.Set(ctx, "num", "12345", 0).Err())
	require.NoError(t, c.Set(ctx, "ttl", "v", 100*time.Second).Err())
	require.NoError(t, c.SAdd(ctx, "set", "a", "b", 3).Err())
	require.NoError(t, c.HSet(ctx, "hash", "f1", "v1", "f2", big).Err())
	require.NoError(t, c.ZAdd(ctx, "zset", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -2, Member: "b"}).Err())
	require.NoError(t, c.RPush(ctx, "list", "a", big, "3", "").Err())
}

var migrateKeys = []string{"str", "num", "ttl", "set", "hash", "zset", "list"}

// migrateSame asserts that db of got holds what db 0 of want held before
// (want's values, read before the move, are passed in).
func migrateValues(t *testing.T, c *redis.Client) map[string]any {
	t.Helper()
	ctx := context.Background()
	vals := map[string]any{}
	vals["str"] = c.Get(ctx, "str").Val()
	vals["num"] = c.Get(ctx, "num").Val()
	vals["ttl"] = c.Get(ctx, "ttl").Val()
	vals["set"] = c.SMembers(ctx, "set").Val()
	vals["hash"] = c.HGetAll(ctx, "hash").Val()
	vals["zset"] = c.ZRangeWithScores(ctx, "zset", 0, -1).Val()
	vals["list"] = c.LRange(ctx, "list", 0, -1).Val()
	return vals
}

func migrateClient(addr string, db int, user, pw string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, DB: db, Username: user, Password: pw, Protocol: 2})
}

func TestMigrateToRedis(t *testing.T) {
	ctx := context.Background()
	s := testserver.Start(t)
	r := testserver.StartRedis(t)
	_, err := dialRaw(t, r.Addr).do("CONFIG", "SET", "requirepass", "pw")
	require.NoError(t, err)
	src := migrateClient(s.Addr, 0, "", "")
	defer src.Close()
	migrateFill(t, src)
	want := migrateValues(t, src)
	host, port, _ := net.SplitHostPort(r.Addr)
	args := []any{"MIGRATE", host, port, "", 2, 5000, "AUTH", "pw", "KEYS"}
	for _, k := range append(migrateKeys, "missing") {
		args = append(args, k)
	}
	require.Equal(t, "OK", src.Do(ctx, args...).Val())
	assert.EqualValues(t, 0, src.DBSize(ctx).Val(), "moved keys are deleted")

	dst := migrateClient(r.Addr, 2, "", "pw")
	defer dst.Close()
	got := migrateValues(t, dst)
	assert.ElementsMatch(t, want["set"], got["set"])
	delete(want, "set")
	delete(got, "set")
	assert.Equal(t, want, got)
	ttl := dst.TTL(ctx, "ttl").Val()
	assert.True(t, ttl > 98*time.Second && ttl <= 100*time.Second, "TTL moved with the key: %v", ttl)
	assert.EqualValues(t, -1, dst.TTL(ctx, "str").Val())
}

func TestMigrateToSessiondCopyAuth2(t *testing.T) {
	ctx := context.Background()
	a := testserver.Start(t)
	b := testserver.Start(t)
	admin := migrateClient(b.Addr, 0, "", "")
	defer admin.Close()
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", "mover", "on", ">secret", "~*", "+@all").Err())
	src := migrateClient(a.Addr, 0, "", "")
	defer src.Close()
	migrateFill(t, src)
	want := migrateValues(t, src)
	host, port, _ := net.SplitHostPort(b.Addr)
	args := []any{"MIGRATE", host, port, "", 5, 5000, "COPY", "AUTH2", "mover", "secret", "KEYS"}
	for _, k := range migrateKeys {
		args = append(args, k)
	}
	require.Equal(t, "OK", src.Do(ctx, args...).Val())
	assert.EqualValues(t, len(migrateKeys), src.DBSize(ctx).Val(), "COPY keeps the keys")
	dst := migrateClient(b.Addr, 5, "", "")
	defer dst.Close()
	got := migrateValues(t, dst)
	assert.ElementsMatch(t, want["set"], got["set"])
	delete(want, "set")
	delete(got, "set")
	assert.Equal(t, want, got)

	// Without REPLACE the target refuses keys it has; with it, it takes them.
	require.NoError(t, src.Set(ctx, "str", "newer", 0).Err())
	err := src.Do(ctx, "MIGRATE", host, port, "str", 5, 5000, "AUTH2", "mover", "secret").Err()
	require.Error(t, err)
	assert.Equal(t, "ERR Target instance replied with error: BUSYKEY Target key name already exists.", err.Error())
	assert.Equal(t, "newer", src.Get(ctx, "str").Val(), "a key the target refused stays")
	require.Equal(t, "OK", src.Do(ctx, "MIGRATE", host, port, "str", 5, 5000, "REPLACE", "AUTH2", "mover", "secret").Val())
	assert.Equal(t, "newer", dst.Get(ctx, "str").Val())
	assert.EqualValues(t, 0, src.Exists(ctx, "str").Val())
}

// TestMigrateRepliesRedis sends the same MIGRATEs from sessiond and from
// redis-server to one target and compares the replies byte for byte, and
// what each source kept.
func TestMigrateRepliesRedis(t *testing.T) {
	target := testserver.StartRedis(t)
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	th, tp, _ := net.SplitHostPort(target.Addr)
	closed := net.JoinHostPort("127.0.0.1", "1")
	_, closedPort, _ := net.SplitHostPort(closed)
	tc := dialRaw(t, target.Addr)
	cases := []struct {
		name  string
		setup [][]string // on the source, before
		tset  [][]string // on the target, before
		cmd   []string
		after []string // a command on the source after, compared too
	}{
		{name: "nokey", cmd: []string{"MIGRATE", th, tp, "nothere", "0", "1000"}},
		{name: "nokey-keys", cmd: []string{"MIGRATE", th, tp, "", "0", "1000", "KEYS", "x", "y"}},
		{name: "syntax", setup: [][]string{{"SET", "k", "v"}}, cmd: []string{"MIGRATE", th, tp, "k", "0", "1000", "foo"}},
		{name: "keys-with-key", setup: [][]string{{"SET", "k", "v"}}, cmd: []string{"MIGRATE", th, tp, "k", "0", "1000", "KEYS", "k"}},
		{name: "auth-no-arg", cmd: []string{"MIGRATE", th, tp, "k", "0", "1000", "AUTH"}},
		{name: "auth2-one-arg", cmd: []string{"MIGRATE", th, tp, "k", "0", "1000", "AUTH2", "u"}},
		{name: "bad-db", cmd: []string{"MIGRATE", th, tp, "k", "x", "1000"}},
		{name: "bad-timeout", cmd: []string{"MIGRATE", th, tp, "k", "0", "1.5"}},
		{name: "arity", cmd: []string{"MIGRATE", th, tp, "k", "0"}},
		{name: "refused", setup: [][]string{{"SET", "k", "v"}}, cmd: []string{"MIGRATE", "127.0.0.1", closedPort, "k", "0", "200"}, after: []string{"GET", "k"}},
		{name: "auth-without-password", setup: [][]string{{"SET", "k", "v"}}, cmd: []string{"MIGRATE", th, tp, "k", "0", "1000", "AUTH", "x"}, after: []string{"GET", "k"}},
		{name: "busykey-partial", setup: [][]string{{"SET", "a", "1"}, {"SET", "b", "2"}, {"SET", "c", "3"}}, tset: [][]string{{"FLUSHALL"}, {"SET", "b", "old"}},
			cmd: []string{"MIGRATE", th, tp, "", "0", "1000", "KEYS", "a", "b", "c"}, after: []string{"MGET", "a", "b", "c"}},
		{name: "moved", setup: [][]string{{"SET", "m", "1"}}, tset: [][]string{{"FLUSHALL"}}, cmd: []string{"MIGRATE", th, tp, "m", "3", "0"}, after: []string{"EXISTS", "m"}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var replies [2]string
			var afters [2]string
			for i, addr := range []string{r.Addr, s.Addr} {
				for _, c := range tt.tset {
					_, err := tc.do(c...)
					require.NoError(t, err)
				}
				c := dialRaw(t, addr)
				_, err := c.do("FLUSHALL")
				require.NoError(t, err)
				for _, cmd := range tt.setup {
					_, err := c.do(cmd...)
					require.NoError(t, err)
				}
				v, err := c.do(tt.cmd...)
				require.NoError(t, err)
				replies[i] = string(v.raw)
				if tt.after != nil {
					v, err := c.do(tt.after...)
					require.NoError(t, err)
					afters[i] = string(v.raw)
				}
			}
			assert.Equal(t, replies[0], replies[1], "reply (redis, sessiond)")
			assert.Equal(t, afters[0], afters[1], "source afterwards (redis, sessiond)")
		})
	}
}

// TestMigrateHoldsOthersOff checks that MIGRATE is atomic as Redis's is:
// a command sent while it waits for the target runs after it, and a
// target that never answers costs the timeout, then an IOERR.
func TestMigrateHoldsOthersOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // read nothing, answer nothing
		}
	}()
	s := testserver.Start(t)
	c1 := dialRaw(t, s.Addr)
	_, err = c1.do("SET", "k", "v")
	require.NoError(t, err)
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	type result struct {
		reply string
		at    time.Time
	}
	migrated := make(chan result, 1)
	start := time.Now()
	go func() {
		v, err := c1.do("MIGRATE", host, port, "k", "0", "300")
		if err != nil {
			migrated <- result{reply: err.Error(), at: time.Now()}
			return
		}
		migrated <- result{reply: string(v.raw), at: time.Now()}
	}()
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("MIGRATE never connected")
	}
	c2 := dialRaw(t, s.Addr)
	v, err := c2.do("SET", "k", "changed")
	require.NoError(t, err)
	setAt := time.Now()
	m := <-migrated
	assert.Equal(t, "-IOERR error or timeout reading to target instance\r\n", m.reply)
	assert.GreaterOrEqual(t, m.at.Sub(start), 300*time.Millisecond, "the timeout was waited for")
	assert.Equal(t, "+OK\r\n", string(v.raw))
	assert.GreaterOrEqual(t, setAt.Sub(start), 300*time.Millisecond, "the SET sent during MIGRATE waited for it")
	v, err = c2.do("GET", "k")
	require.NoError(t, err)
	assert.Equal(t, "$7\r\nchanged\r\n", string(v.raw))
}

// MIGRATE ... KEYS a KEYS b moves a, "KEYS" and b: the ACL check must see
// them all, as Redis's migrateGetKeys finds them (helper-50 found that the
// key specs, searched backwards for KEYS, saw only "" and b, and a user
// could move out a key it may not read).
func TestMigrateKeysACL(t *testing.T) {
	target := testserver.StartRedis(t)
	for _, srv := range []struct {
		name string
		addr string
	}{{"redis", testserver.StartRedis(t).Addr}, {"sessiond", testserver.Start(t).Addr}} {
		t.Run(srv.name, func(t *testing.T) {
			admin := dialRaw(t, srv.addr)
			for _, c := range [][]string{{"SET", "secret", "topsecret"}, {"SET", "b", "x"},
				{"ACL", "SETUSER", "mallory", "on", ">pw", "~", "~b", "+@all"}} {
				_, err := admin.do(c...)
				require.NoError(t, err)
			}
			m := dialRaw(t, srv.addr)
			v, err := m.do("AUTH", "mallory", "pw")
			require.NoError(t, err)
			require.Equal(t, "OK", v.str)
			v, err = m.do("GET", "secret")
			require.NoError(t, err)
			require.Equal(t, byte('-'), v.typ, "mallory may not read secret")
			h, p, _ := net.SplitHostPort(target.Addr)
			v, err = m.do("MIGRATE", h, p, "", "0", "2000", "REPLACE", "KEYS", "secret", "KEYS", "b")
			require.NoError(t, err)
			assert.Equal(t, "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n", string(v.raw))
			v, err = admin.do("EXISTS", "secret")
			require.NoError(t, err)
			assert.Equal(t, ":1\r\n", string(v.raw), "secret must not have left")
		})
	}
}

// A user allowed ~b* may MIGRATE ... "" ... KEYS b, as in Redis: the empty
// key argument is not a key then.
func TestMigrateKeysEmptyKeyNotChecked(t *testing.T) {
	target := testserver.StartRedis(t)
	h, p, _ := net.SplitHostPort(target.Addr)
	var replies []string
	for _, addr := range []string{testserver.StartRedis(t).Addr, testserver.Start(t).Addr} {
		admin := dialRaw(t, addr)
		for _, c := range [][]string{{"SET", "b", "x"}, {"ACL", "SETUSER", "bob", "on", ">pw", "~b*", "+@all"}} {
			_, err := admin.do(c...)
			require.NoError(t, err)
		}
		c := dialRaw(t, addr)
		_, err := c.do("AUTH", "bob", "pw")
		require.NoError(t, err)
		v, err := c.do("MIGRATE", h, p, "", "0", "2000", "COPY", "REPLACE", "KEYS", "b")
		require.NoError(t, err)
		replies = append(replies, string(v.raw))
	}
	assert.Equal(t, replies[0], replies[1], "redis, sessiond")
}

// MIGRATE's AUTH and AUTH2 values are redacted in SLOWLOG (and MONITOR),
// as in Redis.
func TestMigrateAuthRedacted(t *testing.T) {
	s := testserver.Start(t)
	c := dialRaw(t, s.Addr)
	for _, cmd := range [][]string{{"CONFIG", "SET", "slowlog-log-slower-than", "0"}, {"SET", "k", "v"},
		{"MIGRATE", "127.0.0.1", "1", "k", "0", "100", "AUTH2", "alice", "s3cretPW"}} {
		_, err := c.do(cmd...)
		require.NoError(t, err)
	}
	v, err := c.do("SLOWLOG", "GET", "1")
	require.NoError(t, err)
	assert.NotContains(t, string(v.raw), "s3cretPW")
}

// A target that answers with a line that never ends must not make MIGRATE
// buffer all of it (Redis reads at most 1 KB per reply line).
func TestMigrateReplyLineBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		go bufio.NewReader(c).WriteTo(discardWriter{})
		c.Write([]byte("+OK\r\n-"))
		chunk := []byte(strings.Repeat("x", 1<<20))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	s := testserver.Start(t)
	c := dialRaw(t, s.Addr)
	_, err = c.do("SET", "k", "v")
	require.NoError(t, err)
	h, p, _ := net.SplitHostPort(ln.Addr().String())
	done, sampled := make(chan struct{}), make(chan struct{})
	var peak uint64
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}()
	v, err := c.do("MIGRATE", h, p, "k", "0", "2000")
	close(done)
	<-sampled
	require.NoError(t, err)
	t.Logf("reply %.80q, peak heap %d MB", v.raw, peak>>20)
	assert.Less(t, peak, uint64(256<<20), "heap grew with the target's reply line")
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
