package compat

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// redisCLI runs redis-cli against addr and returns its combined output.
func redisCLI(t *testing.T, addr string, stdin string, args ...string) (string, error) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// TestRedisCLI: redis-cli's --scan, --bigkeys, INFO, -3 HELLO, AUTH/-n,
// and an interactive session through a pseudo-tty.
func TestRedisCLI(t *testing.T) {
	requireTool(t, "redis-cli", "apt-get install -y redis-tools")
	if v, err := exec.Command("redis-cli", "--version").Output(); err == nil {
		t.Logf("%s", strings.TrimSpace(string(v)))
	}
	srv, px := startSessiond(t)
	ctx := context.Background()
	c := goRedisClient(t, &redis.Options{Addr: srv.Addr})
	var sess []string
	for i := 0; i < 40; i++ {
		k := fmt.Sprintf("sess:%02d", i)
		sess = append(sess, k)
		require.NoError(t, c.Set(ctx, k, "v", time.Hour).Err())
	}
	for i := 0; i < 10; i++ {
		require.NoError(t, c.Set(ctx, fmt.Sprintf("other:%d", i), "v", 0).Err())
	}
	require.NoError(t, c.Set(ctx, "big", strings.Repeat("x", 5000), 0).Err())
	require.NoError(t, c.SAdd(ctx, "myset", "a", "b", "c", "d", "e").Err())

	t.Run("scan", func(t *testing.T) {
		out, err := redisCLI(t, px.Addr, "", "--scan", "--pattern", "sess:*")
		require.NoError(t, err, out)
		keys := strings.Fields(out)
		slices.Sort(keys)
		assert.Equal(t, sess, keys)
		out, err = redisCLI(t, px.Addr, "", "--scan") // COUNT without MATCH
		require.NoError(t, err, out)
		keys = strings.Fields(out)
		slices.Sort(keys)
		assert.Len(t, slices.Compact(keys), 52)
		// redis-cli 7.0 sends SCAN <cursor> [MATCH p] (7.2+ adds COUNT)
		// and loops on the bulk-string cursor until "0".
		has := func(p string) bool {
			return slices.ContainsFunc(px.All(), func(c string) bool { return strings.HasPrefix(c, p) })
		}
		assert.True(t, has("SCAN 0 MATCH sess:*"))
		assert.True(t, has("SCAN 0"))
	})

	t.Run("bigkeys", func(t *testing.T) {
		out, err := redisCLI(t, px.Addr, "", "--bigkeys")
		require.NoError(t, err, out)
		assert.Contains(t, out, "Sampled 52 keys in the keyspace!")
		assert.Contains(t, out, `Biggest string found '"big"' has 5000 bytes`)
		assert.Regexp(t, `Biggest +set found '"myset"' has 5 members`, out)
		assert.Contains(t, out, "51 strings with 5050 bytes")
		assert.Contains(t, out, "1 sets with 5 members")
		all := px.All()
		assert.Contains(t, all, "DBSIZE")
		assert.Contains(t, all, "TYPE myset")
		assert.Contains(t, all, "SCARD myset")
		assert.Contains(t, all, "STRLEN big")
	})

	t.Run("info", func(t *testing.T) {
		out, err := redisCLI(t, px.Addr, "", "INFO")
		require.NoError(t, err, out)
		assert.True(t, strings.HasPrefix(out, "# Server\r\n"), "first line %q", strings.SplitN(out, "\n", 2)[0])
		assert.Regexp(t, `\r\nredis_version:7\.\d+\.\d+\r\n`, out)
		assert.Contains(t, out, "\r\n# Keyspace\r\ndb0:keys=52,expires=40,")
		out, err = redisCLI(t, px.Addr, "", "INFO", "clients")
		require.NoError(t, err, out)
		assert.True(t, strings.HasPrefix(out, "# Clients\r\nconnected_clients:"), out)
	})

	t.Run("hello3", func(t *testing.T) {
		// -3 makes redis-cli send HELLO 3 at connect (and assert on the
		// reply's shape), then the HELLO command prints the map.
		out, err := redisCLI(t, px.Addr, "", "-3", "HELLO")
		require.NoError(t, err, out)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		assert.Contains(t, lines, "server redis")
		assert.Contains(t, lines, "proto 3")
		assert.Contains(t, lines, "mode standalone")
		assert.Contains(t, lines, "role master")
		assert.Regexp(t, `(?m)^version 7\.\d+\.\d+$`, out)
		assert.Regexp(t, `(?m)^id \d+$`, out)
		// In RESP3 a missing key is printed as (nil) from the "_" type.
		out, err = redisCLI(t, px.Addr, "", "-3", "GET", "missing")
		require.NoError(t, err, out)
		assert.Equal(t, "\n", out, "redis-cli prints an empty line for a nil in non-tty mode")
	})

	t.Run("auth", func(t *testing.T) {
		pw := startServer(t, testserver.WithConfig("requirepass", "pw"))
		out, err := redisCLI(t, pw.Addr, "", "-a", "pw", "--no-auth-warning", "-n", "2", "SET", "k", "v")
		require.NoError(t, err, out)
		assert.Equal(t, "OK\n", out)
		db2 := goRedisClient(t, &redis.Options{Addr: pw.Addr, Password: "pw", DB: 2})
		assert.Equal(t, "v", db2.Get(ctx, "k").Val(), "-n 2 selects database 2")
		out, _ = redisCLI(t, pw.Addr, "", "-a", "wrong", "--no-auth-warning", "PING")
		assert.Contains(t, out, "WRONGPASS invalid username-password pair or user is disabled.")
		out, _ = redisCLI(t, pw.Addr, "", "PING")
		assert.Contains(t, out, "NOAUTH Authentication required.")
	})

	t.Run("interactive", func(t *testing.T) {
		requireTool(t, "script", "apt-get install -y util-linux")
		host, port, _ := strings.Cut(px.Addr, ":")
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		// script gives redis-cli a pseudo-tty, so it runs its interactive
		// start-up (COMMAND DOCS for the help) and prints prompts. TERM=dumb
		// keeps linenoise from querying the cursor position.
		cmd := exec.CommandContext(cctx, "script", "-qec", fmt.Sprintf("redis-cli -h %s -p %s", host, port), "/dev/null")
		cmd.Env = append(os.Environ(), "TERM=dumb")
		cmd.Stdin = strings.NewReader("SET sess:tty hello\nGET sess:tty\nttl sess:tty\nhelp GET\nNOSUCH x\nselect 3\ndbsize\nquit\n")
		raw, err := cmd.CombinedOutput()
		out := strings.ReplaceAll(ansi.ReplaceAllString(string(raw), ""), "\r", "")
		require.NoError(t, err, out)
		prompt := px.Addr + "> "
		assert.Contains(t, out, prompt+"OK\n")
		assert.Contains(t, out, prompt+"\"hello\"\n")
		assert.Contains(t, out, prompt+"(integer) -1\n")
		// The help comes from COMMAND DOCS, as Redis 7.0.15's does; "key"
		// is the argument list the interactive hints show too.
		assert.Contains(t, out, "\n  GET key\n  summary: Get the value of a key\n  since: 1.0.0\n  group: string\n")
		assert.Contains(t, out, "(error) ERR unknown command 'NOSUCH', with args beginning with: 'x'")
		assert.Contains(t, out, px.Addr+"[3]> (integer) 0\n")
		assert.Contains(t, px.All(), "COMMAND DOCS")
	})
}
