package luascript

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1's C API as the libraries Redis bundles (cjson, cmsgpack,
// struct) use it, with its error texts and its C conversions: gopher-lua's
// own Check* functions word their errors differently and convert numbers
// to strings in Go's shortest form instead of "%.14g".

// funcName is the name Lua 5.1's luaL_argerror gives the running Go
// function: how its caller called it ("?" when the caller is not Lua's).
func funcName(L *lua.LState) string {
	dbg, ok := L.GetStack(0)
	if !ok {
		return "?"
	}
	if _, err := L.GetInfo("n", dbg, nil); err != nil || dbg.Name == "" ||
		dbg.Name == "(anonymous)" || strings.HasPrefix(dbg.Name, "<") {
		return "?"
	}
	return dbg.Name
}

// argError is luaL_argerror: "bad argument #n to 'name' (msg)", with the
// calling line's position, as luaL_error gives it.
func argError(L *lua.LState, n int, msg string) {
	errorAt(L, lua.LString(fmt.Sprintf("bad argument #%d to '%s' (%s)", n, funcName(L), msg)), 1)
}

// libError is luaL_error from a library function: msg with the calling
// line's position when the caller is Lua's.
func libError(L *lua.LState, format string, args ...any) {
	errorAt(L, lua.LString(fmt.Sprintf(format, args...)), 1)
}

// typeName is luaL_typename: "no value" past the arguments.
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// typeError is luaL_typerror.
func typeError(L *lua.LState, n int, want string) {
	argError(L, n, want+" expected, got "+typeName(L, n))
}

// toNumber is lua_tonumber: a number, or a string Lua converts.
func toNumber(v lua.LValue) (float64, bool) {
	switch v := v.(type) {
	case lua.LNumber:
		return float64(v), true
	case lua.LString:
		return str2number(string(v))
	}
	return 0, false
}

// checkNumber is luaL_checknumber.
func checkNumber(L *lua.LState, n int) float64 {
	f, ok := toNumber(L.Get(n))
	if !ok {
		typeError(L, n, "number")
	}
	return f
}

// checkInteger is luaL_checkinteger: the number truncated to 64 bits as
// Redis's x86-64 build does it (lua_Integer is ptrdiff_t).
func checkInteger(L *lua.LState, n int) int64 {
	f, ok := toNumber(L.Get(n))
	if !ok {
		typeError(L, n, "number")
	}
	return toInt64(f)
}

// optInteger is luaL_optinteger.
func optInteger(L *lua.LState, n int, def int64) int64 {
	if v := L.Get(n); v == lua.LNil {
		return def
	}
	return checkInteger(L, n)
}

// checkString is luaL_checklstring: a string, or a number as "%.14g".
func checkString(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return formatG(float64(v), 14)
	}
	typeError(L, n, "string")
	return ""
}

// checkStack is luaL_checkstack over a C function's stack of top values:
// Lua 5.1 refuses to grow it past LUAI_MAXCSTACK (lua_checkstack).
func checkStack(L *lua.LState, top, n int, msg string) {
	if top+n > maxCStack {
		libError(L, "stack overflow (%s)", msg)
	}
}

// formatG is C's printf("%.<prec>g", f) (prec >= 1), as glibc writes it.
func formatG(f float64, prec int) string {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', prec-1, 64)
	i := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= prec {
		return trimZeros(e[:i]) + e[i:]
	}
	return trimZeros(strconv.FormatFloat(f, 'f', prec-1-exp, 64))
}

// trimZeros drops a fraction's trailing zeros, and its point if nothing
// is left after it, as %g does.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// toInt32 is C's (int) cast of a double on x86 (cvttsd2si): NaN and
// values out of range become the smallest int.
func toInt32(f float64) int32 {
	if math.IsNaN(f) || f >= 2147483648 || f <= -2147483649 {
		return math.MinInt32
	}
	return int32(f)
}

// toUint64 is C's (unsigned long) cast of a double as gcc compiles it for
// x86-64: below 2^63 (or NaN) through the signed conversion, from 2^63 on
// the signed conversion of f-2^63 with the top bit flipped, so 2^64, 1e30
// and inf become 0 and NaN 2^63.
func toUint64(f float64) uint64 {
	if !(f >= 9223372036854775808.0) {
		return uint64(toInt64(f))
	}
	return uint64(toInt64(f-9223372036854775808.0)) ^ (1 << 63)
}

// strtodPrefix is glibc's strtod over the longest number s starts with
// (no white space first): decimal or hexadecimal, with an exponent, inf,
// infinity, nan and nan(chars); it returns the value and the bytes read,
// 0 when s starts with no number. A value out of range is ±Inf or 0, as
// strtod makes it.
func strtodPrefix(s string) (float64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	lower := strings.ToLower(s[i:min(i+8, len(s))])
	switch {
	case strings.HasPrefix(lower, "infinity"):
		return sign(math.Inf(1)), i + 8
	case strings.HasPrefix(lower, "inf"):
		return sign(math.Inf(1)), i + 3
	case strings.HasPrefix(lower, "nan"):
		i += 3
		bits := uint64(0x7ff8000000000000) // glibc's NAN
		if i < len(s) && s[i] == '(' {
			j := i + 1
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				// A payload that is all number (strtoull, base 0) goes
				// into the mantissa, under the quiet bit.
				if p, ok := parseCUint(s[i+1 : j]); ok {
					bits |= p & (1<<51 - 1)
				}
				i = j + 1
			}
		}
		if neg {
			bits |= 1 << 63
		}
		return math.Float64frombits(bits), i
	}
	start := i
	digits := func(hex bool) int {
		n := 0
		for i < len(s) && (isDigit(s[i]) || hex && hexDigit(s[i]) >= 0) {
			i++
			n++
		}
		return n
	}
	hex := i+1 < len(s) && s[i] == '0' && s[i+1]|0x20 == 'x' &&
		(i+2 < len(s) && hexDigit(s[i+2]) >= 0 || i+3 < len(s) && s[i+2] == '.' && hexDigit(s[i+3]) >= 0)
	if hex {
		i += 2
	}
	n := digits(hex)
	if i < len(s) && s[i] == '.' {
		i++
		n += digits(hex)
	}
	if n == 0 {
		return 0, 0
	}
	mant := s[start:i]
	exp := byte('e')
	if hex {
		exp = 'p'
	}
	if i < len(s) && s[i]|0x20 == exp {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	text := s[start:i]
	if hex && len(text) == len(mant) {
		text += "p0" // Go wants the exponent strtod takes as optional
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, 0 // cannot happen: text is a number
	}
	return sign(f), i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }

// parseCUint is strtoull(s, &end, 0) that must read all of s.
func parseCUint(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'x':
		s, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	v, err := strconv.ParseUint(s, base, 64)
	if errors.Is(err, strconv.ErrRange) {
		return math.MaxUint64, true
	}
	return v, err == nil
}
