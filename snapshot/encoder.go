package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"sessiond/keyspace"
)

// Kind of a record's value.
type Kind uint8

const (
	// KindString is a Redis string; Record.Str holds it.
	KindString Kind = iota
	// KindSet is a Redis set; Record.Members holds its distinct members.
	KindSet
	// KindHash is a Redis hash; Record.Fields holds its pairs (hash.go).
	KindHash
	// KindZSet is a Redis sorted set; Record.Members holds its distinct
	// members and Record.Scores their scores, index by index (zset.go).
	KindZSet
	// KindList is a Redis list; Record.Members holds its elements in order,
	// duplicates allowed (list.go).
	KindList
	// KindStream is a Redis stream; Record.Stream holds it (stream.go).
	KindStream
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindSet:
		return "set"
	case KindHash:
		return "hash"
	case KindZSet:
		return "zset"
	case KindList:
		return "list"
	case KindStream:
		return "stream"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Record is one key as stored in an RDB file.
type Record struct {
	DB       int                  // 0..15
	Key      []byte               // any bytes, may be empty
	Kind     Kind                 // KindString, KindSet, KindHash, KindZSet or KindList
	Str      []byte               // KindString
	Members  [][]byte             // KindSet, KindZSet: at least one, all distinct; KindList: at least one, in order
	Scores   []float64            // KindZSet: Scores[i] is Members[i]'s score; never NaN
	Fields   [][]byte             // KindHash: field, value, field, value...; at least one pair, fields distinct
	Stream   *keyspace.StreamData // KindStream (keyspace.ValidateStream accepts it)
	ExpireMs int64                // absolute Unix ms; 0 = no expiry
}

// encBufSize is the Encoder's buffer. Writes reach the destination in chunks
// of about this size, which keeps syscalls and CRC calls per byte low.
const encBufSize = 1 << 20

// auxOrder is the order in which Redis writes its AUX fields; WriteHeader
// writes these first and any other keys after them in sorted order.
var auxOrder = []string{
	"redis-ver", "redis-bits", "ctime", "used-mem",
	"repl-stream-db", "repl-id", "repl-offset", "aof-base",
}

// Encoder writes an RDB version 10 file: WriteHeader once, then any number
// of SelectDB and WriteRecord calls, then Close. It buffers internally (the
// destination sees writes of about 1 MiB), computes the CRC64 as it goes and
// does not close the destination. The first error is sticky: every later
// call returns it. An Encoder is not safe for concurrent use.
//
// The caller must not write the same key twice in one database: Redis
// refuses to load such a file ("Duplicated key found in RDB file").
type Encoder struct {
	w       io.Writer
	buf     []byte
	crc     uint64 // CRC of everything already handed to w
	flushed int64  // bytes already handed to w
	db      int    // currently selected database, -1 before any
	state   encState
	nodes   []listNode // writeList's layout, reused per list
	lp      []byte     // writeStream's listpack, reused per node
	err     error
}

type encState uint8

const (
	encNew encState = iota
	encBody
	encClosed
)

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, buf: make([]byte, 0, encBufSize), db: -1}
}

// Written returns the number of bytes encoded so far, including bytes still
// in the Encoder's buffer. After Close it is the file size.
func (e *Encoder) Written() int64 { return e.flushed + int64(len(e.buf)) }

// WriteHeader writes the "REDIS0010" magic and the AUX fields. Fields Redis
// itself writes (redis-ver, redis-bits, ctime, used-mem, repl-stream-db,
// repl-id, repl-offset, aof-base) come first in Redis's order; any others
// follow sorted by name, so equal input gives identical bytes. aux may be nil.
func (e *Encoder) WriteHeader(aux map[string]string) error {
	if e.err != nil {
		return e.err
	}
	if e.state != encNew {
		return e.fail(errors.New("snapshot: WriteHeader called twice or after records"))
	}
	e.state = encBody
	e.buf = fmt.Appendf(e.buf, "REDIS%04d", WriteVersion)
	var rest []string
	for k := range aux {
		if !slices.Contains(auxOrder, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range auxOrder {
		if v, ok := aux[k]; ok {
			e.writeAux(k, v)
		}
	}
	for _, k := range rest {
		e.writeAux(k, aux[k])
	}
	return e.maybeFlush()
}

func (e *Encoder) writeAux(k, v string) {
	e.buf = append(e.buf, opAux)
	e.writeString([]byte(k))
	e.writeString([]byte(v))
}

// SelectDB starts database db (0..15) and writes Redis's RESIZEDB hint with
// the number of keys and of keys with an expiry that follow. The hint only
// sizes hash tables; it need not be exact.
func (e *Encoder) SelectDB(db int, keys, expires uint64) error {
	if err := e.check(); err != nil {
		return err
	}
	if db < 0 || db >= NumDBs {
		return e.fail(fmt.Errorf("snapshot: SelectDB(%d): database out of range 0..%d", db, NumDBs-1))
	}
	e.buf = append(e.buf, opSelectDB)
	e.buf = appendLen(e.buf, uint64(db))
	e.buf = append(e.buf, opResizeDB)
	e.buf = appendLen(e.buf, keys)
	e.buf = appendLen(e.buf, expires)
	e.db = db
	return e.maybeFlush()
}

// WriteRecord writes one key. If r.DB is not the selected database it first
// writes a SELECTDB (without a RESIZEDB hint). A record with ExpireMs > 0 is
// preceded by EXPIRETIME_MS. Strings that are canonical decimal integers in
// the int32 range are int-encoded as Redis does ("123", not "0123" or "+1");
// everything else is written as length + bytes. Sets use RDB_TYPE_SET,
// hashes RDB_TYPE_HASH, sorted sets RDB_TYPE_ZSET_2 (members in the
// Record's order), lists RDB_TYPE_LIST_QUICKLIST_2 (list.go).
//
// It rejects, without writing anything: a DB outside 0..15, an unknown
// Kind, a negative ExpireMs, an empty set, hash, sorted set or list (Redis
// would drop it on load), a hash with an odd number of fields and values,
// and a sorted set whose Scores do not match its Members one to one or hold
// a NaN (Redis refuses it on load). Set and sorted set members must be
// distinct; that is not checked here (Redis refuses duplicates, and so
// does the Decoder).
func (e *Encoder) WriteRecord(r *Record) error {
	if err := e.check(); err != nil {
		return err
	}
	if err := checkRecord(r); err != nil {
		return e.fail(err)
	}
	if r.DB != e.db {
		e.buf = append(e.buf, opSelectDB)
		e.buf = appendLen(e.buf, uint64(r.DB))
		e.db = r.DB
	}
	if r.ExpireMs > 0 {
		e.buf = append(e.buf, opExpireTimeMs)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(r.ExpireMs))
	}
	e.buf = append(e.buf, valueType(r.Kind))
	e.writeString(r.Key)
	e.writeValue(r)
	return e.maybeFlush()
}

// checkRecord reports why r cannot be written (WriteRecord).
func checkRecord(r *Record) error {
	switch {
	case r.DB < 0 || r.DB >= NumDBs:
		return fmt.Errorf("snapshot: key %s: database %d out of range 0..%d", quoteKey(r.Key), r.DB, NumDBs-1)
	case r.ExpireMs < 0:
		return fmt.Errorf("snapshot: key %s: negative expiry %d", quoteKey(r.Key), r.ExpireMs)
	case r.Kind == KindSet && len(r.Members) == 0:
		return fmt.Errorf("snapshot: key %s: empty set", quoteKey(r.Key))
	case r.Kind == KindHash && (len(r.Fields) == 0 || len(r.Fields)%2 != 0):
		return fmt.Errorf("snapshot: key %s: hash of %d fields and values", quoteKey(r.Key), len(r.Fields))
	case r.Kind == KindList && len(r.Members) == 0:
		return fmt.Errorf("snapshot: key %s: empty list", quoteKey(r.Key))
	case r.Kind == KindZSet:
		return checkZSet(r)
	case r.Kind == KindStream && r.Stream == nil:
		return fmt.Errorf("snapshot: key %s: stream without a value", quoteKey(r.Key))
	case r.Kind != KindString && r.Kind != KindSet && r.Kind != KindHash && r.Kind != KindList && r.Kind != KindStream:
		return fmt.Errorf("snapshot: key %s: unknown kind %d", quoteKey(r.Key), r.Kind)
	}
	return nil
}

// valueType is the RDB type a value of kind k is written as.
func valueType(k Kind) byte {
	switch k {
	case KindSet:
		return typeSet
	case KindHash:
		return typeHash
	case KindZSet:
		return typeZset2
	case KindList:
		return typeListQuicklist2
	case KindStream:
		return typeStream2
	}
	return typeString
}

// writeValue writes r's value in the encoding of valueType(r.Kind); the
// type byte and the key come before it in a file, the type byte alone in
// a DUMP payload.
func (e *Encoder) writeValue(r *Record) {
	switch r.Kind {
	case KindString:
		e.writeString(r.Str)
	case KindHash:
		e.writeHash(r)
	case KindZSet:
		e.writeZSet(r)
	case KindList:
		e.writeList(r)
	case KindStream:
		e.writeStream(r)
	default:
		e.buf = appendLen(e.buf, uint64(len(r.Members)))
		for _, m := range r.Members {
			e.writeString(m)
		}
	}
}

// Close writes the EOF opcode and the CRC64 of every byte before the
// checksum, little-endian, and flushes. It does not close the destination.
func (e *Encoder) Close() error {
	if err := e.check(); err != nil {
		return err
	}
	e.buf = append(e.buf, opEOF)
	if err := e.flush(); err != nil {
		return err
	}
	e.buf = binary.LittleEndian.AppendUint64(e.buf, e.crc)
	if err := e.flush(); err != nil {
		return err
	}
	e.state = encClosed
	return nil
}

func (e *Encoder) check() error {
	if e.err != nil {
		return e.err
	}
	switch e.state {
	case encNew:
		return e.fail(errors.New("snapshot: WriteHeader must come first"))
	case encClosed:
		return e.fail(errors.New("snapshot: encoder is closed"))
	}
	return nil
}

func (e *Encoder) fail(err error) error {
	if e.err == nil {
		e.err = err
	}
	return err
}

// writeString appends an RDB string, int-encoded when that round-trips.
// Values too big for the buffer's free space are written straight through.
func (e *Encoder) writeString(s []byte) {
	// Fast path: a short string that fits, and cannot be an int32 (too long
	// or not starting like a number), is one length byte and the bytes.
	if n := len(s); n < 1<<6 && n < cap(e.buf)-len(e.buf) && (n > 11 || (n > 0 && s[0] > '9')) {
		l := len(e.buf)
		b := e.buf[l : l+1+n]
		b[0] = byte(n)
		copy(b[1:], s)
		e.buf = e.buf[:l+1+n]
		return
	}
	if v, ok := canonicalInt32(s); ok {
		switch {
		case v >= -1<<7 && v < 1<<7:
			e.buf = append(e.buf, lenEnc<<6|encInt8, byte(v))
		case v >= -1<<15 && v < 1<<15:
			e.buf = append(e.buf, lenEnc<<6|encInt16)
			e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(v))
		default:
			e.buf = append(e.buf, lenEnc<<6|encInt32)
			e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(v))
		}
		return
	}
	e.buf = appendLen(e.buf, uint64(len(s)))
	e.writeBytes(s)
}

// writeBytes appends p, flushing first when it does not fit; what would
// fill over half the buffer is written straight through instead.
func (e *Encoder) writeBytes(p []byte) {
	if len(p) <= cap(e.buf)-len(e.buf) {
		e.buf = append(e.buf, p...)
		return
	}
	if e.flush() != nil {
		return
	}
	if len(p) < cap(e.buf)/2 {
		e.buf = append(e.buf, p...)
		return
	}
	e.writeThrough(p)
}

// maybeFlush hands the buffer to the destination once it is mostly full, and
// reports any sticky error.
func (e *Encoder) maybeFlush() error {
	if e.err == nil && len(e.buf) >= cap(e.buf)-cap(e.buf)/8 {
		e.flush()
	}
	return e.err
}

func (e *Encoder) flush() error {
	if e.err != nil {
		return e.err
	}
	if len(e.buf) == 0 {
		return nil
	}
	e.writeThrough(e.buf)
	e.buf = e.buf[:0]
	return e.err
}

func (e *Encoder) writeThrough(p []byte) {
	if e.err != nil {
		return
	}
	e.crc = crc64Update(e.crc, p)
	n, err := e.w.Write(p)
	e.flushed += int64(n)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.fail(fmt.Errorf("snapshot: write: %w", err))
	}
}

// appendLen appends an RDB length prefix in its shortest form.
func appendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, len14Bit<<6|byte(n>>8), byte(n))
	case n <= 0xFFFFFFFF:
		b = append(b, len32Bit)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	default:
		b = append(b, len64Bit)
		return binary.BigEndian.AppendUint64(b, n)
	}
}

// canonicalInt32 reports whether s is the canonical decimal form of an
// integer in the int32 range (no sign other than a leading '-', no leading
// zeros, no "-0"), i.e. exactly what strconv.Itoa would print. Only such
// strings may be int-encoded: the decoder turns the integer back into its
// canonical form, so "007" or "+1" would not round-trip.
func canonicalInt32(s []byte) (int64, bool) {
	if len(s) > 11 {
		return 0, false
	}
	v, ok := canonicalInt64(s)
	return v, ok && v >= -1<<31 && v <= 1<<31-1
}

// canonicalInt64 is canonicalInt32 for the int64 range: the strings a
// listpack stores as integers (listpack.c's lpStringToInt64 accepts exactly
// these).
func canonicalInt64(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	neg := s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	// At most 19 digits, so u cannot overflow; "0" alone, no "-0".
	if len(d) == 0 || len(d) > 19 || (d[0] == '0' && (len(d) > 1 || neg)) {
		return 0, false
	}
	var u uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true // u == 1<<63 wraps to math.MinInt64, as wanted
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// quoteKey renders a key for an error message, shortened if long.
func quoteKey(k []byte) string {
	const max = 64
	if len(k) > max {
		return strconv.Quote(string(k[:max])) + "..."
	}
	return strconv.Quote(string(k))
}
