package luascript

import (
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"sessiond/internal/cnum"
)

// cjson is Lua CJSON 2.1.0 as Redis 7.0.15 bundles it (deps/lua/src/
// lua_cjson.c): encode, decode, the configuration functions and new.
// The texts of its errors, the numbers it writes ("%.14g"), the characters
// it escapes and the way it tells arrays from objects are CJSON's.

// jsonConfig is one cjson table's settings (json_config_t). The settings
// of the global cjson outlive the Lua state, as Redis keeps its Lua state
// when sessiond would discard it (a killed script): the Engine holds them
// until SCRIPT FLUSH, the functions' for the server's life.
type jsonConfig struct {
	sparseConvert  int32
	sparseRatio    int32
	sparseSafe     int32
	encodeMaxDepth int32
	decodeMaxDepth int32
	encodeInvalid  int32 // 0 off, 1 on, 2 "null"
	precision      int32
	keepBuffer     int32
	decodeInvalid  int32
}

func newJSONConfig() *jsonConfig {
	return &jsonConfig{sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
		precision: 14, keepBuffer: 1, decodeInvalid: 1}
}

// cjsonLib returns a cjson table whose functions share cfg.
func (st *state) cjsonLib(cfg *jsonConfig) *lua.LTable {
	L := st.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"encode": func(L *lua.LState) int { return st.jsonEncode(L, cfg) },
		"decode": func(L *lua.LState) int { return st.jsonDecode(L, cfg) },
		"encode_sparse_array": func(L *lua.LState) int {
			jsonArgs(L, 3)
			enumOption(L, 1, &cfg.sparseConvert, nil)
			intOption(L, 2, &cfg.sparseRatio, 0, math.MaxInt32)
			intOption(L, 3, &cfg.sparseSafe, 0, math.MaxInt32)
			return 3
		},
		"encode_max_depth": func(L *lua.LState) int {
			jsonArgs(L, 1)
			return intOption(L, 1, &cfg.encodeMaxDepth, 1, math.MaxInt32)
		},
		"decode_max_depth": func(L *lua.LState) int {
			jsonArgs(L, 1)
			return intOption(L, 1, &cfg.decodeMaxDepth, 1, math.MaxInt32)
		},
		"encode_number_precision": func(L *lua.LState) int {
			jsonArgs(L, 1)
			return intOption(L, 1, &cfg.precision, 1, 14)
		},
		"encode_keep_buffer": func(L *lua.LState) int {
			jsonArgs(L, 1)
			return enumOption(L, 1, &cfg.keepBuffer, nil)
		},
		"encode_invalid_numbers": func(L *lua.LState) int {
			jsonArgs(L, 1)
			return enumOption(L, 1, &cfg.encodeInvalid, []string{"off", "on", "null"})
		},
		"decode_invalid_numbers": func(L *lua.LState) int {
			jsonArgs(L, 1)
			return enumOption(L, 1, &cfg.decodeInvalid, nil)
		},
		"new": func(L *lua.LState) int {
			L.Push(st.cjsonLib(newJSONConfig()))
			return 1
		},
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	t.RawSetString("null", st.null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// jsonArgs is json_arg_init: at most n arguments, the missing ones nil.
func jsonArgs(L *lua.LState, n int) {
	if L.GetTop() > n {
		argError(L, n+1, "found too many arguments")
	}
	for L.GetTop() < n {
		L.Push(lua.LNil)
	}
}

// intOption is json_integer_option: argument i, when given, must be an
// integer in [lo, hi] (the error names argument 1 whichever it is, as
// CJSON's does); it pushes the setting.
func intOption(L *lua.LState, i int, setting *int32, lo, hi int32) int {
	if L.Get(i) != lua.LNil {
		v := int32(checkInteger(L, i)) // lua_Integer to int: wraps
		if v < lo || v > hi {
			argError(L, 1, fmt.Sprintf("expected integer between %d and %d", lo, hi))
		}
		*setting = v
	}
	L.Push(lua.LNumber(*setting))
	return 1
}

// offOn are json_enum_option's default options.
var offOn = []string{"off", "on"}

// enumOption is json_enum_option: a boolean, or one of options (by
// default "off" and "on"); it pushes the setting as a boolean when it is
// off or on, else as its name.
func enumOption(L *lua.LState, i int, setting *int32, options []string) int {
	if options == nil {
		options = offOn
	}
	if v := L.Get(i); v != lua.LNil {
		if b, ok := v.(lua.LBool); ok {
			*setting = 0
			if b {
				*setting = 1
			}
		} else {
			name := checkString(L, i)
			found := false
			for j, o := range options {
				if o == name {
					*setting, found = int32(j), true
					break
				}
			}
			if !found {
				argError(L, i, "invalid option '"+name+"'")
			}
		}
	}
	if *setting <= 1 {
		L.Push(lua.LBool(*setting != 0))
	} else {
		L.Push(lua.LString(options[*setting]))
	}
	return 1
}

// jsonEscapes is CJSON's char2escape: control characters (DEL too) as
// \u00xx, except \b \t \n \f \r, and '"', '\\' and '/' with a backslash.
var jsonEscapes = func() [256]string {
	var t [256]string
	const hex = "0123456789abcdef"
	for c := range 0x20 {
		t[c] = `\u00` + string(hex[c>>4]) + string(hex[c&15])
	}
	t['\b'], t['\t'], t['\n'], t['\f'], t['\r'] = `\b`, `\t`, `\n`, `\f`, `\r`
	t['"'], t['\\'], t['/'], t[0x7f] = `\"`, `\\`, `\/`, `\u007f`
	return t
}()

type jsonEncoder struct {
	L     *lua.LState
	st    *state
	cfg   *jsonConfig
	buf   []byte
	steps int // tables visited, for the context check
}

func (st *state) jsonEncode(L *lua.LState, cfg *jsonConfig) int {
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	e := &jsonEncoder{L: L, st: st, cfg: cfg}
	e.value(L.Get(1), 0, 1)
	L.Push(lua.LString(e.buf))
	return 1
}

// fail is json_encode_exception: what of type typ could not be written.
func (e *jsonEncoder) fail(typ lua.LValueType, reason string) {
	libError(e.L, "Cannot serialise %s: %s", typ.String(), reason)
}

// value appends v at nesting depth; top is the C stack's height with v
// on it, which Lua 5.1 bounds (lua_checkstack in json_check_encode_depth).
func (e *jsonEncoder) value(v lua.LValue, depth, top int) {
	switch v := v.(type) {
	case lua.LString:
		e.str(string(v))
	case lua.LNumber:
		e.number(float64(v))
	case lua.LBool:
		if v {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case *lua.LTable:
		depth++
		if depth > int(e.cfg.encodeMaxDepth) || top+3 > maxCStack {
			libError(e.L, "Cannot serialise, excessive nesting (%d)", depth)
		}
		e.check()
		if n := e.arrayLength(v); n > 0 {
			e.array(v, n, depth, top)
		} else {
			e.object(v, depth, top)
		}
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	default:
		if v == e.st.null {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.fail(v.Type(), "type not supported")
	}
}

// check stops an encoding that SCRIPT KILL cancelled or that grew past
// maxString (checkRun).
func (e *jsonEncoder) check() {
	e.steps++
	checkRun(e.L, len(e.buf), e.steps)
}

// arrayLength is lua_array_length: the highest key when every key is a
// positive integer, -1 for an object. An excessively sparse array is an
// object or an error, as encode_sparse_array says. The highest key is a C
// int assigned from the double, as CJSON keeps it.
func (e *jsonEncoder) arrayLength(t *lua.LTable) int {
	var hi, items int32
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f == 0 || math.Floor(f) != f || f < 1 {
			return -1
		}
		if f > float64(hi) {
			hi = toInt32(f)
		}
		items++
	}
	cfg := e.cfg
	if cfg.sparseRatio > 0 && hi > items*cfg.sparseRatio && hi > cfg.sparseSafe {
		if cfg.sparseConvert == 0 {
			e.fail(lua.LTTable, "excessively sparse array")
		}
		return -1
	}
	return int(hi)
}

func (e *jsonEncoder) array(t *lua.LTable, n, depth, top int) {
	e.buf = append(e.buf, '[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.buf = append(e.buf, ',')
		}
		e.value(t.RawGetInt(i), depth, top+1)
		if i&1023 == 0 {
			e.check()
		}
	}
	e.buf = append(e.buf, ']')
}

func (e *jsonEncoder) object(t *lua.LTable, depth, top int) {
	e.buf = append(e.buf, '{')
	first := true
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		switch k := k.(type) {
		case lua.LNumber:
			e.buf = append(e.buf, '"')
			e.number(float64(k))
			e.buf = append(e.buf, '"', ':')
		case lua.LString:
			e.str(string(k))
			e.buf = append(e.buf, ':')
		default:
			e.fail(k.Type(), "table key must be a number or string")
		}
		e.value(v, depth, top+2)
	}
	e.buf = append(e.buf, '}')
}

func (e *jsonEncoder) str(s string) {
	if len(e.buf)+len(s) > maxString {
		libError(e.L, "not enough memory")
	}
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); i++ {
		if esc := jsonEscapes[s[i]]; esc != "" {
			e.buf = append(e.buf, esc...)
		} else {
			e.buf = append(e.buf, s[i])
		}
	}
	e.buf = append(e.buf, '"')
}

// number is json_append_number: "%.<precision>g", NaN and Inf as
// encode_invalid_numbers says.
func (e *jsonEncoder) number(f float64) {
	invalid := math.IsNaN(f) || math.IsInf(f, 0)
	switch e.cfg.encodeInvalid {
	case 0:
		if invalid {
			e.fail(lua.LTNumber, "must not be NaN or Inf")
		}
	case 1:
		if math.IsNaN(f) {
			e.buf = append(e.buf, "nan"...)
			return
		}
	default:
		if invalid {
			e.buf = append(e.buf, "null"...)
			return
		}
	}
	e.buf = append(e.buf, formatG(f, int(e.cfg.precision))...)
}

// JSON tokens (json_token_type_t), named as CJSON's errors name them.
type jsonToken uint8

const (
	tObjBegin jsonToken = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tWhitespace
	tError
	tUnknown
)

var jsonTokenNames = [...]string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR", "T_UNKNOWN"}

// jsonCh2Token is CJSON's ch2token: what a token's first byte makes it.
var jsonCh2Token = func() [256]jsonToken {
	var t [256]jsonToken
	for i := range t {
		t[i] = tError
	}
	t['{'], t['}'], t['['], t[']'], t[','], t[':'], t[0] = tObjBegin, tObjEnd, tArrBegin, tArrEnd, tComma, tColon, tEnd
	t[' '], t['\t'], t['\n'], t['\r'] = tWhitespace, tWhitespace, tWhitespace, tWhitespace
	for _, c := range "fiInNt\"+-0123456789" {
		t[c] = tUnknown
	}
	return t
}()

// jsonUnescape is CJSON's escape2char: 0 for an invalid escape.
var jsonUnescape = func() [256]byte {
	var t [256]byte
	t['"'], t['\\'], t['/'], t['b'], t['t'], t['n'], t['f'], t['r'], t['u'] = '"', '\\', '/', '\b', '\t', '\n', '\f', '\r', 'u'
	return t
}()

type token struct {
	typ   jsonToken
	index int
	str   string // a string's value, or an error's text
	num   float64
	b     bool
}

type jsonDecoder struct {
	L     *lua.LState
	st    *state
	cfg   *jsonConfig
	data  string // up to the first NUL, which ends the text as in C
	p     int
	depth int
	tmp   []byte
}

func (d *jsonDecoder) at(i int) byte {
	if i < len(d.data) {
		return d.data[i]
	}
	return 0
}

func (st *state) jsonDecode(L *lua.LState, cfg *jsonConfig) int {
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	s := checkString(L, 1)
	if len(s) >= 2 && (s[0] == 0 || s[1] == 0) {
		libError(L, "JSON parser does not support UTF-16 or UTF-32")
	}
	s = cstr(s)
	d := &jsonDecoder{L: L, st: st, cfg: cfg, data: s}
	var tok token
	d.next(&tok)
	v := d.value(&tok, 1)
	d.next(&tok)
	if tok.typ != tEnd {
		d.fail("the end", &tok)
	}
	L.Push(v)
	return 1
}

// fail is json_throw_parse_error.
func (d *jsonDecoder) fail(expected string, tok *token) {
	found := jsonTokenNames[tok.typ]
	if tok.typ == tError {
		found = tok.str
	}
	libError(d.L, "Expected %s but found %s at character %d", expected, found, tok.index+1)
}

func (d *jsonDecoder) tokenError(tok *token, msg string) {
	tok.typ, tok.index, tok.str = tError, d.p, msg
}

// next is json_next_token.
func (d *jsonDecoder) next(tok *token) {
	var ch byte
	for {
		ch = d.at(d.p)
		tok.typ = jsonCh2Token[ch]
		if tok.typ != tWhitespace {
			break
		}
		d.p++
	}
	tok.index = d.p
	switch tok.typ {
	case tError:
		d.tokenError(tok, "invalid token")
		return
	case tEnd:
		return
	case tUnknown:
	default:
		d.p++
		return
	}
	rest := d.data[d.p:]
	switch {
	case ch == '"':
		d.string(tok)
	case ch == '-' || ('0' <= ch && ch <= '9'):
		if d.cfg.decodeInvalid == 0 && d.invalidNumber() {
			d.tokenError(tok, "invalid number")
			return
		}
		d.number(tok)
	case strings.HasPrefix(rest, "true"):
		tok.typ, tok.b = tBoolean, true
		d.p += 4
	case strings.HasPrefix(rest, "false"):
		tok.typ, tok.b = tBoolean, false
		d.p += 5
	case strings.HasPrefix(rest, "null"):
		tok.typ = tNull
		d.p += 4
	case d.cfg.decodeInvalid != 0 && d.invalidNumber():
		d.number(tok)
	default:
		d.tokenError(tok, "invalid token")
	}
}

// invalidNumber is json_is_invalid_number: what strtod reads but JSON
// does not have (a '+', hexadecimal, leading zeros, inf, nan).
func (d *jsonDecoder) invalidNumber() bool {
	p := d.p
	if d.at(p) == '+' {
		return true
	}
	if d.at(p) == '-' {
		p++
	}
	if c := d.at(p); c == '0' {
		c2 := d.at(p + 1)
		return c2|0x20 == 'x' || ('0' <= c2 && c2 <= '9')
	} else if c <= '9' {
		return false
	}
	rest := strings.ToLower(d.data[min(p, len(d.data)):min(p+3, len(d.data))])
	return rest == "inf" || rest == "nan"
}

func (d *jsonDecoder) number(tok *token) {
	f, n := cnum.StrtodPrefix(d.data[d.p:])
	if n == 0 {
		d.tokenError(tok, "invalid number")
		return
	}
	tok.typ, tok.num = tNumber, f
	d.p += n
}

func (d *jsonDecoder) hex4(i int) int {
	v := 0
	for j := range 4 {
		h := hexDigit(d.at(i + j))
		if h < 0 {
			return -1
		}
		v = v<<4 | h
	}
	return v
}

// unicodeEscape is json_append_unicode_escape, d.p at the backslash of
// "\uXXXX" (a surrogate pair takes two); false when it is invalid.
func (d *jsonDecoder) unicodeEscape() bool {
	cp := d.hex4(d.p + 2)
	if cp < 0 {
		return false
	}
	n := 6
	if cp&0xF800 == 0xD800 {
		if cp&0x400 != 0 || d.at(d.p+6) != '\\' || d.at(d.p+7) != 'u' {
			return false
		}
		lo := d.hex4(d.p + 8)
		if lo < 0 || lo&0xFC00 != 0xDC00 {
			return false
		}
		cp = ((cp&0x3FF)<<10 | lo&0x3FF) + 0x10000
		n = 12
	}
	switch {
	case cp <= 0x7F:
		d.tmp = append(d.tmp, byte(cp))
	case cp <= 0x7FF:
		d.tmp = append(d.tmp, byte(cp>>6|0xC0), byte(cp&0x3F|0x80))
	case cp <= 0xFFFF:
		d.tmp = append(d.tmp, byte(cp>>12|0xE0), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80))
	default:
		d.tmp = append(d.tmp, byte(cp>>18|0xF0), byte(cp>>12&0x3F|0x80), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80))
	}
	d.p += n
	return true
}

// string is json_next_string_token, d.p at the opening quote.
func (d *jsonDecoder) string(tok *token) {
	d.p++
	d.tmp = d.tmp[:0]
	for {
		ch := d.at(d.p)
		if ch == '"' {
			break
		}
		if ch == 0 {
			d.tokenError(tok, "unexpected end of string")
			return
		}
		if ch == '\\' {
			ch = jsonUnescape[d.at(d.p+1)]
			if ch == 'u' {
				if d.unicodeEscape() {
					continue
				}
				d.tokenError(tok, "invalid unicode escape code")
				return
			}
			if ch == 0 {
				d.tokenError(tok, "invalid escape code")
				return
			}
			d.p++
		}
		d.tmp = append(d.tmp, ch)
		d.p++
	}
	d.p++
	tok.typ, tok.str = tString, string(d.tmp)
}

// descend is json_decode_descend: one level deeper, within
// decode_max_depth and what the C stack (top values high) can hold.
func (d *jsonDecoder) descend(top, slots int) {
	d.depth++
	if d.depth <= int(d.cfg.decodeMaxDepth) && top+slots <= maxCStack {
		return
	}
	libError(d.L, "Found too many nested data structures (%d) at character %d", d.depth, d.p)
}

// value is json_process_value; top is the C stack's height under it.
func (d *jsonDecoder) value(tok *token, top int) lua.LValue {
	switch tok.typ {
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.num)
	case tBoolean:
		return lua.LBool(tok.b)
	case tNull:
		return d.st.null
	case tObjBegin:
		return d.object(top)
	case tArrBegin:
		return d.array(top)
	}
	d.fail("value", tok)
	return nil
}

func (d *jsonDecoder) object(top int) lua.LValue {
	d.descend(top, 3)
	t := d.L.NewTable()
	var tok token
	d.next(&tok)
	if tok.typ == tObjEnd {
		d.depth--
		return t
	}
	for {
		if tok.typ != tString {
			d.fail("object key string", &tok)
		}
		key := tok.str
		d.next(&tok)
		if tok.typ != tColon {
			d.fail("colon", &tok)
		}
		d.next(&tok)
		t.RawSetString(key, d.value(&tok, top+2))
		d.next(&tok)
		if tok.typ == tObjEnd {
			d.depth--
			return t
		}
		if tok.typ != tComma {
			d.fail("comma or object end", &tok)
		}
		d.next(&tok)
	}
}

func (d *jsonDecoder) array(top int) lua.LValue {
	d.descend(top, 2)
	t := d.L.CreateTable(0, 0)
	var tok token
	d.next(&tok)
	if tok.typ == tArrEnd {
		d.depth--
		return t
	}
	for i := 1; ; i++ {
		t.RawSetInt(i, d.value(&tok, top+1))
		d.next(&tok)
		if tok.typ == tArrEnd {
			d.depth--
			return t
		}
		if tok.typ != tComma {
			d.fail("comma or array end", &tok)
		}
		d.next(&tok)
	}
}
