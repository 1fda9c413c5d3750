package resp_test

// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP) over real TCP. Every scenario runs against sessiond
// with its connections starting on an event loop (they must leave it to
// block: cmd_block.go), against sessiond with a goroutine per connection,
// and against a real redis-server, and each must produce the same
// transcript, written out here: the redis-server run is what shows the
// expected replies are Redis's. SESSIOND_TEST_EVENT_LOOPS, when set,
// replaces the two sessiond modes with the one it names.
//
// Blocking is observed, never slept on: a test waits for INFO's
// blocked_clients to reach a count before it writes, so that clients block
// in a known order. Where a test checks that nothing arrives it waits a
// short while only; timing bounds are loose, as the machines are shared.

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// blkReplyWait bounds any wait for a reply that must come: generous, as a
// race build on a loaded machine is slow, and a hang fails rather than
// stalls the suite.
const blkReplyWait = 5 * time.Second

// blkQuiet is how long a client is watched for a reply that must not
// come. A wrong reply would be sent within microseconds of the write that
// provokes it; this only has to cover scheduling delays.
const blkQuiet = 150 * time.Millisecond

// blkModes are the event-loops settings the sessiond runs use: on loops
// ("1": every connection on one loop, so a connection that waited there
// would hold up every other) and a goroutine per connection ("-1").
func blkModes() []string {
	if v := os.Getenv("SESSIOND_TEST_EVENT_LOOPS"); v != "" {
		return []string{v}
	}
	return []string{"1", "-1"}
}

// blkEnv is one server under test and a control connection to it (RESP2).
type blkEnv struct {
	t    *testing.T
	addr string
	ctl  *blkConn
}

// blkTargets runs f against each sessiond mode and redis-server, in
// parallel (most of the time is spent waiting). The redis-server run is
// skipped (loudly; it fails under CI=true) when it is not installed.
func blkTargets(t *testing.T, f func(t *testing.T, e *blkEnv)) {
	for _, m := range blkModes() {
		t.Run("sessiond-event-loops="+m, func(t *testing.T) {
			t.Parallel()
			f(t, newBlkEnv(t, testserver.Start(t, testserver.WithConfig("event-loops", m)).Addr))
		})
	}
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		f(t, newBlkEnv(t, testserver.StartRedis(t).Addr))
	})
}

func newBlkEnv(t *testing.T, addr string) *blkEnv {
	e := &blkEnv{t: t, addr: addr}
	e.ctl = e.dial(2)
	return e
}

// sub is e for subtest t: a failure must stop the goroutine of the test
// that has it.
func (e *blkEnv) sub(t *testing.T) *blkEnv {
	ctl := *e.ctl
	ctl.t = t
	return &blkEnv{t: t, addr: e.addr, ctl: &ctl}
}

// blkConn is a raw RESP connection.
type blkConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dial connects, in RESP3 after HELLO 3 when proto is 3.
func (e *blkEnv) dial(proto int) *blkConn {
	e.t.Helper()
	nc, err := net.DialTimeout("tcp", e.addr, 2*time.Second)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { nc.Close() })
	c := &blkConn{t: e.t, nc: nc, br: bufio.NewReader(nc)}
	if proto == 3 {
		v := c.req("HELLO", "3")
		require.Equal(e.t, byte('%'), v.typ, "HELLO 3: %s", v)
	}
	return c
}

// send writes commands in one write, each given as its words (blkFields).
func (c *blkConn) send(cmds ...string) {
	c.t.Helper()
	var b []byte
	for _, cmd := range cmds {
		b = append(b, encodeCommand(blkFields(cmd))...)
	}
	c.write(b)
}

// blkFields splits a command into its arguments at spaces; a double-quoted
// argument (a script) may contain spaces, and no double quote.
func blkFields(s string) []string {
	var args []string
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		end := strings.IndexByte(s, ' ')
		if s[0] == '"' {
			end = strings.IndexByte(s[1:], '"') + 2
			args = append(args, s[1:end-1])
		} else {
			if end < 0 {
				end = len(s)
			}
			args = append(args, s[:end])
		}
		s = s[end:]
	}
	return args
}

// sendArgs writes one command given as its arguments.
func (c *blkConn) sendArgs(args ...string) {
	c.t.Helper()
	c.write(encodeCommand(args))
}

func (c *blkConn) write(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(blkReplyWait))
	_, err := c.nc.Write(b)
	require.NoError(c.t, err)
}

// readRV reads one reply, or fails after blkReplyWait. It does not use
// require, so that goroutines other than the test's may call it.
func (c *blkConn) readRV() (rv, error) {
	c.nc.SetReadDeadline(time.Now().Add(blkReplyWait))
	return readReply(c.br)
}

// recv reads one reply, rendered by blkRender.
func (c *blkConn) recv() string {
	c.t.Helper()
	v, err := c.readRV()
	require.NoError(c.t, err, "no reply")
	return blkRender(v)
}

func (c *blkConn) req(args ...string) rv {
	c.t.Helper()
	c.sendArgs(args...)
	v, err := c.readRV()
	require.NoError(c.t, err, "no reply to %q", args)
	return v
}

// do sends one command (blkFields) and returns its reply.
func (c *blkConn) do(cmd string) string {
	c.t.Helper()
	c.send(cmd)
	return c.recv()
}

// quiet checks that nothing arrives for blkQuiet.
func (c *blkConn) quiet() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(blkQuiet))
	b, err := c.br.Peek(1)
	var ne net.Error
	require.True(c.t, errors.As(err, &ne) && ne.Timeout(), "a reply came (%q, %v) where none should", b, err)
}

// blkRender writes a reply compactly and exactly: the type of every
// element is kept (a RESP3 double ",1.5" is not the bulk "1.5", the null
// array "*-1" is not the null bulk "$-1" nor RESP3's "_").
func blkRender(v rv) string {
	switch v.typ {
	case '$':
		if v.null {
			return "$-1"
		}
		return strconv.Quote(v.str)
	case '*', '~', '>', '%':
		if v.null {
			return string(v.typ) + "-1"
		}
		parts := make([]string, len(v.elems))
		for i, e := range v.elems {
			parts[i] = blkRender(e)
		}
		prefix := ""
		if v.typ != '*' {
			prefix = string(v.typ)
		}
		return prefix + "[" + strings.Join(parts, " ") + "]"
	case '_':
		return "_"
	}
	return string(v.typ) + v.str
}

var blkBlockedRE = regexp.MustCompile(`(?m)^blocked_clients:(\d+)\r$`)

// blocked is INFO's blocked_clients.
func (e *blkEnv) blocked() int {
	e.t.Helper()
	v := e.ctl.req("INFO", "clients")
	m := blkBlockedRE.FindStringSubmatch(v.str)
	require.NotNil(e.t, m, "no blocked_clients in INFO clients: %q", v.str)
	n, _ := strconv.Atoi(m[1])
	return n
}

// waitBlocked waits until exactly n clients are blocked.
func (e *blkEnv) waitBlocked(n int) {
	e.t.Helper()
	deadline := time.Now().Add(blkReplyWait)
	for {
		got := e.blocked()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("blocked_clients is %d, want %d", got, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// blkStep is a command and its expected reply, rendered by blkRender.
type blkStep struct{ cmd, want string }

// run sends each step's command on c and checks its reply.
func (c *blkConn) run(steps ...blkStep) {
	c.t.Helper()
	for _, s := range steps {
		require.Equal(c.t, s.want, c.do(s.cmd), "reply to %s", s.cmd)
	}
}

// clientID is the connection's CLIENT ID.
func (c *blkConn) clientID() string {
	c.t.Helper()
	v := c.req("CLIENT", "ID")
	require.Equal(c.t, byte(':'), v.typ)
	return v.str
}

// ---------------------------------------------------------------------------

// TestBlockServedByLaterWrite: each blocking command, blocked on empty
// keys, is served by a write from another client, with Redis's reply in
// RESP2 and RESP3; the writes that serve it include the ones that create
// a key without pushing (LMOVE, RENAME, COPY, MOVE, SWAPDB, ZUNIONSTORE).
func TestBlockServedByLaterWrite(t *testing.T) {
	cases := []struct {
		name         string
		block        string
		writes       []blkStep // on the control connection, in db 0
		want2, want3 string    // want3 "": as want2
		after        []blkStep
	}{
		{name: "blpop", block: "BLPOP l1 l2 0", writes: []blkStep{{"RPUSH l2 a b", ":2"}},
			want2: `["l2" "a"]`, after: []blkStep{{"LRANGE l2 0 -1", `["b"]`}}},
		{name: "brpop", block: "BRPOP l1 0", writes: []blkStep{{"RPUSH l1 a b", ":2"}},
			want2: `["l1" "b"]`, after: []blkStep{{"LRANGE l1 0 -1", `["a"]`}}},
		{name: "blpop-timeout", block: "BLPOP l1 100", writes: []blkStep{{"LPUSH l1 a b", ":2"}},
			want2: `["l1" "b"]`, after: []blkStep{{"LRANGE l1 0 -1", `["a"]`}}},
		{name: "blmove", block: "BLMOVE src dst LEFT RIGHT 0", writes: []blkStep{{"RPUSH dst z", ":1"}, {"RPUSH src a b", ":2"}},
			want2: `"a"`, after: []blkStep{{"LRANGE src 0 -1", `["b"]`}, {"LRANGE dst 0 -1", `["z" "a"]`}}},
		{name: "blmove-same-key", block: "BLMOVE src src RIGHT LEFT 0", writes: []blkStep{{"RPUSH src a b", ":2"}},
			want2: `"b"`, after: []blkStep{{"LRANGE src 0 -1", `["b" "a"]`}}},
		{name: "brpoplpush", block: "BRPOPLPUSH src dst 0", writes: []blkStep{{"RPUSH src a b", ":2"}},
			want2: `"b"`, after: []blkStep{{"LRANGE src 0 -1", `["a"]`}, {"LRANGE dst 0 -1", `["b"]`}}},
		{name: "blmpop", block: "BLMPOP 0 2 m1 m2 RIGHT COUNT 2", writes: []blkStep{{"RPUSH m2 a b c", ":3"}},
			want2: `["m2" ["c" "b"]]`, after: []blkStep{{"LRANGE m2 0 -1", `["a"]`}}},
		{name: "blmpop-one", block: "BLMPOP 0 1 m1 LEFT", writes: []blkStep{{"RPUSH m1 a b c", ":3"}},
			want2: `["m1" ["a"]]`, after: []blkStep{{"LLEN m1", ":2"}}},
		{name: "bzpopmin", block: "BZPOPMIN z0 z1 0", writes: []blkStep{{"ZADD z1 1.5 a 2 b", ":2"}},
			want2: `["z1" "a" "1.5"]`, want3: `["z1" "a" ,1.5]`, after: []blkStep{{"ZCARD z1", ":1"}}},
		{name: "bzpopmax", block: "BZPOPMAX z1 0", writes: []blkStep{{"ZADD z1 1.5 a 2 b", ":2"}},
			want2: `["z1" "b" "2"]`, want3: `["z1" "b" ,2]`, after: []blkStep{{"ZRANGE z1 0 -1", `["a"]`}}},
		{name: "bzpopmin-inf", block: "BZPOPMIN z1 0", writes: []blkStep{{"ZADD z1 -inf a", ":1"}},
			want2: `["z1" "a" "-inf"]`, want3: `["z1" "a" ,-inf]`, after: []blkStep{{"EXISTS z1", ":0"}}},
		{name: "bzmpop", block: "BZMPOP 0 2 z0 z1 MIN COUNT 2", writes: []blkStep{{"ZADD z1 1 a 2.5 b 3 c", ":3"}},
			want2: `["z1" [["a" "1"] ["b" "2.5"]]]`, want3: `["z1" [["a" ,1] ["b" ,2.5]]]`, after: []blkStep{{"ZCARD z1", ":1"}}},
		{name: "bzmpop-max", block: "BZMPOP 0 1 z1 MAX", writes: []blkStep{{"ZADD z1 1 a 2 b", ":2"}},
			want2: `["z1" [["b" "2"]]]`, want3: `["z1" [["b" ,2]]]`},
		{name: "by-lmove", block: "BLPOP l1 0", writes: []blkStep{{"RPUSH o x", ":1"}, {"LMOVE o l1 LEFT LEFT", `"x"`}},
			want2: `["l1" "x"]`, after: []blkStep{{"EXISTS o l1", ":0"}}},
		{name: "by-rename", block: "BRPOP l1 0", writes: []blkStep{{"RPUSH o x y", ":2"}, {"RENAME o l1", "+OK"}},
			want2: `["l1" "y"]`, after: []blkStep{{"LRANGE l1 0 -1", `["x"]`}}},
		{name: "by-copy", block: "BLPOP l1 0", writes: []blkStep{{"RPUSH o x", ":1"}, {"COPY o l1", ":1"}},
			want2: `["l1" "x"]`, after: []blkStep{{"LRANGE o 0 -1", `["x"]`}}},
		{name: "by-move", block: "BLPOP l1 0", writes: []blkStep{{"SELECT 1", "+OK"}, {"RPUSH l1 x", ":1"}, {"MOVE l1 0", ":1"}, {"SELECT 0", "+OK"}},
			want2: `["l1" "x"]`},
		{name: "by-swapdb", block: "BZPOPMIN z1 0", writes: []blkStep{{"SELECT 1", "+OK"}, {"ZADD z1 3 m", ":1"}, {"SELECT 0", "+OK"}, {"SWAPDB 0 1", "+OK"}},
			want2: `["z1" "m" "3"]`, want3: `["z1" "m" ,3]`},
		{name: "by-zunionstore", block: "BZPOPMAX z1 0", writes: []blkStep{{"ZADD o 1 a 2 b", ":2"}, {"ZUNIONSTORE z1 1 o", ":2"}},
			want2: `["z1" "b" "2"]`, want3: `["z1" "b" ,2]`},
		{name: "by-zincrby", block: "BZPOPMAX z1 0", writes: []blkStep{{"ZINCRBY z1 4 a", `"4"`}},
			want2: `["z1" "a" "4"]`, want3: `["z1" "a" ,4]`},
	}
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		for _, proto := range []int{2, 3} {
			for _, tc := range cases {
				e.ctl.run(blkStep{"FLUSHALL", "+OK"})
				w := e.dial(proto)
				w.send(tc.block)
				e.waitBlocked(1)
				e.ctl.run(tc.writes...)
				want := tc.want2
				if proto == 3 && tc.want3 != "" {
					want = tc.want3
				}
				require.Equal(t, want, w.recv(), "RESP%d %s", proto, tc.name)
				e.ctl.run(tc.after...)
				e.waitBlocked(0)
				w.run(blkStep{"PING", "+PONG"}) // the connection goes on
			}
		}
	})
}

// TestBlockFIFO: clients blocked on a key are served in the order they
// blocked, by one write that has enough for all, as in Redis; a client
// that gets nothing keeps waiting, in its place.
func TestBlockFIFO(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		// Three on one key, one RPUSH of three.
		c := []*blkConn{e.dial(2), e.dial(3), e.dial(2)}
		for i, cl := range c {
			cl.send("BLPOP k 0")
			e.waitBlocked(i + 1)
		}
		e.ctl.run(blkStep{"RPUSH k a b c", ":3"})
		require.Equal(t, []string{`["k" "a"]`, `["k" "b"]`, `["k" "c"]`}, []string{c[0].recv(), c[1].recv(), c[2].recv()})
		e.waitBlocked(0)

		// Not enough for all: the last keeps waiting, and is next.
		cmds := []string{"BRPOP k 0", "BLPOP other k 0", "BLMPOP 0 1 k RIGHT COUNT 5"}
		for i, cl := range c {
			cl.send(cmds[i])
			e.waitBlocked(i + 1)
		}
		e.ctl.run(blkStep{"RPUSH k a b", ":2"})
		require.Equal(t, `["k" "b"]`, c[0].recv())
		require.Equal(t, `["k" "a"]`, c[1].recv())
		c[2].quiet()
		e.waitBlocked(1)
		c[0].send("BLPOP k 0") // behind c[2] now
		e.waitBlocked(2)
		e.ctl.run(blkStep{"LPUSH k x y", ":2"})
		require.Equal(t, `["k" ["x" "y"]]`, c[2].recv(), "COUNT 5 takes what there is")
		c[0].quiet()
		e.ctl.run(blkStep{"RPUSH k z", ":1"})
		require.Equal(t, `["k" "z"]`, c[0].recv())
		e.waitBlocked(0)

		// One that times out leaves its place to the next.
		c[0].send("BLPOP k 0.05")
		e.waitBlocked(1)
		c[1].send("BLPOP k 0")
		e.waitBlocked(2)
		require.Equal(t, "*-1", c[0].recv())
		e.waitBlocked(1)
		e.ctl.run(blkStep{"RPUSH k t", ":1"})
		require.Equal(t, `["k" "t"]`, c[1].recv())
		e.waitBlocked(0)

		// Sorted sets likewise.
		for i, cl := range c {
			cl.send("BZPOPMIN z 0")
			e.waitBlocked(i + 1)
		}
		e.ctl.run(blkStep{"ZADD z 3 c 1 a 2 b", ":3"})
		require.Equal(t, []string{`["z" "a" "1"]`, `["z" "b" ,2]`, `["z" "c" "3"]`}, []string{c[0].recv(), c[1].recv(), c[2].recv()})

		// A chain: BLMOVE's push serves the client blocked on its
		// destination, even though that one blocked first.
		c[1].send("BLPOP dst 0")
		e.waitBlocked(1)
		c[0].send("BLMOVE src dst LEFT RIGHT 0")
		e.waitBlocked(2)
		e.ctl.run(blkStep{"RPUSH src v", ":1"})
		require.Equal(t, `"v"`, c[0].recv())
		require.Equal(t, `["dst" "v"]`, c[1].recv())
		e.ctl.run(blkStep{"EXISTS src dst", ":0"})
		e.waitBlocked(0)
	})
}

// TestBlockTimeout: a blocking command whose timeout passes replies with
// a null array (RESP3: null), after about the time asked for. BLMOVE and
// BRPOPLPUSH too, though they reply with a null bulk in MULTI.
func TestBlockTimeout(t *testing.T) {
	cmds := []string{
		"BLPOP e1 e2 0.1", "BRPOP e1 0.1", "BLMOVE e1 d LEFT RIGHT 0.1", "BRPOPLPUSH e1 d .1",
		"BLMPOP 0.1 2 e1 e2 LEFT", "BZPOPMIN z1 z2 0.1", "BZPOPMAX z1 0.1", "BZMPOP 0.1 1 z1 MAX COUNT 3",
	}
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		type result struct {
			reply   string
			elapsed time.Duration
			err     error
		}
		var results [2][]result
		var wg sync.WaitGroup
		// All at once: each waits its 100 ms in parallel with the others.
		for pi, proto := range []int{2, 3} {
			results[pi] = make([]result, len(cmds))
			for i, cmd := range cmds {
				c := e.dial(proto)
				wg.Go(func() {
					start := time.Now()
					c.nc.SetWriteDeadline(time.Now().Add(blkReplyWait))
					if _, err := c.nc.Write(encodeCommand(blkFields(cmd))); err != nil {
						results[pi][i].err = err
						return
					}
					v, err := c.readRV()
					results[pi][i] = result{blkRender(v), time.Since(start), err}
				})
			}
		}
		wg.Wait()
		for pi, want := range []string{"*-1", "_"} {
			for i, r := range results[pi] {
				require.NoError(t, r.err, "RESP%d %s", pi+2, cmds[i])
				require.Equal(t, want, r.reply, "RESP%d %s", pi+2, cmds[i])
				// The server starts counting when it reads the command,
				// after this client started its clock: never less than
				// 100 ms (a little less for a clock read coarsely).
				require.GreaterOrEqual(t, r.elapsed, 90*time.Millisecond, "RESP%d %s returned early", pi+2, cmds[i])
				require.Less(t, r.elapsed, 3*time.Second, "RESP%d %s returned late", pi+2, cmds[i])
			}
		}
		e.waitBlocked(0)
		e.ctl.run(blkStep{"EXISTS d", ":0"})

		// A timeout below a millisecond is one millisecond, not none.
		w := e.dial(2)
		w.run(blkStep{"BLPOP e1 0.0001", "*-1"}, blkStep{"BZPOPMIN z1 1e-400", "*-1"})
	})
}

// TestBlockTimeoutErrors: a bad timeout is refused with Redis's error, in
// the order Redis checks the arguments; the command does not block.
func TestBlockTimeoutErrors(t *testing.T) {
	const notFloat = "-ERR timeout is not a float or out of range"
	const negative = "-ERR timeout is negative"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"BLPOP", "k", "-1"}, negative},
		{[]string{"BLPOP", "k", "-0.002"}, negative},
		{[]string{"BLPOP", "k", "abc"}, notFloat},
		{[]string{"BLPOP", "k", ""}, notFloat},
		{[]string{"BLPOP", "k", " 1"}, notFloat},
		{[]string{"BLPOP", "k", "1 "}, notFloat},
		{[]string{"BLPOP", "k", "1s"}, notFloat},
		{[]string{"BRPOP", "k", "inf"}, negative}, // too large for a long long: negative in Redis
		{[]string{"BRPOP", "k", "-inf"}, negative},
		{[]string{"BRPOP", "k", "nan"}, notFloat},
		{[]string{"BZPOPMIN", "k", "1e400"}, negative}, // a long double holds it; a long long does not
		{[]string{"BZPOPMAX", "k", "1e30"}, negative},
		{[]string{"BZPOPMAX", "k", "9223372036854775.808"}, negative}, // one millisecond more than a long long holds
		{[]string{"BLMOVE", "a", "b", "LEFT", "RIGHT", "x"}, notFloat},
		{[]string{"BLMOVE", "a", "b", "UP", "RIGHT", "x"}, "-ERR syntax error"}, // directions first
		{[]string{"BRPOPLPUSH", "a", "b", "-5"}, negative},
		{[]string{"BLMPOP", "-1", "1", "k", "LEFT"}, negative},
		{[]string{"BLMPOP", "x", "1", "k", "LEFT"}, notFloat},
		{[]string{"BLMPOP", "x", "0", "k", "LEFT"}, "-ERR numkeys should be greater than 0"}, // the rest first
		{[]string{"BLMPOP", "x", "1", "k", "UP"}, "-ERR syntax error"},
		{[]string{"BZMPOP", "inf", "1", "k", "MIN"}, negative},
		{[]string{"BZMPOP", "x", "1", "k", "MIN", "COUNT", "0"}, "-ERR count should be greater than 0"},
		{[]string{"BLPOP", "s", "x"}, notFloat}, // the timeout before the key's type
		{[]string{"BLPOP", "k"}, "-ERR wrong number of arguments for 'blpop' command"},
		{[]string{"BZMPOP", "1", "1", "k"}, "-ERR wrong number of arguments for 'bzmpop' command"},
	}
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(blkStep{"SET s v", "+OK"})
		for _, proto := range []int{2, 3} {
			c := e.dial(proto)
			for _, tc := range cases {
				c.sendArgs(tc.args...)
				require.Equal(t, tc.want, c.recv(), "RESP%d %q", proto, tc.args)
			}
		}
		require.Equal(t, 0, e.blocked())
	})
}

// TestBlockTimeoutLongDouble: Redis parses the timeout as a long double,
// so a number beyond a long double's range (over about 1.19e4932, or a
// nonzero one under about 3.6e-4951) is "not a float", while one beyond a
// double's is not; and -0.001 is, in a long double, a little over -0.001:
// times 1000 it rounds up to 0, no timeout at all, not a negative one.
// In a double, -0.001 times 1000 is exactly -1.
func TestBlockTimeoutLongDouble(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		for _, tc := range []struct{ arg, want string }{
			{"1e4000", "-ERR timeout is negative"}, // in a long double's range
			{"1e-400", "*-1"},                      // likewise: 1 ms
			{"1e5000", "-ERR timeout is not a float or out of range"},
			{"-1e5000", "-ERR timeout is not a float or out of range"},
			{"1e-5000", "-ERR timeout is not a float or out of range"},
		} {
			assert.Equal(t, tc.want, e.ctl.do("BLPOP k "+tc.arg), "BLPOP k %s", tc.arg)
		}
		// These block: -0.001 without a timeout, the other for the largest
		// number of milliseconds a long long holds (whose deadline, added
		// to the time, overflows it).
		w := e.dial(2)
		for _, arg := range []string{"-0.001", "9223372036854775.807"} {
			w.send("BLPOP k " + arg)
			w.quiet()
			require.Equal(t, 1, e.blocked(), "BLPOP k %s", arg)
			e.ctl.run(blkStep{"RPUSH k v", ":1"})
			require.Equal(t, `["k" "v"]`, w.recv())
		}
	})
}

// TestBlockInMultiAndScripts: in MULTI/EXEC and in scripts a blocking
// command does not block: on empty keys it replies as if its timeout had
// passed, at once (BLMOVE and BRPOPLPUSH with a null bulk there, as
// Redis 7.0 does), and with something there it takes it. Scripts may call
// BLMPOP and BZMPOP only: Redis 7.0 flags the others noscript.
func TestBlockInMultiAndScripts(t *testing.T) {
	queued := []string{
		"BLPOP e 0", "BRPOP e 30", "BLMOVE e d LEFT LEFT 0", "BRPOPLPUSH e d 0", "BLMPOP 0 1 e LEFT",
		"BZPOPMIN z 0", "BZPOPMAX z 0", "BZMPOP 0 1 z MIN", "RPUSH f x y", "BLPOP f 0", "BLMOVE f d RIGHT LEFT 0",
		"ZADD g 1 m", "BZPOPMAX g 0",
	}
	want2 := `[*-1 *-1 $-1 $-1 *-1 *-1 *-1 *-1 :2 ["f" "x"] "y" :1 ["g" "m" "1"]]`
	want3 := `[_ _ _ _ _ _ _ _ :2 ["f" "x"] "y" :1 ["g" "m" ,1]]`
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		for _, proto := range []int{2, 3} {
			e.ctl.run(blkStep{"FLUSHALL", "+OK"})
			c := e.dial(proto)
			c.run(blkStep{"MULTI", "+OK"})
			for _, q := range queued {
				c.run(blkStep{q, "+QUEUED"})
			}
			start := time.Now()
			want := want2
			if proto == 3 {
				want = want3
			}
			require.Equal(t, want, c.do("EXEC"), "RESP%d", proto)
			require.Less(t, time.Since(start), 3*time.Second, "EXEC waited")
			c.run(blkStep{"LRANGE d 0 -1", `["y"]`})

			s := func(script string, keys ...string) string {
				return fmt.Sprintf("EVAL %q %d %s", script, len(keys), strings.Join(keys, " "))
			}
			null := "$-1"
			if proto == 3 {
				null = "_"
			}
			for _, st := range []blkStep{
				{s("return redis.call('blmpop', 0, 1, KEYS[1], 'left')", "e"), null},
				{s("return redis.call('blmpop', 10, 2, KEYS[1], KEYS[2], 'right')", "e", "e2"), null},
				{s("return redis.call('bzmpop', 0, 1, KEYS[1], 'max')", "z"), null},
				{s("return redis.call('blmpop', 0, 1, KEYS[1], 'left') == false and 'false' or 'other'", "e"), `"false"`},
				{s("redis.call('rpush', KEYS[1], 'a', 'b'); return redis.call('blmpop', 0, 1, KEYS[1], 'right')", "f"), `["f" ["b"]]`},
				{s("redis.call('zadd', KEYS[1], 2, 'a'); return redis.call('bzmpop', 0, 1, KEYS[1], 'min')", "g"), `["g" [["a" "2"]]]`},
				{s("return redis.pcall('blmpop', 'x', 1, KEYS[1], 'left')", "e"), "-ERR timeout is not a float or out of range"},
			} {
				start := time.Now()
				require.Equal(t, st.want, c.do(st.cmd), "RESP%d %s", proto, st.cmd)
				require.Less(t, time.Since(start), 3*time.Second, "%s waited", st.cmd)
			}
			// The others are noscript in Redis 7.0: refused, even where
			// they would not block.
			for _, script := range []string{
				"return redis.call('blpop', KEYS[1], 0)",
				"return redis.call('brpop', KEYS[1], 1)",
				"return redis.call('blmove', KEYS[1], 'd', 'left', 'left', 0)",
				"return redis.call('brpoplpush', KEYS[1], 'd', 0)",
				"return redis.call('bzpopmin', 'g', 0)",
				"return redis.call('bzpopmax', 'g', 0)",
			} {
				got := c.do(s(script, "f"))
				require.True(t, strings.HasPrefix(got, "-ERR This Redis command is not allowed from script"), "RESP%d %s: %s", proto, script, got)
			}
			c.run(blkStep{"LRANGE f 0 -1", `["a"]`})
		}
		require.Equal(t, 0, e.blocked())
	})
}

// TestBlockManyKeysAndTypes: a client blocked on several keys is served
// by a write to any of them, and only in its own database; BLPOP meets a
// key of another type as Redis does.
func TestBlockManyKeysAndTypes(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		w := e.dial(2)
		for _, key := range []string{"c", "a", "b"} {
			w.send("BLPOP a b c 0")
			e.waitBlocked(1)
			e.ctl.run(blkStep{"RPUSH " + key + " v", ":1"})
			require.Equal(t, `["`+key+`" "v"]`, w.recv())
		}
		// Two keys ready at once: the first named wins.
		e.ctl.run(blkStep{"MULTI", "+OK"}, blkStep{"RPUSH c 3", "+QUEUED"}, blkStep{"RPUSH b 2", "+QUEUED"}, blkStep{"EXEC", "[:1 :1]"})
		w.run(blkStep{"BLPOP a b c 0", `["b" "2"]`})
		e.ctl.run(blkStep{"DEL c", ":1"})

		// Another database's key of the same name serves nobody.
		w.run(blkStep{"SELECT 3", "+OK"})
		w.send("BZPOPMIN a z 0")
		e.waitBlocked(1)
		e.ctl.run(blkStep{"ZADD z 1 m", ":1"}, blkStep{"RPUSH a x", ":1"})
		w.quiet()
		e.ctl.run(blkStep{"SELECT 3", "+OK"}, blkStep{"ZADD z 1 m", ":1"}, blkStep{"SELECT 0", "+OK"})
		require.Equal(t, `["z" "m" "1"]`, w.recv())
		w.run(blkStep{"SELECT 0", "+OK"})
		e.ctl.run(blkStep{"FLUSHALL", "+OK"})

		// Keys of the wrong type: an error at once, unless a list comes
		// first; keys that do not exist are skipped.
		const wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"
		e.ctl.run(blkStep{"SET s str", "+OK"}, blkStep{"ZADD z 1 m", ":1"}, blkStep{"RPUSH l v", ":1"})
		w.run(
			blkStep{"BLPOP s l 0", wrongType},
			blkStep{"BLPOP none s 0", wrongType},
			blkStep{"BRPOP z 0", wrongType},
			blkStep{"BLMPOP 0 2 none z LEFT", wrongType},
			blkStep{"BZPOPMIN l 0", wrongType},
			blkStep{"BZMPOP 0 2 none s MIN", wrongType},
			blkStep{"BLMOVE s l LEFT LEFT 0", wrongType},
			blkStep{"BLMOVE l s LEFT LEFT 0", wrongType}, // the destination's type too, and l keeps its element
			blkStep{"BRPOPLPUSH none s 0.01", "*-1"},     // the destination is not looked at while the source is empty
			blkStep{"LLEN l", ":1"},
			blkStep{"BLPOP l s 0", `["l" "v"]`},
		)
		require.Equal(t, 0, e.blocked())

		// BLMOVE blocked on its source finds, when served, a destination
		// of the wrong type: an error, and the source keeps its element.
		w.send("BLMOVE src s LEFT LEFT 0")
		e.waitBlocked(1)
		e.ctl.run(blkStep{"RPUSH src v", ":1"})
		require.Equal(t, wrongType, w.recv())
		e.waitBlocked(0)
		e.ctl.run(blkStep{"LRANGE src 0 -1", `["v"]`})
	})
}

// TestBlockServedFromKeyReadyFirst: when a transaction or a script writes
// several of the keys a client waits on, Redis serves it from the key
// that was written first (the keys become ready in that order), not from
// the first key it named.
func TestBlockServedFromKeyReadyFirst(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		w := e.dial(3)
		for _, tc := range []struct {
			block  string
			writes []blkStep
			want   string
		}{
			{"BLPOP a b 0", []blkStep{{"MULTI", "+OK"}, {"RPUSH b 1", "+QUEUED"}, {"RPUSH a 2", "+QUEUED"}, {"EXEC", "[:1 :1]"}}, `["b" "1"]`},
			{"BZPOPMIN a b 0", []blkStep{{"MULTI", "+OK"}, {"ZADD b 1 x", "+QUEUED"}, {"ZADD a 2 y", "+QUEUED"}, {"EXEC", "[:1 :1]"}}, `["b" "x" ,1]`},
			{"BLMPOP 0 2 a b LEFT", []blkStep{{`EVAL "redis.call('rpush',KEYS[1],'1'); redis.call('rpush',KEYS[2],'2')" 2 b a`, "$-1"}}, `["b" ["1"]]`},
		} {
			e.ctl.run(blkStep{"FLUSHALL", "+OK"})
			w.send(tc.block)
			e.waitBlocked(1)
			e.ctl.run(tc.writes...)
			assert.Equal(t, tc.want, w.recv(), "%s", tc.block)
			e.waitBlocked(0)
		}
	})
}

// TestBlockKeyBecomesString: a key waited on that becomes a string does
// not end the wait in Redis 7.0 (only a list or sorted set serves it); the
// client is served once the key is a list again.
func TestBlockKeyBecomesString(t *testing.T) {
	const wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		t.Run("one-key", func(t *testing.T) {
			e := e.sub(t)
			w := e.dial(2)
			w.send("BLPOP k1 0")
			e.waitBlocked(1)
			e.ctl.run(blkStep{"SET k1 str", "+OK"})
			w.quiet()
			e.ctl.run(blkStep{"LPUSH k1 x", wrongType})
			require.Equal(t, 1, e.blocked())
			e.ctl.run(blkStep{"DEL k1", ":1"}, blkStep{"RPUSH k1 x", ":1"})
			require.Equal(t, `["k1" "x"]`, w.recv())
			e.ctl.run(blkStep{"EXISTS k1", ":0"})
			e.waitBlocked(0)
		})
		// Blocked on two keys, one of which becomes a string: the other
		// still serves it.
		t.Run("two-keys", func(t *testing.T) {
			e := e.sub(t)
			w := e.dial(2)
			w.send("BLPOP k2 k3 0")
			e.waitBlocked(1)
			e.ctl.run(blkStep{"SET k2 str", "+OK"})
			w.quiet()
			e.ctl.run(blkStep{"RPUSH k3 y", ":1"})
			require.Equal(t, `["k3" "y"]`, w.recv())
			e.waitBlocked(0)
		})
		// A sorted set that becomes a list likewise.
		t.Run("zset", func(t *testing.T) {
			e := e.sub(t)
			w := e.dial(2)
			w.send("BZPOPMIN z 0")
			e.waitBlocked(1)
			e.ctl.run(blkStep{"RPUSH z notazset", ":1"})
			w.quiet()
			e.ctl.run(blkStep{"DEL z", ":1"}, blkStep{"ZADD z 1 m", ":1"})
			require.Equal(t, `["z" "m" "1"]`, w.recv())
			e.waitBlocked(0)
		})
	})
}

// TestBlockDisconnect: a blocked client that goes away, by closing its
// connection or by CLIENT KILL, is no longer blocked and takes nothing:
// an element pushed afterwards stays, or goes to the next client waiting.
func TestBlockDisconnect(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		w := e.dial(2)
		w.send("BLPOP k 0")
		e.waitBlocked(1)
		w.nc.Close()
		e.waitBlocked(0)
		e.ctl.run(blkStep{"RPUSH k v", ":1"}, blkStep{"LRANGE k 0 -1", `["v"]`}, blkStep{"DEL k", ":1"})

		// Closed in front of another client: that one is served.
		first, second := e.dial(2), e.dial(3)
		first.send("BZPOPMAX z 0")
		e.waitBlocked(1)
		second.send("BZPOPMAX z 0")
		e.waitBlocked(2)
		first.nc.Close()
		e.waitBlocked(1)
		e.ctl.run(blkStep{"ZADD z 1 a 2 b", ":2"})
		require.Equal(t, `["z" "b" ,2]`, second.recv())
		e.ctl.run(blkStep{"ZRANGE z 0 -1", `["a"]`}, blkStep{"DEL z", ":1"})

		// CLIENT KILL.
		for _, how := range []string{"ID", "ADDR"} {
			k := e.dial(2)
			id := k.clientID()
			k.send("BLMOVE src dst LEFT LEFT 0")
			e.waitBlocked(1)
			target := id
			if how == "ADDR" {
				target = k.nc.LocalAddr().String()
			}
			e.ctl.run(blkStep{"CLIENT KILL " + how + " " + target, ":1"})
			e.waitBlocked(0)
			e.ctl.run(blkStep{"RPUSH src v", ":1"}, blkStep{"LRANGE src 0 -1", `["v"]`}, blkStep{"EXISTS dst", ":0"}, blkStep{"DEL src", ":1"})
			_, err := k.readRV()
			require.Error(t, err, "killed connection")
		}
	})
}

// TestBlockDisconnectAfterMoreInput: a blocked client that sent another
// command while it waited (Redis reads it, and holds it until the client
// is served), then disconnects or is killed, is freed as any other: an
// element pushed afterwards stays in the list.
func TestBlockDisconnectAfterMoreInput(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		for _, how := range []string{"close", "kill"} {
			t.Run(how, func(t *testing.T) {
				e := e.sub(t)
				key := "k-" + how
				base := e.blocked() // a client left blocked by a failure before
				w := e.dial(2)
				id := w.clientID()
				w.send("BLPOP " + key + " 0")
				e.waitBlocked(base + 1)
				w.send("PING") // a write of its own, after the server has blocked the client
				w.quiet()      // and time for the server to see it
				if how == "close" {
					w.nc.Close()
				} else {
					e.ctl.run(blkStep{"CLIENT KILL ID " + id, ":1"})
				}
				e.waitBlocked(base)
				e.ctl.run(blkStep{"RPUSH " + key + " v", ":1"}, blkStep{"LRANGE " + key + " 0 -1", `["v"]`})
			})
		}
	})
}

// TestBlockPipelined: replies to the commands pipelined before a blocking
// command arrive while it waits; commands after it, in the same write or
// sent while it waits, run once it is served, in order.
func TestBlockPipelined(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		for _, proto := range []int{2, 3} {
			e.ctl.run(blkStep{"FLUSHALL", "+OK"})
			w := e.dial(proto)
			w.send("SET p 1", "INCR p", "BLPOP pk 0", "GET p", "LLEN pk")
			require.Equal(t, "+OK", w.recv())
			require.Equal(t, ":2", w.recv())
			e.waitBlocked(1)
			w.quiet()
			e.ctl.run(blkStep{"RPUSH pk a b", ":2"})
			require.Equal(t, `["pk" "a"]`, w.recv())
			require.Equal(t, `"2"`, w.recv())
			require.Equal(t, ":1", w.recv(), "LLEN ran after BLPOP was served")

			// Inline commands, in one write.
			w.write([]byte("PING\r\nBZPOPMIN pz 0\r\nECHO after\r\n"))
			require.Equal(t, "+PONG", w.recv())
			e.waitBlocked(1)
			w.quiet()
			e.ctl.run(blkStep{"ZADD pz 2 m", ":1"})
			if proto == 2 {
				require.Equal(t, `["pz" "m" "2"]`, w.recv())
			} else {
				require.Equal(t, `["pz" "m" ,2]`, w.recv())
			}
			require.Equal(t, `"after"`, w.recv())

			// Sent while it waits: not run until it is served.
			w.send("BRPOP pk2 0")
			e.waitBlocked(1)
			w.send("RPUSH pk2 mine", "LLEN pk2")
			w.quiet()
			require.Equal(t, 1, e.blocked())
			e.ctl.run(blkStep{"RPUSH pk2 theirs", ":1"})
			require.Equal(t, `["pk2" "theirs"]`, w.recv())
			require.Equal(t, ":1", w.recv())
			require.Equal(t, ":1", w.recv())
			e.waitBlocked(0)
		}
	})
}

// TestBlockOthersRun: blocked clients hold nothing: other clients' EXEC
// and EVAL run while they wait, and serve them when they write their
// keys, but only with what is left when they end (they are atomic).
// CLIENT LIST flags a blocked client b; INFO counts it.
func TestBlockOthersRun(t *testing.T) {
	flagsRE := regexp.MustCompile(` flags=(\S*) `)
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		flags := func(id string) string {
			v := e.ctl.req("CLIENT", "LIST", "ID", id)
			m := flagsRE.FindStringSubmatch(v.str)
			require.NotNil(t, m, "CLIENT LIST ID %s: %q", id, v.str)
			return m[1]
		}
		c1, c2 := e.dial(2), e.dial(3)
		id1, id2 := c1.clientID(), c2.clientID()
		require.Equal(t, "N", flags(id1))
		c1.send("BLPOP q1 0")
		e.waitBlocked(1)
		c2.send("BZPOPMIN qz 0")
		e.waitBlocked(2)
		require.Equal(t, "b", flags(id1))
		require.Equal(t, "b", flags(id2))
		line := e.ctl.req("CLIENT", "LIST", "ID", id1).str
		require.Contains(t, line, " cmd=blpop ", "CLIENT LIST of a blocked client: %q", line)

		e.ctl.run(
			blkStep{"MULTI", "+OK"}, blkStep{"SET x 1", "+QUEUED"}, blkStep{"INCR x", "+QUEUED"}, blkStep{"EXEC", "[+OK :2]"},
			blkStep{`EVAL "return redis.call('incr',KEYS[1])" 1 x`, ":3"},
			// Pushed and popped within one EXEC or EVAL: nothing for them.
			blkStep{"MULTI", "+OK"}, blkStep{"RPUSH q1 a", "+QUEUED"}, blkStep{"LPOP q1", "+QUEUED"}, blkStep{"EXEC", `[:1 "a"]`},
			blkStep{`EVAL "redis.call('zadd',KEYS[1],1,'m'); return redis.call('zpopmin',KEYS[1])" 1 qz`, `["m" "1"]`},
		)
		c1.quiet()
		c2.quiet()
		require.Equal(t, 2, e.blocked())

		e.ctl.run(blkStep{"MULTI", "+OK"}, blkStep{"RPUSH q1 a b", "+QUEUED"}, blkStep{"ZADD qz 2 n", "+QUEUED"}, blkStep{"EXEC", "[:2 :1]"})
		require.Equal(t, `["q1" "a"]`, c1.recv())
		require.Equal(t, `["qz" "n" ,2]`, c2.recv())
		e.waitBlocked(0)
		require.Equal(t, "N", flags(id1))
		e.ctl.run(blkStep{"LRANGE q1 0 -1", `["b"]`})

		c1.send("BRPOP q2 0")
		e.waitBlocked(1)
		e.ctl.run(blkStep{`EVAL "return redis.call('rpush',KEYS[1],'v')" 1 q2`, ":1"})
		require.Equal(t, `["q2" "v"]`, c1.recv())
		e.waitBlocked(0)
	})
}

// TestBlockManyConsumers: 20 clients blocked with BRPOP or BLMPOP on two
// lists, 5 producers pushing 2000 elements in batches to either: every
// element is received exactly once. Then the consumers, all blocked
// again, disconnect, and no client is left blocked.
func TestBlockManyConsumers(t *testing.T) {
	const consumers, producers, perProducer = 20, 5, 400
	const total = producers * perProducer
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		var received atomic.Int64
		got := make([][]string, consumers)
		errs := make(chan error, consumers+producers)
		var cwg sync.WaitGroup
		conns := make([]*blkConn, consumers)
		for i := range consumers {
			c := e.dial(2 + i%2)
			conns[i] = c
			cmd := encodeCommand([]string{"BRPOP", "q1", "q2", "0"})
			if i%4 == 3 {
				cmd = encodeCommand([]string{"BLMPOP", "0", "2", "q2", "q1", "LEFT", "COUNT", "3"})
			}
			cwg.Go(func() {
				for {
					if _, err := c.nc.Write(cmd); err != nil {
						return // closed at the end
					}
					c.nc.SetReadDeadline(time.Time{}) // blocked until the end
					v, err := readReply(c.br)
					if err != nil {
						return
					}
					if v.typ != '*' || len(v.elems) != 2 {
						errs <- fmt.Errorf("consumer %d: reply %s", i, v)
						return
					}
					if v.elems[1].typ == '$' {
						got[i] = append(got[i], v.elems[1].str)
						received.Add(1)
						continue
					}
					for _, el := range v.elems[1].elems {
						got[i] = append(got[i], el.str)
					}
					received.Add(int64(len(v.elems[1].elems)))
				}
			})
		}
		var pwg sync.WaitGroup
		for p := range producers {
			c := e.dial(2)
			r := rand.New(rand.NewPCG(uint64(p), 1))
			pwg.Go(func() {
				for j := 0; j < perProducer; {
					n := min(1+r.IntN(5), perProducer-j)
					args := []string{"LPUSH", "q" + strconv.Itoa(1+r.IntN(2))}
					if r.IntN(2) == 0 {
						args[0] = "RPUSH"
					}
					for k := range n {
						args = append(args, fmt.Sprintf("p%d-%d", p, j+k))
					}
					j += n
					c.nc.SetDeadline(time.Now().Add(blkReplyWait))
					if _, err := c.nc.Write(encodeCommand(args)); err != nil {
						errs <- err
						return
					}
					if v, err := readReply(c.br); err != nil || v.typ != ':' {
						errs <- fmt.Errorf("producer %d: %s %v", p, v, err)
						return
					}
				}
			})
		}
		pwg.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for received.Load() < total && time.Now().Before(deadline) && len(errs) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		e.waitBlocked(consumers) // all waiting again: nothing left for them
		for _, c := range conns {
			c.nc.Close()
		}
		cwg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		var all []string
		for _, g := range got {
			all = append(all, g...)
		}
		slices.Sort(all)
		var want []string
		for p := range producers {
			for j := range perProducer {
				want = append(want, fmt.Sprintf("p%d-%d", p, j))
			}
		}
		slices.Sort(want)
		require.Equal(t, len(want), len(all), "elements received")
		require.Equal(t, want, all, "every element exactly once")
		e.ctl.run(blkStep{"EXISTS q1 q2", ":0"})
		e.waitBlocked(0)
	})
}

// TestBlockLeavesEventLoop: a client that blocks leaves its event loop
// for a goroutine of its own, so that the loop goes on serving the
// others, and is served there.
func TestBlockLeavesEventLoop(t *testing.T) {
	if runtime.GOOS != "linux" || os.Getenv("SESSIOND_TEST_EVENT_LOOPS") == "-1" {
		t.Skip("no event loops: they are Linux only, and SESSIOND_TEST_EVENT_LOOPS=-1 turns them off")
	}
	sd := testserver.Start(t, testserver.WithConfig("event-loops", "1"))
	e := newBlkEnv(t, sd.Addr)
	w, other := e.dial(2), e.dial(2)
	w.run(blkStep{"PING", "+PONG"})
	other.run(blkStep{"PING", "+PONG"})
	requireLoopConns(t, sd, 3)

	// Not blocking (there is something, or the timeout argument is bad):
	// it stays on the loop.
	w.run(blkStep{"RPUSH k a", ":1"}, blkStep{"BLPOP k 0", `["k" "a"]`}, blkStep{"BLPOP k x", "-ERR timeout is not a float or out of range"})
	requireLoopConns(t, sd, 3)

	w.send("PING", "BLPOP k 0")
	require.Equal(t, "+PONG", w.recv())
	e.waitBlocked(1)
	requireLoopConns(t, sd, 2)
	other.run(blkStep{"PING", "+PONG"})
	other.run(blkStep{"RPUSH k v", ":1"})
	require.Equal(t, `["k" "v"]`, w.recv())
	w.run(blkStep{"PING", "+PONG"})
	requireLoopConns(t, sd, 2)
}

// TestBlockServedBeforeNextCommand: Redis serves blocked clients right
// after the command whose write woke them, before the writer's next
// command, so a pipelined RPUSH and LPOP from the producer find the
// element already taken; and two clients blocked on one key are both
// served by one push of two elements before anything else runs.
func TestBlockServedBeforeNextCommand(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		e.ctl.run(blkStep{"FLUSHALL", "+OK"})
		a := e.dial(2)
		a.send("BLPOP q 0")
		e.waitBlocked(1)
		e.ctl.send("RPUSH q x", "LPOP q")
		require.Equal(t, ":1", e.ctl.recv())
		require.Equal(t, "$-1", e.ctl.recv())
		require.Equal(t, `["q" "x"]`, a.recv())

		b, c := e.dial(2), e.dial(2)
		b.send("BRPOP r 0")
		e.waitBlocked(1)
		c.send("BRPOP r 0")
		e.waitBlocked(2)
		e.ctl.send("RPUSH r 1 2", "LLEN r")
		require.Equal(t, ":2", e.ctl.recv())
		require.Equal(t, ":0", e.ctl.recv())
		require.Equal(t, `["r" "2"]`, b.recv())
		require.Equal(t, `["r" "1"]`, c.recv())
	})
}

// TestBlockClientUnblock: CLIENT UNBLOCK ends a blocking command as a
// timeout (a null array, even for BLMOVE) or with -UNBLOCKED, and replies
// 1; 0 for a client that is not blocked or does not exist; the reason is
// checked before the id.
func TestBlockClientUnblock(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		a, a3 := e.dial(2), e.dial(3)
		id, id3 := a.clientID(), a3.clientID()
		e.ctl.run(
			blkStep{"CLIENT UNBLOCK " + id, ":0"},
			blkStep{"CLIENT UNBLOCK 999999", ":0"},
			blkStep{"CLIENT UNBLOCK abc", "-ERR value is not an integer or out of range"},
			blkStep{"CLIENT UNBLOCK abc foo", "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"},
		)
		a.send("BLMOVE q d LEFT LEFT 0")
		e.waitBlocked(1)
		e.ctl.run(blkStep{"CLIENT UNBLOCK " + id, ":1"})
		require.Equal(t, "*-1", a.recv())
		a3.send("BLPOP q 0")
		e.waitBlocked(1)
		e.ctl.run(blkStep{"CLIENT UNBLOCK " + id3 + " timeout", ":1"})
		require.Equal(t, "_", a3.recv())
		a.send("BZPOPMIN z 0")
		e.waitBlocked(1)
		e.ctl.run(blkStep{"CLIENT UNBLOCK " + id + " ERROR", ":1"})
		require.Equal(t, "-UNBLOCKED client unblocked via CLIENT UNBLOCK", a.recv())
		e.waitBlocked(0)
		// Unblocked, it gives up its place: the next push goes to nobody.
		e.ctl.run(blkStep{"RPUSH q x", ":1"}, blkStep{"LLEN q", ":1"})
	})
}
