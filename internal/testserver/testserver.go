// Package testserver starts real servers for tests: an in-process sessiond
// on a loopback port, and a real redis-server to compare against.
package testserver

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/config"
	"sessiond/expiry"
	"sessiond/keyspace"
	"sessiond/resp"
)

// Sessiond is a running in-process sessiond.
type Sessiond struct {
	Addr     string
	Keyspace *keyspace.Keyspace
	Server   *resp.Server
	Config   *config.Config
}

// Option adjusts a test server's configuration before it starts.
type Option func(*config.Config, *keyspace.Options)

// WithConfig sets a configuration parameter.
func WithConfig(name, value string) Option {
	return func(c *config.Config, _ *keyspace.Options) {
		if err := c.Set(name, value); err != nil {
			panic(err)
		}
	}
}

// WithClock sets the keyspace's clock.
func WithClock(clk keyspace.Clock) Option {
	return func(_ *config.Config, o *keyspace.Options) { o.Clock = clk }
}

// Start runs sessiond on 127.0.0.1 with a free port until the test ends.
func Start(t testing.TB, opts ...Option) *Sessiond {
	t.Helper()
	cfg := config.New()
	require.NoError(t, cfg.Set("dir", t.TempDir()))
	require.NoError(t, cfg.Set("event-loops", eventLoops(t.Name())))
	kopts := keyspace.Options{Stripes: 64}
	for _, o := range opts {
		o(cfg, &kopts)
	}
	ks, err := keyspace.New(kopts)
	require.NoError(t, err)
	// The expiry wheel runs as in production, on the keyspace's clock.
	wheel, err := expiry.New(expiry.Options{Store: ks, Clock: ks})
	require.NoError(t, err)
	ks.SetScheduler(wheel)
	ctx, stopWheel := context.WithCancel(context.Background())
	wheelDone := make(chan struct{})
	go func() {
		defer close(wheelDone)
		wheel.Run(ctx)
	}()
	srv := resp.NewServer(resp.Options{Keyspace: ks, Config: cfg, ActiveExpiry: wheel})
	require.NoError(t, srv.LoadACLFile())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, cfg.Set("addr", ln.Addr().String()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
		stopWheel()
		<-wheelDone
	})
	return &Sessiond{Addr: ln.Addr().String(), Keyspace: ks, Server: srv, Config: cfg}
}

// eventLoops is the event-loops setting for a test: half the tests, chosen
// by name so that a test always runs the same way, serve connections with
// a goroutine each (-1) and the others on event loops (0, the default), so
// that the suite covers both. SESSIOND_TEST_EVENT_LOOPS forces a value; an
// Option can still set its own.
func eventLoops(name string) string {
	if v := os.Getenv("SESSIOND_TEST_EVENT_LOOPS"); v != "" {
		return v
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	if h.Sum32()%2 == 0 {
		return "0"
	}
	return "-1"
}

// RedisServerPath returns the path of redis-server, or skips the test
// loudly if it is missing. Under CI (CI=true) a missing redis-server fails
// the test instead: the comparison tests must run there.
func RedisServerPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is required under CI=true but is not on PATH (apt-get install redis-server)")
		}
		t.Skip("SKIPPING comparison test: redis-server is not installed (apt-get install redis-server); " +
			"this test compares sessiond with real Redis and runs in CI")
	}
	return p
}

// Redis is a running redis-server.
type Redis struct {
	Addr string
	Dir  string
	cmd  *exec.Cmd
}

// StartRedis runs redis-server on a free loopback port, without
// persistence, in a temporary directory, until the test ends. extra are
// additional redis-server arguments ("--name", "value"...).
func StartRedis(t testing.TB, extra ...string) *Redis {
	t.Helper()
	bin := RedisServerPath(t)
	dir := t.TempDir()
	port := FreePort(t)
	args := append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--protected-mode", "no"}, extra...)
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(filepath.Join(dir, "redis.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), Dir: dir, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	require.NoError(t, WaitReady(r.Addr, 5*time.Second), "redis-server did not start; see %s/redis.log", dir)
	return r
}

// FreePort returns a currently free loopback TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WaitReady waits until a server at addr answers PING and has finished
// loading its dataset (INFO says loading:0).
func WaitReady(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if last = probeReady(addr); last == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready: %v", addr, last)
}

func probeReady(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprint(c, "PING\r\nINFO persistence\r\n")
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING reply %q: %v", line, err)
	}
	line, err = r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "$") {
		return fmt.Errorf("INFO reply %q: %v", line, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 0 {
		return fmt.Errorf("INFO reply %q", line)
	}
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	// The whole line: "async_loading:0" also contains "loading:0".
	if !strings.Contains("\r\n"+string(body), "\r\nloading:0\r\n") {
		return fmt.Errorf("still loading")
	}
	return nil
}
