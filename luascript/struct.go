package luascript

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// struct is Roberto Ierusalimschy's struct library as Redis 7.0.15
// bundles it (deps/lua/src/lua_struct.c), built as Redis builds it on
// x86-64: native little-endian, long and size_t of 8 bytes, int of 4,
// alignment up to 8. Formats end at a NUL, as C strings do.

const (
	structMaxIntSize = 32 // MAXINTSIZE
	structMaxAlign   = 8  // MAXALIGN
)

func (st *state) structLib() *lua.LTable {
	L := st.L
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

// structFormat walks a format: its options, sizes and alignment.
type structFormat struct {
	L      *lua.LState
	f      string
	i      int
	little bool
	align  int
}

func newStructFormat(L *lua.LState) *structFormat {
	return &structFormat{L: L, f: cstr(checkString(L, 1)), little: true, align: 1}
}

// num is getnum: the digits at the cursor, or df when there are none.
func (s *structFormat) num(df int) int {
	if s.i >= len(s.f) || !isDigit(s.f[s.i]) {
		return df
	}
	a := 0
	for s.i < len(s.f) && isDigit(s.f[s.i]) {
		d := int(s.f[s.i] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			libError(s.L, "integral size overflow")
		}
		a = a*10 + d
		s.i++
	}
	return a
}

// size is optsize: the bytes option opt takes (0 for the others).
func (s *structFormat) size(opt byte) uint64 {
	switch opt {
	case 'B', 'b', 'x':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T', 'd':
		return 8
	case 'f':
		return 4
	case 'c':
		return uint64(s.num(1))
	case 'i', 'I':
		n := s.num(4)
		if n > structMaxIntSize {
			libError(s.L, "integral size %d is larger than limit of %d", n, structMaxIntSize)
		}
		return uint64(n)
	}
	return 0
}

// pad is gettoalign: the padding before an option of size at offset n.
func (s *structFormat) pad(n uint64, opt byte, size uint64) uint64 {
	if size == 0 || opt == 'c' {
		return 0
	}
	size = min(size, uint64(s.align))
	return (size - (n & (size - 1))) & (size - 1)
}

// control is controloptions: endianness, alignment and white space; any
// other option is refused.
func (s *structFormat) control(opt byte) {
	switch opt {
	case ' ':
	case '>':
		s.little = false
	case '<':
		s.little = true
	case '!':
		a := s.num(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			libError(s.L, "alignment %d is not a power of 2", a)
		}
		s.align = a
	default:
		argError(s.L, 1, "invalid format option '"+string([]byte{opt})+"'")
	}
}

func isIntOption(opt byte) bool { return strings.IndexByte("bBhHlLTiI", opt) >= 0 }

func structPack(L *lua.LState) int {
	s := newStructFormat(L)
	// b_pack pushes a nil to separate the arguments from its buffer: an
	// argument one past the last is that nil ("got nil", not "no value").
	L.Push(lua.LNil)
	arg := 2
	var out []byte
	for s.i < len(s.f) {
		opt := s.f[s.i]
		s.i++
		size := s.size(opt)
		pad := s.pad(uint64(len(out)), opt, size)
		for range pad {
			out = append(out, 0)
		}
		switch {
		case isIntOption(opt):
			n := checkNumber(L, arg)
			arg++
			var v uint64
			if n < 0 {
				v = uint64(toInt64(n))
			} else {
				v = toUint64(n)
			}
			out = appendInt(out, v, size, s.little)
		case opt == 'x':
			out = append(out, 0)
		case opt == 'f':
			out = appendInt(out, uint64(math.Float32bits(float32(checkNumber(L, arg)))), 4, s.little)
			arg++
		case opt == 'd':
			out = appendInt(out, math.Float64bits(checkNumber(L, arg)), 8, s.little)
			arg++
		case opt == 'c' || opt == 's':
			str := checkString(L, arg)
			arg++
			if size == 0 {
				size = uint64(len(str))
			}
			if uint64(len(str)) < size {
				argError(L, arg, "string too short")
			}
			out = append(out, str[:size]...)
			if opt == 's' {
				out = append(out, 0)
				size++
			}
		default:
			s.control(opt)
		}
		if len(out) > maxString {
			libError(L, "not enough memory")
		}
	}
	L.Push(lua.LString(out))
	return 1
}

// appendInt appends the low size bytes of v (zeros past 8 bytes, as
// putinteger shifts them out).
func appendInt(b []byte, v, size uint64, little bool) []byte {
	start := len(b)
	for range size {
		b = append(b, 0)
	}
	buf := b[start:]
	for i := range size {
		j := i
		if !little {
			j = size - 1 - i
		}
		buf[j] = byte(v)
		v >>= 8
	}
	return b
}

// readInt is getinteger: past 8 bytes only the last 8 read count, and
// the sign mask is shifted as x86 shifts (the count modulo 64).
func readInt(b string, little, signed bool) float64 {
	var l uint64
	size := len(b)
	for i := range size {
		j := i
		if little {
			j = size - 1 - i
		}
		l = l<<8 | uint64(b[j])
	}
	if !signed {
		return float64(l)
	}
	mask := ^uint64(0) << (uint(size*8-1) & 63)
	if l&mask != 0 {
		l |= mask
	}
	return float64(int64(l))
}

func structUnpack(L *lua.LState) int {
	s := newStructFormat(L)
	data := checkString(L, 2)
	ld := uint64(len(data))
	pos := uint64(optInteger(L, 3, 1))
	if pos == 0 {
		argError(L, 3, "offset must be 1 or greater")
	}
	pos--
	top := L.GetTop()
	var out []lua.LValue
	for s.i < len(s.f) {
		opt := s.f[s.i]
		s.i++
		size := s.size(opt)
		pos += s.pad(pos, opt, size)
		if !(size <= ld && pos <= ld-size) {
			argError(L, 2, "data string too short")
		}
		checkStack(L, top+len(out), 2, "too many results")
		switch {
		case isIntOption(opt):
			out = append(out, lua.LNumber(readInt(data[pos:pos+size], s.little, opt >= 'a')))
		case opt == 'x':
		case opt == 'f':
			v := binary.LittleEndian.Uint32([]byte(data[pos : pos+4]))
			if !s.little {
				v = binary.BigEndian.Uint32([]byte(data[pos : pos+4]))
			}
			out = append(out, lua.LNumber(math.Float32frombits(v)))
		case opt == 'd':
			v := binary.LittleEndian.Uint64([]byte(data[pos : pos+8]))
			if !s.little {
				v = binary.BigEndian.Uint64([]byte(data[pos : pos+8]))
			}
			out = append(out, lua.LNumber(math.Float64frombits(v)))
		case opt == 'c':
			if size == 0 {
				var n float64
				ok := len(out) > 0
				if ok {
					n, ok = toNumber(out[len(out)-1])
				}
				if !ok {
					libError(L, "format 'c0' needs a previous size")
				}
				size = toUint64(n)
				out = out[:len(out)-1]
				if !(size <= ld && pos <= ld-size) {
					argError(L, 2, "data string too short")
				}
			}
			out = append(out, lua.LString(data[pos:pos+size]))
		case opt == 's':
			e := strings.IndexByte(data[pos:], 0)
			if e < 0 {
				libError(L, "unfinished string in data")
			}
			size = uint64(e) + 1
			out = append(out, lua.LString(data[pos:pos+uint64(e)]))
		default:
			s.control(opt)
		}
		pos += size
	}
	for _, v := range out {
		L.Push(v)
	}
	L.Push(lua.LNumber(int64(pos + 1)))
	return len(out) + 1
}

func structSize(L *lua.LState) int {
	s := newStructFormat(L)
	var pos uint64
	for s.i < len(s.f) {
		opt := s.f[s.i]
		s.i++
		size := s.size(opt)
		pos += s.pad(pos, opt, size)
		if opt == 's' {
			argError(L, 1, "option 's' has no fixed size")
		} else if opt == 'c' && size == 0 {
			argError(L, 1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			s.control(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(int64(pos)))
	return 1
}
