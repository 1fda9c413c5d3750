package resp

import (
	"errors"
	"strings"

	"sessiond/keyspace"
)

// cmdLcs answers LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]:
// the longest common subsequence of two strings (a missing key is the
// empty string), by the textbook dynamic programme over a table of
// (len(a)+1) x (len(b)+1) lengths, walked back from the end as Redis
// walks it, so that IDX reports the same matches in the same order.
func cmdLcs(x *call) {
	a, _, errA := x.s.ks.Get(x.c.db, x.args[1])
	b, _, errB := x.s.ks.Get(x.c.db, x.args[2])
	if errors.Is(errA, keyspace.ErrWrongType) || errors.Is(errB, keyspace.ErrWrongType) {
		x.r.error("ERR The specified keys must contain string values")
		return
	}
	var getLen, getIdx, withLen bool
	minLen := int64(0)
	for j := 3; j < len(x.args); j++ {
		switch opt := strings.ToLower(string(x.args[j])); {
		case opt == "idx":
			getIdx = true
		case opt == "len":
			getLen = true
		case opt == "withmatchlen":
			withLen = true
		case opt == "minmatchlen" && j+1 < len(x.args):
			n, ok := x.intArg(j + 1)
			if !ok {
				return
			}
			minLen = max(n, 0)
			j++
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if getLen && getIdx {
		x.r.error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	cells := uint64(len(a)+1) * uint64(len(b)+1)
	if cells*4 > uint64(x.s.lim.protoMaxBulk.Load()) {
		x.r.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	// t[i*w+j] is the LCS length of a[:i] and b[:j].
	w := len(b) + 1
	t := make([]uint32, cells)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				t[i*w+j] = t[(i-1)*w+j-1] + 1
			default:
				t[i*w+j] = max(t[(i-1)*w+j], t[i*w+j-1])
			}
		}
	}
	total := t[len(a)*w+len(b)]
	if getLen {
		x.r.int(int64(total))
		return
	}
	// Walk back from the end, collecting the common bytes and, for IDX,
	// each run of consecutive matches in both strings (a range), emitted
	// when the run ends.
	type match struct{ aStart, aEnd, bStart, bEnd int }
	var matches []match
	lcs := make([]byte, total)
	k := int(total)
	inRun := false
	var cur match
	for i, j := len(a), len(b); i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			lcs[k-1] = a[i-1]
			switch {
			case !inRun:
				cur, inRun = match{i - 1, i - 1, j - 1, j - 1}, true
			case cur.aStart == i && cur.bStart == j:
				cur.aStart, cur.bStart = cur.aStart-1, cur.bStart-1
			default:
				emit = true
			}
			if cur.aStart == 0 || cur.bStart == 0 {
				emit = true
			}
			k, i, j = k-1, i-1, j-1
		} else {
			if t[(i-1)*w+j] > t[i*w+j-1] {
				i--
			} else {
				j--
			}
			emit = inRun
		}
		if emit {
			if n := int64(cur.aEnd - cur.aStart + 1); minLen == 0 || n >= minLen {
				matches = append(matches, cur)
			}
			inRun = false
		}
	}
	if !getIdx {
		x.r.bulk(lcs)
		return
	}
	x.r.mapLen(2)
	x.r.bulkString("matches")
	x.r.array(len(matches))
	for _, m := range matches {
		if withLen {
			x.r.array(3)
		} else {
			x.r.array(2)
		}
		x.r.array(2)
		x.r.int(int64(m.aStart))
		x.r.int(int64(m.aEnd))
		x.r.array(2)
		x.r.int(int64(m.bStart))
		x.r.int(int64(m.bEnd))
		if withLen {
			x.r.int(int64(m.aEnd - m.aStart + 1))
		}
	}
	x.r.bulkString("len")
	x.r.int(int64(total))
}
