package luascript

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// libCall calls lib.fn(args...) in st as a script would, and returns its
// results or its error. A Go panic inside the call fails the test: Redis's
// C library would have crashed the server.
func libCall(t testing.TB, st *state, lib, fn string, args ...lua.LValue) ([]lua.LValue, error) {
	t.Helper()
	L := st.L
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()
	top := L.GetTop()
	L.Push(L.GetField(st.store.RawGetString(lib), fn))
	for _, a := range args {
		L.Push(a)
	}
	err := L.PCall(len(args), lua.MultRet, nil)
	if ae, ok := errors.AsType[*lua.ApiError](err); ok && ae.Type == lua.ApiErrorPanic {
		t.Fatalf("%s.%s panicked: %v", lib, fn, ae.Object)
	}
	var out []lua.LValue
	for i := top + 1; i <= L.GetTop(); i++ {
		out = append(out, L.Get(i))
	}
	L.SetTop(top)
	return out, err
}

func newTestState() *state { return newState("7.0.15") }

// boundedRun runs f and fails when it took too long or allocated far
// more than its input could justify.
func boundedRun(t *testing.T, in int, f func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	runtime.ReadMemStats(&after)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v for %d bytes", d, in)
	}
	// A generous factor of the input.
	if n := after.TotalAlloc - before.TotalAlloc; n > 32<<20+uint64(in)*4096 {
		t.Fatalf("allocated %d bytes for %d bytes of input", n, in)
	}
}

// FuzzStructUnpack: struct.unpack and struct.size of any format and data,
// and struct.pack of the format with the unpacked values, never panic.
func FuzzStructUnpack(f *testing.F) {
	for _, s := range [][2]string{{"<i4", "\x01\x02\x03\x04"}, {"!4bi", "\x01\x00\x00\x00\x02\x00\x00\x00"}, {"bc0", "\x02ab"},
		{"s", "ab\x00"}, {">d", "\x3f\xf0\x00\x00\x00\x00\x00\x00"}, {"i16I9", strings.Repeat("\xff", 25)}, {"!3", ""}, {"c99999999999", ""}} {
		f.Add(s[0], []byte(s[1]), int64(1))
	}
	st := newTestState()
	f.Fuzz(func(t *testing.T, format string, data []byte, pos int64) {
		boundedRun(t, len(format)+len(data), func() {
			libCall(t, st, "struct", "size", lua.LString(format))
			v, err := libCall(t, st, "struct", "unpack", lua.LString(format), lua.LString(data), lua.LNumber(pos))
			if err != nil {
				return
			}
			args := append([]lua.LValue{lua.LString(format)}, v[:len(v)-1]...)
			libCall(t, st, "struct", "pack", args...)
		})
	})
}

func TestFormatG(t *testing.T) {
	for _, c := range []struct {
		f    float64
		prec int
		want string
	}{
		{0, 14, "0"}, {math.Copysign(0, -1), 14, "-0"}, {0.1, 14, "0.1"}, {1.0 / 3, 14, "0.33333333333333"},
		{1e14, 14, "1e+14"}, {12345678901234, 14, "12345678901234"}, {123456789012345, 14, "1.2345678901234e+14"},
		{1e-4, 14, "0.0001"}, {1e-5, 14, "1e-05"}, {1e300, 14, "1e+300"}, {5e-324, 14, "4.9406564584125e-324"},
		{math.Pi, 3, "3.14"}, {99999.5, 5, "1e+05"}, {math.Inf(-1), 14, "-inf"}, {math.NaN(), 14, "nan"},
		{100, 1, "1e+02"}, {0.5, 1, "0.5"},
	} {
		require.Equal(t, c.want, formatG(c.f, c.prec), "%v %d", c.f, c.prec)
	}
}
