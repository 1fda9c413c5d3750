package cnum

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStrtodPrefix(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		n    int
	}{
		{"1", 1, 1}, {"-1.5e3x", -1500, 6}, {"1e", 1, 1}, {"1e+", 1, 1}, {".5", 0.5, 2}, {"1.", 1, 2}, {"-", 0, 0},
		{"0x10", 16, 4}, {"0x", 0, 1}, {"0x.8p1", 1, 6}, {"0x1p", 1, 3}, {"infinity", math.Inf(1), 8},
		{"-INFx", math.Inf(-1), 4}, {"1e400", math.Inf(1), 5}, {"1e-400", 0, 6}, {"x", 0, 0},
	} {
		f, n := StrtodPrefix(c.in)
		require.Equal(t, c.n, n, "%q", c.in)
		require.Equal(t, c.want, f, "%q", c.in)
	}
	f, n := StrtodPrefix("nan(0x7)z")
	require.Equal(t, 8, n)
	require.Equal(t, uint64(0x7ff8000000000007), math.Float64bits(f))
	f, n = StrtodPrefix("-nan(")
	require.Equal(t, 4, n)
	require.Equal(t, uint64(0xfff8000000000000), math.Float64bits(f))
}
