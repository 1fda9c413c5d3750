package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// pageState is what the test reads from the page the browser shows.
type pageState struct {
	Title    string `json:"title"`
	Instance string `json:"instance"`
	User     string `json:"user"`
	Login    bool   `json:"login"` // the login form is shown
	Cart     string `json:"cart"`  // "id=qty ..." in page order
	Empty    bool   `json:"empty"` // "Your cart is empty."
}

const readPage = `(() => {
  const text = (id) => document.getElementById(id)?.textContent ?? "";
  return {
    title: document.title,
    instance: text("instance"),
    user: text("user"),
    login: document.getElementById("name") !== null,
    cart: [...document.querySelectorAll("#cart tr[data-product]")]
      .map((r) => r.dataset.product + "=" + r.querySelector(".qty").textContent).join(" "),
    empty: document.getElementById("empty") !== null,
  };
})()`

// TestStorageArchitecture is the architecture sessiond is for, with real
// processes: two instances of examples/shop-go behind a round-robin
// HAProxy (no sticky sessions) share one sessiond binary that snapshots
// into a temporary directory; a headless Chromium logs in and fills a cart
// while its requests land on both instances, and sees the same cart on
// every page. sessiond is restarted (SIGTERM, final snapshot, start again)
// and the cart is still there. After logout the session key is gone.
func TestStorageArchitecture(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sessiond, two shops, haproxy and chromium")
	}
	tools := requireTools(t,
		tool{[]string{"haproxy"}, "apt-get install -y haproxy"},
		tool{[]string{"chromium", "chromium-browser", "google-chrome"}, "apt-get install -y chromium"})
	haproxyBin, chromeBin := tools[0], tools[1]
	sessiondBin := goBuild(t, "./cmd/sessiond")
	shopBin := goBuild(t, "./examples/shop-go")
	ctx := context.Background()

	// sessiond, as an operator runs it: the default save interval, so
	// SIGTERM writes a final snapshot into dir.
	dataDir := t.TempDir()
	sdAddr := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t))
	startSessiond := func() *proc {
		p := start(t, "sessiond", dataDir, nil, sessiondBin, "--addr", sdAddr, "--dir", dataDir)
		require.NoError(t, testserver.WaitReady(sdAddr, 15*time.Second), "sessiond logs:\n%s", p.logs.String())
		return p
	}
	sd := startSessiond()
	check := redis.NewClient(&redis.Options{Addr: sdAddr})
	defer check.Close()

	// Two shop instances.
	var servers []string
	for _, name := range []string{"shop-a", "shop-b"} {
		addr := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t))
		p := start(t, name, dataDir, nil, shopBin, "--addr", addr, "--sessiond", sdAddr, "--instance", name)
		waitHTTP(t, p, "http://"+addr+"/healthz")
		servers = append(servers, fmt.Sprintf("  server %s %s", name, addr))
	}

	// HAProxy in front: round robin per request, no stickiness (no cookie,
	// no prefer-last-server), so consecutive requests of one browser
	// alternate between the instances.
	front := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t))
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`global
  maxconn 256
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend web
  bind %s
  default_backend shops
backend shops
  balance roundrobin
%s
`, front, strings.Join(servers, "\n"))), 0o644))
	hp := start(t, "haproxy", filepath.Dir(cfg), nil, haproxyBin, "-f", cfg, "-db")
	base := "http://" + front
	waitHTTP(t, hp, base+"/healthz")

	// Headless Chromium. The flags are those a container needs: no
	// sandbox (no user namespaces), no GPU, /tmp instead of a small /dev/shm.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromeBin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(900, 700),
	)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	// A stuck browser must fail the test, not hang it: cancelling the
	// context stops Chromium and every pending action returns an error.
	watchdog := time.AfterFunc(3*time.Minute, cancelBrowser)
	defer watchdog.Stop()

	seen := map[string]int{}
	state := func(what string) pageState {
		t.Helper()
		st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](readPage))
		require.NoError(t, err, "reading the page (%s)", what)
		require.NotEqual(t, "", st.Instance, "%s: no instance name on the page (title %q): an error page?", what, st.Title)
		seen[st.Instance]++
		return st
	}
	navigate := func(path string) pageState {
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(base+path)), "navigate %s", path)
		return state("GET " + path)
	}
	// click clicks a button that submits a form and waits for the page it
	// leads to (after the POST's 303 redirect).
	click := func(id string) pageState {
		t.Helper()
		_, err := chromedp.Run(bctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID(id))))
		require.NoError(t, err, "click #%s", id)
		return state("click #" + id)
	}
	sessionToken := func() string {
		t.Helper()
		res, err := chromedp.Call(bctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
		require.NoError(t, err)
		for _, c := range res.Cookies {
			if c.Name == "shop_session" {
				return c.Value
			}
		}
		return ""
	}

	st := navigate("/")
	require.True(t, st.Login, "a new visitor sees the login form: %+v", st)
	require.NoError(t, chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("name"), "Ada")))
	st = click("login")
	require.Equal(t, "Ada", st.User)

	// Fill the cart. Each round is three requests (GET /, the POST and its
	// redirect, GET /cart), so the pages shown come from both instances.
	cart := map[string]int{}
	want := func() string {
		var ids []string
		for id := range cart {
			ids = append(ids, id)
		}
		// Both shops list the cart sorted by product id.
		slices.Sort(ids)
		var parts []string
		for _, id := range ids {
			parts = append(parts, fmt.Sprintf("%s=%d", id, cart[id]))
		}
		return strings.Join(parts, " ")
	}
	for _, id := range []string{"tea", "mug", "tea", "honey", "biscuits", "tea"} {
		st = navigate("/")
		require.Equal(t, "Ada", st.User, "still logged in on %s", st.Instance)
		cart[id]++
		st = click("add-" + id)
		assert.Equal(t, want(), st.Cart, "cart after adding %s, served by %s", id, st.Instance)
		st = navigate("/cart")
		assert.Equal(t, want(), st.Cart, "cart page after adding %s, served by %s", id, st.Instance)
	}
	t.Logf("pages per instance: %v", seen)
	require.Greater(t, seen["shop-a"], 0, "no page came from shop-a: %v", seen)
	require.Greater(t, seen["shop-b"], 0, "no page came from shop-b: %v", seen)
	require.Len(t, seen, 2, "unexpected instance names: %v", seen)

	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := artifactsDir(t)
	shotPath := filepath.Join(dir, "shop-go-cart.png")
	require.NoError(t, os.WriteFile(shotPath, shot, 0o644))
	t.Logf("screenshot of the cart page: %s", shotPath)

	token := sessionToken()
	require.NotEmpty(t, token, "no session cookie in the browser")
	key := "scs:session:" + token
	pttl, err := check.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, pttl, 50*time.Minute, "the session key in sessiond (PTTL %v)", pttl)

	// Restart sessiond: SIGTERM writes the final snapshot, the new process
	// loads it. The shops keep running and reconnect.
	stopAt := time.Now()
	require.NoError(t, sd.stop(t), "sessiond exit status; logs:\n%s", sd.logs.String())
	assert.Contains(t, sd.logs.String(), "bye")
	fi, err := os.Stat(filepath.Join(dataDir, "dump.rdb"))
	require.NoError(t, err, "no snapshot after SIGTERM")
	require.NotZero(t, fi.Size())
	t.Logf("sessiond stopped in %v", time.Since(stopAt))
	sd = startSessiond()
	t.Logf("sessiond restarted in %v", time.Since(stopAt))
	// The line is logged before loading ends, but reaches us through a pipe.
	assert.Eventually(t, func() bool { return strings.Contains(sd.logs.String(), "snapshot loaded") },
		5*time.Second, 20*time.Millisecond, "logs:\n%s", sd.logs.String())
	pttl, err = check.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, pttl, 50*time.Minute, "the session key after the restart (PTTL %v)", pttl)
	before := map[string]int{}
	for k, v := range seen {
		before[k] = v
	}
	for range 2 {
		st = navigate("/cart")
		assert.Equal(t, "Ada", st.User, "logged in after the restart (%s)", st.Instance)
		assert.Equal(t, want(), st.Cart, "the cart survived the restart (%s)", st.Instance)
	}
	st = navigate("/")
	cart["mug"]++
	st = click("add-mug")
	assert.Equal(t, want(), st.Cart, "adding after the restart (%s)", st.Instance)
	for k, v := range before {
		assert.Greater(t, seen[k], v, "%s served no page after the restart", k)
	}
	assert.Equal(t, token, sessionToken(), "same session before and after the restart")

	// Logout destroys the session: the key is deleted from sessiond.
	st = click("logout")
	assert.True(t, st.Login, "the login form after logout: %+v", st)
	n, err := check.Exists(ctx, key).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "session key %s still in sessiond after logout", key)
	keys, err := check.Keys(ctx, "scs:session:*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys)
	assert.Empty(t, sessionToken(), "the browser dropped the cookie")
	st = navigate("/cart")
	assert.True(t, st.Login, "the cart needs a login again")
}
