package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// requireTool returns the path of an external program (the first of names
// found), or skips the test loudly with the install command. Under CI=true
// it fails instead.
func requireTool(t testing.TB, install string, names ...string) string {
	t.Helper()
	paths := requireTools(t, tool{names, install})
	return paths[0]
}

// tool is an external program under any of its names, and how to install it.
type tool struct {
	names   []string
	install string
}

// requireTools is requireTool for several programs, naming every missing
// one in the message.
func requireTools(t testing.TB, tools ...tool) []string {
	t.Helper()
	var paths, missing []string
	for _, tl := range tools {
		found := ""
		for _, name := range tl.names {
			if p, err := exec.LookPath(name); err == nil {
				found = p
				break
			}
		}
		if found == "" {
			missing = append(missing, fmt.Sprintf("%s is not installed (install: %s)", tl.names[0], tl.install))
		}
		paths = append(paths, found)
	}
	if len(missing) > 0 {
		msg := strings.Join(missing, "; ")
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; required under CI=true", msg)
		}
		t.Skipf("SKIPPING end-to-end test: %s. This test runs in CI.", msg)
	}
	return paths
}

// repoRoot is the module root (the tests run in e2e/).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	return root
}

// goBuild builds a main package of this module into a temporary directory.
func goBuild(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, out)
	return bin
}

// syncBuffer collects a process's output for the test's logs.
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

// proc is a started child process.
type proc struct {
	name string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error
}

// start runs a program until the test ends (or stop). Its output is
// logged when the test fails.
func start(t testing.TB, name, dir string, env []string, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	p := &proc{name: name, cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	require.NoError(t, cmd.Start(), "start %s", name)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("--- %s output:\n%s", name, p.logs.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits for the exit; a process still running after
// 20 s gets SIGQUIT (Go programs dump their goroutines into the logs), then
// SIGKILL.
func (p *proc) stop(t testing.TB) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(20 * time.Second):
	}
	p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	t.Errorf("%s did not exit within 20 s of SIGTERM", p.name)
	return p.err
}

// waitHTTP waits until url answers 200, or the process exits.
func waitHTTP(t testing.TB, p *proc, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before answering %s:\n%s", p.name, p.err, url, p.logs.String())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %s: %v\n%s", p.name, url, last, p.logs.String())
}

// httpBrowser is an HTTP client with a cookie jar that sends each request
// to the next base URL in turn: a round-robin balancer without stickiness
// (all bases are on 127.0.0.1, and cookies ignore the port). Redirects are
// followed by the instance that sent them.
type httpBrowser struct {
	t     *testing.T
	c     *http.Client
	bases []string
	next  int
	seen  map[string]int
}

func newHTTPBrowser(t *testing.T, bases ...string) *httpBrowser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &httpBrowser{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, bases: bases, seen: map[string]int{}}
}

var instanceRE = regexp.MustCompile(`id="instance">([^<]*)<`)

func (b *httpBrowser) do(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	base := b.bases[b.next%len(b.bases)]
	b.next++
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	if m := instanceRE.FindStringSubmatch(string(out)); m != nil {
		b.seen[m[1]]++
	}
	return resp.StatusCode, string(out)
}

func (b *httpBrowser) cookie(name string) string {
	u, _ := url.Parse(b.bases[0])
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var rowRE = regexp.MustCompile(`<tr data-product="([a-z]+)"><td>[^<]*</td><td class="num qty">(\d+)</td>`)

// cartOf extracts "id=qty ..." (sorted by id, as both shops list it) from
// a cart page.
func cartOf(body string) string {
	var parts []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		parts = append(parts, m[1]+"="+m[2])
	}
	return strings.Join(parts, " ")
}

// artifactsDir is where tests leave files for a human: $E2E_ARTIFACTS, or
// a new temporary directory that outlives the test.
func artifactsDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("E2E_ARTIFACTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	d, err := os.MkdirTemp("", "sessiond-e2e-")
	require.NoError(t, err)
	return d
}
