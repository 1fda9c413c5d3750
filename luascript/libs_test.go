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

func newTestState() *state { return newState("7.0.15", newJSONConfig()) }

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
	// Padding (mpMaxPad slots of 16 bytes, appended one at a time) and a
	// generous factor of the input.
	if n := after.TotalAlloc - before.TotalAlloc; n > 6*16*mpMaxPad+32<<20+uint64(in)*4096 {
		t.Fatalf("allocated %d bytes for %d bytes of input", n, in)
	}
}

// FuzzCJSONDecode: cjson.decode of any bytes returns a value or an error,
// never a panic or a hang; what it decodes encodes again, and decoding
// that encoding encodes to the same text.
func FuzzCJSONDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00"}`, `[1e400, -0, 0x10, nan, -inf]`,
		`"\u12"`, `[[[[[[1]]]]]]`, "[1,\x00]", `{"a":1,"a":2}`, `  true `, `"\/\b\f\n\r\t\\\""`, `1.5e-7`} {
		f.Add([]byte(s))
	}
	st := newTestState()
	f.Fuzz(func(t *testing.T, in []byte) {
		boundedRun(t, len(in), func() {
			v, err := libCall(t, st, "cjson", "decode", lua.LString(in))
			if err != nil {
				return
			}
			require.Len(t, v, 1)
			enc, err := libCall(t, st, "cjson", "encode", v[0])
			if err != nil {
				return // NaN, Inf, sparse arrays: errors, as in Redis
			}
			again, err := libCall(t, st, "cjson", "decode", enc[0])
			require.NoError(t, err, "%q", enc[0])
			enc2, err := libCall(t, st, "cjson", "encode", again[0])
			require.NoError(t, err)
			require.Equal(t, enc[0], enc2[0])
		})
	})
}

// FuzzCmsgpackUnpack: cmsgpack.unpack, unpack_one and unpack_limit of any
// bytes return values or an error, never a panic, a hang or an
// allocation out of proportion to the input; what unpacks packs again,
// and packing what that unpacks settles by the second time.
func FuzzCmsgpackUnpack(f *testing.F) {
	for _, s := range []string{"\x93\x01\xa1x\xc0", "\x81\xa1a\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a", "\xdc\x00\x02\x01\x02",
		"\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "\xdd\xff\xff\xff\xff", "\xdb\xff\xff\xff\xffab", "\x81\x05\x01",
		"\x81\xc0\x01", strings.Repeat("\x91", 5000), "\x01\x02\x03", "\xc1"} {
		f.Add([]byte(s), int64(0), int64(0))
	}
	st := newTestState()
	f.Fuzz(func(t *testing.T, in []byte, offset, limit int64) {
		boundedRun(t, len(in), func() {
			libCall(t, st, "cmsgpack", "unpack_one", lua.LString(in), lua.LNumber(offset))
			libCall(t, st, "cmsgpack", "unpack_limit", lua.LString(in), lua.LNumber(limit), lua.LNumber(offset))
			v, err := libCall(t, st, "cmsgpack", "unpack", lua.LString(in))
			if err != nil || len(v) == 0 {
				return
			}
			// Packing drops what is nested past mpMaxNesting, and a nil
			// in an array unpacks as a hole: the second packing is the
			// one that packs to itself.
			p, err := libCall(t, st, "cmsgpack", "pack", v...)
			require.NoError(t, err)
			for range 2 {
				v2, err := libCall(t, st, "cmsgpack", "unpack", p[0])
				require.NoError(t, err, "%q", p[0])
				p2, err := libCall(t, st, "cmsgpack", "pack", v2...)
				require.NoError(t, err)
				if p2[0] == p[0] {
					return
				}
				p = p2
			}
			t.Fatalf("packing %q does not settle: %q", in, p[0])
		})
	})
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

// TestCmsgpackPaddingBounded: a map's integer key far past its table's
// array part would make gopher-lua pad the array with nils up to it (a
// gigabyte for 7 bytes); one unpack may pad with at most mpMaxPad.
func TestCmsgpackPaddingBounded(t *testing.T) {
	st := newTestState()
	v, err := libCall(t, st, "cmsgpack", "unpack", lua.LString("\x81\xce\x00\x10\x00\x00\x01")) // {[1048576]=1}
	require.NoError(t, err)
	require.Equal(t, lua.LNumber(1), v[0].(*lua.LTable).RawGetInt(1048576))
	for _, in := range []string{
		"\x81\xce\x03\x93\x87\x00\x01",                                 // {[60000000]=1}
		"\x92\x81\xce\x00\x09\x00\x00\x01\x81\xce\x00\x09\x00\x00\x01", // two maps of 589,823 nils each
	} {
		boundedRun(t, len(in), func() {
			_, err := libCall(t, st, "cmsgpack", "unpack", lua.LString(in))
			require.ErrorContains(t, err, "not enough memory")
		})
	}
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
