package compat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// nodeModules installs compat/node's locked dependencies (npm ci) into a
// cache directory keyed by the lock file's hash, once, and returns that
// directory. Nothing is written into the source tree.
func nodeModules(t *testing.T) string {
	t.Helper()
	requireTool(t, "node", "apt-get install -y nodejs npm (Node >= 20)")
	requireTool(t, "npm", "apt-get install -y npm")
	lock, err := os.ReadFile(filepath.Join("node", "package-lock.json"))
	require.NoError(t, err)
	pkg, err := os.ReadFile(filepath.Join("node", "package.json"))
	require.NoError(t, err)
	sum := sha256.Sum256(append(append([]byte{}, pkg...), lock...))
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "sessiond-compat", "node-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil {
		return dir
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(dir), 0o755))
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	require.NoError(t, err)
	defer os.RemoveAll(tmp)
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "package.json"), pkg, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "package-lock.json"), lock, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("npm ci failed (is the npm registry reachable?): %v\n%s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING Node client tests: " + msg)
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		// Another test process installed it first: use theirs.
		if _, statErr := os.Stat(filepath.Join(dir, "node_modules")); statErr != nil {
			require.NoError(t, err)
		}
	}
	return dir
}

// TestNodeClients runs compat/node/clients.mjs: ioredis 5 and 6 (RESP3 by
// default), node-redis 5 (RESP2, and RESP:3) and 6 (RESP3 by default, and
// RESP:2), and connect-redis 9 with express-session over HTTP.
func TestNodeClients(t *testing.T) {
	dir := nodeModules(t)
	script, err := os.ReadFile(filepath.Join("node", "clients.mjs"))
	require.NoError(t, err)
	sum := sha256.Sum256(script)
	path := filepath.Join(dir, "clients-"+hex.EncodeToString(sum[:8])+".mjs")
	if _, err := os.Stat(path); err != nil {
		tmp := path + fmt.Sprint(".tmp", os.Getpid())
		require.NoError(t, os.WriteFile(tmp, script, 0o644))
		require.NoError(t, os.Rename(tmp, path))
	}

	_, px := startSessiond(t)
	_, pwpx := startSessiond(t, testserver.WithConfig("requirepass", "pw"))
	port := px.Addr[strings.LastIndexByte(px.Addr, ':')+1:]
	pwPort := pwpx.Addr[strings.LastIndexByte(pwpx.Addr, ':')+1:]

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", path)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SESSIOND_PORT="+port, "SESSIOND_PW_PORT="+pwPort)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("node output:\n%s", out.String())
	require.NoError(t, err, "node clients failed; see the FAIL lines above")
	require.Contains(t, out.String(), "all node checks passed")
	for _, label := range []string{"ioredis5", "ioredis6", "ioredis6-resp2", "redis5", "redis5-resp3", "redis6", "redis6-resp2", "connect-redis9+redis6", "connect-redis9+redis5"} {
		assert.Contains(t, out.String(), "ok "+label+" ", "no checks ran for %s", label)
	}
	assert.Contains(t, out.String(), "ok redis6 clientSideCache", "node-redis client-side caching (CLIENT TRACKING)")

	// What the clients put on the wire.
	all := append(px.All(), pwpx.All()...)
	has := func(what string, pred func(string) bool) {
		t.Helper()
		for _, c := range all {
			if pred(c) {
				return
			}
		}
		t.Errorf("no command matching %s was sent", what)
	}
	eq := func(s string) func(string) bool { return func(c string) bool { return c == s } }
	prefix := func(s string) func(string) bool { return func(c string) bool { return strings.HasPrefix(c, s) } }
	has("ioredis6 hello 3 (RESP3 default)", eq("hello 3"))
	has("ioredis6 hello 3 with AUTH", eq("hello 3 AUTH default pw"))
	has("ioredis v5 AUTH pw", eq("auth pw"))
	has("ioredis ready check", eq("info"))
	has("ioredis select", eq("select 2"))
	has("ioredis client setinfo", prefix("client SETINFO LIB-NAME ioredis"))
	has("node-redis 6 HELLO 3", eq("HELLO 3 SETNAME redis6"))
	has("node-redis 5 RESP:3 HELLO 3", eq("HELLO 3 SETNAME redis5-resp3"))
	has("node-redis HELLO 3 AUTH", eq("HELLO 3 AUTH default pw"))
	has("node-redis AUTH (RESP2)", eq("AUTH pw"))
	has("node-redis CLIENT SETINFO", eq("CLIENT SETINFO LIB-NAME node-redis"))
	has("node-redis SELECT", eq("SELECT 3"))
	has("connect-redis SCAN MATCH COUNT", eq("SCAN 0 MATCH connect-redis9+redis6:sess:* COUNT 100"))
	has("connect-redis MGET", prefix("MGET connect-redis9+redis6:sess:"))
	has("connect-redis SET EX", func(c string) bool {
		return strings.HasPrefix(c, "SET connect-redis9+redis6:sess:") && strings.Contains(c, " EX ")
	})
	has("connect-redis touch EXPIRE", prefix("EXPIRE connect-redis9+redis6:sess:"))
	// node-redis RESP3 "auto" maintenance notifications: sessiond replies
	// -ERR unknown subcommand and the client carries on (checks above).
	has("node-redis CLIENT MAINT_NOTIFICATIONS", prefix("CLIENT MAINT_NOTIFICATIONS ON moving-endpoint-type"))
	for _, c := range all {
		// A HELLO the server rejected would show up as a RESP2 retry.
		assert.False(t, strings.HasPrefix(strings.ToUpper(c), "HELLO") && !strings.HasPrefix(c, "HELLO 3") && !strings.HasPrefix(c, "hello 3"), "unexpected HELLO %q", c)
	}
}
