package luascript

import (
	"context"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// strGsub is string.gsub: gopher-lua's pattern matcher (pm) finds the
// matches, and the rest is Lua 5.1's str_gsub (lstrlib.c). gopher-lua's
// own gsub copied the whole string once per match, so a gsub over 64 KB
// took a second (Redis: under a millisecond) with every other command
// held off; it also refused a number as the replacement, kept "%x" whole
// where Lua 5.1 writes "x", and wrote any replacement value a function or
// table gave where Lua 5.1 refuses one that is not a string or number.
// The result is bounded by maxString and SCRIPT KILL stops a long one, as
// table.concat's is.
func strGsub(L *lua.LState) int {
	src := checkString(L, 1)
	pat := checkString(L, 2)
	maxN := int64(int32(optInteger(L, 4, int64(len(src)+1)))) // luaL_optint
	repl := L.Get(3)
	switch repl.(type) {
	case lua.LNumber, lua.LString, *lua.LFunction, *lua.LTable:
	default:
		argError(L, 3, "string/function/table expected")
	}
	if maxN <= 0 {
		L.Push(lua.LString(src))
		L.Push(lua.LNumber(0))
		return 2
	}
	limit := -1
	if maxN <= int64(len(src)) {
		limit = int(maxN)
	}
	matches, err := pm.Find(pat, []byte(src), 0, limit)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	var b strings.Builder
	last := 0
	for n, m := range matches {
		start, end := m.Capture(0), m.Capture(1)
		b.WriteString(src[last:start])
		gsubValue(L, &b, src, m, repl)
		last = end
		if b.Len() > maxString {
			libError(L, "not enough memory")
		}
		if n%1024 == 1023 {
			if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
				libError(L, "%s", context.Cause(ctx))
			}
		}
	}
	b.WriteString(src[last:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(len(matches)))
	return 2
}

// gsubValue writes what replaces match m of src (add_value).
func gsubValue(L *lua.LState, b *strings.Builder, src string, m *pm.MatchData, repl lua.LValue) {
	whole := src[m.Capture(0):m.Capture(1)]
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString:
		gsubString(L, b, src, m, string(r))
		return
	case lua.LNumber:
		gsubString(L, b, src, m, formatG(float64(r), 14))
		return
	case *lua.LFunction:
		L.Push(r)
		n := gsubCaptures(m) // push_captures: the whole match when there are none
		if n == 0 {
			L.Push(lua.LString(whole))
			n = 1
		}
		for i := 1; i <= gsubCaptures(m); i++ {
			L.Push(gsubCapture(L, src, m, i))
		}
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	case *lua.LTable:
		v = L.GetTable(r, gsubCapture(L, src, m, 1))
	}
	switch v := v.(type) {
	case lua.LString:
		b.WriteString(string(v))
	case lua.LNumber:
		b.WriteString(formatG(float64(v), 14))
	default:
		if lua.LVIsFalse(v) { // nil or false: the match stays
			b.WriteString(whole)
			return
		}
		libError(L, "invalid replacement value (a %s)", v.Type())
	}
}

// gsubString writes the replacement string r for match m (add_s): "%0"
// is the match, "%1".."%9" its captures, and "%" before anything else
// writes that character (a "%" at the end writes a NUL, as C reads the
// string's terminator).
func gsubString(L *lua.LState, b *strings.Builder, src string, m *pm.MatchData, r string) {
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		switch {
		case i == len(r):
			b.WriteByte(0)
		case r[i] == '0':
			b.WriteString(src[m.Capture(0):m.Capture(1)])
		case isDigit(r[i]):
			switch v := gsubCapture(L, src, m, int(r[i]-'0')).(type) {
			case lua.LString:
				b.WriteString(string(v))
			case lua.LNumber:
				b.WriteString(formatG(float64(v), 14))
			}
		default:
			b.WriteByte(r[i])
		}
	}
}

// gsubCaptures is how many captures the pattern has.
func gsubCaptures(m *pm.MatchData) int { return m.CaptureLength()/2 - 1 }

// gsubCapture is capture i (from 1) of match m (push_onecapture): a
// position capture is its number, and capture 1 of a pattern without
// captures is the whole match.
func gsubCapture(L *lua.LState, src string, m *pm.MatchData, i int) lua.LValue {
	if i > gsubCaptures(m) {
		if i != 1 {
			libError(L, "invalid capture index")
		}
		return lua.LString(src[m.Capture(0):m.Capture(1)])
	}
	if m.IsPosCapture(2 * i) {
		return lua.LNumber(m.Capture(2 * i))
	}
	return lua.LString(src[m.Capture(2*i):m.Capture(2*i+1)])
}
