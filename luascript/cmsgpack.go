package luascript

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// cmsgpack is lua-cmsgpack 0.4.0 as Redis 7.0.15 bundles it (deps/lua/
// src/lua_cmsgpack.c): pack, unpack, unpack_one and unpack_limit, with
// its choices of integer widths, float32 or float64, array or map, and
// its errors.

// mpMaxNesting is LUACMSGPACK_MAX_NESTING: a table nested deeper is
// packed as nil.
const mpMaxNesting = 16

// mpMaxPad bounds the nils one unpack may pad tables with. gopher-lua
// keeps every integer key below 2^26 in a table's array part, padded with
// nils up to it, so the 7 bytes of {[6e7]=1} would take a gigabyte, and a
// few hundred bytes of such maps all the memory there is; Lua 5.1 (Redis)
// puts a sparse key in the hash. Past the bound unpack fails with "not
// enough memory": 16 MB of padding, which growing the array one slot at a
// time makes some 80 MB of allocations.
const mpMaxPad = 1 << 20

func (st *state) cmsgpackLib() *lua.LTable {
	L := st.L
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(mpPack))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int { return mpUnpack(L, 0, 0) }))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		offset := optInteger(L, 2, 0)
		popExtra(L)
		return mpUnpack(L, 1, offset)
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		limit := checkInteger(L, 2)
		offset := optInteger(L, 3, 0)
		popExtra(L)
		return mpUnpack(L, limit, offset)
	}))
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return t
}

// popExtra is lua_pop(L, lua_gettop(L)-1): it leaves the first argument,
// and no arguments alone.
func popExtra(L *lua.LState) {
	if L.GetTop() > 1 {
		L.SetTop(1)
	}
}

type mpEncoder struct {
	L     *lua.LState
	buf   []byte
	steps int
}

// mpPack is mp_pack: each argument packed, the results concatenated.
func mpPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		argError(L, 0, "MessagePack pack needs input.")
	}
	if 2*n > maxCStack { // lua_checkstack(L, nargs)
		argError(L, 0, "Too many arguments for MessagePack pack.")
	}
	e := &mpEncoder{L: L}
	for i := 1; i <= n; i++ {
		// On the stack: the arguments, the results so far, this argument.
		e.value(L.Get(i), 0, n+i)
	}
	L.Push(lua.LString(e.buf))
	return 1
}

// value is mp_encode_lua_type; top is the C stack's height with v on it.
func (e *mpEncoder) value(v lua.LValue, level, top int) {
	if len(e.buf) > maxString {
		libError(e.L, "not enough memory")
	}
	switch v := v.(type) {
	case lua.LString:
		e.bytes(string(v))
	case lua.LBool:
		if v {
			e.buf = append(e.buf, 0xc3)
		} else {
			e.buf = append(e.buf, 0xc2)
		}
	case lua.LNumber:
		f := float64(v)
		if !math.IsInf(f, 0) && float64(toInt64(f)) == f {
			e.int(toInt64(f))
		} else {
			e.double(f)
		}
	case *lua.LTable:
		if level == mpMaxNesting {
			e.buf = append(e.buf, 0xc0)
			return
		}
		e.steps++
		checkRun(e.L, len(e.buf), e.steps)
		e.table(v, level, top)
	default:
		e.buf = append(e.buf, 0xc0)
	}
}

func (e *mpEncoder) bytes(s string) {
	n := len(s)
	switch {
	case n < 32:
		e.buf = append(e.buf, 0xa0|byte(n))
	case n <= 0xff:
		e.buf = append(e.buf, 0xd9, byte(n))
	case n <= 0xffff:
		e.buf = append(e.buf, 0xda)
		e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(n))
	default:
		e.buf = append(e.buf, 0xdb)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
	}
	e.buf = append(e.buf, s...)
}

// double is mp_encode_double: a float32 when it holds the value exactly.
func (e *mpEncoder) double(d float64) {
	if f := float32(d); float64(f) == d {
		e.buf = append(e.buf, 0xca)
		e.buf = binary.BigEndian.AppendUint32(e.buf, math.Float32bits(f))
		return
	}
	e.buf = append(e.buf, 0xcb)
	e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(d))
}

// int is mp_encode_int: the smallest of msgpack's integer encodings.
func (e *mpEncoder) int(n int64) {
	b := e.buf
	switch {
	case n >= 0 && n <= 127:
		b = append(b, byte(n))
	case n >= 0 && n <= 0xff:
		b = append(b, 0xcc, byte(n))
	case n >= 0 && n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n >= 0 && n <= 0xffffffff:
		b = binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n >= 0:
		b = binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= -32:
		b = append(b, byte(int8(n)))
	case n >= -128:
		b = append(b, 0xd0, byte(n))
	case n >= -32768:
		b = binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= -2147483648:
		b = binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
	}
	e.buf = b
}

func (e *mpEncoder) header(n int, fix, b16, b32 byte) {
	switch {
	case n <= 15:
		e.buf = append(e.buf, fix|byte(n))
	case n <= 0xffff:
		e.buf = binary.BigEndian.AppendUint16(append(e.buf, b16), uint16(n))
	default:
		e.buf = binary.BigEndian.AppendUint32(append(e.buf, b32), uint32(n))
	}
}

// table is mp_encode_lua_table: an array when the keys are exactly 1..n
// (table_is_an_array, which reads them as C ints), else a map.
func (e *mpEncoder) table(t *lua.LTable, level, top int) {
	checkStack(e.L, top, 2, "in function table_is_an_array")
	var count, hi int32
	array := true
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f <= 0 || math.IsInf(f, 0) || float64(toInt32(f)) != f {
			array = false
			break
		}
		hi = max(hi, int32(f))
		count++
	}
	if array && hi == count {
		checkStack(e.L, top, 1, "in function mp_encode_lua_table_as_array")
		e.header(int(count), 0x90, 0xdc, 0xdd)
		for i := 1; i <= int(count); i++ {
			e.value(t.RawGetInt(i), level+1, top+1)
		}
		return
	}
	checkStack(e.L, top, 3, "in function mp_encode_lua_table_as_map")
	n := 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n++
	}
	e.header(n, 0x80, 0xde, 0xdf)
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		e.value(k, level+1, top+3)
		e.value(v, level+1, top+2)
	}
}

// mpErr is a decoding failure (mp_cur's err).
type mpErr uint8

const (
	mpOK mpErr = iota
	mpEOF
	mpBadFormat
)

type mpDecoder struct {
	L   *lua.LState
	s   string
	p   int
	err mpErr
	pad int // the nils tables may still be padded with (mpMaxPad)
}

func (d *mpDecoder) need(n uint64) bool {
	if uint64(len(d.s)-d.p) < n {
		d.err = mpEOF
		return false
	}
	return true
}

// mpUnpack is mp_unpack_full: limit values (all when limit and offset
// are 0) from offset on; with a limit or offset, the offset to go on
// from (-1 at the end) comes first.
func mpUnpack(L *lua.LState, limit, offset int64) int {
	s := checkString(L, 1)
	all := limit == 0 && offset == 0
	if offset < 0 || limit < 0 {
		libError(L, "Invalid request to unpack with offset of %d and limit of %d.", int32(offset), int32(len(s)))
	} else if uint64(offset) > uint64(len(s)) {
		libError(L, "Start offset %d greater than input length %d.", int32(offset), int32(len(s)))
	}
	if all {
		limit = math.MaxInt32
	}
	d := &mpDecoder{L: L, s: s, p: int(offset), pad: mpMaxPad}
	top := L.GetTop()
	var out []lua.LValue
	for cnt := int64(0); d.p < len(s) && cnt < limit; cnt++ {
		v := d.value(top + len(out))
		switch d.err {
		case mpEOF:
			libError(L, "Missing bytes in input.")
		case mpBadFormat:
			libError(L, "Bad data format in input.")
		}
		out = append(out, v)
	}
	if !all {
		next := lua.LNumber(-1)
		if d.p < len(s) {
			next = lua.LNumber(d.p)
		}
		L.Push(next)
	}
	for _, v := range out {
		L.Push(v)
	}
	if !all {
		return len(out) + 1
	}
	return len(out)
}

// value is mp_decode_to_lua_type; top is the C stack's height under it.
// On a failure it sets d.err and returns nil.
func (d *mpDecoder) value(top int) lua.LValue {
	if !d.need(1) {
		return nil
	}
	checkStack(d.L, top, 1, "too many return values at once; use unpack_one or unpack_limit instead.")
	s := d.s[d.p:]
	// n bytes of fixed size after the type byte, read big-endian.
	fixed := func(n int) (uint64, bool) {
		if !d.need(uint64(1 + n)) {
			return 0, false
		}
		var v uint64
		for i := 1; i <= n; i++ {
			v = v<<8 | uint64(s[i])
		}
		d.p += 1 + n
		return v, true
	}
	str := func(n int) lua.LValue {
		l, ok := fixed(n)
		if !ok || !d.need(l) {
			return nil
		}
		v := lua.LString(d.s[d.p : d.p+int(l)])
		d.p += int(l)
		return v
	}
	c := s[0]
	switch c {
	case 0xcc, 0xcd, 0xce:
		v, ok := fixed(1 << (c - 0xcc))
		if !ok {
			return nil
		}
		return lua.LNumber(v)
	case 0xcf: // lua_pushunsigned is lua_pushinteger: wraps to negative
		v, ok := fixed(8)
		if !ok {
			return nil
		}
		return lua.LNumber(int64(v))
	case 0xd0:
		v, ok := fixed(1)
		if !ok {
			return nil
		}
		return lua.LNumber(int8(v))
	case 0xd1:
		v, ok := fixed(2)
		if !ok {
			return nil
		}
		return lua.LNumber(int16(v))
	case 0xd2:
		v, ok := fixed(4)
		if !ok {
			return nil
		}
		return lua.LNumber(int32(v))
	case 0xd3:
		v, ok := fixed(8)
		if !ok {
			return nil
		}
		return lua.LNumber(int64(v))
	case 0xc0:
		d.p++
		return lua.LNil
	case 0xc3:
		d.p++
		return lua.LTrue
	case 0xc2:
		d.p++
		return lua.LFalse
	case 0xca:
		v, ok := fixed(4)
		if !ok {
			return nil
		}
		return lua.LNumber(math.Float32frombits(uint32(v)))
	case 0xcb:
		v, ok := fixed(8)
		if !ok {
			return nil
		}
		return lua.LNumber(math.Float64frombits(v))
	case 0xd9:
		return str(1)
	case 0xda:
		return str(2)
	case 0xdb:
		return str(4)
	case 0xdc, 0xdd, 0xde, 0xdf:
		n, ok := fixed(2 << ((c - 0xdc) & 1))
		if !ok {
			return nil
		}
		if c < 0xde {
			return d.array(n, top)
		}
		return d.hash(n, top)
	}
	switch {
	case c&0x80 == 0:
		d.p++
		return lua.LNumber(c)
	case c&0xe0 == 0xe0:
		d.p++
		return lua.LNumber(int8(c))
	case c&0xe0 == 0xa0:
		l := uint64(c & 0x1f)
		if !d.need(1 + l) {
			return nil
		}
		v := lua.LString(s[1 : 1+l])
		d.p += 1 + int(l)
		return v
	case c&0xf0 == 0x90:
		d.p++
		return d.array(uint64(c&0xf), top)
	case c&0xf0 == 0x80:
		d.p++
		return d.hash(uint64(c&0xf), top)
	}
	d.err = mpBadFormat
	return nil
}

// array is mp_decode_to_lua_array. A nil element leaves a hole, as
// lua_settable does.
func (d *mpDecoder) array(n uint64, top int) lua.LValue {
	// Every element takes a byte at least: what is left bounds the array.
	t := d.L.CreateTable(int(min(n, uint64(len(d.s)-d.p))), 0)
	checkStack(d.L, top+1, 1, "in function mp_decode_to_lua_array")
	for i := uint64(1); i <= n; i++ {
		v := d.value(top + 2)
		if d.err != mpOK {
			return nil
		}
		if v != lua.LNil {
			t.RawSetInt(int(i), v)
		}
	}
	return t
}

// hash is mp_decode_to_lua_hash: lua_settable refuses a nil or NaN key,
// without a position, as Lua raises it from C.
func (d *mpDecoder) hash(n uint64, top int) lua.LValue {
	t := d.L.CreateTable(0, int(min(n, uint64(len(d.s)-d.p)/2)))
	for ; n > 0; n-- {
		k := d.value(top + 1)
		if d.err != mpOK {
			return nil
		}
		v := d.value(top + 2)
		if d.err != mpOK {
			return nil
		}
		switch k := k.(type) {
		case *lua.LNilType:
			d.L.Error(lua.LString("table index is nil"), 0)
		case lua.LNumber:
			f := float64(k)
			if math.IsNaN(f) {
				d.L.Error(lua.LString("table index is NaN"), 0)
			}
			if n := t.MaxN(); f == math.Trunc(f) && f > float64(n+1) && f < float64(lua.MaxArrayIndex) && v != lua.LNil {
				if d.pad -= int(f) - n - 1; d.pad < 0 {
					libError(d.L, "not enough memory")
				}
			}
		}
		if v != lua.LNil || t.RawGet(k) != lua.LNil { // nil deletes
			t.RawSet(k, v)
		}
	}
	return t
}
