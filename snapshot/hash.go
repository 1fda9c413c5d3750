package snapshot

import (
	"sessiond/keyspace"

	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Hashes. The Encoder writes RDB_TYPE_HASH (4): the number of pairs, then
// each field and value as an RDB string; Redis loads it into a listpack or
// a hash table by its own limits. The Decoder reads that and the compact
// forms Redis 7 writes or still accepts: listpack (16, Redis 7), ziplist
// (13, Redis 3.2 to 6.2) and zipmap (9, before 2.6). Each is checked as
// Redis checks it on load: a whole number of pairs, no duplicate field; an
// empty hash is skipped ("empty hash"), as Redis skips empty keys.

// writeHash writes the value of r, a KindHash record, as RDB_TYPE_HASH.
func (e *Encoder) writeHash(r *Record) {
	e.buf = appendLen(e.buf, uint64(len(r.Fields)/2))
	for _, f := range r.Fields {
		e.writeString(f)
	}
}

// readHash reads the value of a hash of RDB type t into d.members (field,
// value, ...) and returns the record, or nil if the hash was empty.
func (d *Decoder) readHash(rec *Record, t byte) (*Record, error) {
	vOff := d.rd.offset()
	if t == typeHash {
		n, err := d.readLen("hash size")
		if err != nil {
			return nil, err
		}
		// No allocation by n: members grow only as strings actually arrive.
		for i := uint64(0); i < n; i++ {
			f, err := d.readString("hash field")
			if err != nil {
				return nil, err
			}
			v, err := d.readString("hash value")
			if err != nil {
				return nil, err
			}
			d.members = append(d.members, f, v)
		}
	} else {
		blob, err := d.readString("hash encoding")
		if err != nil {
			return nil, err
		}
		switch t {
		case typeHashListpack:
			err = d.parseListpack(blob)
		case typeHashZiplist:
			err = d.parseZiplist(blob)
		default:
			err = d.parseZipmap(blob)
		}
		if err == nil && len(d.members)%2 != 0 {
			err = fmt.Errorf("%s of %d elements: not field and value pairs", typeEncName(t), len(d.members))
		}
		if err != nil {
			return nil, d.corrupt(vOff, fmt.Sprintf("key %s: %v", quoteKey(rec.Key), err))
		}
	}
	if len(d.members) == 0 {
		d.skipped(rec.Key, "empty hash")
		return nil, nil
	}
	if i := d.duplicateField(); i >= 0 {
		return nil, d.corrupt(vOff, fmt.Sprintf("key %s: duplicate hash field %s", quoteKey(rec.Key), quoteKey(d.members[i])))
	}
	rec.Kind = KindHash
	rec.Fields = d.members
	return rec, nil
}

// typeEncName names the compact encoding of a hash or sorted set type.
func typeEncName(t byte) string {
	switch t {
	case typeHashListpack, typeZsetListpack:
		return "listpack"
	case typeHashZiplist, typeZsetZiplist:
		return "ziplist"
	}
	return "zipmap"
}

// duplicateField returns the index in d.members of a field equal to an
// earlier one, or -1.
func (d *Decoder) duplicateField() int {
	fields := make([][]byte, 0, len(d.members)/2)
	for i := 0; i < len(d.members); i += 2 {
		fields = append(fields, d.members[i])
	}
	if i := d.duplicate(fields); i >= 0 {
		return 2 * i
	}
	return -1
}

// parseZiplist appends the elements of a ziplist blob (RDB_TYPE_HASH_ZIPLIST
// and the other ziplist types) to d.members; integers become decimal
// strings.
//
// Layout (little-endian): uint32 total bytes, uint32 offset of the last
// entry, uint16 entry count (65535 = unknown), entries, 0xFF. An entry is
// the previous entry's size (1 byte if below 254, else 0xFE and 4 bytes),
// an encoding, and the data:
//
//	00pppppp              string of up to 63 bytes
//	01pppppp qqqqqqqq     string of up to 16383 bytes (big-endian length)
//	10000000 +4 BE        string with a 32-bit length
//	11000000 / 11010000 / 11100000   int16 / int32 / int64
//	11110000              int24
//	11111110              int8
//	1111xxxx              0 to 12, as xxxx-1 (xxxx from 0001 to 1101)
func (d *Decoder) parseZiplist(zl []byte) error {
	if len(zl) < 11 {
		return fmt.Errorf("ziplist of %d bytes is shorter than header and end mark", len(zl))
	}
	if total := binary.LittleEndian.Uint32(zl); uint64(total) != uint64(len(zl)) {
		return fmt.Errorf("ziplist header says %d bytes, blob has %d", total, len(zl))
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	want := int(binary.LittleEndian.Uint16(zl[8:]))
	end := len(zl) - 1
	if zl[end] != 0xFF {
		return errors.New("ziplist has no end mark")
	}
	p, n, prev, last := 10, 0, 0, 10
	for p < end {
		start := p
		var prevlen int
		if zl[p] < 0xFE {
			prevlen, p = int(zl[p]), p+1
		} else if zl[p] == 0xFE {
			if end-p < 5 {
				return fmt.Errorf("ziplist entry %d at byte %d: truncated previous length", n, start)
			}
			prevlen, p = int(binary.LittleEndian.Uint32(zl[p+1:])), p+5
		} else {
			return fmt.Errorf("ziplist entry %d at byte %d: end mark inside the entries", n, start)
		}
		if prevlen != prev {
			return fmt.Errorf("ziplist entry %d at byte %d: previous length %d, previous entry has %d", n, start, prevlen, prev)
		}
		if p >= end {
			return fmt.Errorf("ziplist entry %d at byte %d: truncated", n, start)
		}
		c := zl[p]
		var slen, ilen int
		switch c >> 6 {
		case 0:
			slen, p = int(c&0x3F), p+1
		case 1:
			if end-p < 2 {
				return fmt.Errorf("ziplist entry %d at byte %d: truncated length", n, start)
			}
			slen, p = int(c&0x3F)<<8|int(zl[p+1]), p+2
		case 2:
			if c != 0x80 || end-p < 5 {
				return fmt.Errorf("ziplist entry %d at byte %d: bad string encoding 0x%02x", n, start, c)
			}
			l := binary.BigEndian.Uint32(zl[p+1:])
			if uint64(l) > uint64(end) {
				return fmt.Errorf("ziplist entry %d at byte %d overruns the ziplist", n, start)
			}
			slen, p = int(l), p+5
		default:
			switch c {
			case 0xC0:
				ilen = 2
			case 0xD0:
				ilen = 4
			case 0xE0:
				ilen = 8
			case 0xF0:
				ilen = 3
			case 0xFE:
				ilen = 1
			default:
				if c < 0xF1 || c > 0xFD {
					return fmt.Errorf("ziplist entry %d at byte %d: bad encoding 0x%02x", n, start, c)
				}
			}
			p++
		}
		vstart := len(d.arena)
		if c>>6 != 3 {
			if slen > end-p {
				return fmt.Errorf("ziplist entry %d at byte %d overruns the ziplist", n, start)
			}
			d.arena = append(d.arena, zl[p:p+slen]...)
			p += slen
		} else {
			if ilen > end-p {
				return fmt.Errorf("ziplist entry %d at byte %d overruns the ziplist", n, start)
			}
			var v int64
			switch ilen {
			case 0:
				v = int64(c&0x0F) - 1
			case 1:
				v = int64(int8(zl[p]))
			case 2:
				v = int64(int16(binary.LittleEndian.Uint16(zl[p:])))
			case 3:
				v = signExtend(uint64(zl[p])|uint64(zl[p+1])<<8|uint64(zl[p+2])<<16, 24)
			case 4:
				v = int64(int32(binary.LittleEndian.Uint32(zl[p:])))
			default:
				v = int64(binary.LittleEndian.Uint64(zl[p:]))
			}
			d.arena = strconv.AppendInt(d.arena, v, 10)
			p += ilen
		}
		d.members = append(d.members, d.arena[vstart:len(d.arena):len(d.arena)])
		if err := d.checkBudget(); err != nil {
			return err
		}
		prev, last = p-start, start
		n++
	}
	if p != end {
		return fmt.Errorf("ziplist end mark at byte %d of %d", p, len(zl))
	}
	if n > 0 && tail != last || n == 0 && tail != 10 {
		return fmt.Errorf("ziplist tail offset %d, last entry at %d", tail, last)
	}
	if want != 0xFFFF && want != n {
		return fmt.Errorf("ziplist header says %d entries, found %d", want, n)
	}
	return nil
}

// parseZipmap appends the fields and values of a zipmap blob
// (RDB_TYPE_HASH_ZIPMAP, Redis before 2.6) to d.members.
//
// Layout: a count byte (254 or more: unknown), then per pair the field's
// length, the field, the value's length, a "free" byte counting unused
// bytes after the value, the value and the free bytes; 0xFF ends it. A
// length is one byte below 254, or 254 and 4 bytes little-endian.
func (d *Decoder) parseZipmap(zm []byte) error {
	if len(zm) < 2 {
		return fmt.Errorf("zipmap of %d bytes is shorter than header and end mark", len(zm))
	}
	want := int(zm[0])
	p, n := 1, 0
	readLen := func() (int, error) {
		if p >= len(zm) {
			return 0, errors.New("truncated length")
		}
		switch b := zm[p]; {
		case b < 254:
			p++
			return int(b), nil
		case b == 254:
			if len(zm)-p < 5 {
				return 0, errors.New("truncated length")
			}
			l := binary.LittleEndian.Uint32(zm[p+1:])
			p += 5
			if uint64(l) > uint64(len(zm)) {
				return 0, fmt.Errorf("length %d beyond the zipmap", l)
			}
			return int(l), nil
		}
		return 0, errors.New("end mark where a length belongs")
	}
	for {
		if p >= len(zm) {
			return errors.New("zipmap has no end mark")
		}
		if zm[p] == 0xFF {
			break
		}
		start := p
		fl, err := readLen()
		if err != nil {
			return fmt.Errorf("zipmap field %d at byte %d: %v", n, start, err)
		}
		if fl > len(zm)-p {
			return fmt.Errorf("zipmap field %d at byte %d overruns the zipmap", n, start)
		}
		fs := len(d.arena)
		d.arena = append(d.arena, zm[p:p+fl]...)
		p += fl
		vl, err := readLen()
		if err != nil {
			return fmt.Errorf("zipmap value %d at byte %d: %v", n, start, err)
		}
		if p >= len(zm) {
			return fmt.Errorf("zipmap value %d at byte %d: truncated", n, start)
		}
		free := int(zm[p])
		p++
		if vl > len(zm)-p || free > len(zm)-p-vl {
			return fmt.Errorf("zipmap value %d at byte %d overruns the zipmap", n, start)
		}
		vs := len(d.arena)
		d.arena = append(d.arena, zm[p:p+vl]...)
		p += vl + free
		d.members = append(d.members, d.arena[fs:vs:vs], d.arena[vs:len(d.arena):len(d.arena)])
		if err := d.checkBudget(); err != nil {
			return err
		}
		n++
	}
	if p != len(zm)-1 {
		return fmt.Errorf("zipmap end mark at byte %d of %d", p, len(zm))
	}
	if want < 254 && want != n {
		return fmt.Errorf("zipmap header says %d pairs, found %d", want, n)
	}
	return nil
}

// hashRecord copies the fields and values of a KindHash item into buf
// (which already holds the key) and returns buf and pairs slicing it; both
// are reused from record to record, so a save makes no garbage per key.
func hashRecord(it *keyspace.Item, buf []byte, pairs [][]byte, ends []int) ([]byte, [][]byte, []int) {
	ends = ends[:0]
	it.EachField(func(f, v []byte) {
		buf = append(buf, f...)
		ends = append(ends, len(buf))
		buf = append(buf, v...)
		ends = append(ends, len(buf))
	})
	pairs = pairs[:0]
	start := len(it.Key)
	for _, end := range ends {
		pairs = append(pairs, buf[start:end:end])
		start = end
	}
	return buf, pairs, ends
}
