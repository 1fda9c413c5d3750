package compat

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/boj/redistore"
	redigo "github.com/gomodule/redigo/redis"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// scsApp is a tiny application using an scs SessionManager: /put stores
// a user name, /get prints it, /destroy ends the session, /count counts
// every live session through Iterate (the store's All).
func scsApp(sm *scs.SessionManager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "user", r.URL.Query().Get("user"))
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, sm.GetString(r.Context(), "user"))
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.Destroy(r.Context()); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/users", func(w http.ResponseWriter, r *http.Request) {
		var users []string
		err := sm.Iterate(r.Context(), func(ctx context.Context) error {
			users = append(users, sm.GetString(ctx, "user"))
			return nil
		})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, strings.Join(users, ","))
	})
	return sm.LoadAndSave(mux)
}

// do sends one request to h with an optional session cookie and returns
// the body and the session cookie it set (if any).
func do(t *testing.T, h http.Handler, path string, cookie *http.Cookie) (string, *http.Cookie) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code, "%s: %s", path, rec.Body.String())
	var set *http.Cookie
	for _, c := range rec.Result().Cookies() {
		set = c
	}
	return rec.Body.String(), set
}

// exerciseSCS drives an scs SessionManager backed by store through HTTP
// and checks what ends up in sessiond.
func exerciseSCS(t *testing.T, store scs.Store, check *redis.Client) {
	ctx := context.Background()
	sm := scs.New()
	sm.Lifetime = 2 * time.Minute
	sm.Store = store
	app := scsApp(sm)

	_, alice := do(t, app, "/put?user=alice", nil)
	require.NotNil(t, alice, "no session cookie")
	_, bob := do(t, app, "/put?user=bob", nil)
	require.NotNil(t, bob)

	key := "scs:session:" + alice.Value
	pttl, err := check.PTTL(ctx, key).Result()
	require.NoError(t, err)
	within(t, pttl, 119*time.Second, 2*time.Minute, "PTTL of the session key")

	body, _ := do(t, app, "/get", alice)
	assert.Equal(t, "alice", body)
	body, _ = do(t, app, "/get", bob)
	assert.Equal(t, "bob", body)
	body, _ = do(t, app, "/users", nil)
	assert.ElementsMatch(t, []string{"alice", "bob"}, strings.Split(body, ","), "Iterate/All")

	// Find/Commit/Delete through the store interface as well.
	b, found, err := findSCS(store, alice.Value)
	require.NoError(t, err)
	assert.True(t, found)
	assert.NotEmpty(t, b)

	do(t, app, "/destroy", alice)
	assert.Equal(t, int64(0), check.Exists(ctx, key).Val(), "Destroy must delete the key")
	body, _ = do(t, app, "/get", alice)
	assert.Equal(t, "", body)
	_, found, err = findSCS(store, alice.Value)
	require.NoError(t, err)
	assert.False(t, found)
	body, _ = do(t, app, "/users", nil)
	assert.Equal(t, "bob", body)
}

func findSCS(store scs.Store, token string) ([]byte, bool, error) {
	if cs, ok := store.(scs.CtxStore); ok {
		return cs.FindCtx(context.Background(), token)
	}
	return store.Find(token)
}

// TestSCSGoRedisStore: scs + goredisstore (go-redis v9, RESP3 default).
func TestSCSGoRedisStore(t *testing.T) {
	srv, px := startSessiond(t, testserver.WithConfig("requirepass", "pw"))
	client := goRedisClient(t, &redis.Options{Addr: px.Addr, Password: "pw"})
	check := goRedisClient(t, &redis.Options{Addr: srv.Addr, Password: "pw"})
	store := goredisstore.New(client)
	exerciseSCS(t, store, check)

	all := px.All()
	hasPrefix := func(p string) bool {
		for _, c := range all {
			if strings.HasPrefix(lower(c), p) {
				return true
			}
		}
		return false
	}
	assert.True(t, hasPrefix("set scs:session:"), "Commit is a SET")
	assert.True(t, hasPrefix("scan 0 match scs:session:*"), "AllCtx scans with MATCH and no COUNT")
	for _, c := range all {
		if strings.HasPrefix(lower(c), "set scs:session:") {
			f := strings.Fields(lower(c))
			assert.Equal(t, "px", f[len(f)-2], "goredisstore commits with a millisecond TTL: %s", c)
		}
	}

	// Commit/Find/Delete directly.
	ctx := context.Background()
	require.NoError(t, store.CommitCtx(ctx, "direct", []byte("data"), time.Now().Add(time.Minute)))
	b, ok, err := store.FindCtx(ctx, "direct")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, []byte("data"), b)
	m, err := store.AllCtx(ctx)
	require.NoError(t, err)
	assert.Contains(t, m, "direct")
	require.NoError(t, store.DeleteCtx(ctx, "direct"))
	_, ok, err = store.FindCtx(ctx, "direct")
	require.NoError(t, err)
	assert.False(t, ok)
}

// TestSCSRedigoStore: scs + redisstore (redigo): MULTI/SET/PEXPIREAT/EXEC
// commits, KEYS + GET for All.
func TestSCSRedigoStore(t *testing.T) {
	srv, px := startSessiond(t)
	pool := &redigo.Pool{
		MaxIdle: 4,
		Dial:    func() (redigo.Conn, error) { return redigo.Dial("tcp", px.Addr) },
	}
	defer pool.Close()
	check := goRedisClient(t, &redis.Options{Addr: srv.Addr})
	store := redisstore.New(pool)
	exerciseSCS(t, store, check)

	all := px.All()
	assert.Contains(t, all, "MULTI")
	assert.Contains(t, all, "EXEC")
	assert.Contains(t, all, "KEYS scs:session:*")
	found := false
	for _, c := range all {
		found = found || strings.HasPrefix(c, "PEXPIREAT scs:session:")
	}
	assert.True(t, found, "Commit sends PEXPIREAT")

	// Commit with an expiry in the past: PEXPIREAT in the past deletes the
	// key inside the transaction, so the session is gone.
	require.NoError(t, store.Commit("past", []byte("x"), time.Now().Add(time.Minute)))
	_, ok, err := store.Find("past")
	require.NoError(t, err)
	assert.True(t, ok)
	require.NoError(t, store.Commit("past", []byte("x"), time.Now().Add(-time.Second)))
	_, ok, err = store.Find("past")
	require.NoError(t, err)
	assert.False(t, ok, "PEXPIREAT in the past must delete the key")

	require.NoError(t, store.Commit("direct", []byte("data"), time.Now().Add(time.Minute)))
	m, err := store.All()
	require.NoError(t, err)
	assert.Equal(t, []byte("data"), m["direct"])
	require.NoError(t, store.Delete("direct"))
	m, err = store.All()
	require.NoError(t, err)
	assert.NotContains(t, m, "direct")
}

// TestGorillaRediStore: gorilla/sessions with boj/redistore (redigo,
// SETEX, PING on every borrow), through httptest requests.
func TestGorillaRediStore(t *testing.T) {
	srv, px := startSessiond(t, testserver.WithConfig("requirepass", "pw"))
	check := goRedisClient(t, &redis.Options{Addr: srv.Addr, Password: "pw"})
	ctx := context.Background()

	store, err := redistore.NewRediStore(4, "tcp", px.Addr, "", "pw", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err, "NewRediStore PINGs the server")
	defer store.Close()

	// Request 1: a new session, saved.
	req := httptest.NewRequest("GET", "/", nil)
	rec := httptest.NewRecorder()
	s, err := store.Get(req, "app")
	require.NoError(t, err)
	assert.True(t, s.IsNew)
	s.Values["user"] = "alice"
	s.Values["n"] = 42
	require.NoError(t, sessions.Save(req, rec))
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	key := "session_" + s.ID
	v, err := check.Get(ctx, key).Bytes()
	require.NoError(t, err)
	assert.NotEmpty(t, v, "gob payload")
	within(t, check.TTL(ctx, key).Val(), 30*24*time.Hour-5*time.Second, 30*24*time.Hour, "TTL (SETEX with the default MaxAge)")

	// Request 2: the cookie loads the session back.
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookies[0])
	s2, err := store.Get(req, "app")
	require.NoError(t, err)
	assert.False(t, s2.IsNew)
	assert.Equal(t, "alice", s2.Values["user"])
	assert.Equal(t, 42, s2.Values["n"])

	// A shorter MaxAge is the SETEX TTL.
	store.SetMaxAge(60)
	s2.Options.MaxAge = 60
	rec = httptest.NewRecorder()
	require.NoError(t, s2.Save(req, rec))
	within(t, check.TTL(ctx, key).Val(), 59*time.Second, 60*time.Second, "TTL after SetMaxAge(60)")

	// MaxAge -1 deletes it, and the next request gets a new session.
	s2.Options.MaxAge = -1
	rec = httptest.NewRecorder()
	require.NoError(t, s2.Save(req, rec))
	assert.Equal(t, int64(0), check.Exists(ctx, key).Val())
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookies[0])
	s3, err := store.New(req, "app")
	require.NoError(t, err)
	assert.True(t, s3.IsNew)
	assert.Empty(t, s3.Values)

	// The deprecated Delete.
	req = httptest.NewRequest("GET", "/", nil)
	s4, err := store.Get(req, "app")
	require.NoError(t, err)
	s4.Values["x"] = "y"
	require.NoError(t, s4.Save(req, httptest.NewRecorder()))
	require.Equal(t, int64(1), check.Exists(ctx, "session_"+s4.ID).Val())
	require.NoError(t, store.Delete(req, httptest.NewRecorder(), s4))
	assert.Equal(t, int64(0), check.Exists(ctx, "session_"+s4.ID).Val())

	all := px.All()
	assert.Equal(t, "AUTH pw", all[0])
	pings, setex := 0, 0
	for _, c := range all {
		if c == "PING" {
			pings++
		}
		if strings.HasPrefix(c, "SETEX session_") {
			setex++
		}
	}
	assert.GreaterOrEqual(t, pings, 5, "PING on store creation and on every borrow")
	assert.Equal(t, 3, setex)

	// A store on another database (NewRediStoreWithDB sends SELECT).
	store5, err := redistore.NewRediStoreWithDB(2, "tcp", srv.Addr, "", "pw", "5", []byte("k"))
	require.NoError(t, err)
	defer store5.Close()
	req = httptest.NewRequest("GET", "/", nil)
	s5, err := store5.Get(req, "app")
	require.NoError(t, err)
	s5.Values["db"] = 5
	require.NoError(t, s5.Save(req, httptest.NewRecorder()))
	assert.Equal(t, int64(0), check.Exists(ctx, "session_"+s5.ID).Val())
	db5 := goRedisClient(t, &redis.Options{Addr: srv.Addr, Password: "pw", DB: 5})
	assert.Equal(t, int64(1), db5.Exists(ctx, "session_"+s5.ID).Val())
}
