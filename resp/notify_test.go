package resp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// notifyCommands are run against both servers; every keyspace event they
// cause is compared. They avoid randomness and time (no TTL reaches its
// deadline during the run).
var notifyCommands = [][]string{
	{"SET", "s1", "v"}, {"SET", "s1", "v2", "EX", "100"}, {"SETEX", "s2", "100", "v"}, {"PSETEX", "s3", "100000", "v"},
	{"SETNX", "s4", "v"}, {"SETNX", "s4", "v"}, {"GETSET", "s4", "w"}, {"SET", "s5", "v", "KEEPTTL"},
	{"SET", "s6", "v", "GET"}, {"SET", "s1", "x", "NX"}, {"SET", "nx1", "x", "NX", "GET"}, {"SET", "s1", "y", "XX", "PX", "100000"},
	{"APPEND", "s7", "ab"}, {"APPEND", "s7", "c"}, {"SETRANGE", "s8", "2", "xy"}, {"SETRANGE", "s8", "0", ""},
	{"INCR", "n"}, {"INCRBY", "n", "5"}, {"DECR", "n"}, {"DECRBY", "n", "2"}, {"INCRBYFLOAT", "f", "1.5"}, {"INCR", "s7"},
	{"MSET", "m1", "a", "m2", "b", "m1", "c"}, {"MSETNX", "m3", "a", "m1", "b"}, {"MSETNX", "m3", "a", "m4", "b"},
	{"GET", "missing"}, {"GET", "s1"}, {"MGET", "s1", "missing2"}, {"STRLEN", "missing"}, {"GETRANGE", "missing", "0", "1"},
	{"GETDEL", "s4"}, {"GETDEL", "missing"}, {"GETEX", "s1", "EX", "100"}, {"GETEX", "s1", "PERSIST"}, {"GETEX", "s1", "PERSIST"},
	{"GETEX", "missing"}, {"GETEX", "s1", "PXAT", "1"},
	{"EXPIRE", "s2", "100"}, {"PEXPIRE", "s2", "100000"}, {"EXPIRE", "s2", "100", "NX"}, {"EXPIRE", "s2", "-1"}, {"EXPIRE", "missing", "10"},
	{"PEXPIREAT", "s3", "99999999999999"}, {"PERSIST", "s3"}, {"PERSIST", "s3"}, {"EXPIREAT", "s5", "1"},
	{"DEL", "s6", "s7", "missing"}, {"UNLINK", "s8"}, {"EXISTS", "m1", "missing"}, {"TYPE", "missing"}, {"TTL", "missing"},
	{"PTTL", "m1"}, {"TOUCH", "missing"},
	{"RENAME", "n", "n2"}, {"RENAMENX", "n2", "f"}, {"RENAME", "n2", "n2"}, {"RENAME", "m2", "m3"},
	{"COPY", "f", "f2"}, {"COPY", "missing", "z"}, {"COPY", "f", "f2"}, {"COPY", "f", "f2", "REPLACE"}, {"COPY", "f", "f3", "DB", "2"},
	{"MOVE", "f2", "1"}, {"MOVE", "f", "2"},
	{"SADD", "st", "a", "b"}, {"SADD", "st", "a"}, {"SREM", "st", "a"}, {"SREM", "st", "zz"}, {"SREM", "missing", "a"},
	{"SPOP", "st"}, {"SPOP", "missing"}, {"SADD", "sp", "a", "b"}, {"SPOP", "sp", "5"}, {"SADD", "sp", "a"}, {"SPOP", "sp", "0"},
	{"SADD", "st2", "a", "b", "c"}, {"SMOVE", "st2", "st3", "a"}, {"SMOVE", "st2", "st3", "zz"}, {"SMOVE", "st3", "st2", "a"},
	{"SMOVE", "missing", "st2", "a"}, {"SMOVE", "st2", "st2", "a"}, {"SADD", "st4", "a"}, {"SMOVE", "st4", "st2", "a"},
	{"SINTERSTORE", "d", "st2", "missing"}, {"SUNIONSTORE", "d", "st2", "nothere"}, {"SINTERSTORE", "d", "st2", "st2"},
	{"SDIFFSTORE", "d", "st2", "st2"}, {"SDIFFSTORE", "d", "st2", "st2"},
	{"SISMEMBER", "missing", "a"}, {"SMISMEMBER", "missing", "a"}, {"SMEMBERS", "missing"}, {"SCARD", "missing"},
	{"SINTER", "st2", "missing"}, {"SUNION", "missing"}, {"SDIFF", "missing", "st2"}, {"SRANDMEMBER", "missing"},
	{"SSCAN", "missing", "0"}, {"SINTERCARD", "1", "missing"},
	{"HSET", "h", "a", "1", "b", "2"}, {"HSET", "h", "a", "1"}, {"HSETNX", "h", "a", "x"}, {"HSETNX", "h", "c", "x"},
	{"HMSET", "h", "d", "4"}, {"HINCRBY", "h", "n", "5"}, {"HINCRBYFLOAT", "h", "f", "0.5"}, {"HDEL", "h", "zz"},
	{"HGET", "missing", "a"}, {"HMGET", "missing", "a"}, {"HGETALL", "missing"}, {"HLEN", "missing"},
	{"HEXISTS", "missing", "a"}, {"HKEYS", "missing"}, {"HVALS", "missing"}, {"HSTRLEN", "missing", "a"},
	{"HRANDFIELD", "missing"}, {"HSCAN", "missing", "0"}, {"HINCRBY", "h2", "n", "1"},
	{"RENAME", "h", "h3"}, {"HDEL", "h3", "a", "b", "c", "d", "n", "f"}, {"DEL", "h2"},
	{"SELECT", "1"}, {"SET", "k1", "v"}, {"DEL", "k1"}, {"SELECT", "0"},
	{"FLUSHDB"}, {"SET", "last", "v"},
	// Expiry: the key is gone (actively or lazily) before the next write.
	// One at a time: Redis's active expiry picks keys in a random order.
	// EXISTS makes Redis expire the key lazily if its active expiry has not
	// yet (sessiond's wheel has, within a tick).
	{"SET", "e1", "v", "PX", "20"}, {"EXPIRED", "e1"}, {"EXISTS", "e1"},
	{"SADD", "e2", "a"}, {"PEXPIRE", "e2", "20"}, {"EXPIRED", "e2"}, {"EXISTS", "e2"},
	{"SET", "e1", "v2"}, {"SADD", "e2", "b"},
}

// collect reads pushes from sub until the marker message arrives.
func collect(t *testing.T, sub *rconn) []string {
	t.Helper()
	out := collectThrough(t, sub, "__keymarker__:end done")
	return out[:len(out)-1]
}

// collectThrough reads sub's messages, as lines, up to and including the
// first that ends with last.
func collectThrough(t *testing.T, sub *rconn, last string) []string {
	t.Helper()
	var out []string
	for {
		sub.c.SetDeadline(time.Now().Add(10 * time.Second))
		v, err := readReply(sub.br)
		require.NoError(t, err, "waiting for %q after %q", last, out)
		var parts []string
		for _, e := range v.elems {
			parts = append(parts, e.str)
		}
		line := strings.Join(parts, " ")
		out = append(out, line)
		if strings.HasSuffix(line, last) {
			return out
		}
	}
}

// awaitExpiry reads sub's messages up to key's expired event when events
// subscribes to expired events (A or x): the server's own expiry (Redis's
// active cycle, sessiond's wheel) reports it before the next command, as
// a fixed sleep cannot ensure on a stalled machine. Other classes hear
// nothing of an expiry, so there is nothing to wait for.
func awaitExpiry(t *testing.T, sub *rconn, events, key string) []string {
	t.Helper()
	if !strings.ContainsAny(events, "Ax") {
		return nil
	}
	return collectThrough(t, sub, "__keyevent@0__:expired "+key)
}

func notifyStream(t *testing.T, addr, events string) []string {
	c := dialRaw(t, addr)
	sub := dialRaw(t, addr)
	_, err := c.do("CONFIG", "SET", "notify-keyspace-events", events)
	require.NoError(t, err)
	_, err = sub.do("PSUBSCRIBE", "__key*__:*")
	require.NoError(t, err)
	var early []string
	for _, args := range notifyCommands {
		if args[0] == "EXPIRED" {
			early = append(early, awaitExpiry(t, sub, events, args[1])...)
			continue
		}
		_, err := c.do(args...)
		require.NoError(t, err, "%q", args)
	}
	_, err = c.do("PUBLISH", "__keymarker__:end", "done")
	require.NoError(t, err)
	return append(early, collect(t, sub)...)
}

// TestNotificationsMatchRedis subscribes to every keyspace channel on both
// servers, runs the same commands, and compares the message streams.
func TestNotificationsMatchRedis(t *testing.T) {
	redis := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, events := range []string{"KEA", "KEAnm", "Kg$", "Es", "Exn"} {
		t.Run(events, func(t *testing.T) {
			want := notifyStream(t, redis.Addr, events)
			got := notifyStream(t, sd.Addr, events)
			require.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
			if events == "KEAnm" {
				t.Logf("%d events; first: %q", len(got), got[:6])
				require.Greater(t, len(want), 150, "the command list should produce many events")
			}
		})
	}
}

// TestNotifyConfigMatchesRedis compares CONFIG SET/GET of
// notify-keyspace-events, canonical forms and errors.
func TestNotifyConfigMatchesRedis(t *testing.T) {
	redis := testserver.StartRedis(t)
	sd := testserver.Start(t)
	vals := []string{"Egx", "AKE", "KEA$", "Kd", "Km", "", "xg$lshzetdmKE", "Q", "gK!", "A", "EA", "nE", "Ex$lzhtsemg"}
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		var out []string
		for _, v := range vals {
			set, err := c.do("CONFIG", "SET", "notify-keyspace-events", v)
			require.NoError(t, err)
			get, err := c.do("CONFIG", "GET", "notify-keyspace-events")
			require.NoError(t, err)
			out = append(out, v+" -> "+string(set.raw)+" "+string(get.raw))
		}
		return out
	}
	require.Equal(t, run(redis.Addr), run(sd.Addr))

	// The one deliberate difference: with A, Redis shows no n (and loses it
	// when the value is read back and set again); sessiond keeps it.
	c := dialRaw(t, sd.Addr)
	_, err := c.do("CONFIG", "SET", "notify-keyspace-events", "KEAn")
	require.NoError(t, err)
	get, err := c.do("CONFIG", "GET", "notify-keyspace-events")
	require.NoError(t, err)
	require.Equal(t, "AnKE", get.elems[1].str)
}

// TestSessionExpiredEvent is what Spring Session does: it listens for
// __keyevent@0__:expired (and del) to clean up after sessions. The expired
// event must arrive promptly after the session's deadline.
func TestSessionExpiredEvent(t *testing.T) {
	sd := testserver.Start(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: sd.Addr})
	defer rdb.Close()
	require.NoError(t, rdb.ConfigSet(ctx, "notify-keyspace-events", "Egx").Err())
	ps := rdb.PSubscribe(ctx, "__keyevent@0__:*")
	defer ps.Close()
	_, err := ps.Receive(ctx) // the psubscribe confirmation
	require.NoError(t, err)
	ch := ps.Channel()

	const ttl = 300 * time.Millisecond
	key := "spring:session:sessions:expires:4f1a"
	require.NoError(t, rdb.Set(ctx, key, "", 0).Err())
	require.NoError(t, rdb.PExpire(ctx, key, ttl).Err())
	deadline := time.Now().Add(ttl)
	require.NoError(t, rdb.Set(ctx, "spring:session:other", "x", 0).Err())
	require.NoError(t, rdb.Del(ctx, "spring:session:other").Err())

	var got []string
	timeout := time.After(3 * time.Second)
	for len(got) < 3 {
		select {
		case m := <-ch:
			got = append(got, m.Channel+" "+m.Payload)
			if m.Channel == "__keyevent@0__:expired" {
				late := time.Since(deadline)
				assert.Less(t, late, 100*time.Millisecond, "expired event %v after the deadline", late)
				assert.Greater(t, late, -5*time.Millisecond, "expired event before the deadline")
			}
		case <-timeout:
			t.Fatalf("events so far: %q", got)
		}
	}
	// Egx: generic and expired only (no $ class, so SET sends nothing).
	require.Equal(t, []string{
		"__keyevent@0__:expire " + key,
		"__keyevent@0__:del spring:session:other",
		"__keyevent@0__:expired " + key,
	}, got)
	v, err := rdb.Exists(ctx, key).Result()
	require.NoError(t, err)
	require.Zero(t, v)
	_ = fmt.Sprint
}
