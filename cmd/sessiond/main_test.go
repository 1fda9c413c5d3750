package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
	"sessiond/snapshot"
)

// conn is a minimal RESP2 client for these tests.
type conn struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &conn{c: c, r: bufio.NewReader(c)}
}

// do sends a command and returns its reply, flattened to a string.
func (c *conn) do(t *testing.T, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err := c.c.Write([]byte(b.String()))
	require.NoError(t, err)
	return c.read(t)
}

func (c *conn) read(t *testing.T) string {
	t.Helper()
	line, err := c.r.ReadString('\n')
	require.NoError(t, err)
	line = strings.TrimRight(line, "\r\n")
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)"
		}
		buf := make([]byte, n+2)
		_, err := io_ReadFull(c.r, buf)
		require.NoError(t, err)
		return string(buf[:n])
	case '*':
		n, _ := strconv.Atoi(line[1:])
		parts := make([]string, 0, n)
		for range n {
			parts = append(parts, c.read(t))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return line
}

var io_ReadFull = func(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestRunServesAndStopsOnCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--dir", dir, "--save-interval", "0"}, &bytes.Buffer{}, &stderr, ready)
	}()
	addr := (<-ready).String()
	require.NoError(t, testserver.WaitReady(addr, 5*time.Second))
	c := dial(t, addr)
	assert.Equal(t, "+OK", c.do(t, "SET", "k", "v"))
	assert.Equal(t, "v", c.do(t, "GET", "k"))
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	_, err := os.Stat(filepath.Join(dir, "dump.rdb"))
	assert.True(t, os.IsNotExist(err), "save-interval 0 disables the shutdown snapshot")
}

func TestBadFlagsAndConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		file string
		want string
	}{
		{"unknown flag", []string{"--nope"}, "", "usage"},
		{"bad size", []string{"--maxmemory", "lots"}, "", "invalid maxmemory"},
		{"bad policy", []string{"--maxmemory-policy", "sometimes"}, "", "invalid maxmemory-policy"},
		{"bad duration", []string{"--save-interval", "soon"}, "", "invalid save-interval"},
		{"bad file line", nil, "maxclients many\n", ":1: invalid maxclients"},
		{"unknown file key", nil, "# comment\nfrobnicate yes\n", ":2: unknown parameter"},
		{"missing file", []string{"--config", "/nonexistent/sessiond.conf"}, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				p := filepath.Join(t.TempDir(), "sessiond.conf")
				require.NoError(t, os.WriteFile(p, []byte(tt.file), 0o644))
				args = append(args, "--config", p)
			}
			var stderr bytes.Buffer
			err := run(context.Background(), args, &bytes.Buffer{}, &stderr, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error()+stderr.String(), tt.want)
		})
	}
}

func TestConfigPrecedence(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sessiond.conf")
	require.NoError(t, os.WriteFile(p, []byte("maxclients 50\ntimeout 7\nsave 900 1\nsave 300 10\n"), 0o644))
	cfg, _, err := loadConfig([]string{"--config", p, "--maxclients", "60"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "60", cfg.Get("maxclients"), "a flag wins over the file")
	assert.Equal(t, "7", cfg.Get("timeout"), "the file wins over the default")
	assert.Equal(t, "5m0s", cfg.Get("save-interval"), "redis.conf save lines set the shortest interval")
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--version"}, &out, &bytes.Buffer{}, nil))
	assert.Contains(t, out.String(), "sessiond ")
}

// buildBinary builds sessiond once for the process-level tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "sessiond")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// syncBuffer is a bytes.Buffer safe for the process's writer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startBinary(t *testing.T, bin, dir string, args ...string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t))
	cmd := exec.Command(bin, append([]string{"--addr", addr, "--dir", dir}, args...)...)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	require.NoError(t, testserver.WaitReady(addr, 10*time.Second), "logs: %s", logs.String())
	return cmd, addr, logs
}

// waitExit waits for a started process to exit. A process still running
// after 20 s is sent SIGQUIT, so that its goroutine dump lands in logs and
// the test fails with it instead of hanging until the package timeout.
func waitExit(t *testing.T, cmd *exec.Cmd, logs *syncBuffer) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		cmd.Process.Signal(syscall.SIGQUIT)
		<-done
		t.Fatalf("process did not exit; its goroutines:\n%s", logs.String())
		return nil
	}
}

// TestSnapshotSurvivesKill9 writes keys, waits for a periodic snapshot,
// kills the server with SIGKILL and checks that a new server has every key
// of that snapshot with its TTL.
func TestSnapshotSurvivesKill9(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd, addr, logs := startBinary(t, bin, dir, "--save-interval", "1s")
	c := dial(t, addr)
	for i := range 100 {
		require.Equal(t, "+OK", c.do(t, "SETEX", fmt.Sprintf("sess:%d", i), "1800", fmt.Sprintf("blob-%d", i)))
	}
	require.Equal(t, ":3", c.do(t, "SADD", "user_sess:1", "a", "b", "c"))
	require.Equal(t, ":1", c.do(t, "EXPIRE", "user_sess:1", "600"))
	require.Equal(t, "+OK", c.do(t, "SELECT", "7"))
	require.Equal(t, "+OK", c.do(t, "SET", "persistent", "forever"))
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "snapshot written") }, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()

	_, addr, _ = startBinary(t, bin, dir, "--save-interval", "0")
	c = dial(t, addr)
	for i := range 100 {
		assert.Equal(t, fmt.Sprintf("blob-%d", i), c.do(t, "GET", fmt.Sprintf("sess:%d", i)))
	}
	ttl, _ := strconv.Atoi(strings.TrimPrefix(c.do(t, "TTL", "sess:42"), ":"))
	assert.InDelta(t, 1800, ttl, 5)
	assert.Equal(t, ":3", c.do(t, "SCARD", "user_sess:1"))
	ttl, _ = strconv.Atoi(strings.TrimPrefix(c.do(t, "TTL", "user_sess:1"), ":"))
	assert.InDelta(t, 600, ttl, 5)
	assert.Equal(t, "+OK", c.do(t, "SELECT", "7"))
	assert.Equal(t, "forever", c.do(t, "GET", "persistent"))
	assert.Equal(t, ":-1", c.do(t, "TTL", "persistent"))
	assert.Contains(t, c.do(t, "INFO", "persistence"), "rdb_changes_since_last_save:0")
}

// TestSigtermWritesFinalSnapshot checks the snapshot taken at shutdown.
func TestSigtermWritesFinalSnapshot(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd, addr, logs := startBinary(t, bin, dir, "--save-interval", "1h")
	c := dial(t, addr)
	require.Equal(t, "+OK", c.do(t, "SET", "k", "v"))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, waitExit(t, cmd, logs), "a clean shutdown exits 0")
	_, err := os.Stat(filepath.Join(dir, "dump.rdb"))
	require.NoError(t, err)
	_, addr, _ = startBinary(t, bin, dir)
	assert.Equal(t, "v", dial(t, addr).do(t, "GET", "k"))
}

// TestDamagedSnapshotRefusesToStart checks that a damaged file stops the
// server with a clear error and is left as it was.
func TestDamagedSnapshotRefusesToStart(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd, addr, _ := startBinary(t, bin, dir, "--save-interval", "1h")
	c := dial(t, addr)
	require.Equal(t, "+OK", c.do(t, "SET", "k", strings.Repeat("v", 1000)))
	require.Equal(t, "+OK", c.do(t, "SAVE"))
	cmd.Process.Kill()
	cmd.Wait()
	path := filepath.Join(dir, "dump.rdb")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for name, damaged := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"bit flip":  flip(data, len(data)/2),
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, damaged, 0o644))
			cmd := exec.Command(bin, "--addr", fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t)), "--dir", dir)
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			require.NoError(t, cmd.Start())
			err := waitExit(t, cmd, out)
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "output: %s", out.String())
			assert.NotZero(t, ee.ExitCode())
			assert.Contains(t, out.String(), "refusing to start")
			assert.Contains(t, out.String(), "dump.rdb")
			assert.Contains(t, out.String(), "offset")
			after, _ := os.ReadFile(path)
			assert.Equal(t, damaged, after, "the damaged file must not be overwritten")
		})
	}
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0x40
	return out
}

// TestRunExpiresKeysNobodyTouches checks the expiry wheel's wiring in run:
// keys with a TTL that no client reads again are deleted on their
// deadline, counted in INFO, and announced on __keyevent@0__:expired.
func TestRunExpiresKeysNobodyTouches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--dir", t.TempDir(), "--save-interval", "0"}, &bytes.Buffer{}, &bytes.Buffer{}, ready)
	}()
	var addr string
	select {
	case a := <-ready:
		addr = a.String()
	case <-time.After(10 * time.Second):
		t.Fatal("run did not start")
	}
	require.NoError(t, testserver.WaitReady(addr, 5*time.Second))
	c, sub := dial(t, addr), dial(t, addr)
	assert.Equal(t, "+OK", c.do(t, "CONFIG", "SET", "notify-keyspace-events", "Ex"))
	assert.Equal(t, "[subscribe __keyevent@0__:expired :1]", sub.do(t, "SUBSCRIBE", "__keyevent@0__:expired"))
	const n = 200
	for i := range n {
		assert.Equal(t, "+OK", c.do(t, "SET", fmt.Sprint("sess:", i), "v", "PX", fmt.Sprint(100+i)))
	}
	assert.Equal(t, "+OK", c.do(t, "SET", "keep", "v"))
	set := time.Now()
	seen := map[string]bool{}
	for len(seen) < n {
		sub.c.SetDeadline(time.Now().Add(5 * time.Second))
		msg := sub.read(t) // [message __keyevent@0__:expired sess:i]
		seen[strings.Fields(strings.Trim(msg, "[]"))[2]] = true
	}
	// Every deadline is 100-299 ms after its SET and the wheel's slack is
	// bounded (expiry package): all are gone well within five seconds,
	// even on a busy shared machine (they took 0.3-0.8 s under load).
	assert.Less(t, time.Since(set), 5*time.Second)
	assert.Equal(t, ":1", c.do(t, "DBSIZE"))
	assert.Contains(t, c.do(t, "INFO", "stats"), fmt.Sprintf("expired_keys:%d\r\n", n))
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

// TestFunctionsPersist: function libraries are in every snapshot (a
// periodic one after FUNCTION LOAD, which counts as a change, and the one
// at shutdown), a restarted server runs them, and a file whose library
// cannot load refuses to start.
func TestFunctionsPersist(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cmd, addr, logs := startBinary(t, bin, dir, "--save-interval", "1s")
	c := dial(t, addr)
	require.Equal(t, "saved", c.do(t, "FUNCTION", "LOAD", "#!lua name=saved\nredis.register_function('sf', function(keys, args) return 'from ' .. args[1] end)"))
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "snapshot written") }, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()

	cmd, addr, logs = startBinary(t, bin, dir, "--save-interval", "1h")
	c = dial(t, addr)
	assert.Equal(t, "from disk", c.do(t, "FCALL", "sf", "0", "disk"))
	require.Equal(t, "+OK", c.do(t, "FUNCTION", "DELETE", "saved"))
	require.Equal(t, "later", c.do(t, "FUNCTION", "LOAD", "#!lua name=later\nredis.register_function('lf', function() return 'later' end)"))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, waitExit(t, cmd, logs))

	cmd, addr, _ = startBinary(t, bin, dir)
	c = dial(t, addr)
	assert.Equal(t, "later", c.do(t, "FCALL", "lf", "0"))
	assert.Equal(t, "-ERR Function not found", c.do(t, "FCALL", "sf", "0"))
	cmd.Process.Kill()
	cmd.Wait()

	// Two libraries registering one function: the second cannot load.
	lib := func(name string) []byte {
		return []byte("#!lua name=" + name + "\nredis.register_function('same', function() return 1 end)")
	}
	var buf bytes.Buffer
	enc := snapshot.NewEncoder(&buf)
	require.NoError(t, enc.WriteHeader(nil))
	require.NoError(t, enc.WriteFunction(lib("a")))
	require.NoError(t, enc.WriteFunction(lib("b")))
	require.NoError(t, enc.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dump.rdb"), buf.Bytes(), 0o644))
	bad := exec.Command(bin, "--addr", fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t)), "--dir", dir)
	out := &syncBuffer{}
	bad.Stdout, bad.Stderr = out, out
	require.NoError(t, bad.Start())
	var ee *exec.ExitError
	require.ErrorAs(t, waitExit(t, bad, out), &ee, "output: %s", out.String())
	assert.Contains(t, out.String(), "refusing to start")
	assert.Contains(t, out.String(), "Function same already exists")
}
