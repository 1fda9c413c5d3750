package resp_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// TestClientListWhileClientsChange: CLIENT LIST, CLIENT KILL USER and ACL
// DELUSER read other connections' state (db, protocol, user, name,
// MULTI queue) while those connections change it. Under -race this fails
// if any of those fields is read without the client's lock. Goroutine
// connections: on one event loop the connections would take turns.
func TestClientListWhileClientsChange(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("event-loops", "-1"))
	admin := dialRaw(t, sd.Addr)
	_, err := admin.do("ACL", "SETUSER", "other", "on", "nopass", "+@all", "~*")
	require.NoError(t, err)
	_, err = admin.do("ACL", "SETUSER", "idle", "on", "nopass") // nobody logs in as idle
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 2 {
		c := dialRaw(t, sd.Addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 150 {
				for _, cmd := range [][]string{
					{"SELECT", "1"}, {"SELECT", "0"}, {"CLIENT", "SETNAME", "n"},
					{"MULTI"}, {"GET", "k"}, {"DISCARD"}, {"CLIENT", "NO-EVICT", "on"},
					{"CLIENT", "NO-TOUCH", "on"}, {"HELLO", "3"}, {"HELLO", "2"},
					{"AUTH", "other", "x"}, {"AUTH", "default", "x"},
				} {
					if _, err := c.do(cmd...); err != nil {
						t.Errorf("round %d %v: %v", i, cmd, err)
						return
					}
				}
				if i%50 == 0 {
					if _, err := c.do("RESET"); err != nil {
						t.Errorf("RESET: %v", err)
						return
					}
				}
			}
		}()
	}
	for i := range 300 {
		v, err := admin.do("CLIENT", "LIST")
		require.NoError(t, err)
		require.Contains(t, v.str, "cmd=")
		if i%20 == 0 {
			v, err = admin.do("CLIENT", "KILL", "USER", "idle")
			require.NoError(t, err)
			require.Equal(t, ":0\r\n", string(v.raw))
		}
	}
	wg.Wait()
	v, err := admin.do("ACL", "DELUSER", "idle")
	require.NoError(t, err)
	require.Equal(t, "1", v.str, v)
}

// TestClientKillFiltersMatchRedis: CLIENT KILL TYPE closes only clients of
// that type (it once closed every other client), "slave" is "replica",
// and USER must name a user; CLIENT LIST TYPE filters the same way, and
// takes TYPE or ID, not both.
func TestClientKillFiltersMatchRedis(t *testing.T) {
	for _, addr := range []string{testserver.Start(t).Addr, testserver.StartRedis(t).Addr} {
		admin, plain, sub := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
		_, err := sub.do("SUBSCRIBE", "ch")
		require.NoError(t, err)
		for _, tc := range []struct{ args, want string }{
			{"CLIENT KILL TYPE master", ":0\r\n"},
			{"CLIENT KILL TYPE slave", ":0\r\n"},
			{"CLIENT KILL TYPE replica", ":0\r\n"},
			{"CLIENT KILL TYPE nosuch", "-ERR Unknown client type 'nosuch'\r\n"},
			{"CLIENT KILL USER nosuch", "-ERR No such user 'nosuch'\r\n"},
			{"CLIENT KILL TYPE pubsub", ":1\r\n"},
		} {
			v, err := admin.do(strings.Fields(tc.args)...)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(v.raw), "%s: %s", addr, tc.args)
		}
		_, err = readReply(sub.br)
		require.Error(t, err, "%s: the subscriber is closed", addr)
		v, err := plain.do("PING")
		require.NoError(t, err, "%s: a normal client is not", addr)
		require.Equal(t, "+PONG\r\n", string(v.raw))
		v, err = admin.do("CLIENT", "LIST", "TYPE", "slave")
		require.NoError(t, err)
		require.Empty(t, v.str, addr)
		v, err = admin.do("CLIENT", "LIST", "TYPE", "normal")
		require.NoError(t, err)
		require.Equal(t, 2, strings.Count(v.str, "\n"), "%s: %s", addr, v.str)
		id, err := admin.do("CLIENT", "ID")
		require.NoError(t, err)
		me := strings.TrimSuffix(strings.TrimPrefix(string(id.raw), ":"), "\r\n")
		v, err = admin.do("CLIENT", "LIST", "ID", me, "0", "-5", me)
		require.NoError(t, err)
		require.Equal(t, 2, strings.Count(v.str, "id="+me+" "), "%s: in the order given, repeats and all: %s", addr, v.str)
		require.Equal(t, 2, strings.Count(v.str, "\n"), "%s: 0 and -5 are no client: %s", addr, v.str)
		for _, tc := range [][2]string{
			{"CLIENT LIST ID x", "-ERR Invalid client ID\r\n"},
			{"CLIENT LIST TYPE normal ID 1", "-ERR syntax error\r\n"},
			{"CLIENT LIST ID 1 TYPE normal", "-ERR Invalid client ID\r\n"},
			{"CLIENT LIST TYPE", "-ERR syntax error\r\n"},
			{"CLIENT LIST foo", "-ERR syntax error\r\n"},
		} {
			v, err = admin.do(strings.Fields(tc[0])...)
			require.NoError(t, err)
			require.Equal(t, tc[1], string(v.raw), "%s: %s", addr, tc[0])
		}
	}
}

// TestClientFlagsMatchRedis: CLIENT INFO's flags show NO-EVICT as 'e', as
// Redis does ('N' when no flag is set), and NO-TOUCH as 'T' (Redis 7.2).
func TestClientFlagsMatchRedis(t *testing.T) {
	flags := func(c *rconn) string {
		t.Helper()
		v, err := c.do("CLIENT", "INFO")
		require.NoError(t, err)
		_, rest, ok := strings.Cut(v.str, " flags=")
		require.True(t, ok, v.str)
		f, _, _ := strings.Cut(rest, " ")
		return f
	}
	for _, addr := range []string{testserver.Start(t).Addr, testserver.StartRedis(t).Addr} {
		c := dialRaw(t, addr)
		require.Equal(t, "N", flags(c), addr)
		_, err := c.do("CLIENT", "NO-EVICT", "on")
		require.NoError(t, err)
		require.Equal(t, "e", flags(c), addr)
		_, err = c.do("CLIENT", "NO-EVICT", "off")
		require.NoError(t, err)
		require.Equal(t, "N", flags(c), addr)
	}
	c := dialRaw(t, testserver.Start(t).Addr)
	for _, cmd := range [][]string{{"CLIENT", "NO-EVICT", "on"}, {"CLIENT", "NO-TOUCH", "on"}} {
		_, err := c.do(cmd...)
		require.NoError(t, err)
	}
	require.Equal(t, "eT", flags(c))
}

// clientInfoVolatile are the CLIENT LIST fields the two servers give
// differently for the same client: addresses, times and memory.
var clientInfoVolatile = map[string]bool{
	"addr": true, "laddr": true, "fd": true, "age": true, "idle": true,
	"qbuf": true, "qbuf-free": true, "argv-mem": true, "multi-mem": true, "rbs": true, "rbp": true,
	"obl": true, "oll": true, "omem": true, "tot-mem": true, "events": true,
}

// maskClientLine masks a CLIENT LIST line's volatile fields and names its
// id by the connection it belongs to (ids: CLIENT ID replies to their
// connection's number). sessiond's line ends with lib-name and lib-ver
// (CLIENT SETINFO, Redis 7.2's), which Redis 7.0.15 does not have: they
// are dropped.
func maskClientLine(line string, ids map[string]int) string {
	var b strings.Builder
	for _, kv := range strings.Fields(line) {
		name, value, _ := strings.Cut(kv, "=")
		switch {
		case name == "lib-name" || name == "lib-ver":
			continue
		case name == "id":
			if c, ok := ids[value]; ok {
				value = "conn" + strconv.Itoa(c)
			} else {
				value = "unknown " + value
			}
		case clientInfoVolatile[name]:
			value = "*"
		}
		b.WriteString(name + "=" + value + " ")
	}
	return b.String()
}

// TestClientInfoInExecMatchesRedis: while EXEC runs its commands the
// client is still in MULTI for CLIENT INFO and CLIENT LIST (flags x, multi
// the number of commands), as in Redis.
func TestClientInfoInExecMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sess := testserver.Start(t)
	lines := func(addr string) []string {
		c := dialRaw(t, addr)
		id, err := c.do("CLIENT", "ID")
		require.NoError(t, err)
		ids := map[string]int{id.str: 1}
		var out []string
		for _, args := range [][]string{{"MULTI"}, {"CLIENT", "INFO"}, {"SET", "k", "v"}, {"CLIENT", "LIST", "ID", id.str}} {
			_, err := c.do(args...)
			require.NoError(t, err)
		}
		v, err := c.do("EXEC")
		require.NoError(t, err)
		require.Len(t, v.elems, 3, "%s", v)
		for _, e := range []rv{v.elems[0], v.elems[2]} {
			out = append(out, maskClientLine(e.str, ids))
		}
		v, err = c.do("CLIENT", "INFO")
		require.NoError(t, err)
		return append(out, maskClientLine(v.str, ids))
	}
	want := lines(red.Addr)
	require.Contains(t, want[0], " flags=x ")
	assert.Equal(t, want, lines(sess.Addr))
}
