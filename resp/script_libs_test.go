package resp_test

import (
	"fmt"
	"strings"
	"testing"
)

// The libraries Redis 7.0.15 preloads for scripts and functions (cjson,
// cmsgpack, struct), compared with redis-server byte for byte. Binary
// and non-ASCII data come in through ARGV; exact doubles go out as the
// hex of struct.pack(">d").

// luaHex is a prelude: hex(s) is s in hexadecimal, num(x) the bits of x.
// (gopher-lua's gsub with a function takes seconds on a 64 KB string,
// and its string.format is slow.)
const luaHex = `local H = {} for i = 0, 255 do H[i] = string.format('%02x', i) end
local function hex(s)
  local t = {}
  for i = 1, #s, 2000 do
    local b = {s:byte(i, i + 1999)}
    for j = 1, #b do b[j] = H[b[j]] end
    t[#t+1] = table.concat(b)
  end
  return table.concat(t)
end
local function num(x) return hex(struct.pack('>d', x)) end
`

// each makes one EVAL per Lua expression, replying what format (with %s
// for the expression) returns.
func each(format string, exprs ...string) [][]string {
	var out [][]string
	for _, e := range exprs {
		out = append(out, ev(luaHex+fmt.Sprintf(format, e), "0"))
	}
	return out
}

// withArgs makes one EVAL of script per argument, as ARGV[1].
func withArgs(script string, args ...string) [][]string {
	var out [][]string
	for _, a := range args {
		out = append(out, ev(luaHex+script, "0", a))
	}
	return out
}

func cases(name string, groups ...[][]string) scriptCase {
	var cmds [][]string
	for _, g := range groups {
		cmds = append(cmds, g...)
	}
	return sc(name, cmds...)
}

// allBytes is every byte value once.
var allBytes = func() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}()

// nested is Lua that builds t, n tables deep (open..close around the
// innermost value 1).
func nested(n int, open, close string) string {
	return fmt.Sprintf("local t = 1 for i = 1, %d do t = %s t %s end ", n, open, close)
}

var structIntValues = []string{"0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "65535", "-32768", "2^31", "-2^31",
	"2^32", "2^32+1", "2^53", "-2^53", "2^63", "-2^63", "2^64", "2^64+2^12", "1e30", "-1e30", "0/0", "1/0", "-1/0", "1.9",
	"-1.9", "'12'", "'0x10'", "' 7 '", "'1e2'"}

var structCases = []scriptCase{
	cases("struct pack integers", func() [][]string {
		var out [][]string
		for _, f := range []string{"b", "B", "h", "H", "i", "I", "l", "L", "T", "i1", "i3", "I5", "i7", "i8", "I9", "i16", "I32", "i0"} {
			for _, e := range []string{"<", ">"} {
				out = append(out, ev(luaHex+"local r = {} for _, v in ipairs({"+strings.Join(structIntValues, ",")+
					"}) do r[#r+1] = hex(struct.pack('"+e+f+"', v)) end return r", "0"))
			}
		}
		return out
	}()),
	cases("struct pack floats", each("return {hex(struct.pack('<f', %[1]s)), hex(struct.pack('>f', %[1]s)), hex(struct.pack('<d', %[1]s)), hex(struct.pack('>d', %[1]s))}",
		"0", "-0", "0.1", "1/3", "1e300", "-1e300", "1e-300", "1/0", "0/0", "-(0/0)", "2^-149", "3.4028235677973366e38", "'1.5'")),
	cases("struct pack strings", each("return {pcall(function() return hex(struct.pack(%s)) end)}",
		"'c', 'abc'", "'c3', 'abc'", "'c3', 'abcdef'", "'c5', 'abc'", "'c0', 'abc'", "'c0', ''", "'s', 'abc'", "'s', ''",
		"'s', 'a\\0b'", "'c0', 1/3", "'c0', 12", "'s', 2^63", "'c2c0s', 'ab', 'cd', 'ef'", "'c', {}", "'s'", "'c10', 'x'",
		"'>c2<c2', 'ab', 'cd'", "'c02', 'ab'")),
	cases("struct pack alignment", each("return {pcall(function() return hex(struct.pack(%s)) end)}",
		"'!bi', 1, 2", "'!4bi', 1, 2", "'!2bi', 1, 2", "'!1bi', 1, 2", "'!8bd', 1, 2", "'!4bd', 1, 2", "'!bhbi3bl', 1, 2, 3, 4, 5, 6",
		"'!8bi3', 1, 2", "'!8bi5', 1, 2", "'!16bl', 1, 2", "'!3bi', 1, 2", "'!0bi', 1, 2", "'!bxi', 1, 2", "'!bcc2i', 1, 'a', 'bc', 2",
		"'! b i', 1, 2", "'b!4i!1h', 1, 2, 3", "'!bs i', 1, 'ab', 2", "'!2147483648b', 1", "'!99999999999b', 1", "'!64bT', 1, 2",
		"'!8bfd', 1, 2, 3")),
	cases("struct pack errors", each("return {pcall(function() return hex(struct.pack(%s)) end)}",
		"'z'", "'b5', 1", "','", "'i33', 1", "'i32', 1", "'i99999999999', 1", "'i'", "'i', 'x'", "'i', {}", "'d', nil",
		"'f', true", "''", "'b\\0b', 1, 2", "'\\200'", "'Q', 1", "'B', 1, 2, 3", "nil", "123", "{}")),
	cases("struct pack call names", each("%s", "return struct.pack('z')", "local p = struct.pack return p('z')",
		"local t = {f = struct.pack} return t.f('z')", "return struct.pack('c5', 'ab')", "return struct.unpack('b', '')",
		"local s = struct return s.size('s')", "return struct.pack('i', 'x')")),
	cases("struct unpack", each(`local r = {pcall(function() return %s end)}
for i = 2, #r do if type(r[i]) == 'number' then r[i] = 'n' .. num(r[i]) elseif type(r[i]) == 'string' then r[i] = 's' .. hex(r[i]) end end return r`,
		"struct.unpack('b', '\\255')", "struct.unpack('B', '\\255')", "struct.unpack('<h', '\\1\\128')", "struct.unpack('>h', '\\1\\128')",
		"struct.unpack('<H', '\\1\\128')", "struct.unpack('<i', '\\255\\255\\255\\255')", "struct.unpack('<I', '\\255\\255\\255\\255')",
		"struct.unpack('<l', '\\255\\255\\255\\255\\255\\255\\255\\255')", "struct.unpack('<L', '\\255\\255\\255\\255\\255\\255\\255\\255')",
		"struct.unpack('<T', '\\1\\0\\0\\0\\0\\0\\0\\128')", "struct.unpack('>i3', '\\128\\0\\1')", "struct.unpack('<i3', '\\128\\0\\1')",
		"struct.unpack('>I3', '\\128\\0\\1')", "struct.unpack('>i9', '\\1\\2\\3\\4\\5\\6\\7\\8\\255')", "struct.unpack('<i9', '\\1\\2\\3\\4\\5\\6\\7\\128\\9')",
		"struct.unpack('>I16', string.rep('\\255', 16))", "struct.unpack('>i16', string.rep('\\255', 16))", "struct.unpack('<i16', string.rep('\\1', 16))",
		"struct.unpack('i0', '')", "struct.unpack('I0', 'x')", "struct.unpack('<i32', string.rep('\\200', 32))",
		"struct.unpack('<f', '\\0\\0\\192\\127')", "struct.unpack('>f', '\\63\\128\\0\\0')", "struct.unpack('<d', '\\0\\0\\0\\0\\0\\0\\240\\63')",
		"struct.unpack('>d', '\\127\\248\\0\\0\\0\\0\\0\\1')", "struct.unpack('x', 'a')", "struct.unpack('xb', 'ab')",
		"struct.unpack('c', 'ab')", "struct.unpack('c2', 'ab')", "struct.unpack('c3', 'ab')", "struct.unpack('c0', 'ab')",
		"struct.unpack('bc0', '\\2abc')", "struct.unpack('c1c0', '2abc')", "struct.unpack('c1c0', 'xabc')", "struct.unpack('bc0', '\\9abc')",
		"struct.unpack('c0c0', 'ab')", "struct.unpack('bxc0', '\\1ab')", "struct.unpack('dc0', struct.pack('d', 2.9) .. 'abc')",
		"struct.unpack('dc0', struct.pack('d', -1) .. 'abc')", "struct.unpack('dc0', struct.pack('d', 0/0) .. 'abc')",
		"struct.unpack('s', 'ab\\0cd')", "struct.unpack('ss', 'ab\\0\\0')", "struct.unpack('s', 'abc')", "struct.unpack('s', '')",
		"struct.unpack('!bi', '\\1\\0\\0\\0\\2\\0\\0\\0')", "struct.unpack('!4bi', '\\1\\0\\0\\0\\2\\0\\0\\0')", "struct.unpack('!bi', '\\1\\0\\0\\0\\2\\0\\0')",
		"struct.unpack('b', 'abc', 2)", "struct.unpack('b', 'abc', 3)", "struct.unpack('b', 'abc', 4)", "struct.unpack('', 'abc', 4)",
		"struct.unpack('', 'abc', 10)", "struct.unpack('>', 'abc', 10)", "struct.unpack('b', 'abc', 0)", "struct.unpack('b', 'abc', -1)",
		"struct.unpack('', 'abc', -1)", "struct.unpack('', 'abc', -5)", "struct.unpack('b', 'abc', '2')", "struct.unpack('b', 'abc', 2.7)",
		"struct.unpack('!4bi', 'abcdefgh', 2)", "struct.unpack('b', 'abc', nil)", "struct.unpack('b', 'abc', {})",
		"struct.unpack('b')", "struct.unpack()", "struct.unpack('z', 'a')", "struct.unpack('b\\0b', 'ab')", "struct.unpack(' < > b', 'a')",
		"struct.unpack('!3b', 'a')", "struct.unpack('i33', 'a')", "struct.unpack('b', 5)", "struct.unpack(12, 'ab')",
		"select('#', struct.unpack(string.rep('b', 7996), string.rep('a', 8000)))",
		"select('#', struct.unpack(string.rep('b', 7997), string.rep('a', 8000)))",
		"select('#', struct.unpack(string.rep('x', 9000), string.rep('a', 9000)))",
		"select('#', struct.unpack(string.rep('b', 7996), string.rep('a', 8000), 1, 2))")),
	cases("struct size", each("return {pcall(struct.size, %s)}", "''", "'b'", "'bhilT'", "'!bhilT'", "'!4bd'", "'c5'", "'c0'", "'s'",
		"'z'", "'#'", "'i3i3'", "'!i3b'", "'<>! '", "'!3'", "'x'", "'fd'", "'!df'", "'b\\0i'", "'i33'", "'c'", "nil", "5")),
	cases("struct round trips", each("return {struct.unpack(%[1]s, struct.pack(%[1]s, 1, -2, 3, 'abc', 0.5))}",
		"'<bhis'", "'>BHIs'", "'!<bhic3d'", "'!>b i c0 d'")),
	// Lua reads a string as a number up to a NUL, as C does.
	sc("strings as numbers end at a NUL", ev(luaHex+"return {hex(struct.pack('h', ARGV[1])), pcall(struct.pack, 'h', ARGV[2])}", "0", "7\x00z", "\x007")),
	cases("struct tables", each("return %s", "type(struct.pack)", "type(struct.unpack)", "type(struct.size)", "struct._NAME",
		"type(struct.pack) .. type(struct.x)")),
}

// TestScriptLibsMatchRedis compares the libraries Redis bundles with
// redis-server 7.0.15: every case, byte for byte.
func TestScriptLibsMatchRedis(t *testing.T) {
	compareCases(t, structCases)
}
