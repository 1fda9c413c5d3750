//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server kinds: how a process is started and spoken to.
const (
	kindSessiond = "sessiond"
	kindRedis    = "redis"
)

// Server is one server process started by the harness on a loopback port.
type Server struct {
	Label string // what the report calls it: "sessiond", "redis", ...
	Kind  string
	Port  int
	Dir   string
	Log   string
	// PprofAddr is sessiond's --pprof-addr when profiling is on.
	PprofAddr string

	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{}
	waitErr error
}

func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }
func (s *Server) Pid() int     { return s.cmd.Process.Pid }

// freePort asks the kernel for an unused loopback port. Another process may
// take it before the server binds it; startServer then fails clearly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts bin as a server of the given kind in a new directory
// under base and waits until it answers PING. env entries are added to the
// harness's environment (for GOMAXPROCS=1).
func startServer(ctx context.Context, label, kind, bin, base string, env []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("free port: %w", err)
	}
	dir, err := os.MkdirTemp(base, label+"-")
	if err != nil {
		return nil, err
	}
	var args []string
	pprofAddr := ""
	switch kind {
	case kindRedis:
		// Equivalent settings to sessiond's: loopback only, no persistence
		// of any kind, default everything else.
		args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no",
			"--protected-mode", "yes", "--logfile", ""}
	case kindSessiond:
		args = []string{"--addr", "127.0.0.1:" + strconv.Itoa(port), "--dir", dir, "--save-interval", "0"}
		args = append(args, sessiondArgs...) // --event-loops
		if profileDir != "" {
			pp, err := freePort()
			if err != nil {
				return nil, err
			}
			pprofAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(pp))
			args = append(args, "--pprof-addr", pprofAddr)
		}
	default:
		return nil, fmt.Errorf("unknown server kind %q", kind)
	}
	s := &Server{Label: label, Kind: kind, Port: port, Dir: dir, Log: filepath.Join(dir, "server.log"), PprofAddr: pprofAddr, exited: make(chan struct{})}
	s.logFile, err = os.Create(s.Log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout = s.logFile
	s.cmd.Stderr = s.logFile
	s.cmd.Env = append(os.Environ(), env...)
	// Own process group, so a terminal Ctrl-C reaches only the harness, which
	// then stops the servers in order; Pdeathsig kills them if the harness
	// itself is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", label, bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, 20*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%s (%s %s) did not come up: %w; log tail:\n%s", label, bin, strings.Join(args, " "), err, s.LogTail(1500))
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("process exited: %v", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		c, err := dial(s.Addr(), time.Second)
		if err == nil {
			_ = c.nc.SetDeadline(time.Now().Add(2 * time.Second))
			r, err2 := c.Do("PING")
			c.Close()
			if err2 == nil && r.Kind == '+' && string(r.Str) == "PONG" {
				return nil
			}
			if err2 == nil {
				err2 = fmt.Errorf("PING answered %s", r)
			}
			err = err2
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no PONG within %v: %v", limit, lastErr)
}

// Alive reports whether the process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// ExitStatus describes how the process ended (for crash reports).
func (s *Server) ExitStatus() string {
	if s.Alive() {
		return "running"
	}
	if s.waitErr == nil {
		return "exited with status 0"
	}
	return s.waitErr.Error()
}

// Stop sends SIGTERM, waits a little, then SIGKILLs. Safe to call twice.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	if s.Alive() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if s.logFile != nil {
		s.logFile.Close()
		s.logFile = nil
	}
}

// LogTail returns the last n bytes of the server's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.Log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return tail(string(b), n)
}

// RSS returns the resident set size of the process in bytes (VmRSS).
func (s *Server) RSS() (int64, error) { return readRSS(s.Pid()) }

func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseVmRSS(f)
}

func parseVmRSS(r interface{ Read([]byte) (int, error) }) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "VmRSS:") {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(l, "VmRSS:"))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", l)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS %q: %w", l, err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line in /proc status")
}

// info fetches INFO <section> and returns its fields.
func info(addr, section string) (map[string]string, error) {
	c, err := dial(addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	r, err := c.Do("INFO", section)
	if err != nil {
		return nil, err
	}
	if r.Kind != '$' || r.Nil {
		return nil, fmt.Errorf("INFO %s answered %s", section, r)
	}
	return parseInfo(string(r.Str)), nil
}

// parseInfo parses INFO text: "# Section" headers and "field:value" lines.
func parseInfo(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" || l[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// findModuleRoot walks up from dir to the directory holding go.mod.
func findModuleRoot(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the current directory; run from the sessiond module")
		}
		dir = parent
	}
}

// buildSessiond runs `go build -o <tmp>/sessiond ./cmd/sessiond` in the
// module root and returns the binary's path.
func buildSessiond(ctx context.Context, tmp string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := findModuleRoot(wd)
	if err != nil {
		return "", err
	}
	out := filepath.Join(tmp, "sessiond")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/sessiond")
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/sessiond in %s: %w\n%s", root, err, tail(string(b), 2000))
	}
	return out, nil
}
