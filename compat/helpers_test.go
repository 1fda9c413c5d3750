package compat

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/config"
	"sessiond/internal/testserver"
	"sessiond/keyspace"
)

// proxy is a TCP proxy in front of a server that records every command
// clients send, per connection, so tests can assert on what a client
// library puts on the wire (handshakes in particular).
type proxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu    sync.Mutex
	conns [][][]string // per accepted connection, the commands in order
	wg    sync.WaitGroup
}

// startProxy proxies to target until the test ends.
func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{Addr: ln.Addr().String(), target: target, ln: ln}
	var open sync.Map
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			open.Store(c, s)
			p.mu.Lock()
			idx := len(p.conns)
			p.conns = append(p.conns, nil)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { // server -> client, raw
				defer p.wg.Done()
				io.Copy(c, s)
				c.Close()
			}()
			go func() { // client -> server: each command is recorded before it is forwarded
				defer p.wg.Done()
				defer s.Close()
				raw := &rawRecorder{r: c}
				r := bufio.NewReader(raw)
				for {
					cmd, err := readCommand(r)
					if err != nil {
						return
					}
					p.mu.Lock()
					p.conns[idx] = append(p.conns[idx], cmd)
					p.mu.Unlock()
					if r.Buffered() == 0 {
						// Everything read so far has been parsed and
						// recorded: forward it (a pipeline in one write).
						if _, err := s.Write(raw.take()); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		open.Range(func(k, v any) bool {
			k.(net.Conn).Close()
			v.(net.Conn).Close()
			return true
		})
		p.wg.Wait()
	})
	return p
}

// rawRecorder keeps the bytes read from r until take is called.
type rawRecorder struct {
	r   io.Reader
	buf []byte
}

func (w *rawRecorder) Read(b []byte) (int, error) {
	n, err := w.r.Read(b)
	w.buf = append(w.buf, b[:n]...)
	return n, err
}

func (w *rawRecorder) take() []byte {
	b := w.buf
	w.buf = nil
	return b
}

// readCommand parses one client command: a RESP multibulk or an inline line.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "*") {
		return strings.Fields(line), nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil {
		return nil, fmt.Errorf("bad multibulk header %q", line)
	}
	cmd := make([]string, 0, n)
	for i := 0; i < n; i++ {
		h, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(h, "$") {
			return nil, fmt.Errorf("bad bulk header %q", h)
		}
		l, err := strconv.Atoi(strings.TrimRight(h[1:], "\r\n"))
		if err != nil {
			return nil, err
		}
		buf := make([]byte, l+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		cmd = append(cmd, string(buf[:l]))
	}
	return cmd, nil
}

// Conns returns a copy of the commands recorded so far, per connection.
func (p *proxy) Conns() [][][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][][]string, len(p.conns))
	for i, c := range p.conns {
		out[i] = append([][]string(nil), c...)
	}
	return out
}

// All returns every recorded command of every connection, joined by
// spaces, in connection order.
func (p *proxy) All() []string {
	var out []string
	for _, c := range p.Conns() {
		for _, cmd := range c {
			out = append(out, strings.Join(cmd, " "))
		}
	}
	return out
}

// waitFor waits until some recorded command satisfies pred (commands are
// recorded asynchronously with respect to the client's replies).
func (p *proxy) waitFor(t testing.TB, what string, pred func(cmd string) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range p.All() {
			if pred(c) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no command matching %s was sent; recorded:\n%s", what, strings.Join(p.All(), "\n"))
}

// lower returns the command with its name lower-cased, for comparisons
// that must not depend on the client's choice of case.
func lower(cmd string) string { return strings.ToLower(cmd) }

// startServer starts the server under test: an in-process sessiond, or,
// with COMPAT_AGAINST_REDIS=1, a real redis-server with the same
// requirepass. The latter checks the tests themselves: an assertion that
// fails against Redis encodes a sessiond quirk rather than Redis
// behaviour. (Keyspace and Config are nil then.)
func startServer(t testing.TB, opts ...testserver.Option) *testserver.Sessiond {
	t.Helper()
	if !againstRedis() {
		return testserver.Start(t, opts...)
	}
	cfg := config.New()
	for _, o := range opts {
		o(cfg, &keyspace.Options{})
	}
	addr := testserver.StartRedis(t).Addr
	if pw := cfg.Get("requirepass"); pw != "" {
		// Set after start: StartRedis waits for an unauthenticated PONG.
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		fmt.Fprintf(c, "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$%d\r\n%s\r\n", len(pw), pw)
		line, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", line)
	}
	return &testserver.Sessiond{Addr: addr}
}

// againstRedis reports whether the tests run against real Redis
// (COMPAT_AGAINST_REDIS=1); sessiond-only expectations (known gaps, 7.2
// features the CI's Redis may lack) are skipped then.
func againstRedis() bool { return os.Getenv("COMPAT_AGAINST_REDIS") == "1" }

// startSessiond starts the server under test behind a recording proxy.
func startSessiond(t testing.TB, opts ...testserver.Option) (*testserver.Sessiond, *proxy) {
	t.Helper()
	srv := startServer(t, opts...)
	return srv, startProxy(t, srv.Addr)
}

// requireTool returns the path of an external program, or skips the test
// loudly with the install command. Under CI=true it fails instead.
func requireTool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s is not installed (install: %s)", name, install)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; it is required under CI=true", msg)
		}
		t.Skipf("SKIPPING external client test: %s. This test runs in CI.", msg)
	}
	return p
}

// within asserts that d is in [lo, hi].
func within(t testing.TB, d, lo, hi time.Duration, what string) {
	t.Helper()
	if d < lo || d > hi {
		t.Fatalf("%s = %v, want between %v and %v", what, d, lo, hi)
	}
}
