package resp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// rawOutcome is what a server answered to raw bytes: its reply bytes, and
// whether it closed the connection.
type rawOutcome struct {
	reply  string
	closed bool
}

// sendRaw writes data (in chunks of chunk bytes, 0: at once) and collects
// the reply until the server closes or the exchange goes quiet for quiet
// (no reply bytes, and no progress writing data).
func sendRaw(t *testing.T, addr string, data []byte, chunk int, quiet time.Duration) rawOutcome {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	// Quiet means nothing read and nothing written: sending a large request
	// 7 bytes at a time can itself take longer than quiet on a loaded
	// machine, and the server may rightly say nothing until it is whole.
	var wrote atomic.Int64 // Unix ns of the writer's last progress
	wrote.Store(time.Now().UnixNano())
	go func() {
		defer wrote.Store(time.Now().UnixNano())
		if chunk <= 0 {
			c.Write(data)
			return
		}
		for i := 0; i < len(data); i += chunk {
			if _, err := c.Write(data[i:min(i+chunk, len(data))]); err != nil {
				return
			}
			wrote.Store(time.Now().UnixNano())
		}
	}()
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(quiet)
	for {
		c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err == nil {
			deadline = time.Now().Add(quiet)
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if w := time.Unix(0, wrote.Load()).Add(quiet); w.After(deadline) {
				deadline = w // the writer got on since: not quiet yet
				continue
			}
			return rawOutcome{reply: out.String()}
		}
		return rawOutcome{reply: out.String(), closed: true}
	}
}

var protocolCases = []string{
	"*0\r\n*1\r\n$4\r\nPING\r\n",
	"*-1\r\n*1\r\n$4\r\nPING\r\n",
	"*-5\r\nPING\r\n",
	"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
	"*1\rX$4\rYPING\r\n",
	"*1\r\n$4\r\nPING\r\n*x\r\n",
	"*01\r\n$4\r\nPING\r\n",
	"*1\r\n$04\r\nPING\r\n",
	"*1\r\n$-1\r\n",
	"*1\r\n$-0\r\n",
	"*1\r\nx4\r\nPING\r\n",
	"*1\r\n\r4\r\nPING\r\n",
	"*1\r\n$536870913\r\n",
	"*1\r\n$536870912\r\n",
	"*2147483648\r\n",
	"*2147483647\r\n",
	"*+1\r\n$4\r\nPING\r\n",
	"*1\n$4\r\nPING\r\n",
	"PING\r\n\"unbal\r\nPING\r\n",
	"*1\r\n$4\r\nPING\r\n" + strings.Repeat("x", 70000),
	"*1" + strings.Repeat("1", 70000),
	"*1\r\n$4" + strings.Repeat("4", 70000),
	"*1\r\n$9999999999999999999999\r\n",
	"\r\n\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nGET k\r\n",
	"*1\r\n$4\r\nPING",
	"*2\r\n$4\r\nECHO\r\n$3\r\nab",
	"ECHO x\r\n*2\r\n$4\r\nECHO\r\n$1\r\ny\r\nECHO 'a b'\r\n*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n",
	"*2\r\n$4\r\nECHO\r\n$-1\r\n",
	"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n",
}

// compareRaw sends every case to both servers, concurrently (each case
// waits for silence), and compares replies and closes.
func compareRaw(t *testing.T, sd, rd string, cases []string) {
	type res struct{ red, sd, sdChunked rawOutcome }
	results := make([]res, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := 400 * time.Millisecond
			results[i].red = sendRaw(t, rd, []byte(c), 0, q)
			results[i].sd = sendRaw(t, sd, []byte(c), 0, q)
			chunk := 1 + i%3
			if len(c) > 1000 {
				chunk = 1000 + i
			}
			results[i].sdChunked = sendRaw(t, sd, []byte(c), chunk, q)
		}()
	}
	wg.Wait()
	for i, c := range cases {
		name := c
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		assert.Equal(t, results[i].red, results[i].sd, "%q: sessiond differs from redis", name)
		assert.Equal(t, results[i].red, results[i].sdChunked, "%q sent in small pieces: sessiond differs from redis", name)
	}
}

// TestProtocolErrorsMatchRedis sends malformed, oversized and odd requests
// over raw TCP to sessiond and redis-server: same replies, same closes.
func TestProtocolErrorsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	compareRaw(t, sd.Addr, red.Addr, protocolCases)
}

// TestUnauthenticatedLimitsMatchRedis: before AUTH, Redis refuses more
// than 10 arguments and bulks over 16 KB; AUTH in the same pipeline lifts it.
func TestUnauthenticatedLimitsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, addr := range []string{red.Addr, sd.Addr} {
		rc := redis.NewClient(&redis.Options{Addr: addr})
		require.NoError(t, rc.ConfigSet(t.Context(), "requirepass", "pw").Err())
		rc.Close()
	}
	big := strings.Repeat("v", 20000)
	cases := []string{
		"*11\r\n" + strings.Repeat("$1\r\nx\r\n", 11),
		"*10\r\n" + strings.Repeat("$1\r\nx\r\n", 10),
		"*2\r\n$4\r\nECHO\r\n$20000\r\n" + big + "\r\n",
		"*2\r\n$4\r\nECHO\r\n$16384\r\n" + big[:16384] + "\r\n",
		"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n" + big + "\r\n*11\r\n$4\r\nMGET\r\n" + strings.Repeat("$1\r\nx\r\n", 10),
		"AUTH pw\r\n*11\r\n$4\r\nMGET\r\n" + strings.Repeat("$1\r\nx\r\n", 10),
		"*2\r\n$4\r\nAUTH\r\n$2\r\nno\r\n*11\r\n$4\r\nMGET\r\n" + strings.Repeat("$1\r\nx\r\n", 10),
	}
	compareRaw(t, sd.Addr, red.Addr, cases)
}

// TestBadClientsDoNotDisturbOthers: while hostile clients send garbage,
// huge announced sizes and half requests that stall, a normal client's
// commands are answered at once and the server stays up.
func TestBadClientsDoNotDisturbOthers(t *testing.T) {
	sd := testserver.Start(t)
	var bad []net.Conn
	for _, s := range []string{
		"*2\r\n$3\r\nGET", // half a command, then silence
		"*2147483647\r\n$1\r\nx\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nabc",
		"*1\r\n$4\r\nPI", // stalls mid-bulk
		"GET ",           // stalls mid-inline
		"\x00\xff\x01garbage*$\r\n",
	} {
		c, err := net.Dial("tcp", sd.Addr)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte(s))
		require.NoError(t, err)
		bad = append(bad, c)
	}
	rc := redis.NewClient(&redis.Options{Addr: sd.Addr})
	defer rc.Close()
	for i := range 200 {
		start := time.Now()
		require.NoError(t, rc.Set(t.Context(), "good", i, 0).Err())
		v, err := rc.Get(t.Context(), "good").Int()
		require.NoError(t, err)
		require.Equal(t, i, v)
		require.Less(t, time.Since(start), time.Second)
	}
	// The stalled half command is still pending, not executed, not closed.
	bad[0].SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := bad[0].Read(make([]byte, 1))
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "the stalled client got %v", err)
	// ...and completing it later works.
	_, err = bad[0].Write([]byte("\r\n$4\r\ngood\r\n"))
	require.NoError(t, err)
	bad[0].SetReadDeadline(time.Now().Add(2 * time.Second))
	got := make([]byte, 64)
	n, err := bad[0].Read(got)
	require.NoError(t, err)
	require.Equal(t, "$3\r\n199\r\n", string(got[:n]))
}

// TestQueryBufferLimit: a request larger than client-query-buffer-limit
// closes its connection without a reply, before it is all buffered.
func TestQueryBufferLimit(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("client-query-buffer-limit", "1mb"))
	red := testserver.StartRedis(t, "--client-query-buffer-limit", "1mb")
	req := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n" + strings.Repeat("v", 2000000) + "\r\n*1\r\n$4\r\nPING\r\n"
	for _, addr := range []string{sd.Addr, red.Addr} {
		o := sendRaw(t, addr, []byte(req), 0, 2*time.Second)
		assert.Equal(t, rawOutcome{closed: true}, o, addr)
	}
	// Many arguments count too: 200k empty ones are over 1 MB with their overhead.
	many := "*200001\r\n$4\r\nMSET\r\n" + strings.Repeat("$0\r\n\r\n", 200000)
	o := sendRaw(t, sd.Addr, []byte(many), 0, 2*time.Second)
	assert.Equal(t, rawOutcome{closed: true}, o)
	// Just under the limit is fine.
	rc := redis.NewClient(&redis.Options{Addr: sd.Addr})
	defer rc.Close()
	require.NoError(t, rc.Set(t.Context(), "k", strings.Repeat("v", 900000), 0).Err())
	require.Equal(t, int64(900000), rc.StrLen(t.Context(), "k").Val())
}

// TestManyArgumentsHeldUntilComplete: a request announcing many arguments
// is answered correctly however it is split (redcon only sees it whole).
func TestManyArgumentsHeldUntilComplete(t *testing.T) {
	sd := testserver.Start(t)
	const n = 5000
	var b strings.Builder
	b.WriteString("*10001\r\n$4\r\nMSET\r\n")
	for i := range n {
		fmt.Fprintf(&b, "$7\r\nk%06d\r\n$1\r\nv\r\n", i)
	}
	req := []byte(b.String() + "*2\r\n$6\r\nEXISTS\r\n$7\r\nk004242\r\n")
	for _, chunk := range []int{0, 1000, 7} {
		o := sendRaw(t, sd.Addr, req, chunk, 500*time.Millisecond)
		assert.Equal(t, rawOutcome{reply: "+OK\r\n:1\r\n"}, o, "chunk %d", chunk)
	}
}

// TestOutputBufferHardLimit: a reply at or over the normal class's hard
// limit closes the client, as in Redis.
func TestOutputBufferHardLimit(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("client-output-buffer-limit", "normal 100kb 0 0"))
	red := testserver.StartRedis(t, "--client-output-buffer-limit", "normal 100kb 0 0")
	for _, addr := range []string{sd.Addr, red.Addr} {
		rc := redis.NewClient(&redis.Options{Addr: addr})
		require.NoError(t, rc.Set(t.Context(), "big", strings.Repeat("v", 200000), 0).Err())
		rc.Close()
		o := sendRaw(t, addr, []byte("GET big\r\n"), 0, time.Second)
		assert.True(t, o.closed, addr)
		assert.Less(t, len(o.reply), 200000, addr)
		o = sendRaw(t, addr, []byte("GETRANGE big 0 999\r\n"), 0, 300*time.Millisecond)
		assert.False(t, o.closed, addr)
		assert.Len(t, o.reply, 1000+9, addr)
	}
}

// TestOutputBufferSoftLimit: a client that pipelines commands and never
// reads is disconnected once its pending replies stay over the soft limit,
// and the server does not buffer its replies meanwhile.
func TestOutputBufferSoftLimit(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("client-output-buffer-limit", "normal 0 256kb 1"))
	rc := redis.NewClient(&redis.Options{Addr: sd.Addr})
	defer rc.Close()
	require.NoError(t, rc.Set(t.Context(), "big", strings.Repeat("v", 100000), 0).Err())
	c, err := net.Dial("tcp", sd.Addr)
	require.NoError(t, err)
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	go func() {
		req := []byte(strings.Repeat("GET big\r\n", 100))
		for range 100 { // 1 GB of replies if they were all produced
			if _, err := c.Write(req); err != nil {
				return
			}
		}
	}()
	time.Sleep(3500 * time.Millisecond)
	var got int64
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err = io.Copy(io.Discard, c)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the client was not disconnected")
	assert.Less(t, got, int64(50<<20), "the server kept producing replies")
	// Others are fine.
	require.Equal(t, int64(100000), rc.StrLen(t.Context(), "big").Val())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("received %d bytes before the disconnect; heap in use %d MB", got, ms.HeapInuse>>20)
}

// TestOutputBufferLimitConfig: CONFIG SET and GET of
// client-output-buffer-limit, and the size limits, as Redis.
func TestOutputBufferLimitConfig(t *testing.T) {
	sd := testserver.Start(t)
	red := testserver.StartRedis(t)
	for _, addr := range []string{sd.Addr, red.Addr} {
		rc := redis.NewClient(&redis.Options{Addr: addr})
		ctx := t.Context()
		get := func() string {
			return rc.ConfigGet(ctx, "client-output-buffer-limit").Val()["client-output-buffer-limit"]
		}
		assert.Equal(t, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", get(), addr)
		require.NoError(t, rc.ConfigSet(ctx, "client-output-buffer-limit", "normal 1mb 2mb 3").Err())
		assert.Equal(t, "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60", get(), addr)
		require.NoError(t, rc.ConfigSet(ctx, "client-output-buffer-limit", "replica 1mb 2mb 3 pubsub 0 0 0").Err())
		assert.Equal(t, "normal 1048576 2097152 3 slave 1048576 2097152 3 pubsub 0 0 0", get(), addr)
		for _, bad := range []string{"master 1 1 1", "normal 1 1", "normal x 1 1", "normal 1 1 -1"} {
			err := rc.ConfigSet(ctx, "client-output-buffer-limit", bad).Err()
			require.Error(t, err, addr)
			assert.Contains(t, err.Error(), "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ", addr)
		}
		for _, name := range []string{"proto-max-bulk-len", "client-query-buffer-limit"} {
			err := rc.ConfigSet(ctx, name, "1000").Err()
			require.Error(t, err)
			assert.Equal(t, "ERR CONFIG SET failed (possibly related to argument '"+name+"') - argument must be between 1048576 and 9223372036854775807 inclusive", err.Error(), addr)
		}
		require.NoError(t, rc.ConfigSet(ctx, "proto-max-bulk-len", "1mb").Err())
		rc.Close()
		o := sendRaw(t, addr, []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n"), 0, 300*time.Millisecond)
		assert.Equal(t, rawOutcome{reply: "-ERR Protocol error: invalid bulk length\r\n", closed: true}, o, addr)
	}
}

// TestMaxClients: a connection over maxclients gets Redis's error and is
// closed; the others keep working, and a slot frees when one leaves.
func TestMaxClients(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("maxclients", "3"))
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", sd.Addr)
		require.NoError(t, err)
		defer c.Close()
		conns = append(conns, c)
		require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, c, "PING\r\n"))
	}
	o := sendRaw(t, sd.Addr, []byte("PING\r\n"), 0, time.Second)
	require.Equal(t, rawOutcome{reply: "-ERR max number of clients reached\r\n", closed: true}, o)
	conns[0].Close()
	require.Eventually(t, func() bool {
		return sendRaw(t, sd.Addr, []byte("PING\r\n"), 0, 200*time.Millisecond).reply == "+PONG\r\n"
	}, 5*time.Second, 50*time.Millisecond)
	require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, conns[1], "PING\r\n"))
}

func roundTrip(t *testing.T, c net.Conn, req string) rawOutcome {
	t.Helper()
	_, err := c.Write([]byte(req))
	require.NoError(t, err)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	return rawOutcome{reply: string(buf[:n]), closed: err != nil}
}

// TestIdleTimeout: with timeout set, an idle client is closed; a busy one
// is not.
func TestIdleTimeout(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("timeout", "1"))
	idle, err := net.Dial("tcp", sd.Addr)
	require.NoError(t, err)
	defer idle.Close()
	half, err := net.Dial("tcp", sd.Addr)
	require.NoError(t, err)
	defer half.Close()
	_, err = half.Write([]byte("*2\r\n$3\r\nGET")) // a stalled half command is idle too
	require.NoError(t, err)
	busy, err := net.Dial("tcp", sd.Addr)
	require.NoError(t, err)
	defer busy.Close()
	start := time.Now()
	for time.Since(start) < 2500*time.Millisecond {
		require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, busy, "PING\r\n"))
		time.Sleep(200 * time.Millisecond)
	}
	for _, c := range []net.Conn{idle, half} {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = c.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF)
	}
}

// TestIdleTimeoutExemptions: as in Redis, a subscribed client and a
// MONITOR are never closed for idleness, and CONFIG SET timeout 0 lifts
// the timeout of a client already waiting.
func TestIdleTimeoutExemptions(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("timeout", "1"))
	dial := func() net.Conn {
		c, err := net.Dial("tcp", sd.Addr)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	sub, mon := dial(), dial()
	require.Equal(t, rawOutcome{reply: "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"}, roundTrip(t, sub, "SUBSCRIBE ch\r\n"))
	require.Equal(t, rawOutcome{reply: "+OK\r\n"}, roundTrip(t, mon, "MONITOR\r\n"))
	time.Sleep(2200 * time.Millisecond)
	ctl := dial()
	require.Equal(t, rawOutcome{reply: ":1\r\n"}, roundTrip(t, ctl, "PUBLISH ch hello\r\n"))
	got := roundTrip(t, sub, "")
	require.False(t, got.closed)
	require.Contains(t, got.reply, "hello")
	got = roundTrip(t, mon, "")
	require.False(t, got.closed)
	require.Contains(t, got.reply, `"PUBLISH" "ch" "hello"`)

	waiting := dial()
	require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, waiting, "PING\r\n")) // idle from now
	require.Equal(t, rawOutcome{reply: "+OK\r\n"}, roundTrip(t, ctl, "CONFIG SET timeout 0\r\n"))
	time.Sleep(1500 * time.Millisecond)
	require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, waiting, "PING\r\n"))
}

// TestIdleConnectionMemory measures what an idle connection costs the
// server (heap and goroutine stacks), after one PING. IDLE_CONNS sets how
// many (default 2000; 10000 for the figure in the README).
func TestIdleConnectionMemory(t *testing.T) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("IDLE_CONNS")); err == nil && v > 0 {
		n = v
	}
	sd := testserver.Start(t, testserver.WithConfig("maxclients", strconv.Itoa(n+10)))
	mem := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse + ms.StackInuse
	}
	before := mem()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	buf := make([]byte, 16)
	for range n {
		c, err := net.Dial("tcp", sd.Addr)
		require.NoError(t, err)
		conns = append(conns, c)
		_, err = c.Write([]byte("*1\r\n$4\r\nPING\r\n"))
		require.NoError(t, err)
		_, err = io.ReadFull(c, buf[:7])
		require.NoError(t, err)
	}
	after := mem()
	per := (int64(after) - int64(before)) / int64(n)
	t.Logf("%d idle connections: %d bytes each (heap + stacks, client side included)", n, per)
	require.Less(t, per, int64(48<<10), "an idle connection costs too much")
	rc := redis.NewClient(&redis.Options{Addr: sd.Addr})
	defer rc.Close()
	require.Equal(t, "PONG", rc.Ping(t.Context()).Val())
}

// TestBareCommand: COMMAND without a subcommand lists every command (it
// once crashed the server: found by FuzzDispatch).
func TestBareCommand(t *testing.T) {
	sd := testserver.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: sd.Addr})
	defer rc.Close()
	v, err := rc.Do(t.Context(), "COMMAND").Slice()
	require.NoError(t, err)
	require.Greater(t, len(v), 50)
	require.Equal(t, "PONG", rc.Ping(t.Context()).Val())
}

// TestCommandListMatchesRedis: COMMAND LIST names subcommands as
// "container|sub" beside the commands, as Redis 7 does; every name it
// gives is one Redis gives (but two subcommands Redis 7.2 added to 7.0's
// CLIENT); FILTERBY ACLCAT lists exactly the commands and subcommands
// Redis lists in the category (those sessiond has), and FILTERBY PATTERN
// matches names in any case.
func TestCommandListMatchesRedis(t *testing.T) {
	s := dialRaw(t, testserver.Start(t).Addr)
	r := dialRaw(t, testserver.StartRedis(t).Addr) // 7.0
	since72 := []string{"client|no-touch", "client|setinfo"}
	list := func(c *rconn, args ...string) []string {
		t.Helper()
		v, err := c.do(append([]string{"COMMAND", "LIST"}, args...)...)
		require.NoError(t, err)
		require.Equal(t, byte('*'), v.typ, "%q: %s", args, v)
		var out []string
		for _, e := range v.elems {
			if !slices.Contains(since72, e.str) {
				out = append(out, e.str)
			}
		}
		slices.Sort(out)
		return out
	}
	ours, theirs := list(s), list(r)
	assert.Subset(t, theirs, ours, "names Redis does not have")
	for _, n := range []string{"get", "client", "client|kill", "acl|cat", "config|get", "script|load", "object|encoding"} {
		assert.Contains(t, ours, n)
	}
	v, err := s.do("COMMAND", "LIST", "FILTERBY", "PATTERN", "client|s*")
	require.NoError(t, err)
	assert.Equal(t, "*2\r\n$14\r\nclient|setinfo\r\n$14\r\nclient|setname\r\n", string(v.raw), "7.2's subcommands are listed")
	have := func(names []string) []string { // those sessiond has too
		var out []string
		for _, n := range names {
			if slices.Contains(ours, n) {
				out = append(out, n)
			}
		}
		return out
	}
	for _, cat := range []string{"keyspace", "READ", "write", "set", "hash", "string", "admin", "fast", "slow", "dangerous", "connection", "transaction", "scripting", "pubsub"} {
		assert.Equal(t, have(list(r, "FILTERBY", "ACLCAT", cat)), list(s, "FILTERBY", "ACLCAT", cat), "ACLCAT %s", cat)
	}
	for _, pat := range []string{"CLIENT|K*", "client*", "s?dd", "*|help", "[a-c]*"} {
		assert.Equal(t, have(list(r, "FILTERBY", "PATTERN", pat)), list(s, "FILTERBY", "PATTERN", pat), "PATTERN %s", pat)
	}
	for _, args := range [][]string{{"FILTERBY", "ACLCAT", "nosuch"}, {"FILTERBY", "MODULE", "foo"}} {
		assert.Empty(t, list(s, args...), "%q", args)
		assert.Empty(t, list(r, args...), "%q", args)
	}
}
