package config

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allocatedBytes is what f allocates: a measure of its work that, unlike
// wall time, does not depend on the machine's load.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestSaveLinesLinear: a file of many save lines loads in work linear in
// its size. Each line used to join and re-parse every line before it, so
// doubling the lines quadrupled the work (64 KB of them took 3 s).
func TestSaveLinesLinear(t *testing.T) {
	load := func(n int) uint64 {
		text := strings.Repeat("save 1 1\n", n)
		return allocatedBytes(func() {
			c := New()
			require.NoError(t, c.LoadFile("s.conf", strings.NewReader(text)))
			require.Equal(t, "1s", c.Get("save-interval"))
		})
	}
	load(100) // warm up
	small, large := load(2000), load(8000)
	t.Logf("2000 lines: %d bytes allocated, 8000 lines: %d", small, large)
	assert.Less(t, large, 6*small, "4x the lines must cost about 4x the work, not 16x")
}

// TestSaveValuesAsRedis: save values are accepted, refused and shown in
// CONFIG GET as by redis-server 7.0.15.
func TestSaveValuesAsRedis(t *testing.T) {
	for in, want := range map[string]string{
		"900 1 300 10": "900 1 300 10", "0900 1": "900 1", "+5 1": "5 1", "": "",
		"99999999999999999999 1": "9223372036854775807 1", "60 0": "60 0",
	} {
		got, err := checkSave(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"foo", "900", "0 1", "-1 1", "10 -1", "  ", "900 1  300 10", " 900 1", "1.5 1", "-99999999999999999999 1"} {
		_, err := checkSave(in)
		assert.EqualError(t, err, "Invalid save parameters", in)
	}
}

// TestSaveLinesInFile: save lines add up, "" clears them, and a bad one is
// reported with its line number and changes nothing.
func TestSaveLinesInFile(t *testing.T) {
	c := New()
	var seen []string
	c.OnSet("save-interval", func(v string) { seen = append(seen, v) })
	err := c.LoadFile("s.conf", strings.NewReader("save 900 1\nsave 300 x\nsave 0300 10\n"))
	require.EqualError(t, err, `s.conf:2: invalid save "300 x": Invalid save parameters`)
	assert.Equal(t, "900 1 300 10", c.Get("save"))
	assert.Equal(t, "5m0s", c.Get("save-interval"))
	assert.Equal(t, []string{"15m0s", "5m0s"}, seen, "save-interval watchers hear each change")
	require.NoError(t, c.LoadFile("s.conf", strings.NewReader("save 900 1\nsave \"\"\nsave 3600 1\n")))
	assert.Equal(t, "3600 1", c.Get("save"), `save "" drops the lines before it`)
	assert.Equal(t, "1h0m0s", c.Get("save-interval"))
}

// TestHugeIntervalsDoNotWrap: seconds beyond what a time.Duration holds
// used to wrap, so "save 18446744074 1" saved every 290ms.
func TestHugeIntervalsDoNotWrap(t *testing.T) {
	longest := time.Duration(1<<63 - 1)
	for _, line := range []string{"save 18446744074 1", "save 99999999999999999999 1", "save 9223372037 1"} {
		c := New()
		require.NoError(t, c.LoadFile("s.conf", strings.NewReader(line+"\n")), line)
		assert.Equal(t, longest, c.Duration("save-interval"), "%s never fires, as in Redis", line)
	}
	for _, v := range []string{"18446744074", "99999999999999999999", "9223372037"} {
		err := New().Set("save-interval", v)
		assert.EqualError(t, err, fmt.Sprintf("invalid save-interval %q: must be at most 9223372036 seconds", v))
	}
	c := New()
	require.NoError(t, c.Set("save-interval", "9223372036"))
	assert.Equal(t, "9223372036 1", c.Get("save"))
	assert.EqualError(t, c.Set("save-interval", "-18446744074"), `invalid save-interval "-18446744074": must not be negative`)
}
