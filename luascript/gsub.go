package luascript

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// gsubChunk is how many matches strGsub asks pm.Find for at a time.
const gsubChunk = 1024

// strGsub is string.gsub: gopher-lua's pattern matcher (pm) finds the
// matches, and the rest is Lua 5.1's str_gsub (lstrlib.c). gopher-lua's
// own gsub copied the whole string once per match, so a gsub over 64 KB
// took a second (Redis: under a millisecond) with every other command
// held off; it also refused a number as the replacement, kept "%x" whole
// where Lua 5.1 writes "x", and wrote any replacement value a function or
// table gave where Lua 5.1 refuses one that is not a string or number.
// The result is bounded by maxString and SCRIPT KILL stops a long one
// (checkRun).
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
	// The matches are found gsubChunk at a time, so that memory does not
	// grow with their number; a chunk resumes where pm.Find's own loop
	// would go on (past an empty match, or at the end of the last one).
	anchored := strings.HasPrefix(pat, "^") // pm.Find tries once
	data := []byte(src)
	var b strings.Builder
	last, n, off := 0, 0, 0
	for int64(n) < maxN {
		chunk := int(min(maxN-int64(n), gsubChunk))
		matches, err := pm.Find(pat, data, off, chunk)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		for _, m := range matches {
			b.WriteString(src[last:m.Capture(0)])
			gsubValue(L, &b, src, m, repl)
			last = m.Capture(1)
			n++
			checkRun(L, b.Len(), n)
		}
		if len(matches) < chunk || anchored {
			break
		}
		m := matches[len(matches)-1]
		off = max(m.Capture(0)+1, m.Capture(1))
	}
	b.WriteString(src[last:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(n))
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
		n := max(gsubCaptures(m), 1) // push_captures: capture 1 is the whole match when there are none
		for i := 1; i <= n; i++ {
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
