package resp_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// psStep is one step of a pub/sub script: send args on connection conn (if
// any), then read n replies or pushes from it. skip leaves the replies out
// of the comparison (HELLO describes the server).
type psStep struct {
	conn int
	args []string
	n    int
	skip bool
}

func cmd(conn int, n int, args ...string) psStep { return psStep{conn: conn, args: args, n: n} }
func read(conn, n int) psStep                    { return psStep{conn: conn, n: n} }

// runScript runs steps against addr and returns the raw replies, one line
// per step.
func runScript(t *testing.T, addr string, steps []psStep) []string {
	t.Helper()
	conns := []*rconn{dialRaw(t, addr), dialRaw(t, addr)}
	var out []string
	for _, st := range steps {
		c := conns[st.conn]
		c.c.SetDeadline(time.Now().Add(5 * time.Second))
		if st.args != nil {
			_, err := c.c.Write(encodeCommand(st.args))
			require.NoError(t, err)
		}
		var got []string
		for range st.n {
			v, err := readReply(c.br)
			require.NoError(t, err, "step %q", st.args)
			got = append(got, string(v.raw))
		}
		if !st.skip {
			out = append(out, fmt.Sprintf("%d %q -> %q", st.conn, st.args, strings.Join(got, "")))
		}
	}
	return out
}

func pubsubScript(proto int) []psStep {
	steps := []psStep{}
	if proto == 3 {
		steps = append(steps, psStep{conn: 0, args: []string{"HELLO", "3"}, n: 1, skip: true},
			psStep{conn: 1, args: []string{"HELLO", "3"}, n: 1, skip: true})
	}
	return append(steps,
		cmd(0, 1, "UNSUBSCRIBE"),
		cmd(0, 2, "UNSUBSCRIBE", "x", "y"),
		cmd(0, 1, "PUNSUBSCRIBE"),
		cmd(0, 1, "SUNSUBSCRIBE"),
		cmd(0, 3, "SUBSCRIBE", "a", "b", "a"),
		cmd(0, 1, "PSUBSCRIBE", "h?llo"),
		cmd(0, 1, "SSUBSCRIBE", "s1"),
		cmd(0, 1, "GET", "x"),
		cmd(0, 1, "CONFIG", "GET", "maxclients"),
		cmd(0, 1, "PING"),
		cmd(0, 1, "PING", "hi"),
		cmd(0, 1, "PING", "a", "b"),
		cmd(0, 1, "SUBSCRIBE"),
		cmd(1, 1, "PUBLISH", "a", "m1"),
		read(0, 1),
		cmd(1, 1, "PUBLISH", "hello", "m2"),
		read(0, 1),
		cmd(1, 1, "SPUBLISH", "s1", "m3"),
		read(0, 1),
		cmd(1, 1, "PUBLISH", "s1", "nobody"),
		cmd(1, 1, "PUBLISH", "a"),
		cmd(1, 1, "PUBSUB", "NUMSUB", "a", "b", "c"),
		cmd(1, 1, "PUBSUB", "NUMSUB"),
		cmd(1, 1, "PUBSUB", "NUMPAT"),
		cmd(1, 1, "PUBSUB", "CHANNELS", "a"),
		cmd(1, 1, "PUBSUB", "CHANNELS", "zz*"),
		cmd(1, 1, "PUBSUB", "SHARDCHANNELS"),
		cmd(1, 1, "PUBSUB", "SHARDNUMSUB", "s1", "a"),
		cmd(1, 1, "PUBSUB", "CHANNELS", "x", "y"),
		cmd(1, 1, "PUBSUB", "HELP"),
		cmd(1, 1, "PUBSUB", "NOPE"),
		cmd(1, 1, "PUBSUB"),
		cmd(0, 1, "UNSUBSCRIBE", "a"),
		cmd(1, 1, "PUBLISH", "a", "gone"),
		cmd(0, 1, "UNSUBSCRIBE"),
		cmd(0, 1, "PUNSUBSCRIBE"),
		cmd(0, 1, "GET", "x"),
		cmd(0, 1, "SUNSUBSCRIBE"),
		cmd(0, 1, "GET", "x"),
		cmd(0, 1, "PING"),
		// MULTI/EXEC with a SUBSCRIBE inside: the EXEC array holds the confirmation.
		cmd(0, 1, "MULTI"),
		cmd(0, 1, "SET", "k", "v"),
		cmd(0, 1, "SUBSCRIBE", "t"),
		cmd(0, 1, "GET", "k"),
		cmd(0, 1, "EXEC"),
		cmd(1, 1, "PUBLISH", "t", "after-exec"),
		read(0, 1),
		cmd(0, 1, "RESET"),
		cmd(1, 1, "PUBSUB", "NUMSUB", "t"),
		cmd(0, 1, "GET", "k"),
		cmd(0, 1, "SUBSCRIBE", "q"),
		cmd(0, 1, "QUIT"),
	)
}

// TestPubsubRepliesMatchRedis runs the same pub/sub script against
// sessiond and redis-server in RESP2 and RESP3 and compares every reply
// and push byte for byte.
func TestPubsubRepliesMatchRedis(t *testing.T) {
	redis := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			want := runScript(t, redis.Addr, pubsubScript(proto))
			got := runScript(t, sd.Addr, pubsubScript(proto))
			require.Equal(t, want, got)
			if testing.Verbose() {
				t.Log(strings.Join(got, "\n"))
			}
		})
	}
}

// TestSlowSubscriberDisconnected: a subscriber that stops reading is
// disconnected at client-output-buffer-limit pubsub, and PUBLISH never
// waits for it.
func TestSlowSubscriberDisconnected(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("client-output-buffer-limit", "pubsub 1mb 0 0"))
	pub := dialRaw(t, sd.Addr)
	slow := dialRaw(t, sd.Addr)
	slow.c.(*net.TCPConn).SetReadBuffer(4096)
	_, err := slow.do("SUBSCRIBE", "news")
	require.NoError(t, err)
	msg := strings.Repeat("x", 64<<10)
	start := time.Now()
	var worst time.Duration
	receivers := int64(0)
	for range 200 { // 12.5 MiB against a 1 MiB limit
		t0 := time.Now()
		v, err := pub.do("PUBLISH", "news", msg)
		require.NoError(t, err)
		worst = max(worst, time.Since(t0))
		n, _ := strconv.ParseInt(v.str, 10, 64)
		receivers += n
	}
	t.Logf("200 publishes in %v, slowest %v, delivered to the slow subscriber %d times", time.Since(start), worst, receivers)
	require.Less(t, worst, time.Second, "a PUBLISH waited for the slow subscriber")
	require.Less(t, receivers, int64(100), "the subscriber was not disconnected at its limit")
	require.Eventually(t, func() bool {
		v, err := pub.do("PUBSUB", "NUMSUB", "news")
		return err == nil && v.elems[1].str == "0"
	}, 5*time.Second, 10*time.Millisecond, "the dropped subscriber's subscription is released")
	// The server closed the connection: only the publisher is left.
	v, err := pub.do("CLIENT", "LIST")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(v.str, "\n"), v.str)
	require.NotContains(t, v.str, "sub=1")
}

// TestGoRedisPubSub uses go-redis's PubSub in both protocols: messages,
// pattern messages, counts, INFO and CLIENT LIST fields.
func TestGoRedisPubSub(t *testing.T) {
	sd := testserver.Start(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := goredis.NewClient(&goredis.Options{Addr: sd.Addr, Protocol: proto})
			defer rdb.Close()
			ps := rdb.Subscribe(ctx, "orders", "users")
			defer ps.Close()
			for range 2 {
				_, err := ps.Receive(ctx)
				require.NoError(t, err)
			}
			require.NoError(t, ps.PSubscribe(ctx, "user:*"))
			_, err := ps.Receive(ctx)
			require.NoError(t, err)

			n, err := rdb.Publish(ctx, "orders", "o1").Result()
			require.NoError(t, err)
			require.Equal(t, int64(1), n)
			m, err := ps.ReceiveMessage(ctx)
			require.NoError(t, err)
			require.Equal(t, "orders o1", m.Channel+" "+m.Payload)
			require.NoError(t, rdb.Publish(ctx, "user:7", "login").Err())
			m, err = ps.ReceiveMessage(ctx)
			require.NoError(t, err)
			require.Equal(t, "user:* user:7 login", m.Pattern+" "+m.Channel+" "+m.Payload)

			subs, err := rdb.PubSubNumSub(ctx, "orders", "nobody").Result()
			require.NoError(t, err)
			require.Equal(t, map[string]int64{"orders": 1, "nobody": 0}, subs)
			info, err := rdb.Info(ctx, "stats").Result()
			require.NoError(t, err)
			require.Contains(t, info, "pubsub_channels:2\r\n")
			require.Contains(t, info, "pubsub_patterns:1\r\n")
			list, err := rdb.ClientList(ctx).Result()
			require.NoError(t, err)
			require.Contains(t, list, "flags=P db=0 sub=2 psub=1 ssub=0")

			require.NoError(t, ps.Unsubscribe(ctx, "orders", "users"))
			require.NoError(t, ps.PUnsubscribe(ctx))
			require.Eventually(t, func() bool {
				n, err := rdb.PubSubNumPat(ctx).Result()
				return err == nil && n == 0
			}, 2*time.Second, 5*time.Millisecond)
		})
	}
}

// TestClientListPubsubType: CLIENT LIST TYPE pubsub lists subscribers,
// TYPE normal the others.
func TestClientListPubsubType(t *testing.T) {
	sd := testserver.Start(t)
	c := dialRaw(t, sd.Addr)
	sub := dialRaw(t, sd.Addr)
	_, err := sub.do("PSUBSCRIBE", "x*")
	require.NoError(t, err)
	v, err := c.do("CLIENT", "LIST", "TYPE", "pubsub")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(v.str, "\n"), v.str)
	require.Contains(t, v.str, "flags=P db=0 sub=0 psub=1 ssub=0")
	v, err = c.do("CLIENT", "LIST", "TYPE", "normal")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(v.str, "\n"), v.str)
	require.Contains(t, v.str, "cmd=client|list")
}
