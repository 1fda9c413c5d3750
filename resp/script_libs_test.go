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

var cjsonNumbers = []string{"0", "-0", "1", "-1", "0.1", "-0.1", "1/3", "2/3", "1e300", "-1e300", "1e-300", "5e-324",
	"2^53", "2^53+1", "2^63", "-2^63", "2^64", "1e15", "1e16", "1e14", "1e-4", "1e-5", "123456.789", "100",
	"12345678901234", "123456789012345", "99999999999999.5", "0.000123456789012345", "3.14159265358979",
	"1.5e-10", "255", "65536", "4294967296", "-4294967297"}

var cjsonCases = []scriptCase{
	cases("cjson encode scalars", each("return cjson.encode(%s)", append([]string{"nil", "true", "false", "'x'", "''"}, cjsonNumbers...)...)),
	cases("cjson encode strings",
		withArgs("return cjson.encode(ARGV[1])", allBytes, "héllo wörld € 𝄞", `a/b\c"d`, "\x00", "\x7f\x80\xff", strings.Repeat("x", 1000)),
		withArgs("return cjson.encode({[ARGV[1]] = ARGV[1]})", "k/\x01\"", "")),
	cases("cjson encode tables", each("return cjson.encode(%s)",
		"{}", "{{}}", "{{},{}}", "{1,2,3}", "{a=1}", "{1,2,a=3}", "{[1]=1,[3]=3}", "{1,nil,3}", "{1,nil}", "{nil,nil,3}",
		"{[10]=1}", "{[11]=1}", "{[0]=1}", "{[-1]=1}", "{[1.5]=1}", "{[true]=1}", "{[{}]=1}", "{[1/0]=1}", "{[-1/0]=1}",
		"{[2^31]=1}", "{[2^31-1]=1}", "{[2^32+1]=1}", "{a={b={c={1,2,{d=true}}}}}", "{['1']=1}", "{[1]=1,[2]=2,[20]=3}",
		"{[1]=1,[2]=2,[3]=3,[4]=4,[5]=5,[6]=6,[12]=1}", "{function() end}", "{coroutine.create(function() end)}",
		"{a=function() end}", "{cjson.null}", "{1, cjson.null, {cjson.null}}", "{[0.5]=1}", "{[1e300]=1}")),
	cases("cjson encode errors", each("return cjson.encode(%s)", "", "1, 2", "function() end", "coroutine.create(function() end)",
		"0/0", "1/0", "-1/0", "{0/0}", "{a={1/0}}"),
		each("%s", "local e = cjson.encode return e()", "return {pcall(cjson.encode)}", "return {pcall(cjson.encode, print)}",
			"local t = {} t[1] = t return cjson.encode(t)", "local t = {} t.a = t return {pcall(cjson.encode, t)}")),
	cases("cjson encode nesting",
		each("%s", nested(1000, "{", "}")+"return #cjson.encode(t)", nested(1001, "{", "}")+"return cjson.encode(t)",
			nested(1000, "{a=", "}")+"return #cjson.encode(t)", nested(1001, "{a=", "}")+"return cjson.encode(t)",
			"cjson.encode_max_depth(100000) "+nested(7997, "{", "}")+"return #cjson.encode(t)",
			"cjson.encode_max_depth(100000) "+nested(7998, "{", "}")+"return #cjson.encode(t)",
			"cjson.encode_max_depth(100000) "+nested(3999, "{a=", "}")+"return #cjson.encode(t)",
			"cjson.encode_max_depth(100000) "+nested(4000, "{a=", "}")+"return #cjson.encode(t)",
			"cjson.encode_max_depth(100000) "+nested(5000, "{1,", "}")+"return #cjson.encode(t)",
			"return cjson.encode_max_depth(2)", "return cjson.encode({{1}})", "return cjson.encode({{{1}}})",
			"return cjson.encode({a={b={}}})")),
	cases("cjson encode_max_depth", each("return {cjson.encode_max_depth(%s)}", "", "nil", "1", "'7'", "0", "-1", "2^31",
		"2^32+5", "2^31-1", "1.9", "'x'", "{}", "1, 2", "1e300", "0/0")),
	cases("cjson encode_number_precision", each("return {cjson.encode_number_precision(%s)}", "", "1", "14", "15", "0", "'3'"),
		each("cjson.encode_number_precision(%s) return cjson.encode({math.pi, 1/3, 1e100, 123456, 0.1, 100, 1e-7})", "1", "3", "6", "10", "13", "14")),
	cases("cjson encode_invalid_numbers", each("return {cjson.encode_invalid_numbers(%s)}", "", "true", "false", "'on'", "'off'",
		"'null'", "'x'", "1", "{}", "true, 1"),
		each("cjson.encode_invalid_numbers(%s) return {pcall(cjson.encode, {1/0, -1/0, 0/0, -(0/0), 1.5})}", "true", "'null'", "false"),
		each("cjson.encode_invalid_numbers(%s) return {pcall(cjson.encode, {[1/0]=1})}", "true", "'null'")),
	cases("cjson encode_sparse_array", each("return {cjson.encode_sparse_array(%s)}", "", "true", "false, 3, 5", "'on', 0", "nil, nil, 0",
		"1", "'on', -1", "'on', 'x'", "'on', 1, -1", "1, 2, 3, 4", "'off', 2^31-1, 2^31-1"),
		each("cjson.encode_sparse_array(%s) return {pcall(cjson.encode, {[1]=1, [20]=2})}", "true", "false, 0", "false, 1", "false, 2, 30", "true, 1, 0"),
		each("cjson.encode_sparse_array(false, 2^31-1) return {pcall(cjson.encode, %s)}", "{[3]=1}", "{[1]=1,[2]=1,[3]=1,[100]=1}")),
	cases("cjson encode_keep_buffer", each("return {cjson.encode_keep_buffer(%s), cjson.encode({1, 'a'})}", "", "false", "true", "'off'", "'on'", "'x'")),
	cases("cjson settings stay until SCRIPT FLUSH",
		each("%s", "return cjson.encode_max_depth(3)", "return cjson.encode_max_depth()", "return {pcall(cjson.encode, {{{{}}}})}"),
		[][]string{{"SCRIPT", "FLUSH"}},
		each("%s", "return cjson.encode_max_depth()", "return cjson.encode({{{{}}}})")),
	cases("cjson decode numbers", withArgs(`local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end return {type(v), num(v)}`,
		"0", "-0", "1", "1e2", "1E+2", "1e-2", "0.1", "1e400", "-1e400", "1e-400", "4.9e-324", "2.5e-324",
		"123456789012345678901234567890", "0.1000000000000000055511151231257827", "9007199254740993",
		"0x10", "-0x10", "0X1F", "0x", "0x1p4", "0x.8", "0x1.8p-1", "0xg", "01", "-01", "00", "+1", "+0x10", "-",
		"+", "1.", ".5", "-.5", "1.5e", "1e+", "1e-", "1.5e3x", "inf", "-inf", "+inf", "Inf", "INF", "infinity",
		"-Infinity", "infinit", "infx", "nan", "-nan", "NaN", "NAN", "nan(123)", "nan(0x10)", "nan()", "nan(abc)",
		"nan(12", "nano", "-nax", "1,", "[1e2, -0.0, 1.5]", " 12 ", "\t\r\n12", "\f12", "12\f", "1 2", "1\x002")),
	cases("cjson decode strings", withArgs(`local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end return {type(v), hex(v)}`,
		`""`, `"abc"`, `"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u20ac\uFFFF\u0000x"`, `"\ud83d\ude00"`, `"\uD834\uDD1E"`,
		`"\x"`, `"\u12"`, `"\u12g4"`, `"\ud800"`, `"\ud800x"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud800\udbff"`,
		`"\ud800\u"`, `"abc`, `"a`+"\x00"+`b"`, "\"a\x01\x7f\xff\"", `"\`, `"\`+"\x00", `"é`, "\"\t\n\"", `"\'"`, `"\a"`)),
	cases("cjson decode structure", withArgs(`local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end return cjson.encode(v)`,
		"", " ", "[", "]", "{", "}", `{"a"}`, `{"a":}`, `{"a" 1}`, `{1:2}`, `[1,]`, `[1 2]`, `{"a":1,}`, `[1]]`,
		"true", "false", "null", "true false", "tru", "nul", "fals", "truex", "  [ 1 , 2 ]  ", "\t\n\r[1]", "\f[1]",
		"[1]\x00garbage", "[\x00]", "\x00[1]", "a\x00", "[1,{\"a\":[true,false,null]},\"x\"]", `{"a":1,"a":2}`,
		`{"":""}`, `[[],{},[[]]]`, `[1,,2]`, `{,}`, `[`+strings.Repeat("1,", 100)+`1]`, "'a'", "[1]x", "@", "-x", "[-]")),
	cases("cjson decode nesting",
		withArgs(`local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end return #cjson.encode(v)`,
			strings.Repeat("[", 1000)+strings.Repeat("]", 1000), strings.Repeat("[", 1001)+strings.Repeat("]", 1001),
			strings.Repeat(`{"a":`, 1000)+"1"+strings.Repeat("}", 1000), strings.Repeat(`{"a":`, 1001)+"1"+strings.Repeat("}", 1001),
			strings.Repeat("[", 1001), strings.Repeat("[", 5000)),
		withArgs(`cjson.decode_max_depth(100000) cjson.encode_max_depth(100000) local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end return #cjson.encode(v)`,
			strings.Repeat("[", 7998)+strings.Repeat("]", 7998), strings.Repeat("[", 7999)+strings.Repeat("]", 7999),
			strings.Repeat(`{"a":`, 3999)+"1"+strings.Repeat("}", 3999), strings.Repeat(`{"a":`, 4000)+"1"+strings.Repeat("}", 4000)),
		withArgs(`cjson.decode_max_depth(3) local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end return cjson.encode(v)`,
			"[[[1]]]", "[[[[1]]]]", `{"a":[{"b":1}]}`, `{"a":[{"b":[]}]}`)),
	cases("cjson decode_max_depth", each("return {cjson.decode_max_depth(%s)}", "", "1", "0", "'5'", "2^31", "1, 2")),
	cases("cjson decode_invalid_numbers", each("return {cjson.decode_invalid_numbers(%s)}", "", "false", "true", "'off'", "'on'", "'null'", "1"),
		withArgs(`cjson.decode_invalid_numbers(false) local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end return num(v)`,
			"1", "-1", "0.5", "01", "-01", "0x10", "-0x10", "+1", "inf", "-inf", "nan", "-nan", "Infinity", "0", "-0", "-", "-a")),
	cases("cjson decode arguments", each("return {pcall(cjson.decode, %s)}", "", "123", "1.5", "{}", "nil", "'1', 2", "true")),
	cases("cjson null", each("return %s", "type(cjson.null)", "tostring(cjson.null)", "cjson.null == cjson.decode('null')",
		"rawequal(cjson.null, cjson.decode('[null]')[1])", "cjson.null == nil", "cjson.null", "{1, cjson.null, 2}",
		"cjson.decode('null')", "cjson.decode('[1,null,3]')", "cjson.decode('{\"a\":null}').a", "getmetatable(cjson.null)",
		"cjson.encode({[cjson.null] = 1})", "cjson.null == cjson.new().null", "{pcall(error, cjson.null)}", "cmsgpack.pack(cjson.null)",
		"{pcall(struct.pack, 'i', cjson.null)}"),
		each("error(%s)", "cjson.null")),
	sc3("cjson in resp3", ev("return cjson.null", "0"), ev("return cjson.decode('[true,false,null,1.5]')", "0"),
		ev("return {cjson.decode('true'), cjson.decode('false')}", "0")),
	cases("cjson tables", each("return %s", "cjson._NAME", "cjson._VERSION", "type(cjson.new)", "type(cjson.encode_keep_buffer)",
		"cjson.new()._NAME", "cjson.new().new()._VERSION", "type(cjson.safe)", "cjson.encode == cjson.new().encode"),
		each("%s", "local c = cjson.new() c.encode_max_depth(1) return {pcall(c.encode, {{}})}",
			"local c = cjson.new() c.encode_max_depth(1) return cjson.encode({{}})",
			"local c = cjson.new() c.x = 1 c.encode = nil return {c.x, type(c.encode)}",
			"local c = cjson.new() return {c.encode_max_depth(), c.encode({1, {a='b'}}), c.decode('[1]')[1]}")),
	cases("library tables are read-only", each("%s", "cjson.x = 1", "cjson.encode = nil", "rawset(cjson, 'a', 1)",
		"cmsgpack.x = 1", "cmsgpack.pack = nil", "struct.x = 1", "struct.pack = struct.unpack", "table.insert(cjson, 1)",
		"setmetatable(struct, {})", "cjson = nil", "struct = {}", "return {pcall(function() cjson.null = 1 end)}",
		"return type(cjson) .. type(cmsgpack) .. type(struct)")),
}

var cmsgpackNumbers = []string{"0", "1", "127", "128", "255", "256", "65535", "65536", "2^32-1", "2^32", "2^53", "2^53+2",
	"9223372036854774784", "2^63", "2^64", "-1", "-32", "-33", "-128", "-129", "-32768", "-32769", "-2^31", "-2^31-1",
	"-2^32", "-2^53", "-2^63", "-2^63-4096", "-0", "0.5", "-0.5", "0.1", "1/3", "1e300", "-1e300", "1/0", "-1/0", "0/0",
	"-(0/0)", "3.4028234663852886e38", "3.4028235677973366e38", "1e-45", "2^-149", "2^-150", "1.5", "16777217", "16777216.5",
	"2^24", "2^100"}

var cmsgpackCases = []scriptCase{
	cases("cmsgpack pack numbers", each("return hex(cmsgpack.pack(%s))", cmsgpackNumbers...)),
	cases("cmsgpack pack strings", withArgs("return hex(cmsgpack.pack(ARGV[1]))", "", "a", strings.Repeat("x", 31),
		strings.Repeat("x", 32), strings.Repeat("x", 255), strings.Repeat("y", 256), "a\x00b\xff", allBytes),
		withArgs("local p = cmsgpack.pack(ARGV[1]) return {#p, hex(p:sub(1, 6))}", strings.Repeat("z", 65535), strings.Repeat("z", 65536))),
	cases("cmsgpack pack values", each("return hex(cmsgpack.pack(%s))", "nil", "true", "false", "{}", "{{}}", "{1,2,3}",
		"{a=1}", "{1,nil,3}", "{nil,2}", "{[0]=1}", "{[-1]=1}", "{[1.5]=1}", "{[2]=5}", "{[1]=1,[2]=2}", "{1,2,a=3}",
		"{[2^31]=1}", "{[1/0]=1}", "{1,{2,{3,{4}}},'x'}", "{['1']=1}", "{{a={b=true}}}", "print", "coroutine.create(print)",
		"cjson.null", "1, 2, 'three', {4}", "nil, nil", "{true, false}", "{[true]=false}", "{[{}]={}}")),
	cases("cmsgpack pack sizes", each("local t = {} for i = 1, %s do t[i] = i end local p = cmsgpack.pack(t) return {#p, hex(p:sub(1, 5))}",
		"15", "16", "65535", "65536"),
		each("local t = {} for i = 1, %s do t['k'..i] = i end local p = cmsgpack.pack(t) return {#p, hex(p:sub(1, 1))}",
			"15", "16", "65535", "65536")),
	cases("cmsgpack pack nesting", each("%s", nested(15, "{", "}")+"return hex(cmsgpack.pack(t))",
		nested(16, "{", "}")+"return hex(cmsgpack.pack(t))", nested(20, "{", "}")+"return hex(cmsgpack.pack(t))",
		nested(20, "{a=", "}")+"return hex(cmsgpack.pack(t))", "local t = {} t[1] = t return hex(cmsgpack.pack(t))",
		"local t = {} t[1] = t t[2] = t return #cmsgpack.pack(t)", "local t = {} t.x = t return hex(cmsgpack.pack(t))",
		"local t = {} t[t] = 1 return hex(cmsgpack.pack(t))")),
	cases("cmsgpack pack arguments", each("%s", "return {pcall(cmsgpack.pack)}", "return cmsgpack.pack()",
		"local t = {} for i = 1, 4000 do t[i] = i end return #cmsgpack.pack(unpack(t))",
		"local t = {} for i = 1, 4001 do t[i] = i end return #cmsgpack.pack(unpack(t))",
		"local t = {} for i = 1, 3990 do t[i] = i end t[3990] = {{{{{{{{{{{{{{{1}}}}}}}}}}}}}}} return #cmsgpack.pack(unpack(t))",
		"local t = {} for i = 1, 4000 do t[i] = i end t[4000] = {{{1}}} return {pcall(cmsgpack.pack, unpack(t))}",
		"local t = {} for i = 1, 4000 do t[i] = i end t[4000] = {a={b=1}} return {pcall(cmsgpack.pack, unpack(t))}",
		"local t = {} for i = 1, 3998 do t[i] = i end t[3998] = {a={b={c=1}}} return {pcall(cmsgpack.pack, unpack(t))}")),
	cases("cmsgpack unpack values", withArgs(`local r = {pcall(cmsgpack.unpack, ARGV[1])} if not r[1] then return r[2] end
for i = 2, #r do local v = r[i] if type(v) == 'number' then r[i] = 'n' .. num(v) elseif type(v) == 'table' then r[i] = 't' .. cjson.encode(v) else r[i] = type(v) .. tostring(v) end end
return {#r - 1, unpack(r, 2)}`,
		"", "\x00", "\x7f", "\xe0", "\xff", "\xcc\x80", "\xcd\x01\x00", "\xce\xff\xff\xff\xff", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
		"\xcf\x80\x00\x00\x00\x00\x00\x00\x00", "\xcf\x00\x20\x00\x00\x00\x00\x00\x01", "\xd0\x80", "\xd0\x7f", "\xd1\x80\x00", "\xd1\x7f\xff",
		"\xd2\x80\x00\x00\x00", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", "\xd3\xff\xff\xff\xff\xff\xff\xff\xfe",
		"\xca\x3f\x80\x00\x00", "\xca\x7f\xc0\x00\x01", "\xca\xff\x80\x00\x00", "\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a",
		"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x01", "\xc0", "\xc2", "\xc3", "\xa0", "\xa3abc", "\xd9\x03abc", "\xda\x00\x03abc",
		"\xdb\x00\x00\x00\x03abc", "\x90", "\x93\x01\x02\x03", "\x93\x01\xc0\x03", "\x92\xc0\xc0", "\xdc\x00\x02\x01\x02",
		"\xdd\x00\x00\x00\x01\x05", "\x80", "\x81\xa1a\x01", "\x81\x01\xa1x", "\x81\xa1a\xc0", "\x82\x01\x02\x01\xc0",
		"\xde\x00\x01\xa1b\x02", "\xdf\x00\x00\x00\x01\xa1c\x03", "\x81\xc0\x01", "\x81\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\x01",
		"\x81\xca\x7f\xc0\x00\x00\x01", "\x81\xc3\x01", "\x81\x91\x01\x02", "\x01\x02\xa1x", "\x92\x91\x01\x91\x02",
		"\x81\xce\x00\x10\x00\x00\x01", "\x81\xcb\x41\x20\x00\x00\x00\x00\x00\x00\x01")),
	cases("cmsgpack unpack errors", withArgs(`return {pcall(cmsgpack.unpack, ARGV[1])}`,
		"\xc1", "\xc4\x01a", "\xc5", "\xc6", "\xc7", "\xc8", "\xc9", "\xd4\x01\x02", "\xd5", "\xd6", "\xd7", "\xd8",
		"\xcc", "\xcd\x01", "\xce\x01\x02\x03", "\xcf\x01", "\xd0", "\xd1\x01", "\xd2\x01", "\xd3\x01", "\xca\x01", "\xcb\x01",
		"\xa2a", "\xd9", "\xd9\x05abc", "\xda\x00", "\xda\x00\x05ab", "\xdb\x00\x00\x00", "\xdb\xff\xff\xff\xffab",
		"\x91", "\x92\x01", "\xdc\x00", "\xdc\xff\xff\x01", "\xdd\xff\xff\xff\xff", "\x81", "\x81\x01", "\xde\x00\x01\x01",
		"\xdf\xff\xff\xff\xff\x01\x02", "\x01\xc1", "\x93\x01\xc1\x02", "\x81\xc1\x01")),
	cases("cmsgpack unpack limits", withArgs(`local r = {pcall(cmsgpack.unpack, ARGV[1])} return {r[1], #r, type(r[2]) == 'string' and r[2] or ''}`,
		strings.Repeat("\x01", 7999), strings.Repeat("\x01", 8000), strings.Repeat("\x01", 9000),
		strings.Repeat("\x91", 3998)+"\x01", strings.Repeat("\x91", 3999)+"\x01", strings.Repeat("\x91", 4000)+"\x01",
		strings.Repeat("\x81\x01", 2666)+"\x01", strings.Repeat("\x81\x01", 2667)+"\x01", strings.Repeat("\x81\x01", 4000)+"\x01",
		strings.Repeat("\x81", 3998)+"\x01"+strings.Repeat("\x01", 3998), strings.Repeat("\x81", 4000)+"\x01",
		strings.Repeat("\x91", 100000))),
	cases("cmsgpack unpack_one and unpack_limit", each(`local r = {pcall(function() return %s end)}
for i = 2, #r do if type(r[i]) == 'table' then r[i] = cjson.encode(r[i]) end end return r`,
		"cmsgpack.unpack_one('\\1\\2\\3')", "cmsgpack.unpack_one('\\1\\2\\3', 1)", "cmsgpack.unpack_one('\\1\\2\\3', 2)",
		"cmsgpack.unpack_one('\\1\\2\\3', 3)", "cmsgpack.unpack_one('\\1\\2\\3', 4)", "cmsgpack.unpack_one('\\1\\2\\3', -1)",
		"cmsgpack.unpack_one('')", "cmsgpack.unpack_one('\\1', 1)", "cmsgpack.unpack_one('\\1\\2', '1')", "cmsgpack.unpack_one('\\1\\2', 1.9)",
		"cmsgpack.unpack_one('\\1\\2', {})", "cmsgpack.unpack_one('\\1\\2', nil)", "cmsgpack.unpack_one('\\1\\2', 0, 5, 6)",
		"cmsgpack.unpack_one('\\145\\1\\2')", "cmsgpack.unpack_one('\\145')",
		"cmsgpack.unpack_limit('\\1\\2\\3', 2)", "cmsgpack.unpack_limit('\\1\\2\\3', 5)", "cmsgpack.unpack_limit('\\1\\2\\3', 0)",
		"cmsgpack.unpack_limit('\\1\\2\\3', 0, 0)", "cmsgpack.unpack_limit('\\1\\2\\3', 0, 1)", "cmsgpack.unpack_limit('\\1\\2\\3', 1, 2)",
		"cmsgpack.unpack_limit('\\1\\2\\3', 2, 2)", "cmsgpack.unpack_limit('\\1\\2\\3', -1)", "cmsgpack.unpack_limit('\\1\\2\\3', 1, -5)",
		"cmsgpack.unpack_limit('\\1\\2\\3', 1, 10)", "cmsgpack.unpack_limit('\\1\\2\\3')", "cmsgpack.unpack_limit('\\1\\2\\3', 'x')",
		"cmsgpack.unpack_limit('\\1\\2\\3', 2^32+1)", "cmsgpack.unpack_limit('\\1\\2\\3', 1, 2^32+1)",
		"cmsgpack.unpack()", "cmsgpack.unpack(nil)", "cmsgpack.unpack({})", "cmsgpack.unpack(5)", "cmsgpack.unpack(1.5)",
		"cmsgpack.unpack('\\1', 2, 3)", "cmsgpack.unpack_one()")),
	cases("cmsgpack round trips", each("return cjson.encode({cmsgpack.unpack(cmsgpack.pack(%s))})",
		"1, -1, 0.5, 'x', true, false", "{1,2,{3,{4,{5}}}}", "{a={b={c='d'}}}", "{1.5, -2^40, 2^63, 1e300, 'é'}",
		"{{},{{}}}", "2^64", "-2^63")),
	cases("cmsgpack tables", each("return %s", "cmsgpack._NAME", "cmsgpack._VERSION", "cmsgpack._COPYRIGHT",
		"cmsgpack._DESCRIPTION", "type(cmsgpack.unpack_limit)", "type(cmsgpack.safe)", "type(cmsgpack_safe)")),
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
	sc("strings as numbers end at a NUL", ev("return {tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])}", "0", "6\x00x", " 0x10\x00", "\x007"),
		ev(luaHex+"return {hex(struct.pack('h', ARGV[1])), pcall(struct.pack, 'h', ARGV[2])}", "0", "7\x00z", "\x007")),
	cases("struct tables", each("return %s", "type(struct.pack)", "type(struct.unpack)", "type(struct.size)", "struct._NAME",
		"type(struct.pack) .. type(struct.x)")),
}

// libsInFunctions are the libraries in FUNCTION libraries: not at load
// time, where Redis gives only the redis table, but when a function runs.
var libsInFunctions = []scriptCase{
	sc("libraries in functions",
		fload(lib("jl", `redis.register_function('je', function(keys, args) return cjson.encode({args[1], {a=cjson.decode(args[2])}}) end)
redis.register_function('mp', function(keys, args) return cmsgpack.pack(cmsgpack.unpack(args[1]), {1, 2}) end)
redis.register_function('st', function(keys, args) return {struct.unpack('>i2c0', args[1])} end)
redis.register_function('depth', function(keys, args) return cjson.encode_max_depth(tonumber(args[1])) end)
redis.register_function('nul', function() return {type(cjson.null), tostring(cjson.null), cjson.null} end)
redis.register_function('ro', function() cjson.x = 1 end)`)),
		[]string{"FCALL", "je", "0", "a/b", `[1,"x",null]`}, []string{"FCALL", "mp", "0", "\x93\x01\xa1x\xc0"},
		[]string{"FCALL", "st", "0", "\x00\x03abcdef"}, []string{"FCALL", "nul", "0"}, []string{"FCALL", "ro", "0"},
		[]string{"FCALL", "depth", "0", "1"}, []string{"FCALL", "je", "0", "x", "[]"}, []string{"EVAL", "return cjson.encode({{}})", "0"},
		[]string{"FUNCTION", "FLUSH"},
		fload(lib("jl2", `redis.register_function('je', function(keys, args) return {pcall(cjson.encode, {{}})} end)
redis.register_function('depth', function(keys, args) return cjson.encode_max_depth(tonumber(args[1])) end)`)),
		[]string{"FCALL", "je", "0"}, []string{"FCALL", "depth", "0", "1000"}, []string{"FCALL", "je", "0"}),
	sc("libraries at load time",
		fload(lib("l1", "cjson.encode({})")), fload(lib("l2", "local x = cmsgpack")), fload(lib("l3", "return struct.pack('b', 1)")),
		fload(lib("l4", "local c = cjson\nredis.register_function('f', function() return 1 end)"))),
}

// TestScriptLibsMatchRedis compares the libraries Redis bundles with
// redis-server 7.0.15: every case, byte for byte.
func TestScriptLibsMatchRedis(t *testing.T) {
	all := append(append(append(append([]scriptCase{}, cjsonCases...), cmsgpackCases...), structCases...), libsInFunctions...)
	compareCases(t, all)
}
