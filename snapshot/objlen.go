package snapshot

import (
	"math"
	"strconv"

	"sessiond/keyspace"
)

// SerializedLen is the size of the value of it in an RDB as Redis 7.0 writes
// the value it holds in encoding (OBJECT ENCODING's word), without the
// type byte: Redis's rdbSavedObjectLen, DEBUG OBJECT's serializedlength.
// Redis writes an intset, or the listpack of a small hash or sorted set,
// as the one blob it holds in memory, where the Encoder writes elements
// one by one, so the blob's size is computed here; the other values'
// sizes are the Encoder's, which are Redis's. Strings (and blobs) over 20
// bytes count uncompressed: with rdbcompression on, Redis LZF-compresses
// them where that saves bytes, which the Encoder never does.
func SerializedLen(it *keyspace.Item, encoding string) (int64, error) {
	var blob int64
	switch {
	case it.Kind == keyspace.KindSet && encoding == "intset":
		width := int64(2)
		for _, m := range it.Members {
			v, _ := strconv.ParseInt(m, 10, 64)
			switch {
			case v < math.MinInt32 || v > math.MaxInt32:
				width = 8
			case v < math.MinInt16 || v > math.MaxInt16:
				width = max(width, 4)
			}
		}
		blob = 8 + width*int64(len(it.Members)) // intset.c: encoding, length, contents
	case it.Kind == keyspace.KindHash && encoding == "listpack":
		blob = lpHeaderSize + 1
		it.EachField(func(f, v []byte) { blob += lpEntrySize(f) + lpEntrySize(v) })
	case it.Kind == keyspace.KindZSet && encoding == "listpack":
		blob = lpHeaderSize + 1
		var buf []byte
		it.EachScored(func(m []byte, score float64) {
			buf = appendD2string(buf[:0], score)
			blob += lpEntrySize(m) + lpEntrySize(buf)
		})
	case it.Kind == keyspace.KindString && len(it.Str) > 20:
		// Too long to be int-encoded: the length and the bytes, without
		// copying them (a 300 MB string took 300 MB more to measure).
		return int64(len(appendLen(nil, uint64(len(it.Str))))) + int64(len(it.Str)), nil
	default:
		p, err := DumpItem(it)
		if err != nil {
			return 0, err
		}
		return int64(len(p) - 1 - dumpFooter), nil
	}
	return int64(len(appendLen(nil, uint64(blob)))) + blob, nil
}

// lpEntrySize is the bytes v takes in a listpack: its entry and back-length.
func lpEntrySize(v []byte) int64 {
	n, _, _ := lpEntryLen(v)
	return int64(n + backlenSize(uint64(n)))
}

// appendD2string appends f as Redis's d2string writes a sorted set's score
// into its listpack: an integer in the range Redis prints as one (within
// LLONG_MAX/2) in decimal, else %.17g.
func appendD2string(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	case f >= -math.MaxInt64/2 && f <= math.MaxInt64/2 && f == math.Trunc(f):
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}
