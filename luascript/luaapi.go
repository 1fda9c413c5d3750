package luascript

import (
	"context"
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

// checkRun stops a long encoding, pack or replacement (cjson, cmsgpack,
// struct, string.gsub, table.concat) whose result has reached size bytes
// at its step'th step: past maxString it fails with Lua's "not enough
// memory" (Redis's C would run on until done or out of memory), and every
// 1024th step it stops for SCRIPT KILL.
func checkRun(L *lua.LState, size, step int) {
	if size > maxString {
		libError(L, "not enough memory")
	}
	if step%1024 == 0 {
		if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
			libError(L, "%s", context.Cause(ctx))
		}
	}
}

// hexDigit is c's value as a hexadecimal digit, -1 if it is not one.
func hexDigit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c|0x20 && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
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

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }
