package resp_test

// WAIT on a server without replicas, compared with redis-server 7.0, and
// ZRANK/ZREVRANK's WITHSCORE (Redis 7.2, so pinned: the Redis the tests
// run is 7.0).

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

func TestWaitRedis(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	steps := [][]string{
		{"WAIT", "0", "0"},
		{"WAIT", "-5", "100"},
		{"WAIT", "x", "0"},
		{"WAIT", "1", "x"},
		{"WAIT", "1", "1.5"},
		{"WAIT", "1", "-1"},
		{"WAIT", "1"},
		{"WAIT", "1", "50"},                     // blocks for the timeout: no replica acknowledges
		{"MULTI"}, {"WAIT", "3", "0"}, {"EXEC"}, // no blocking in a transaction
		{"EVAL", "return redis.call('wait', 1, 0)", "0"},
		{"EVAL", "return redis.pcall('wait', 0, 0)", "0"},
	}
	rc, sc := dialRaw(t, r.Addr), dialRaw(t, s.Addr)
	for _, st := range steps {
		start := time.Now()
		want, err := rc.do(st...)
		require.NoError(t, err)
		got, err := sc.do(st...)
		require.NoError(t, err)
		assert.Equal(t, string(want.raw), string(got.raw), "%q", st)
		if len(st) == 3 && st[0] == "WAIT" && st[2] == "50" {
			assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "both waited their timeout")
		}
	}
}

// TestWaitUnblock: a WAIT with no timeout is a blocked client until
// CLIENT UNBLOCK, which answers it as a timeout (0) or with -UNBLOCKED.
func TestWaitUnblock(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	for _, how := range []string{"TIMEOUT", "ERROR"} {
		var replies []string
		for _, addr := range []string{r.Addr, s.Addr} {
			w, ctl := dialRaw(t, addr), dialRaw(t, addr)
			idv, err := w.do("CLIENT", "ID")
			require.NoError(t, err)
			id := idv.str
			done := make(chan string, 1)
			go func() {
				v, err := w.do("WAIT", "1", "0")
				if err != nil {
					done <- err.Error()
					return
				}
				done <- string(v.raw)
			}()
			require.Eventually(t, func() bool {
				v, err := ctl.do("INFO", "clients")
				return err == nil && strings.Contains(v.str, "blocked_clients:1")
			}, 5*time.Second, 5*time.Millisecond)
			v, err := ctl.do("CLIENT", "UNBLOCK", id, how)
			require.NoError(t, err)
			assert.Equal(t, ":1\r\n", string(v.raw))
			replies = append(replies, <-done)
		}
		assert.Equal(t, replies[0], replies[1], how)
	}
}

func TestZrankWithScore(t *testing.T) {
	s := testserver.Start(t)
	for _, proto := range []string{"2", "3"} {
		c := dialRaw(t, s.Addr)
		_, err := c.do("HELLO", proto)
		require.NoError(t, err)
		_, err = c.do("ZADD", "z", "1.5", "a", "2", "b", "-inf", "c")
		require.NoError(t, err)
		_, err = c.do("SET", "str", "x")
		require.NoError(t, err)
		nullArr := map[string]string{"2": "*-1\r\n", "3": "_\r\n"}[proto]
		null := map[string]string{"2": "$-1\r\n", "3": "_\r\n"}[proto]
		score := func(s string) string {
			if proto == "3" {
				return "," + s + "\r\n"
			}
			return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n"
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"ZRANK", "z", "a", "WITHSCORE"}, "*2\r\n:1\r\n" + score("1.5")},
			{[]string{"ZREVRANK", "z", "a", "withscore"}, "*2\r\n:1\r\n" + score("1.5")},
			{[]string{"ZRANK", "z", "c", "WITHSCORE"}, "*2\r\n:0\r\n" + score("-inf")},
			{[]string{"ZRANK", "z", "a"}, ":1\r\n"},
			{[]string{"ZRANK", "z", "nope", "WITHSCORE"}, nullArr},
			{[]string{"ZRANK", "nokey", "a", "WITHSCORE"}, nullArr},
			{[]string{"ZRANK", "nokey", "a"}, null},
			{[]string{"ZRANK", "z", "a", "WITHSCORES"}, "-ERR syntax error\r\n"},
			{[]string{"ZRANK", "str", "a", "WITHSCORES"}, "-ERR syntax error\r\n"}, // syntax before the key, as 7.2
			{[]string{"ZRANK", "str", "a", "WITHSCORE"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
			{[]string{"ZRANK", "z", "a", "WITHSCORE", "x"}, "-ERR wrong number of arguments for 'zrank' command\r\n"},
			{[]string{"ZREVRANK", "z"}, "-ERR wrong number of arguments for 'zrevrank' command\r\n"},
		} {
			v, err := c.do(tc.args...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(v.raw), "RESP%s %q", proto, tc.args)
		}
	}
}

// COMMAND INFO WAIT: the flags Redis 7.0 gives (no "blocking": helper-50).
func TestWaitCommandInfoMatchesRedis(t *testing.T) {
	var got []string
	for _, addr := range []string{testserver.StartRedis(t).Addr, testserver.Start(t).Addr} {
		v, err := dialRaw(t, addr).do("COMMAND", "INFO", "WAIT")
		require.NoError(t, err)
		flags := v.elems[0].elems[2]
		var fs []string
		for _, f := range flags.elems {
			fs = append(fs, f.str)
		}
		got = append(got, strings.Join(fs, ","))
	}
	assert.Equal(t, got[0], got[1], "redis, sessiond")
}
