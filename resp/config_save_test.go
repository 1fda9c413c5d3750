package resp_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// TestConfigSetSaveMatchesRedis: CONFIG SET save refuses what Redis
// refuses, with its text, and CONFIG GET shows what it stored as Redis
// does (numbers in decimal, a huge one saturated).
func TestConfigSetSaveMatchesRedis(t *testing.T) {
	sd := testserver.Start(t)
	red := testserver.StartRedis(t)
	for _, addr := range []string{sd.Addr, red.Addr} {
		rc := redis.NewClient(&redis.Options{Addr: addr})
		ctx := t.Context()
		for _, bad := range []string{"foo", "900", "0 1", "-1 1", "10 -1", "  ", "900 1  300 10"} {
			err := rc.ConfigSet(ctx, "save", bad).Err()
			require.Error(t, err, "%s %q", addr, bad)
			assert.Equal(t, "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters", err.Error(), "%s %q", addr, bad)
		}
		for in, want := range map[string]string{"900 1 300 10": "900 1 300 10", "0900 1": "900 1", "99999999999999999999 1": "9223372036854775807 1", "": ""} {
			require.NoError(t, rc.ConfigSet(ctx, "save", in).Err(), "%s %q", addr, in)
			assert.Equal(t, want, rc.ConfigGet(ctx, "save").Val()["save"], "%s %q", addr, in)
		}
		rc.Close()
	}
}
