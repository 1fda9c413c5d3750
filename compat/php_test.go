package compat

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// phpResult is what php/session.php prints.
type phpResult struct {
	Action    string         `json:"action"`
	Started   bool           `json:"started"`
	ID        string         `json:"id"`
	Closed    bool           `json:"closed"`
	Destroyed bool           `json:"destroyed"`
	Session   map[string]any `json:"session"`
	BinOK     bool           `json:"bin_ok"`
	Exception string         `json:"exception"`
	Errors    []string       `json:"errors"`
	StartedAt float64        `json:"started_at"`
	ClosedAt  float64        `json:"closed_at"`
}

// requirePHPRedis skips (or, under CI, fails) unless php with the redis
// extension is installed.
func requirePHPRedis(t *testing.T) {
	t.Helper()
	php := requireTool(t, "php", "apt-get install -y php-cli php-redis")
	out, err := exec.Command(php, "-r", "echo extension_loaded('redis') ? phpversion('redis') : 'missing';").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) == "missing" {
		msg := "the phpredis extension is not loaded (install: apt-get install -y php-redis): " + string(out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING phpredis session tests: " + msg)
	}
	t.Logf("phpredis %s", strings.TrimSpace(string(out)))
}

// php runs php/session.php with the phpredis session handler on savePath
// and extra ini settings.
func php(t *testing.T, savePath string, ini []string, args ...string) phpResult {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("php", "session.php"))
	require.NoError(t, err)
	cmdArgs := []string{"-d", "session.save_handler=redis", "-d", `session.save_path="` + savePath + `"`,
		"-d", "display_errors=stderr", "-d", "error_reporting=-1"}
	for _, kv := range ini {
		cmdArgs = append(cmdArgs, "-d", kv)
	}
	cmdArgs = append(cmdArgs, script)
	cmdArgs = append(cmdArgs, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "php", cmdArgs...)
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	var res phpResult
	require.NoError(t, json.Unmarshal(out, &res), "php %v: %v\nstdout: %s\nstderr: %s", args, err, out, stderr)
	require.Empty(t, res.Exception, "php %v threw", args)
	return res
}

// TestPHPRedisSessions: PHP sessions with session.save_handler=redis
// (phpredis), unmodified: write, read back in a second process, lazy-write
// TTL refresh, strict-mode validation, destroy; with AUTH and a database.
func TestPHPRedisSessions(t *testing.T) {
	requirePHPRedis(t)
	srv, px := startSessiond(t, testserver.WithConfig("requirepass", "pw"))
	check := goRedisClient(t, &redis.Options{Addr: srv.Addr, Password: "pw", DB: 2})
	ctx := context.Background()
	save := "tcp://" + px.Addr + "?auth=pw&database=2"
	ini := []string{"session.gc_maxlifetime=600"}
	const key = "PHPREDIS_SESSION:compatsid01"

	w := php(t, save, ini, "write", "compatsid01", "alice")
	assert.True(t, w.Started)
	assert.True(t, w.Closed)
	assert.Empty(t, w.Errors)
	data, err := check.Get(ctx, key).Result()
	require.NoError(t, err)
	assert.Equal(t, "user|s:5:\"alice\";count|i:1;bin|s:4:\"\x00\xff\r\n\";", data, "PHP-serialized, binary-safe")
	within(t, check.TTL(ctx, key).Val(), 599*time.Second, 600*time.Second, "TTL = session.gc_maxlifetime")

	// A second process reads it back and writes again.
	r := php(t, save, ini, "read", "compatsid01")
	assert.Empty(t, r.Errors)
	assert.Equal(t, map[string]any{"user": "alice", "count": float64(1)}, r.Session)
	assert.True(t, r.BinOK)
	w = php(t, save, ini, "write", "compatsid01", "alice2")
	assert.Empty(t, w.Errors)
	r = php(t, save, ini, "read", "compatsid01")
	assert.Equal(t, map[string]any{"user": "alice2", "count": float64(2)}, r.Session)

	// lazy_write: an unchanged session only refreshes the TTL with EXPIRE,
	// whose reply phpredis requires to be exactly ":1".
	tr := php(t, save, []string{"session.gc_maxlifetime=900"}, "touch", "compatsid01")
	assert.Empty(t, tr.Errors)
	assert.True(t, tr.Closed)
	within(t, check.TTL(ctx, key).Val(), 899*time.Second, 900*time.Second, "TTL after the lazy-write EXPIRE")

	// Strict mode validates the id with EXISTS (reply must be exactly :1):
	// a known id is kept, an unknown one is replaced.
	strict := append([]string{"session.use_strict_mode=1"}, ini...)
	r = php(t, save, strict, "read", "compatsid01")
	assert.Equal(t, "compatsid01", r.ID)
	assert.Equal(t, "alice2", r.Session["user"])
	r = php(t, save, strict, "read", "forgedsid")
	assert.NotEqual(t, "forgedsid", r.ID, "strict mode must reject an unknown id")
	assert.Empty(t, r.Session)

	// Destroy deletes the key (DEL reply must be :0 or :1).
	d := php(t, save, ini, "destroy", "compatsid01")
	assert.True(t, d.Destroyed)
	assert.Empty(t, d.Errors)
	assert.Equal(t, int64(0), check.Exists(ctx, key).Val())
	r = php(t, save, ini, "read", "compatsid01")
	assert.Empty(t, r.Session)

	// A wrong password makes session_start fail (AUTH needs +OK).
	bad := php(t, "tcp://"+px.Addr+"?auth=nope", ini, "read", "compatsid01")
	assert.False(t, bad.Started)
	require.NotEmpty(t, bad.Errors)
	assert.Contains(t, bad.Errors[0], "Failed to read session data")

	all := px.All()
	for _, want := range []string{"AUTH pw", "SELECT 2", "GET " + key, "EXPIRE " + key + " 900", "EXISTS " + key, "DEL " + key, "AUTH nope"} {
		assert.Contains(t, all, want)
	}
	found := false
	for _, c := range all {
		found = found || strings.HasPrefix(c, "SETEX "+key+" 600 ")
	}
	assert.True(t, found, "write is SETEX key gc_maxlifetime data")
}

// TestPHPRedisSessionLocking: redis.session.locking_enabled=1. phpredis
// takes the lock with SET k_LOCK v NX PX and releases it in
// session_write_close() with a compare-and-delete script (EVALSHA, then
// EVAL on NOSCRIPT). A second request for the same session waits while
// the first holds the lock and proceeds as soon as it is released.
func TestPHPRedisSessionLocking(t *testing.T) {
	requirePHPRedis(t)
	srv, px := startSessiond(t)
	check := goRedisClient(t, &redis.Options{Addr: srv.Addr})
	ctx := context.Background()
	save := "tcp://" + px.Addr
	ini := []string{"session.gc_maxlifetime=600", "redis.session.locking_enabled=1", "redis.session.lock_expire=10",
		"redis.session.lock_retries=200", "redis.session.lock_wait_time=20000"}
	const key = "PHPREDIS_SESSION:locksid"

	w := php(t, save, ini, "write", "locksid", "carol")
	assert.True(t, w.Started)
	assert.True(t, w.Closed)
	assert.Empty(t, w.Errors, "the lock is released without error")
	assert.Equal(t, "user|s:5:\"carol\";count|i:1;bin|s:4:\"\x00\xff\r\n\";", check.Get(ctx, key).Val())
	assert.Equal(t, int64(0), check.Exists(ctx, key+"_LOCK").Val(), "released after session_write_close()")

	// The next request for the session proceeds at once.
	start := time.Now()
	w = php(t, save, ini, "write", "locksid", "dave")
	assert.Empty(t, w.Errors)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Equal(t, "dave", phpUser(t, check.Get(ctx, key).Val()))

	// Two requests at once: B waits for A's lock, then runs right after A
	// released it, and sees A's write.
	aDone := make(chan phpResult, 1)
	go func() {
		var r phpResult
		defer func() { aDone <- r }() // also when php fails the test (Goexit)
		r = php(t, save, ini, "hold", "concsid", "anna", "700")
	}()
	deadline := time.Now().Add(10 * time.Second)
	for check.Exists(ctx, "PHPREDIS_SESSION:concsid_LOCK").Val() == 0 {
		require.True(t, time.Now().Before(deadline), "A never took the lock")
		time.Sleep(5 * time.Millisecond)
	}
	b := php(t, save, ini, "write", "concsid", "ben")
	a := <-aDone
	assert.Empty(t, a.Errors)
	assert.Empty(t, b.Errors)
	assert.GreaterOrEqual(t, b.StartedAt, a.ClosedAt, "B got the session only after A released it")
	assert.Less(t, b.StartedAt-a.ClosedAt, 0.5, "B proceeded as soon as the lock was released")
	data := check.Get(ctx, "PHPREDIS_SESSION:concsid").Val()
	assert.Equal(t, "ben", phpUser(t, data))
	assert.Contains(t, data, "count|i:2;", "B read A's write")
	assert.Equal(t, int64(0), check.Exists(ctx, "PHPREDIS_SESSION:concsid_LOCK").Val())

	all := px.All()
	var lockSet, evalsha, eval bool
	for _, c := range all {
		f := strings.Fields(c)
		if len(f) == 6 && f[0] == "SET" && f[1] == key+"_LOCK" && f[3] == "NX" && f[4] == "PX" && f[5] == "10000" {
			lockSet = true
		}
		evalsha = evalsha || strings.HasPrefix(c, "EVALSHA b70c2384248f88e6b75b9f89241a180f856ad852 1 "+key+"_LOCK ")
		eval = eval || strings.HasPrefix(c, "EVAL ")
	}
	assert.True(t, lockSet, "lock acquire is SET k_LOCK <host|pid> NX PX 10000")
	assert.True(t, evalsha, "lock release tries EVALSHA")
	assert.True(t, eval, "and loads the script with EVAL on NOSCRIPT")
}

// phpUser extracts the "user" string from PHP-serialized session data.
func phpUser(t *testing.T, data string) string {
	t.Helper()
	_, rest, ok := strings.Cut(data, `user|s:`)
	require.True(t, ok, "no user in %q", data)
	_, rest, _ = strings.Cut(rest, `:"`)
	user, _, _ := strings.Cut(rest, `"`)
	return user
}

// TestPHPRedisClient runs php/client.php: phpredis's Redis class as
// Laravel's phpredis connector uses it (SELECT 0, SETEX, NX locks, MGET,
// MULTI/EXEC with exact +OK/+QUEUED, SCAN iterator, INFO parsing, error
// prefixes phpredis branches on, AUTH/SELECT).
func TestPHPRedisClient(t *testing.T) {
	requirePHPRedis(t)
	_, px := startSessiond(t)
	_, pwpx := startSessiond(t, testserver.WithConfig("requirepass", "pw"))
	port := px.Addr[strings.LastIndexByte(px.Addr, ':')+1:]
	pwPort := pwpx.Addr[strings.LastIndexByte(pwpx.Addr, ':')+1:]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "php", filepath.Join("php", "client.php"), port, pwPort)
	cmd.Env = os.Environ() // COMPAT_AGAINST_REDIS skips the known-gap checks
	out, err := cmd.CombinedOutput()
	t.Logf("php output:\n%s", out)
	require.NoError(t, err, "php client checks failed; see the FAIL lines above")
	assert.Contains(t, string(out), "all php client checks passed")
	assert.Contains(t, string(out), "ok eval: Laravel lock release")
	assert.Contains(t, px.All(), "SELECT 0")
	assert.Contains(t, px.All(), "MULTI")
}
