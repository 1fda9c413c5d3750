package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// instance is one shop process's handler, on its own HTTP server, sharing
// the test's sessiond with the others.
func startInstance(t *testing.T, sessiondAddr, name string) *httptest.Server {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: sessiondAddr})
	t.Cleanup(func() { client.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(newShop(newSessionManager(client), name, log))
	t.Cleanup(srv.Close)
	return srv
}

// browser is an HTTP client with a cookie jar that sends each request to
// the next instance in turn (a round-robin balancer without stickiness).
type browser struct {
	t     *testing.T
	c     *http.Client
	bases []string
	next  int
	seen  map[string]int
}

func newBrowser(t *testing.T, bases ...string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, c: &http.Client{Jar: jar}, bases: bases, seen: map[string]int{}}
}

var instanceRE = regexp.MustCompile(`id="instance">([^<]*)<`)

// do sends a request to the next instance; redirects are followed by the
// same instance (as a browser's follow-up would be balanced anyway).
func (b *browser) do(method, path string, form url.Values) (int, string) {
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

// cookie returns the session cookie's value for the first instance's host
// (all instances are on 127.0.0.1, and cookies ignore the port).
func (b *browser) cookie() string {
	u, _ := url.Parse(b.bases[0])
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "shop_session" {
			return c.Value
		}
	}
	return ""
}

var rowRE = regexp.MustCompile(`<tr data-product="([a-z]+)"><td>[^<]*</td><td class="num qty">(\d+)</td>`)

// cartOf extracts "id=qty ..." from a cart page.
func cartOf(body string) string {
	var parts []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		parts = append(parts, m[1]+"="+m[2])
	}
	return strings.Join(parts, " ")
}

// TestShopFlowAcrossInstances: two instances share one sessiond; requests
// alternate between them and every page sees the same login and cart.
func TestShopFlowAcrossInstances(t *testing.T) {
	sd := testserver.Start(t)
	a := startInstance(t, sd.Addr, "alpha")
	b := startInstance(t, sd.Addr, "beta")
	check := redis.NewClient(&redis.Options{Addr: sd.Addr})
	defer check.Close()
	ctx := context.Background()
	br := newBrowser(t, a.URL, b.URL)

	code, body := br.do("GET", "/", nil)
	require.Equal(t, 200, code)
	assert.Contains(t, body, `id="login"`, "logged out: the login form")

	code, body = br.do("POST", "/login", url.Values{"name": {"  "}})
	assert.Equal(t, 400, code)
	assert.Contains(t, body, "1 to 40 characters")

	code, body = br.do("POST", "/login", url.Values{"name": {"Ada <script>"}})
	require.Equal(t, 200, code)
	assert.Contains(t, body, `<b id="user">Ada &lt;script&gt;</b>`, "escaped user name")
	assert.Contains(t, body, `id="add-tea"`)
	token := br.cookie()
	require.NotEmpty(t, token, "no session cookie after login")
	key := "scs:session:" + token
	pttl, err := check.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Greater(t, pttl, 59*time.Minute, "session key with the idle timeout as TTL")
	assert.LessOrEqual(t, pttl, time.Hour)

	want := []string{"tea=1", "mug=1 tea=1", "mug=1 tea=2", "honey=1 mug=1 tea=2", "honey=1 mug=2 tea=2"}
	for i, id := range []string{"tea", "mug", "tea", "honey", "mug"} {
		code, body = br.do("POST", "/cart/add", url.Values{"product": {id}})
		require.Equal(t, 200, code)
		assert.Equal(t, want[i], cartOf(body), "after adding %s", id)
		code, body = br.do("GET", "/cart", nil)
		require.Equal(t, 200, code)
		assert.Equal(t, want[i], cartOf(body), "cart page after adding %s", id)
	}
	assert.Contains(t, body, `<span id="cart-count">5</span>`)
	assert.Contains(t, body, `id="total">€40.80<`)
	// 13 pages so far (a redirect is followed by the instance that sent it).
	assert.Equal(t, map[string]int{"alpha": 7, "beta": 6}, br.seen, "requests alternated between instances")
	assert.Equal(t, token, br.cookie(), "the token only changes at login")

	code, _ = br.do("POST", "/cart/add", url.Values{"product": {"caviar"}})
	assert.Equal(t, 404, code)

	code, body = br.do("POST", "/logout", nil)
	require.Equal(t, 200, code)
	assert.Contains(t, body, `id="login"`)
	n, err := check.Exists(ctx, key).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "logout deletes the session key")
	assert.Empty(t, br.cookie(), "logout expires the cookie")

	// Logged out: the cart redirects to the login form; adding is refused.
	_, body = br.do("GET", "/cart", nil)
	assert.Contains(t, body, `id="login"`)
	_, body = br.do("POST", "/cart/add", url.Values{"product": {"tea"}})
	assert.Contains(t, body, `id="login"`)
	keys, err := check.Keys(ctx, "scs:session:*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys, "no session is created for anonymous visitors")
}

// TestShopSessionFixation: logging in replaces the token, and the old
// session key is deleted.
func TestShopSessionFixation(t *testing.T) {
	sd := testserver.Start(t)
	a := startInstance(t, sd.Addr, "alpha")
	check := redis.NewClient(&redis.Options{Addr: sd.Addr})
	defer check.Close()
	br := newBrowser(t, a.URL)
	br.do("POST", "/login", url.Values{"name": {"eve"}})
	first := br.cookie()
	br.do("POST", "/login", url.Values{"name": {"mallory"}})
	second := br.cookie()
	require.NotEmpty(t, first)
	require.NotEqual(t, first, second)
	assert.Zero(t, check.Exists(context.Background(), "scs:session:"+first).Val())
	assert.Equal(t, int64(1), check.Exists(context.Background(), "scs:session:"+second).Val())
}

// TestShopStoreDown: with sessiond unreachable the shop answers 500
// rather than serving a page without the session.
func TestShopStoreDown(t *testing.T) {
	a := startInstance(t, fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t)), "alpha")
	br := newBrowser(t, a.URL)
	// A request with a cookie has to look the session up.
	u, _ := url.Parse(a.URL)
	br.c.Jar.SetCookies(u, []*http.Cookie{{Name: "shop_session", Value: "x"}})
	code, _ := br.do("GET", "/", nil)
	assert.Equal(t, 500, code)
}
