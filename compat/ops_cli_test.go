package compat

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedisCLIOperatorModes: redis-cli --stat and --latency against
// sessiond, and --memkeys, which sizes every key with MEMORY USAGE
// (--bigkeys is in TestRedisCLI).
func TestRedisCLIOperatorModes(t *testing.T) {
	requireTool(t, "redis-cli", "apt-get install -y redis-tools")
	srv, _ := startSessiond(t)
	ctx := context.Background()
	c := goRedisClient(t, &redis.Options{Addr: srv.Addr})
	for i := range 25 {
		require.NoError(t, c.Set(ctx, fmt.Sprintf("sess:%d", i), "v", time.Hour).Err())
	}
	host, port, _ := strings.Cut(srv.Addr, ":")

	t.Run("stat", func(t *testing.T) {
		// --stat runs until killed; stdbuf makes its lines reach the pipe.
		requireTool(t, "stdbuf", "apt-get install -y coreutils")
		ctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		defer cancel()
		out, _ := exec.CommandContext(ctx, "stdbuf", "-oL", "redis-cli", "-h", host, "-p", port, "--stat", "-i", "0.2").Output()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		require.GreaterOrEqual(t, len(lines), 3, "%s", out)
		assert.Contains(t, lines[0], "------- data ------")
		row := regexp.MustCompile(`^25\s+\S+\s+\d+\s+0\s+\d+ \(\+\d+\)\s+\d+`)
		assert.Regexp(t, row, lines[2], "keys, mem, clients, blocked, requests, connections")
	})

	t.Run("latency", func(t *testing.T) {
		out, err := redisCLI(t, srv.Addr, "", "--latency", "--raw", "-i", "1")
		require.NoError(t, err, out)
		assert.Regexp(t, `^\d+ \d+ \d+\.\d+ \d+\n$`, out, "min max avg samples")
	})

	t.Run("memkeys", func(t *testing.T) {
		require.NoError(t, c.SAdd(ctx, "user_sess:1", "a", "b").Err())
		require.NoError(t, c.HSet(ctx, "h", "f", "v").Err())
		out, err := redisCLI(t, srv.Addr, "", "--memkeys")
		require.NoError(t, err, out)
		assert.NotContains(t, out, "failed", "MEMORY USAGE answered for every key")
		assert.Contains(t, out, "Sampled 27 keys")
		assert.Regexp(t, `25 strings with [1-9]\d* bytes`, out)
		assert.Regexp(t, `1 sets with [1-9]\d* bytes`, out)
		assert.Regexp(t, `1 hashs with [1-9]\d* bytes`, out)
	})

}
