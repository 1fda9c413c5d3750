package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"strconv"
)

// maxStringLen bounds one decoded string (and an LZF string's claimed
// uncompressed size). Redis's own proto-max-bulk-len default is 512 MiB.
const maxStringLen = 1<<31 - 1

// maxLZFRatio bounds rawlen/clen of an LZF string: the best LZF can do is a
// 3-byte back reference expanding to 264 bytes, so anything claiming more is
// corrupt, and the output buffer is never larger than 88x the input bytes
// that were actually read.
const maxLZFRatio = 88

// DecoderOptions configures a Decoder.
type DecoderOptions struct {
	// SkipUnsupported makes the Decoder skip values sessiond cannot hold
	// (module values with the v2 format, module AUX data and function
	// libraries) instead of failing with ErrUnsupportedType.
	// Pre-release module and function formats, and Redis 7.4 hashes with
	// field expiry cannot be skipped and remain ErrUnsupportedType.
	SkipUnsupported bool
	// OnSkip, if non-nil, is called for every skipped value: typ is
	// "module", "module-aux" or "function" when SkipUnsupported is set, and
	// "empty set", "empty hash", "empty zset" or "empty list" for a set,
	// hash, sorted set or list with no elements (which Redis also drops on
	// load). key is nil for module-aux and function, and is valid only
	// during the call.
	OnSkip func(db int, key []byte, typ string)
	// OnResizeDB, if non-nil, is called with every RESIZEDB opcode: the
	// number of keys and of keys with an expiry that the writer says
	// follow for db. The counts come from the file unchecked: a caller
	// that sizes anything from them must first bound them (Remaining).
	OnResizeDB func(db int, keys, expires uint64)
	// OnFunction, if non-nil, is called with every function library's
	// code (functions.go), in the file's order, and the libraries are
	// neither unsupported nor skipped; an error it returns stops the
	// decoding (ErrFunction). code is the caller's.
	OnFunction func(code []byte) error
	// ConcurrentCRC computes the checksum on another goroutine, for a file
	// of over concurrentCRCMin bytes (or of unknown size). The caller must
	// then call Close when done with the Decoder.
	ConcurrentCRC bool
}

// concurrentCRCMin is the smallest file ConcurrentCRC applies to: below
// it a goroutine and its buffers cost more than they save.
const concurrentCRCMin = 4 << 20

// Decoder reads an RDB file of version 1 to MaxVersion, returning its
// strings, sets, hashes, sorted sets and lists as Records. It is not safe
// for concurrent use.
type Decoder struct {
	rd      *reader
	opts    DecoderOptions
	version int
	aux     map[string]string
	db      int
	rec     Record
	arena   []byte    // backing bytes of rec, reused per record
	members [][]byte  // backing of rec.Members, reused per record
	scores  []float64 // backing of rec.Scores, reused per record
	scratch []byte    // LZF input, reused
	blob    []byte    // a list node's listpack or ziplist, reused (readBlob)
	lpvals  []lpVal   // a stream node's listpack elements, reused
	// streamElems counts a stream's decoded entries and fields, against
	// maxElems.
	streamElems int
	dupIdx      map[uint64]int32
	seed        maphash.Seed
	err         error // sticky: io.EOF after a verified end, or the failure

	// Per-key attributes set by opcodes before the key.
	expireMs int64

	// maxElems, when above 0, bounds the elements a value's compact
	// encodings may hold (ParseDump); overBudget says it was reached.
	maxElems   int
	overBudget bool
}

// checkBudget fails once the elements decoded from compact encodings pass
// maxElems: each costs a slice header and a copy, so a small payload of
// LZF-compressed listpacks could otherwise take hundreds of times its
// size.
func (d *Decoder) checkBudget() error {
	if d.maxElems > 0 && len(d.members) > d.maxElems {
		d.overBudget = true
		return errors.New("too many elements for the payload's size")
	}
	return nil
}

// NewDecoder reads and checks the header and any AUX fields that follow it,
// so Aux is complete for files written by Redis or by Encoder before the
// first Next. It returns an error wrapping ErrNotRDB, ErrVersion or
// ErrCorrupt (or the reader's I/O error) on failure.
//
// When r can report its size (*os.File, *bytes.Reader, any io.Seeker, or
// anything with a Len method), lengths are checked against it before any
// allocation; otherwise buffers grow only as bytes actually arrive.
func NewDecoder(r io.Reader, opts DecoderOptions) (*Decoder, error) {
	d := &Decoder{rd: newReader(r), opts: opts, aux: map[string]string{}}
	hdr, err := d.rd.next(9)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &DecodeError{Offset: 0, Reason: "file shorter than the 9-byte header", Err: ErrNotRDB}
		}
		return nil, d.ioErr(0, "read header", err)
	}
	if string(hdr[:5]) != "REDIS" {
		return nil, &DecodeError{Offset: 0, Reason: fmt.Sprintf("bad magic %q", hdr[:5]), Err: ErrNotRDB}
	}
	v := 0
	for _, c := range hdr[5:9] {
		if c < '0' || c > '9' {
			return nil, &DecodeError{Offset: 5, Reason: fmt.Sprintf("bad version %q", hdr[5:9]), Err: ErrVersion}
		}
		v = v*10 + int(c-'0')
	}
	if v < 1 || v > MaxVersion {
		return nil, &DecodeError{Offset: 5, Reason: fmt.Sprintf("version %d not in 1..%d", v, MaxVersion), Err: ErrVersion}
	}
	d.version = v
	for {
		b, err := d.rd.peekByte()
		if err != nil || b != opAux {
			break // Next reports errors with their context
		}
		d.rd.r++
		if err := d.readAux(); err != nil {
			return nil, err
		}
	}
	if opts.ConcurrentCRC && v >= 5 && (d.rd.size < 0 || d.rd.size > concurrentCRCMin) {
		d.rd.crcw = startCRCWorker(d.rd.crc)
	}
	return d, nil
}

// Close releases the Decoder's checksumming goroutine (ConcurrentCRC). It
// does not close the underlying reader. The Decoder must not be used after.
func (d *Decoder) Close() { d.rd.stopCRC() }

// Version returns the file's RDB version.
func (d *Decoder) Version() int { return d.version }

// Aux returns the AUX fields read so far. Integer-encoded values are
// returned in decimal. The map is owned by the Decoder; do not modify it.
func (d *Decoder) Aux() map[string]string { return d.aux }

// Offset returns the number of bytes consumed so far.
func (d *Decoder) Offset() int64 { return d.rd.offset() }

// Remaining returns how many bytes of the file are not consumed yet, or -1
// when the reader's size is unknown.
func (d *Decoder) Remaining() int64 { return d.rd.remaining() }

// Next returns the next key. It returns io.EOF only after the EOF opcode and,
// for version 5 and later, the CRC64 trailer have been read and the trailer
// is zero ("checksum disabled") or matches. Bytes after the trailer are
// ignored, as Redis does. Errors are *DecodeError values wrapping ErrCorrupt,
// ErrChecksum, ErrUnsupportedType or an I/O error; after any error, or
// io.EOF, every later call returns the same error.
//
// The returned Record and every slice in it are owned by the Decoder and are
// valid only until the next call to Next: copy what you keep. Expired keys
// are returned as they are; dropping them is the caller's decision. An
// EXPIRETIME_MS of 0 or below (other than -1, which Redis reads as "no
// expiry") is returned as ExpireMs 1, i.e. long expired.
func (d *Decoder) Next() (*Record, error) {
	if d.err != nil {
		return nil, d.err
	}
	rec, err := d.next()
	if err != nil {
		d.err = err
		return nil, err
	}
	return rec, nil
}

func (d *Decoder) next() (*Record, error) {
	d.expireMs = 0
	for {
		off := d.rd.offset()
		op, err := d.rd.readByte()
		if err != nil {
			return nil, d.readErr(off, "opcode", err)
		}
		switch op {
		case opEOF:
			return nil, d.finish()
		case opSelectDB:
			n, err := d.readLen("SELECTDB database number")
			if err != nil {
				return nil, err
			}
			if n >= NumDBs {
				return nil, d.corrupt(off, fmt.Sprintf("SELECTDB %d: sessiond holds databases 0..%d", n, NumDBs-1))
			}
			d.db = int(n)
		case opResizeDB:
			keys, err := d.readLen("RESIZEDB key count")
			if err != nil {
				return nil, err
			}
			expires, err := d.readLen("RESIZEDB expires count")
			if err != nil {
				return nil, err
			}
			if d.opts.OnResizeDB != nil {
				d.opts.OnResizeDB(d.db, keys, expires)
			}
		case opSlotInfo:
			for range 3 {
				if _, err := d.readLen("SLOT_INFO"); err != nil {
					return nil, err
				}
			}
		case opAux:
			if err := d.readAux(); err != nil {
				return nil, err
			}
		case opExpireTimeMs:
			p, err := d.rd.next(8)
			if err != nil {
				return nil, d.readErr(off, "EXPIRETIME_MS", err)
			}
			// Before version 9 Redis wrote host byte order; every platform
			// that wrote such files in practice is little-endian.
			d.setExpire(int64(binary.LittleEndian.Uint64(p)))
		case opExpireTime:
			p, err := d.rd.next(4)
			if err != nil {
				return nil, d.readErr(off, "EXPIRETIME", err)
			}
			d.setExpire(int64(int32(binary.LittleEndian.Uint32(p))) * 1000)
		case opIdle:
			if _, err := d.readLen("IDLE"); err != nil {
				return nil, err
			}
		case opFreq:
			if _, err := d.rd.next(1); err != nil {
				return nil, d.readErr(off, "FREQ", err)
			}
		case opModuleAux:
			if !d.opts.SkipUnsupported {
				return nil, &DecodeError{Offset: off, Reason: "module AUX data", Err: ErrUnsupportedType}
			}
			if err := d.skipModuleAux(); err != nil {
				return nil, err
			}
			d.skipped(nil, "module-aux")
		case opFunction2, opFunctionPreGA:
			if d.opts.OnFunction != nil {
				code, _, err := d.readFunction(op)
				if err != nil {
					return nil, err
				}
				if err := d.opts.OnFunction(code); err != nil {
					return nil, &DecodeError{Offset: off, Reason: "function library", Err: ErrFunction, Cause: err}
				}
				continue
			}
			if op == opFunctionPreGA {
				return nil, &DecodeError{Offset: off, Reason: "pre-release function library format", Err: ErrUnsupportedType}
			}
			if !d.opts.SkipUnsupported {
				return nil, &DecodeError{Offset: off, Reason: "function library", Err: ErrUnsupportedType}
			}
			if err := d.skipString("function library"); err != nil {
				return nil, err
			}
			d.skipped(nil, "function")
		default:
			rec, err := d.readObject(off, op)
			if err != nil || rec != nil {
				return rec, err
			}
			d.expireMs = 0 // skipped key: its attributes do not carry over
		}
	}
}

func (d *Decoder) setExpire(ms int64) {
	switch {
	case ms == -1:
		d.expireMs = 0
	case ms <= 0:
		d.expireMs = 1
	default:
		d.expireMs = ms
	}
}

// readObject reads the key and value of type t. It returns a nil Record and
// nil error when the value was skipped.
func (d *Decoder) readObject(off int64, t byte) (*Record, error) {
	if !isObjectType(t) {
		return nil, d.corrupt(off, fmt.Sprintf("unknown opcode or value type 0x%02x", t))
	}
	// Reuse the buffers, but do not pin one huge value's memory for the
	// rest of the file.
	if cap(d.arena) > 8<<20 {
		d.arena = nil
	}
	if cap(d.members) > 1<<16 {
		d.members = nil
	}
	if cap(d.scores) > 1<<16 {
		d.scores = nil
	}
	if cap(d.blob) > 8<<20 {
		d.blob = nil
	}
	d.arena = d.arena[:0]
	d.members = d.members[:0]
	d.scores = d.scores[:0]
	key, err := d.readString("key")
	if err != nil {
		return nil, err
	}
	rec := &d.rec
	*rec = Record{DB: d.db, Key: key, ExpireMs: d.expireMs}
	return d.readValue(off, t, rec)
}

// readValue reads the value of type t into rec, whose key was read (or,
// in a DUMP payload, is not there). It returns a nil Record and nil error
// when the value was skipped.
func (d *Decoder) readValue(off int64, t byte, rec *Record) (*Record, error) {
	key := rec.Key
	var err error
	switch t {
	case typeString:
		rec.Kind = KindString
		if rec.Str, err = d.readString("string value"); err != nil {
			return nil, err
		}
		return rec, nil
	case typeSet:
		vOff := d.rd.offset()
		n, err := d.readLen("set size")
		if err != nil {
			return nil, err
		}
		for i := uint64(0); i < n; i++ {
			m, err := d.readString("set member")
			if err != nil {
				return nil, err
			}
			d.members = append(d.members, m)
		}
		return d.finishSet(vOff, rec)
	case typeSetIntset, typeSetListpack:
		vOff := d.rd.offset()
		blob, err := d.readString("set encoding")
		if err != nil {
			return nil, err
		}
		if t == typeSetIntset {
			err = d.parseIntset(blob)
		} else {
			err = d.parseListpack(blob)
		}
		if err != nil {
			return nil, d.corrupt(vOff, fmt.Sprintf("key %s: %v", quoteKey(key), err))
		}
		return d.finishSet(vOff, rec)
	case typeHash, typeHashListpack, typeHashZiplist, typeHashZipmap:
		return d.readHash(rec, t)
	case typeZset, typeZset2, typeZsetListpack, typeZsetZiplist:
		return d.readZSet(rec, t)
	case typeList, typeListZiplist, typeListQuicklist, typeListQuicklist2:
		return d.readList(rec, t)
	case typeStreamListpacks, typeStream2, typeStream3:
		return d.readStream(rec, t)
	}
	name := typeName(t)
	if !d.opts.SkipUnsupported {
		return nil, &DecodeError{Offset: off, Reason: fmt.Sprintf("key %s has type %s (RDB type %d)", quoteKey(key), name, t), Err: ErrUnsupportedType}
	}
	if err := d.skipValue(off, key, t); err != nil {
		return nil, err
	}
	d.skipped(key, name)
	return nil, nil
}

func (d *Decoder) finishSet(off int64, rec *Record) (*Record, error) {
	if len(d.members) == 0 {
		d.skipped(rec.Key, "empty set")
		return nil, nil
	}
	if i := d.duplicate(d.members); i >= 0 {
		return nil, d.corrupt(off, fmt.Sprintf("key %s: duplicate set member %s", quoteKey(rec.Key), quoteKey(d.members[i])))
	}
	rec.Kind = KindSet
	rec.Members = d.members
	return rec, nil
}

func (d *Decoder) skipped(key []byte, typ string) {
	if d.opts.OnSkip != nil {
		d.opts.OnSkip(d.db, key, typ)
	}
}

func isObjectType(t byte) bool {
	return t <= typeModule2 || (t >= typeHashZipmap && t <= typeHashLPEx)
}

// skipValue parses past a value of an unsupported type.
func (d *Decoder) skipValue(off int64, key []byte, t byte) error {
	switch t { // strings, sets, hashes, sorted sets and lists are read, never skipped
	case typeModule2:
		if _, err := d.readLen("module id"); err != nil {
			return err
		}
		return d.skipModuleValue()
	}
	return &DecodeError{Offset: off, Reason: fmt.Sprintf("key %s has type %s (RDB type %d), which cannot be skipped", quoteKey(key), typeName(t), t), Err: ErrUnsupportedType}
}

func (d *Decoder) skipModuleAux() error {
	if _, err := d.readLen("module id"); err != nil {
		return err
	}
	off := d.rd.offset()
	when, err := d.readLen("module aux when_opcode")
	if err != nil {
		return err
	}
	if when != moduleOpUInt {
		return d.corrupt(off, fmt.Sprintf("module aux when_opcode %d", when))
	}
	if _, err := d.readLen("module aux when"); err != nil {
		return err
	}
	return d.skipModuleValue()
}

// skipModuleValue parses past the self-describing module value format (what
// redis-check-rdb does for modules it does not have).
func (d *Decoder) skipModuleValue() error {
	for {
		off := d.rd.offset()
		op, err := d.readLen("module opcode")
		if err != nil {
			return err
		}
		switch op {
		case moduleOpEOF:
			return nil
		case moduleOpSInt, moduleOpUInt:
			_, err = d.readLen("module integer")
		case moduleOpFloat:
			err = d.rd.skip(4)
		case moduleOpDouble:
			err = d.rd.skip(8)
		case moduleOpString:
			err = d.skipString("module string")
		default:
			return d.corrupt(off, fmt.Sprintf("unknown module opcode %d", op))
		}
		if err != nil {
			var de *DecodeError
			if errors.As(err, &de) {
				return err
			}
			return d.readErr(off, "module value", err)
		}
	}
}

func (d *Decoder) readAux() error {
	start := len(d.arena)
	k, err := d.readString("AUX key")
	if err != nil {
		return err
	}
	v, err := d.readString("AUX value")
	if err != nil {
		return err
	}
	d.aux[string(k)] = string(v)
	d.arena = d.arena[:start]
	return nil
}

// finish handles the EOF opcode: it verifies the checksum and returns io.EOF.
func (d *Decoder) finish() error {
	if d.version < 5 {
		return io.EOF
	}
	want := d.rd.sum()
	off := d.rd.offset()
	p, err := d.rd.next(8)
	if err != nil {
		return d.readErr(off, "checksum", err)
	}
	got := binary.LittleEndian.Uint64(p)
	if got != 0 && got != want {
		return &DecodeError{Offset: off, Reason: fmt.Sprintf("checksum %016x, computed %016x", got, want), Err: ErrChecksum}
	}
	return io.EOF
}

// readLen reads a plain length; a special encoding is corruption here.
func (d *Decoder) readLen(what string) (uint64, error) {
	off := d.rd.offset()
	n, enc, err := d.readLenEnc(what)
	if err != nil {
		return 0, err
	}
	if enc {
		return 0, d.corrupt(off, what+": string encoding where a length belongs")
	}
	return n, nil
}

// readLenEnc reads a length prefix; enc reports the 11xxxxxx form, in which
// case n is the encoding number.
func (d *Decoder) readLenEnc(what string) (n uint64, enc bool, err error) {
	off := d.rd.offset()
	b, err := d.rd.readByte()
	if err != nil {
		return 0, false, d.readErr(off, what, err)
	}
	switch b >> 6 {
	case len6Bit:
		return uint64(b & 0x3F), false, nil
	case len14Bit:
		c, err := d.rd.readByte()
		if err != nil {
			return 0, false, d.readErr(off, what, err)
		}
		return uint64(b&0x3F)<<8 | uint64(c), false, nil
	case lenEnc:
		return uint64(b & 0x3F), true, nil
	}
	switch b {
	case len32Bit:
		p, err := d.rd.next(4)
		if err != nil {
			return 0, false, d.readErr(off, what, err)
		}
		return uint64(binary.BigEndian.Uint32(p)), false, nil
	case len64Bit:
		p, err := d.rd.next(8)
		if err != nil {
			return 0, false, d.readErr(off, what, err)
		}
		return binary.BigEndian.Uint64(p), false, nil
	}
	return 0, false, d.corrupt(off, fmt.Sprintf("%s: bad length prefix 0x%02x", what, b))
}

// readString reads an RDB string (plain, int-encoded or LZF) and appends it
// to the arena; the result is capacity-limited so appends cannot clobber it.
func (d *Decoder) readString(what string) ([]byte, error) {
	// Fast path: a plain string of up to 63 bytes, entirely buffered.
	if rd := d.rd; rd.r < rd.w && rd.buf[rd.r] < 1<<6 {
		if n := int(rd.buf[rd.r]); rd.w-rd.r > n {
			start := len(d.arena)
			d.arena = append(d.arena, rd.buf[rd.r+1:rd.r+1+n]...)
			rd.r += 1 + n
			return d.arena[start:len(d.arena):len(d.arena)], nil
		}
	}
	off := d.rd.offset()
	n, enc, err := d.readLenEnc(what)
	if err != nil {
		return nil, err
	}
	start := len(d.arena)
	if !enc {
		if n > maxStringLen {
			return nil, d.corrupt(off, fmt.Sprintf("%s: length %d too large", what, n))
		}
		if d.arena, err = d.rd.appendN(d.arena, n); err != nil {
			return nil, d.readErr(off, fmt.Sprintf("%s of %d bytes", what, n), err)
		}
		return d.arena[start:len(d.arena):len(d.arena)], nil
	}
	switch n {
	case encInt8, encInt16, encInt32:
		size := 1 << n
		p, err := d.rd.next(size)
		if err != nil {
			return nil, d.readErr(off, what, err)
		}
		var v int64
		switch size {
		case 1:
			v = int64(int8(p[0]))
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		default:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		}
		d.arena = strconv.AppendInt(d.arena, v, 10)
		return d.arena[start:len(d.arena):len(d.arena)], nil
	case encLZF:
		clen, err := d.readLen(what + " compressed length")
		if err != nil {
			return nil, err
		}
		rawlen, err := d.readLen(what + " uncompressed length")
		if err != nil {
			return nil, err
		}
		if clen > maxStringLen || rawlen > maxStringLen {
			return nil, d.corrupt(off, fmt.Sprintf("%s: LZF lengths %d/%d too large", what, clen, rawlen))
		}
		if clen == 0 || rawlen > clen*maxLZFRatio {
			return nil, d.corrupt(off, fmt.Sprintf("%s: impossible LZF lengths %d/%d", what, clen, rawlen))
		}
		if d.scratch, err = d.rd.appendN(d.scratch[:0], clen); err != nil {
			return nil, d.readErr(off, fmt.Sprintf("%s of %d compressed bytes", what, clen), err)
		}
		d.arena = growLen(d.arena, int(rawlen))
		if err := lzfDecompress(d.scratch, d.arena[start:]); err != nil {
			return nil, d.corrupt(off, fmt.Sprintf("%s: %v", what, err))
		}
		if cap(d.scratch) > 4*decBufSize {
			d.scratch = nil // do not pin one huge value's buffer
		}
		return d.arena[start:len(d.arena):len(d.arena)], nil
	}
	return nil, d.corrupt(off, fmt.Sprintf("%s: unknown string encoding %d", what, n))
}

// skipString parses past a string without keeping it.
func (d *Decoder) skipString(what string) error {
	off := d.rd.offset()
	n, enc, err := d.readLenEnc(what)
	if err != nil {
		return err
	}
	if enc {
		switch n {
		case encInt8, encInt16, encInt32:
			n = 1 << n
		case encLZF:
			clen, err := d.readLen(what + " compressed length")
			if err != nil {
				return err
			}
			if _, err := d.readLen(what + " uncompressed length"); err != nil {
				return err
			}
			n = clen
		default:
			return d.corrupt(off, fmt.Sprintf("%s: unknown string encoding %d", what, n))
		}
	}
	if err := d.rd.skip(n); err != nil {
		return d.readErr(off, fmt.Sprintf("%s of %d bytes", what, n), err)
	}
	return nil
}

// growLen extends b by n bytes, allocating only when needed.
func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// duplicate returns the index of a member equal to an earlier one, or -1.
func (d *Decoder) duplicate(ms [][]byte) int {
	if len(ms) <= 16 {
		// Pairwise, but comparing cheap fingerprints first.
		var fp [16]uint64
		for i, m := range ms {
			fp[i] = fingerprint(m)
			for j := range i {
				if fp[j] == fp[i] && bytes.Equal(ms[j], m) {
					return i
				}
			}
		}
		return -1
	}
	if d.dupIdx == nil || len(d.dupIdx) > 4096 {
		if d.dupIdx == nil {
			d.seed = maphash.MakeSeed()
		}
		d.dupIdx = make(map[uint64]int32, min(len(ms), 4096))
	} else {
		clear(d.dupIdx)
	}
	for i, m := range ms {
		h := maphash.Bytes(d.seed, m)
		if j, ok := d.dupIdx[h]; ok {
			if bytes.Equal(ms[j], m) {
				return i
			}
			for _, o := range ms[:i] { // 64-bit hash collision: be exact
				if bytes.Equal(o, m) {
					return i
				}
			}
			continue
		}
		d.dupIdx[h] = int32(i)
	}
	return -1
}

// fingerprint is a cheap summary of b: equal inputs have equal
// fingerprints, and most unequal ones differ (length, first and last 8
// bytes).
func fingerprint(b []byte) uint64 {
	n := len(b)
	if n >= 8 {
		return binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-8:]), 17) ^
			uint64(n)*0x9E3779B97F4A7C15
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v ^ uint64(n)<<56
}

// corrupt returns an ErrCorrupt DecodeError.
func (d *Decoder) corrupt(off int64, reason string) error {
	return &DecodeError{Offset: off, Reason: reason, Err: ErrCorrupt}
}

// readErr classifies a failure to read what: the end of the input, or a
// length beyond it, is corruption (truncation); anything else is the
// reader's I/O error.
func (d *Decoder) readErr(off int64, what string, err error) error {
	var de *DecodeError
	switch {
	case errors.As(err, &de):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &DecodeError{Offset: off, Reason: "truncated " + what, Err: ErrCorrupt, Cause: io.ErrUnexpectedEOF}
	case errors.Is(err, errTooLong):
		return &DecodeError{Offset: off, Reason: fmt.Sprintf("truncated %s: only %d bytes remain", what, max(d.rd.remaining(), 0)), Err: ErrCorrupt, Cause: io.ErrUnexpectedEOF}
	}
	return d.ioErr(off, "read "+what, err)
}

func (d *Decoder) ioErr(off int64, what string, err error) error {
	return &DecodeError{Offset: off, Reason: what + ": " + err.Error(), Err: err}
}
