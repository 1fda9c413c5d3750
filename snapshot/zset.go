package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"sessiond/keyspace"
)

// Sorted sets. The Encoder writes RDB_TYPE_ZSET_2 (5): the number of
// elements, then each member as an RDB string and its score as an 8-byte
// little-endian IEEE 754 double, in the Record's order; Redis sorts on load
// and picks its own encoding. The Decoder reads that, the older
// RDB_TYPE_ZSET (3, scores as text) and the compact forms: listpack (17,
// Redis 7) and ziplist (12, before Redis 7), both member, score, member,
// score... with each score a decimal string or an integer entry. It checks
// what Redis checks on load (a listpack as with sanitize-dump-payload): no
// NaN score, no duplicate member, a whole number of pairs; an empty sorted
// set is skipped ("empty zset"). The compact forms are parsed by the
// listpack and ziplist readers hashes and sets use (compact.go, hash.go).

// writeZSet writes the value of r, a KindZSet record checked by checkZSet, as
// RDB_TYPE_ZSET_2.
func (e *Encoder) writeZSet(r *Record) {
	e.buf = appendLen(e.buf, uint64(len(r.Members)))
	for i, m := range r.Members {
		e.writeString(m)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(r.Scores[i]))
	}
}

// checkZSet reports why r, a KindZSet record, cannot be written: Redis
// drops an empty sorted set and refuses a NaN score on load.
func checkZSet(r *Record) error {
	switch {
	case len(r.Members) == 0:
		return fmt.Errorf("snapshot: key %s: empty zset", quoteKey(r.Key))
	case len(r.Scores) != len(r.Members):
		return fmt.Errorf("snapshot: key %s: zset of %d members and %d scores", quoteKey(r.Key), len(r.Members), len(r.Scores))
	}
	for i, s := range r.Scores {
		if math.IsNaN(s) {
			return fmt.Errorf("snapshot: key %s: zset member %s has a NaN score", quoteKey(r.Key), quoteKey(r.Members[i]))
		}
	}
	return nil
}

// readZSet reads the value of a sorted set of RDB type t into d.members and
// d.scores and returns the record, or nil if the sorted set was empty.
func (d *Decoder) readZSet(rec *Record, t byte) (*Record, error) {
	vOff := d.rd.offset()
	if t == typeZset || t == typeZset2 {
		n, err := d.readLen("zset size")
		if err != nil {
			return nil, err
		}
		// No allocation by n: members grow only as elements actually arrive.
		for i := uint64(0); i < n; i++ {
			m, err := d.readString("zset member")
			if err != nil {
				return nil, err
			}
			sOff := d.rd.offset()
			var score float64
			if t == typeZset2 {
				p, err := d.rd.next(8)
				if err != nil {
					return nil, d.readErr(sOff, "zset score", err)
				}
				score = math.Float64frombits(binary.LittleEndian.Uint64(p))
			} else if score, err = d.readTextScore(); err != nil {
				return nil, err
			}
			if math.IsNaN(score) {
				return nil, d.corrupt(sOff, fmt.Sprintf("key %s: zset member %s has a NaN score", quoteKey(rec.Key), quoteKey(m)))
			}
			d.members = append(d.members, m)
			d.scores = append(d.scores, score)
		}
	} else {
		blob, err := d.readString("zset encoding")
		if err != nil {
			return nil, err
		}
		if t == typeZsetListpack {
			err = d.parseListpack(blob)
		} else {
			err = d.parseZiplist(blob)
		}
		if err == nil && len(d.members)%2 != 0 {
			err = fmt.Errorf("%s of %d elements: not member and score pairs", typeEncName(t), len(d.members))
		}
		if err == nil {
			err = d.splitScores()
		}
		if err != nil {
			return nil, d.corrupt(vOff, fmt.Sprintf("key %s: %v", quoteKey(rec.Key), err))
		}
	}
	if len(d.members) == 0 {
		d.skipped(rec.Key, "empty zset")
		return nil, nil
	}
	if i := d.duplicate(d.members); i >= 0 {
		return nil, d.corrupt(vOff, fmt.Sprintf("key %s: duplicate zset member %s", quoteKey(rec.Key), quoteKey(d.members[i])))
	}
	rec.Kind = KindZSet
	rec.Members = d.members
	rec.Scores = d.scores
	return rec, nil
}

// readTextScore reads an RDB_TYPE_ZSET score: a length byte, where 253,
// 254 and 255 stand for NaN, +inf and -inf, then that many bytes of
// decimal text.
func (d *Decoder) readTextScore() (float64, error) {
	off := d.rd.offset()
	n, err := d.rd.readByte()
	if err != nil {
		return 0, d.readErr(off, "zset score", err)
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	// Borrow the arena's tail: the text is not kept.
	start := len(d.arena)
	if d.arena, err = d.rd.appendN(d.arena, uint64(n)); err != nil {
		return 0, d.readErr(off, "zset score", err)
	}
	text := d.arena[start:]
	f, ok := parseScore(text)
	if !ok {
		return 0, d.corrupt(off, fmt.Sprintf("zset score %q is not a number", text))
	}
	d.arena = d.arena[:start]
	return f, nil
}

// splitScores turns d.members, member and score pairs from a listpack or
// ziplist, into members (d.members) and their parsed scores (d.scores).
func (d *Decoder) splitScores() error {
	n := len(d.members) / 2
	for i := range n {
		m, s := d.members[2*i], d.members[2*i+1]
		f, ok := parseScore(s)
		switch {
		case !ok:
			return fmt.Errorf("zset member %s has score %q, not a number", quoteKey(m), s)
		case math.IsNaN(f):
			return fmt.Errorf("zset member %s has a NaN score", quoteKey(m))
		}
		d.members[i] = m
		d.scores = append(d.scores, f)
	}
	clear(d.members[n:]) // do not keep the score strings reachable
	d.members = d.members[:n]
	return nil
}

// parseScore parses a score written as text: what Redis writes (%.17g,
// shortest round-trip, "inf", "-inf", "nan") and what its strtod reads in
// full. A value beyond the double range is ±inf, as strtod makes it; an
// underscore, which Go accepts between digits and strtod does not, is
// rejected.
func parseScore(b []byte) (float64, bool) {
	if bytes.IndexByte(b, '_') >= 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// zsetRecord copies the members of a KindZSet item into buf (which already
// holds the key) and returns buf, members slicing it and their scores, all
// reused from record to record, so a save makes no garbage per key. The
// order is descending, as Redis writes its skiplist: loading such a file,
// Redis inserts every element at the head of its skiplist, without a
// search.
func zsetRecord(it *keyspace.Item, buf []byte, members [][]byte, scores []float64, ends []int) ([]byte, [][]byte, []float64, []int) {
	ends = ends[:0]
	scores = scores[:0]
	it.EachScored(func(m []byte, s float64) {
		buf = append(buf, m...)
		ends = append(ends, len(buf))
		scores = append(scores, s)
	})
	members = members[:0]
	for i := len(ends) - 1; i >= 0; i-- {
		start := len(it.Key)
		if i > 0 {
			start = ends[i-1]
		}
		members = append(members, buf[start:ends[i]:ends[i]])
	}
	slices.Reverse(scores)
	return buf, members, scores, ends
}
