package resp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/config"
	"sessiond/internal/testserver"
	"sessiond/keyspace"
	"sessiond/resp"
)

// TestCommandInfoCategoriesMatchRedis compares the ACL categories COMMAND
// INFO reports for every command (and subcommand) sessiond has with
// redis-server's.
func TestCommandInfoCategoriesMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sess := testserver.Start(t)
	ctx := context.Background()
	cats := func(addr string) map[string][]string {
		c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: 2})
		defer c.Close()
		all, err := c.Do(ctx, "COMMAND").Slice()
		require.NoError(t, err)
		out := map[string][]string{}
		var walk func(e []any)
		walk = func(e []any) {
			var cs []string
			for _, c := range e[6].([]any) {
				cs = append(cs, c.(string))
			}
			slices.Sort(cs)
			out[e[0].(string)] = cs
			for _, s := range e[9].([]any) {
				walk(s.([]any))
			}
		}
		for _, e := range all {
			walk(e.([]any))
		}
		return out
	}
	want, have := cats(red.Addr), cats(sess.Addr)
	n := 0
	for name, hc := range have {
		wc, ok := want[name]
		if !ok {
			t.Logf("%s: not in redis-server 7.0 (sessiond reports %v)", name, hc)
			continue
		}
		n++
		assert.Equal(t, wc, hc, "categories of %s", name)
	}
	require.Greater(t, n, 100)
}

// TestACLCheckDoesNotAllocate: the per-command ACL check of a restricted
// user allocates nothing either (the dispatch path stays allocation-free).
func TestACLCheckDoesNotAllocate(t *testing.T) {
	sess := testserver.Start(t)
	require.NoError(t, sess.Server.Users().SetUser("u", "on", "nopass", "~sess:*", "%R~ro:*", "+@read", "+set"))
	c := dialRaw(t, sess.Addr)
	_, err := c.do("AUTH", "u", "x")
	require.NoError(t, err)
	v, err := c.do("GET", "sess:1")
	require.NoError(t, err)
	require.False(t, v.isErr(), "%s", v)
	// The check itself, measured in process.
	u := sess.Server.Users().Get("u")
	allocs := testing.AllocsPerRun(1000, func() {
		resp.CheckForTest(u, [][]byte{[]byte("GET"), []byte("sess:1")})
		resp.CheckForTest(u, [][]byte{[]byte("SET"), []byte("sess:1"), []byte("v"), []byte("GET")})
		resp.CheckForTest(u, [][]byte{[]byte("MGET"), []byte("ro:1"), []byte("sess:2")})
	})
	require.Zero(t, allocs)
}

// TestProtectedModeDecision covers the decision for every kind of address.
func TestProtectedModeDecision(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 1} }
	for _, tc := range []struct {
		protected, nopass bool
		addr              net.Addr
		deny              bool
	}{
		{true, true, tcp("127.0.0.1"), false},
		{true, true, tcp("::1"), false},
		{true, true, &net.UnixAddr{Name: "/tmp/s"}, false},
		{true, true, tcp("192.0.2.7"), true},
		{true, true, tcp("127.0.0.2"), true}, // Redis compares with "127.0.0.1" exactly
		{true, true, tcp("2001:db8::1"), true},
		{true, false, tcp("192.0.2.7"), false},
		{false, true, tcp("192.0.2.7"), false},
	} {
		assert.Equal(t, tc.deny, resp.ProtectedModeDenies(tc.protected, tc.nopass, tc.addr), "%+v", tc)
	}
}

// nonLoopbackIP returns an IPv4 address of this machine that is not on the
// loopback interface, or skips the test loudly.
func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("SKIPPING live protected-mode test: this machine has no non-loopback IPv4 address (TestProtectedModeDecision still covers the decision)")
	return ""
}

// TestProtectedModeMatchesRedis connects from a non-loopback address to
// both servers listening on all interfaces, with protected mode on.
func TestProtectedModeMatchesRedis(t *testing.T) {
	ip := nonLoopbackIP(t)
	red := testserver.StartRedis(t, "--bind", "0.0.0.0", "--protected-mode", "yes")
	_, redPort, _ := net.SplitHostPort(red.Addr)

	cfg := config.New()
	ks, err := keyspace.New(keyspace.Options{Stripes: 16})
	require.NoError(t, err)
	srv := resp.NewServer(resp.Options{Keyspace: ks, Config: cfg})
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, sessPort, _ := net.SplitHostPort(ln.Addr().String())

	// first sends PING and returns the first reply line, and whether the
	// server then closed the connection.
	first := func(port string) (string, bool) {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), 2*time.Second)
		require.NoError(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(c, "PING\r\n")
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		c.SetDeadline(time.Now().Add(300 * time.Millisecond))
		_, err = br.ReadByte()
		// EOF, or a reset: a server that closes with our PING unread sends RST.
		var ne net.Error
		return line, err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	want, closed := first(redPort)
	require.True(t, strings.HasPrefix(want, "-DENIED Redis is running in protected mode"), want)
	require.True(t, closed)
	have, closed := first(sessPort)
	assert.Equal(t, want, have)
	assert.True(t, closed, "sessiond closes the connection after the DENIED error")
	// Loopback clients are served; so is everyone once the default user has
	// a password, or protected mode is off.
	lc := dialRaw(t, ln.Addr().String())
	v, err := lc.do("PING")
	require.NoError(t, err)
	assert.Equal(t, "PONG", v.str)
	_, err = lc.do("CONFIG", "SET", "protected-mode", "no")
	require.NoError(t, err)
	have, closed = first(sessPort)
	assert.Equal(t, "+PONG\r\n", have)
	assert.False(t, closed)
	require.NoError(t, cfg.Set("protected-mode", "yes"))
	require.NoError(t, cfg.Set("requirepass", "pw"))
	have, closed = first(sessPort)
	assert.Equal(t, "-NOAUTH Authentication required.\r\n", have)
	assert.False(t, closed)
}

// TestAuthWithClients authenticates with a user name and password through
// go-redis (AUTH and HELLO 3 AUTH) and redigo.
func TestAuthWithClients(t *testing.T) {
	sess := testserver.Start(t, testserver.WithConfig("requirepass", "defpw"))
	require.NoError(t, sess.Server.Users().SetUser("app", "on", ">apppw", "~sess:*", "+@read", "+@write", "+@connection", "-flushall"))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := goredis.NewClient(&goredis.Options{Addr: sess.Addr, Protocol: proto, Username: "app", Password: "apppw"})
		require.NoError(t, c.Set(ctx, "sess:1", "v", time.Minute).Err(), "proto %d", proto)
		require.Equal(t, "v", c.Get(ctx, "sess:1").Val())
		who, err := c.Do(ctx, "ACL", "WHOAMI").Result()
		require.Error(t, err) // acl|whoami is not in the user's categories
		_ = who
		err = c.Set(ctx, "other", "v", 0).Err()
		require.EqualError(t, err, "NOPERM this user has no permissions to access one of the keys used as arguments")
		require.EqualError(t, c.FlushAll(ctx).Err(), "NOPERM this user has no permissions to run the 'flushall' command")
		c.Close()

		bad := goredis.NewClient(&goredis.Options{Addr: sess.Addr, Protocol: proto, Username: "app", Password: "nope", MaxRetries: -1})
		require.EqualError(t, bad.Ping(ctx).Err(), "WRONGPASS invalid username-password pair or user is disabled.")
		bad.Close()
		def := goredis.NewClient(&goredis.Options{Addr: sess.Addr, Protocol: proto, Password: "defpw"})
		require.Equal(t, "default", def.Do(ctx, "ACL", "WHOAMI").Val())
		def.Close()
		none := goredis.NewClient(&goredis.Options{Addr: sess.Addr, Protocol: proto, MaxRetries: -1})
		require.EqualError(t, none.Get(ctx, "sess:1").Err(), "NOAUTH Authentication required.")
		none.Close()
	}

	rc, err := redis.Dial("tcp", sess.Addr, redis.DialUsername("app"), redis.DialPassword("apppw"))
	require.NoError(t, err)
	defer rc.Close()
	v, err := redis.String(rc.Do("GET", "sess:1"))
	require.NoError(t, err)
	assert.Equal(t, "v", v)
	_, err = rc.Do("GET", "other")
	require.EqualError(t, err, "NOPERM this user has no permissions to access one of the keys used as arguments")
	_, err = redis.Dial("tcp", sess.Addr, redis.DialUsername("app"), redis.DialPassword("x"))
	require.EqualError(t, err, "WRONGPASS invalid username-password pair or user is disabled.")
	// ACL SETUSER takes effect on connections already authenticated.
	require.NoError(t, sess.Server.Users().SetUser("app", "-get"))
	_, err = rc.Do("GET", "sess:1")
	require.EqualError(t, err, "NOPERM this user has no permissions to run the 'get' command")
}

// TestCommandInfoKeyPositionsMatchRedis compares COMMAND's arity and
// legacy key positions (first, last, step) with Redis's for every command
// both have: clients (redis-cli, cluster-aware drivers) find keys by them.
func TestCommandInfoKeyPositionsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sess := testserver.Start(t)
	ctx := context.Background()
	shape := func(addr string) map[string]string {
		c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: 2})
		defer c.Close()
		all, err := c.Do(ctx, "COMMAND").Slice()
		require.NoError(t, err)
		out := map[string]string{}
		var walk func(e []any)
		walk = func(e []any) {
			out[e[0].(string)] = fmt.Sprintf("arity %v keys %v %v %v", e[1], e[3], e[4], e[5])
			for _, s := range e[9].([]any) {
				walk(s.([]any))
			}
		}
		for _, e := range all {
			walk(e.([]any))
		}
		return out
	}
	want, have := shape(red.Addr), shape(sess.Addr)
	// ZRANK and ZREVRANK take Redis 7.2's WITHSCORE: arity -3, not 7.0's 3.
	for _, name := range []string{"zrank", "zrevrank"} {
		want[name] = strings.Replace(want[name], "arity 3 ", "arity -3 ", 1)
	}
	n := 0
	for name, h := range have {
		if w, ok := want[name]; ok {
			n++
			assert.Equal(t, w, h, "%s", name)
		}
	}
	require.Greater(t, n, 150)
}

// TestCommandGetkeysMatchesRedis compares COMMAND GETKEYS and
// GETKEYSANDFLAGS with Redis's, byte for byte in RESP2 and RESP3: keys
// found by position, after a keyword, or by a count (EVAL, ZUNION), SET's
// flags that depend on GET, and each error in Redis's order of checks.
func TestCommandGetkeysMatchesRedis(t *testing.T) {
	sd, red := testserver.Start(t).Addr, testserver.StartRedis(t).Addr
	cases := [][]string{
		{"GET", "k"}, {"SET", "k", "v"}, {"SET", "k", "v", "GET"}, {"SET", "k", "v", "EX", "5", "get"}, {"MSET", "a", "1", "b", "2"},
		{"MGET", "a", "b", "c"}, {"DEL", "a", "b"}, {"RENAME", "a", "b"}, {"SMOVE", "a", "b", "m"}, {"LCS", "a", "b"},
		{"EVAL", "return 1", "2", "a", "b", "x"}, {"EVAL", "return 1", "0"}, {"EVALSHA", "abc", "1", "a"},
		{"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}, {"ZUNION", "2", "a", "b"}, {"ZINTERCARD", "2", "a", "b"},
		{"SINTERCARD", "2", "a", "b", "LIMIT", "1"}, {"ZRANGESTORE", "d", "s", "0", "-1"}, {"ZMPOP", "2", "a", "b", "MIN"},
		{"MEMORY", "USAGE", "k"}, {"OBJECT", "ENCODING", "k"}, {"COPY", "a", "b"}, {"HSET", "h", "f", "v"},
		{"NOSUCH", "a"}, {"PING"}, {"CLIENT", "LIST"}, {"GET"}, {"GET", "a", "b"}, {"ZUNION", "5", "a"}, {"ZUNION", "x", "a"},
		{"EVAL"}, {"MEMORY", "NOSUCH", "k"}, {"ZUNIONSTORE", "d", "0", "a"}, {"ZINTERSTORE", "d", "0", "a", "b"},
		{"ZDIFFSTORE", "d", "00", "a"}, {"EVAL", "return 1", "-1"}, {"ZUNION", "0", "a"},
		{"MIGRATE", "h", "1", "k", "0", "0"}, {"MIGRATE", "h", "1", "", "0", "0", "KEYS", "a", "b"},
		{"MIGRATE", "h", "1", "", "0", "0", "KEYS", "a", "KEYS", "b"}, {"MIGRATE", "h", "1", "k", "0", "0", "KEYS", "a"},
		{"MIGRATE", "h", "1", "", "0", "0", "AUTH", "keys", "KEYS", "a"}, {"MIGRATE", "h", "1", "", "0", "0", "AUTH2", "u", "keys", "COPY", "KEYS", "a"},
		{"RESTORE", "k", "0", "x"}, {"DUMP", "k"},
	}
	for _, proto := range []string{"2", "3"} {
		p := newPair(t, sd, red)
		p.do(t, "HELLO", proto) // the replies differ in version and client id
		for _, sub := range []string{"GETKEYS", "GETKEYSANDFLAGS"} {
			for _, c := range cases {
				p.same(t, append([]string{"COMMAND", sub}, c...)...)
			}
			p.same(t, "COMMAND", sub)
		}
	}
	// The ACL check finds keys the same way: a key count of zero means no
	// key to check, so the command's own error comes first.
	p := newPair(t, sd, red)
	p.same(t, "ACL", "SETUSER", "u", "on", "nopass", "+@all", "~a*")
	p.same(t, "ACL", "DRYRUN", "u", "ZUNIONSTORE", "d", "0", "a")
	p.same(t, "ACL", "DRYRUN", "u", "ZUNIONSTORE", "d", "1", "a")
	p.same(t, "ACL", "DRYRUN", "u", "ZUNIONSTORE", "a1", "2", "a", "b")
	p.same(t, "AUTH", "u", "x")
	p.same(t, "ZUNIONSTORE", "d", "0", "a")
	p.same(t, "ZUNIONSTORE", "d", "1", "a")
}
