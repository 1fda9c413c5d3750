package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1024": 1024, "1k": 1000, "1kb": 1024, "2mb": 2 << 20, "1gb": 1 << 30, "3G": 3e9, "10b": 10} {
		got, err := ParseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "lots", "-1", "1tb", "1.5gb"} {
		_, err := ParseSize(in)
		assert.Error(t, err, in)
	}
}

func TestCanonicalValues(t *testing.T) {
	c := New()
	require.NoError(t, c.Set("maxmemory", "100mb"))
	assert.Equal(t, "104857600", c.Get("maxmemory"), "CONFIG GET reports bytes, as Redis does")
	require.NoError(t, c.Set("save-interval", "90"))
	assert.Equal(t, "1m30s", c.Get("save-interval"), "bare seconds, as redis.conf writes them")
	require.NoError(t, c.Set("rdb-skip-unsupported", "YES"))
	assert.True(t, c.Bool("rdb-skip-unsupported"))
	require.NoError(t, c.Set("maxmemory-policy", "ALLKEYS-LRU"))
	assert.Equal(t, "allkeys-lru", c.Get("maxmemory-policy"))
	assert.Error(t, c.Set("dbfilename", "../escape.rdb"))
	assert.Error(t, c.Set("addr", "no-port"))
}

func TestSaveLinesDriveInterval(t *testing.T) {
	c := New()
	require.NoError(t, c.LoadFile("t.conf", strings.NewReader("save 900 1\nsave 300 10\nsave 60 10000\n")))
	assert.Equal(t, "1m0s", c.Get("save-interval"))
	require.NoError(t, c.LoadFile("t.conf", strings.NewReader("save \"\"\n")))
	assert.Equal(t, "0s", c.Get("save-interval"), `save "" disables snapshots`)
}

func TestLoadFileReportsEveryBadLine(t *testing.T) {
	c := New()
	err := c.LoadFile("s.conf", strings.NewReader("# c\nmaxclients x\nrequirepass \"a b\"\nnope 1\ntimeout 'unbalanced\n"))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "s.conf:2: invalid maxclients")
	assert.Contains(t, msg, "s.conf:4: unknown parameter")
	assert.Contains(t, msg, "s.conf:5: unbalanced quotes")
	assert.Equal(t, "a b", c.Get("requirepass"), "quoted values keep their spaces")
}

func TestSetRuntimeAndOnSet(t *testing.T) {
	c := New()
	var got string
	c.OnSet("timeout", func(v string) { got = v })
	require.NoError(t, c.SetRuntime("TIMEOUT", "30"))
	assert.Equal(t, "30", got)
	assert.ErrorIs(t, c.SetRuntime("addr", "127.0.0.1:1"), ErrImmutable)
	assert.ErrorIs(t, c.SetRuntime("databases", "16"), ErrImmutable)
	assert.ErrorIs(t, c.SetRuntime("nosuch", "1"), ErrImmutable)
}

func TestParamsSortedAndDefaultsValid(t *testing.T) {
	for i, p := range Params {
		if i > 0 {
			assert.Less(t, Params[i-1].Name, p.Name)
		}
		v, err := p.Check(p.Default)
		require.NoError(t, err, p.Name)
		assert.Equal(t, p.Default, v, "%s default is canonical", p.Name)
	}
}

func TestSaveReportsInterval(t *testing.T) {
	c := New()
	assert.Equal(t, "60 1", c.Get("save"))
	require.NoError(t, c.Set("save-interval", "0"))
	assert.Equal(t, "", c.Get("save"), "CONFIG GET save shows snapshots are off")
	require.NoError(t, c.Set("save", "900 1 300 10"))
	assert.Equal(t, "5m0s", c.Get("save-interval"))
	assert.Equal(t, "900 1 300 10", c.Get("save"), "a save line as given is kept")
}

func TestParseSizeRejectsOverflow(t *testing.T) {
	_, err := ParseSize("10000000000gb")
	require.Error(t, err, "n*mult would wrap to a negative size")
	n, err := ParseSize("8589934591gb")
	require.NoError(t, err)
	require.Equal(t, int64(8589934591)<<30, n)
}
