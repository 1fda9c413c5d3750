package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// parseIntset appends the members of an intset blob (RDB_TYPE_SET_INTSET)
// to d.members, as decimal strings in the arena.
//
// Layout (little-endian): uint32 encoding (2, 4 or 8 bytes per element),
// uint32 count, then count signed integers, strictly ascending.
func (d *Decoder) parseIntset(blob []byte) error {
	if len(blob) < 8 {
		return fmt.Errorf("intset of %d bytes is shorter than its header", len(blob))
	}
	enc := binary.LittleEndian.Uint32(blob)
	count := uint64(binary.LittleEndian.Uint32(blob[4:]))
	if enc != 2 && enc != 4 && enc != 8 {
		return fmt.Errorf("intset encoding %d", enc)
	}
	if 8+count*uint64(enc) != uint64(len(blob)) {
		return fmt.Errorf("intset of %d bytes claims %d elements of %d bytes", len(blob), count, enc)
	}
	var prev int64
	for i, p := 0, blob[8:]; len(p) > 0; i, p = i+1, p[enc:] {
		var v int64
		switch enc {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			v = int64(binary.LittleEndian.Uint64(p))
		}
		if i > 0 && v <= prev {
			return fmt.Errorf("intset element %d (%d) not above %d", i, v, prev)
		}
		prev = v
		start := len(d.arena)
		d.arena = strconv.AppendInt(d.arena, v, 10)
		d.members = append(d.members, d.arena[start:len(d.arena):len(d.arena)])
		if err := d.checkBudget(); err != nil {
			return err
		}
	}
	return nil
}

// lpEOF ends a listpack.
const lpEOF = 0xFF

// parseListpack appends the elements of a listpack blob (the listpack
// types of sets, hashes and sorted sets, and list nodes) to d.members;
// integers become decimal strings.
//
// Layout: uint32 total bytes (LE), uint16 element count (LE, 65535 =
// unknown), entries, 0xFF. An entry is an encoding byte (and length or
// integer bytes), the data, and a "backlen": the entry's size without the
// backlen, in 7-bit groups, most significant first, every byte but the
// first having its high bit set, so it can be read backwards.
//
//	0xxxxxxx              7-bit unsigned integer
//	10xxxxxx + data       string of up to 63 bytes
//	110xxxxx y            13-bit signed integer (x high bits)
//	1110xxxx y + data     string of up to 4095 bytes (x high bits)
//	11110000 +4 LE + data string with a 32-bit length
//	0xF1 / 0xF2 / 0xF3 / 0xF4   16 / 24 / 32 / 64-bit signed integer, LE
func (d *Decoder) parseListpack(lp []byte) error {
	if len(lp) < 7 {
		return fmt.Errorf("listpack of %d bytes is shorter than header and end mark", len(lp))
	}
	if total := binary.LittleEndian.Uint32(lp); uint64(total) != uint64(len(lp)) {
		return fmt.Errorf("listpack header says %d bytes, blob has %d", total, len(lp))
	}
	want := int(binary.LittleEndian.Uint16(lp[4:]))
	p := 6
	n := 0
	for {
		if p >= len(lp) {
			return errors.New("listpack has no end mark")
		}
		if lp[p] == lpEOF {
			break
		}
		str, ival, isInt, size, err := lpEntry(lp[p : len(lp)-1])
		if err != nil {
			return fmt.Errorf("listpack entry %d at byte %d: %v", n, p, err)
		}
		bl := backlenSize(uint64(size))
		if p+size+bl > len(lp)-1 {
			return fmt.Errorf("listpack entry %d at byte %d overruns the listpack", n, p)
		}
		if got, ok := decodeBacklen(lp[p+size : p+size+bl]); !ok || got != uint64(size) {
			return fmt.Errorf("listpack entry %d at byte %d: back length does not match size %d", n, p, size)
		}
		start := len(d.arena)
		if isInt {
			d.arena = strconv.AppendInt(d.arena, ival, 10)
		} else {
			d.arena = append(d.arena, str...)
		}
		d.members = append(d.members, d.arena[start:len(d.arena):len(d.arena)])
		if err := d.checkBudget(); err != nil {
			return err
		}
		p += size + bl
		n++
	}
	if p != len(lp)-1 {
		return fmt.Errorf("listpack end mark at byte %d of %d", p, len(lp))
	}
	if want != 0xFFFF && want != n {
		return fmt.Errorf("listpack header says %d elements, found %d", want, n)
	}
	return nil
}

// lpEntry decodes the entry at the start of b (which excludes the listpack's
// end mark) and returns its value and its size without the backlen.
func lpEntry(b []byte) (str []byte, ival int64, isInt bool, size int, err error) {
	if len(b) == 0 {
		return nil, 0, false, 0, errors.New("truncated entry")
	}
	c := b[0]
	need := func(n int) bool { return len(b) >= n }
	switch {
	case c&0x80 == 0: // 7-bit uint
		return nil, int64(c), true, 1, nil
	case c&0xC0 == 0x80: // 6-bit string
		n := int(c & 0x3F)
		if !need(1 + n) {
			break
		}
		return b[1 : 1+n], 0, false, 1 + n, nil
	case c&0xE0 == 0xC0: // 13-bit int
		if !need(2) {
			break
		}
		u := uint64(c&0x1F)<<8 | uint64(b[1])
		return nil, signExtend(u, 13), true, 2, nil
	case c&0xF0 == 0xE0: // 12-bit string
		if !need(2) {
			break
		}
		n := int(c&0x0F)<<8 | int(b[1])
		if !need(2 + n) {
			break
		}
		return b[2 : 2+n], 0, false, 2 + n, nil
	case c == 0xF0: // 32-bit string
		if !need(5) {
			break
		}
		n := uint64(binary.LittleEndian.Uint32(b[1:]))
		if uint64(len(b)) < 5+n {
			break
		}
		return b[5 : 5+n], 0, false, 5 + int(n), nil
	case c >= 0xF1 && c <= 0xF4:
		width := [...]int{2, 3, 4, 8}[c-0xF1]
		if !need(1 + width) {
			break
		}
		var u uint64
		for i := width; i >= 1; i-- {
			u = u<<8 | uint64(b[i])
		}
		return nil, signExtend(u, uint(width*8)), true, 1 + width, nil
	default:
		return nil, 0, false, 0, fmt.Errorf("unknown encoding byte 0x%02x", c)
	}
	return nil, 0, false, 0, errors.New("truncated entry")
}

func signExtend(u uint64, bits uint) int64 {
	shift := 64 - bits
	return int64(u<<shift) >> shift
}

// backlenSize is how many bytes the backlen of an entry of size l takes
// (listpack.c's lpEncodeBacklen thresholds).
func backlenSize(l uint64) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// decodeBacklen reads a backlen from its last byte backwards; b must be
// exactly the backlen's bytes.
func decodeBacklen(b []byte) (uint64, bool) {
	var v uint64
	var shift uint
	for i := len(b) - 1; i >= 0; i-- {
		v |= uint64(b[i]&0x7F) << shift
		if b[i]&0x80 == 0 {
			return v, i == 0
		}
		shift += 7
	}
	return 0, false
}

// appendBacklen appends the backlen for an entry of size l (the Encoder's
// list nodes and the tests' listpacks).
func appendBacklen(b []byte, l uint64) []byte {
	n := backlenSize(l)
	for i := n - 1; i >= 0; i-- {
		c := byte(l >> (7 * uint(i)) & 0x7F)
		if i < n-1 { // every byte but the first carries the continuation bit
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

// errLZF reports an LZF stream that does not decode to exactly the
// announced size.
var errLZF = errors.New("invalid LZF data")

// lzfDecompress decodes LZF data (liblzf's format, as in Redis's lzf_d.c)
// into out, which must be exactly the uncompressed size.
//
// The stream is a sequence of runs. A control byte below 32 is a literal run
// of ctrl+1 bytes that follow. Otherwise its top three bits are a length L
// (7 means "7 plus the next byte") and its low five bits the high bits of a
// back-reference distance whose low byte follows; L+2 bytes are copied from
// distance+1 bytes back in the output, possibly overlapping.
func lzfDecompress(in, out []byte) error {
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 32 {
			n := ctrl + 1
			if op+n > len(out) || ip+n > len(in) {
				return fmt.Errorf("%w: literal run past the end", errLZF)
			}
			copy(out[op:], in[ip:ip+n])
			op += n
			ip += n
			continue
		}
		n := ctrl >> 5
		if ip >= len(in) {
			return fmt.Errorf("%w: truncated back reference", errLZF)
		}
		if n == 7 {
			n += int(in[ip])
			ip++
			if ip >= len(in) {
				return fmt.Errorf("%w: truncated back reference", errLZF)
			}
		}
		ref := op - (ctrl&0x1F)<<8 - 1 - int(in[ip])
		ip++
		n += 2
		if op+n > len(out) {
			return fmt.Errorf("%w: back reference past the end", errLZF)
		}
		if ref < 0 {
			return fmt.Errorf("%w: back reference before the start", errLZF)
		}
		if ref+n <= op {
			copy(out[op:op+n], out[ref:ref+n])
		} else {
			for i := range n {
				out[op+i] = out[ref+i]
			}
		}
		op += n
	}
	if op != len(out) {
		return fmt.Errorf("%w: %d bytes decoded, %d announced", errLZF, op, len(out))
	}
	return nil
}
