package resp_test

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
	"sessiond/resp"
)

// These tests put every connection on one event loop (event-loops 1), so
// that a connection that waited on the loop would hold up the others.
// On systems without event loops they check the same behaviour with a
// goroutine per connection.

func oneLoop(t *testing.T) *testserver.Sessiond {
	return testserver.Start(t, testserver.WithConfig("event-loops", "1"))
}

// requireLoopConns checks how many connections are on a loop (none
// where there are no loops).
func requireLoopConns(t *testing.T, srv *testserver.Sessiond, want int) {
	t.Helper()
	if runtime.GOOS != "linux" {
		want = 0
	}
	require.Eventually(t, func() bool { return resp.LoopConns(srv.Server) == want },
		2*time.Second, 5*time.Millisecond, "connections on the event loop")
}

func TestEventLoopServesAndHandsOff(t *testing.T) {
	srv := oneLoop(t)
	a, b := dialRaw(t, srv.Addr), dialRaw(t, srv.Addr)
	for _, c := range []*rconn{a, b} {
		v, err := c.do("PING")
		require.NoError(t, err)
		require.Equal(t, "+PONG\r\n", string(v.raw))
	}
	requireLoopConns(t, srv, 2)

	// A pipeline that ends in SUBSCRIBE: the replies before it come
	// first, in order, then the subscription, now served by a goroutine.
	_, err := a.c.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n"))
	require.NoError(t, err)
	a.c.SetDeadline(time.Now().Add(5 * time.Second))
	var got []string
	for range 3 {
		v, err := readReply(a.br)
		require.NoError(t, err)
		got = append(got, string(v.raw))
	}
	require.Equal(t, []string{"+OK\r\n", "$1\r\nv\r\n", "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"}, got)
	requireLoopConns(t, srv, 1)

	v, err := b.do("PUBLISH", "ch", "hello")
	require.NoError(t, err)
	require.Equal(t, ":1\r\n", string(v.raw))
	m, err := readReply(a.br)
	require.NoError(t, err)
	require.Equal(t, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n", string(m.raw))
}

// A client that sends without reading must not stall the loop: its
// replies wait on a goroutine of its own, and arrive whole and in order.
func TestEventLoopSlowReaderDoesNotStallOthers(t *testing.T) {
	srv := oneLoop(t)
	a, b := dialRaw(t, srv.Addr), dialRaw(t, srv.Addr)
	big := strings.Repeat("x", 1<<20)
	v, err := b.do("SET", "big", big)
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))

	const n = 40 // 40 MB of replies: far more than the socket buffers hold
	var req []byte
	for i := range n {
		req = append(req, encodeCommand([]string{"GETRANGE", "big", "0", fmt.Sprint(len(big) - 1 - i)})...)
	}
	_, err = a.c.Write(req)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	v, err = b.do("PING")
	require.NoError(t, err)
	require.Equal(t, "+PONG\r\n", string(v.raw))
	require.Less(t, time.Since(start), 2*time.Second)
	requireLoopConns(t, srv, 1) // b is still on the loop, a is not

	a.c.SetDeadline(time.Now().Add(20 * time.Second))
	for i := range n {
		want := len(big) - i
		line, err := a.br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("$%d\r\n", want), line, "reply %d", i)
		body := make([]byte, want+2)
		_, err = io.ReadFull(a.br, body)
		require.NoError(t, err)
		require.Equal(t, big[:want]+"\r\n", string(body), "reply %d", i)
	}
	v, err = a.do("PING")
	require.NoError(t, err)
	require.Equal(t, "+PONG\r\n", string(v.raw))
}

// Requests split anywhere, arriving in many reads, are put together.
func TestEventLoopRequestInPieces(t *testing.T) {
	srv := oneLoop(t)
	a := dialRaw(t, srv.Addr)
	val := strings.Repeat("0123456789", 30000) // 300 KB
	req := string(encodeCommand([]string{"SET", "k", val})) + string(encodeCommand([]string{"GET", "k"})) + "PING\r\n"
	for i := 0; i < len(req); {
		n := min(len(req)-i, 1+(i*7919)%4000)
		_, err := a.c.Write([]byte(req[i : i+n]))
		require.NoError(t, err)
		i += n
		if i%5 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	a.c.SetDeadline(time.Now().Add(10 * time.Second))
	v, err := readReply(a.br)
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))
	v, err = readReply(a.br)
	require.NoError(t, err)
	require.Equal(t, val, v.str)
	v, err = readReply(a.br)
	require.NoError(t, err)
	require.Equal(t, "+PONG\r\n", string(v.raw))
	requireLoopConns(t, srv, 1)
}

// While clients are paused a command may wait: it leaves the loop first,
// so that the loop's other clients go on (a read is not paused by WRITE).
func TestEventLoopPausedCommandDoesNotStallOthers(t *testing.T) {
	srv := oneLoop(t)
	p, w, r := dialRaw(t, srv.Addr), dialRaw(t, srv.Addr), dialRaw(t, srv.Addr)
	v, err := p.do("CLIENT", "PAUSE", "400", "WRITE")
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))

	start := time.Now()
	var wg sync.WaitGroup
	var setTook time.Duration
	wg.Go(func() {
		v, err := w.do("SET", "k", "v")
		setTook = time.Since(start)
		if err != nil || string(v.raw) != "+OK\r\n" {
			t.Errorf("SET: %q %v", v.raw, err)
		}
	})
	time.Sleep(50 * time.Millisecond)
	v, err = r.do("GET", "k")
	require.NoError(t, err)
	require.True(t, v.null)
	require.Less(t, time.Since(start), 300*time.Millisecond, "GET waited for the paused SET")
	wg.Wait()
	require.GreaterOrEqual(t, setTook, 300*time.Millisecond, "SET was not paused")
}

// SCRIPT KILL reaches a script running for a client of the same loop.
func TestEventLoopScriptKill(t *testing.T) {
	srv := oneLoop(t)
	a, b := dialRaw(t, srv.Addr), dialRaw(t, srv.Addr)
	_, err := b.do("CONFIG", "SET", "busy-reply-threshold", "50")
	require.NoError(t, err)
	_, err = a.c.Write(encodeCommand([]string{"EVAL", "while true do end", "0"}))
	require.NoError(t, err)
	waitBusy(t, b)
	v, err := b.do("SCRIPT", "KILL")
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))
	a.c.SetDeadline(time.Now().Add(5 * time.Second))
	v, err = readReply(a.br)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(v.raw), "-ERR Script killed by user with SCRIPT KILL"), "%q", v.raw)
}

// CLIENT KILL, QUIT and the server's Close end loop connections.
func TestEventLoopConnectionsEnd(t *testing.T) {
	srv := oneLoop(t)
	a, b, q := dialRaw(t, srv.Addr), dialRaw(t, srv.Addr), dialRaw(t, srv.Addr)
	v, err := a.do("CLIENT", "ID")
	require.NoError(t, err)
	v, err = b.do("CLIENT", "KILL", "ID", v.str)
	require.NoError(t, err)
	require.Equal(t, ":1\r\n", string(v.raw))
	a.c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = a.br.ReadByte()
	require.ErrorIs(t, err, io.EOF)

	v, err = q.do("QUIT")
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))
	_, err = q.br.ReadByte()
	require.ErrorIs(t, err, io.EOF)
	requireLoopConns(t, srv, 1)

	srv.Server.Close()
	b.c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = b.br.ReadByte()
	require.ErrorIs(t, err, io.EOF)
	requireLoopConns(t, srv, 0)
}

// With event-loops -1 every connection has a goroutine, and works.
func TestEventLoopsOff(t *testing.T) {
	srv := testserver.Start(t, testserver.WithConfig("event-loops", "-1"))
	a := dialRaw(t, srv.Addr)
	_, err := a.c.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
	require.NoError(t, err)
	for _, want := range []string{"+OK\r\n", "$1\r\nv\r\n"} {
		v, err := readReply(a.br)
		require.NoError(t, err)
		require.Equal(t, want, string(v.raw))
	}
	require.Equal(t, 0, resp.LoopConns(srv.Server))
}
