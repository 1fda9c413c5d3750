package resp

import (
	"bytes"
	"cmp"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"sessiond/keyspace"
)

// SORT and SORT_RO, as Redis 7.0's sort.c does them: the options are
// parsed in one left-to-right pass (a later ASC/DESC, LIMIT, STORE or BY
// wins; BY without '*' means "do not sort"), then the key's elements are
// loaded, weighed (the element itself, or the string or hash field a BY
// pattern names), sorted, cut to LIMIT's window and replied or stored,
// each through the GET patterns.
//
// Consistency: with BY or GET patterns the command reads keys it only
// learns from the data, and with STORE it writes one, so it takes the
// whole gate (as EXEC does) and the time stands still, as Redis runs it on
// its one thread: no other command sees or changes anything in between.
// Without patterns or STORE it reads one key in one step, and sorts
// holding only its gate shard, so other clients go on meanwhile.
//
// Order: numeric sorting breaks ties between equal scores by the elements'
// bytes, as Redis's sortCompare does, so it is a total order. ALPHA
// without STORE compares as C's strcoll in the C locale: bytes up to the
// first NUL. With STORE, Redis compares whole strings (compareStringObjects).
// Elements that ALPHA finds equal keep the order they were loaded in,
// which is what glibc's qsort (a merge sort) gives Redis; Redis's partial
// sort for BY with LIMIT is not stable, so there, and for sets and sorted
// sets, whose loading order is their hash table's in Redis, ties may come
// out in another order than Redis's.

func sortCommands() []*command {
	const g = "generic"
	return []*command{
		{name: "sort", arity: -2, flags: flagWrite | flagDenyOOM | flagMovableKeys, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0",
			summary: "Sort the elements in a list, set or sorted set", run: cmdSort},
		{name: "sort_ro", arity: -2, flags: flagReadonly | flagMovableKeys, firstKey: 1, lastKey: 1, step: 1, group: g, since: "7.0.0",
			summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", run: cmdSort},
	}
}

// sortArgs are SORT's parsed options.
type sortArgs struct {
	desc, alpha   bool
	offset, count int64 // LIMIT; count -1: to the end
	hasStore      bool
	store         []byte
	hasBy         bool
	by            []byte
	dontsort      bool // a BY pattern without '*': keep the key's order
	gets          [][]byte
}

// views reports whether the command reads keys the patterns name or
// writes its destination: it then needs the whole gate.
func (a *sortArgs) views() bool {
	if a.hasStore || (a.hasBy && !a.dontsort) {
		return true
	}
	for _, g := range a.gets {
		if !isHashPattern(g) {
			return true
		}
	}
	return false
}

// isHashPattern reports whether a GET pattern is "#", the element itself
// (read as a C string: "#" followed by a NUL counts).
func isHashPattern(p []byte) bool { return len(p) > 0 && p[0] == '#' && (len(p) == 1 || p[1] == 0) }

// parseSort parses the options as sortCommandGeneric does, replying with
// its error if they are wrong. BY with a real pattern and GET need a user
// who may read every key: the keys they name are not checked otherwise.
func (x *call) parseSort() (sortArgs, bool) {
	a := sortArgs{count: -1}
	readonly := x.cmd.name == "sort_ro"
	full, checked := false, false
	fullAccess := func() bool {
		if !checked {
			u := x.c.aclUser
			full, checked = u == nil || u.AllKeysReadable(), true
		}
		return full
	}
	args := x.args
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch w := args[j]; {
		case equalFoldASCII(w, "asc"):
			a.desc = false
		case equalFoldASCII(w, "desc"):
			a.desc = true
		case equalFoldASCII(w, "alpha"):
			a.alpha = true
		case equalFoldASCII(w, "limit") && left >= 2:
			var ok bool
			if a.offset, ok = x.intArg(j + 1); !ok {
				return a, false
			}
			if a.count, ok = x.intArg(j + 2); !ok {
				return a, false
			}
			j += 2
		case !readonly && equalFoldASCII(w, "store") && left >= 1:
			a.hasStore, a.store = true, args[j+1]
			j++
		case equalFoldASCII(w, "by") && left >= 1:
			a.hasBy, a.by = true, args[j+1]
			if bytes.IndexByte(cprefix(a.by), '*') < 0 {
				a.dontsort = true
			} else if !fullAccess() {
				x.r.error("ERR BY option of SORT denied due to insufficient ACL permissions.")
				return a, false
			}
			j++
		case equalFoldASCII(w, "get") && left >= 1:
			if !fullAccess() {
				x.r.error("ERR GET option of SORT denied due to insufficient ACL permissions.")
				return a, false
			}
			a.gets = append(a.gets, args[j+1])
			j++
		default:
			x.r.error(msgSyntax)
			return a, false
		}
	}
	return a, true
}

// equalFoldASCII compares an argument with a lower-case option name, as
// strcasecmp does: up to a NUL ("asc\x00x" is ASC).
func equalFoldASCII(b []byte, s string) bool {
	if b = cprefix(b); len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func cmdSort(x *call) {
	a, ok := x.parseSort()
	if !ok {
		return
	}
	if a.views() && !x.inExec && !x.inScript { // EXEC and scripts hold the whole gate already
		if !x.exclusive() {
			return
		}
		defer x.shared()
	}
	x.sort(&a)
}

// exclusive trades the gate shard dispatch took for x for the whole gate,
// and freezes the time at the command's, as EXEC does. It returns false,
// having replied -BUSY and taken the shard again, while a script is busy.
func (x *call) exclusive() bool {
	s := x.s
	s.gate.runlock(x.c.id)
	if !s.lockExclusive(x) {
		s.gate.rlock(x.c.id)
		return false
	}
	x.nowMs = 0 // it may have waited: the command's time is now
	s.ks.Freeze(x.now())
	return true
}

// shared undoes exclusive: dispatch releases the shard after the command.
func (x *call) shared() {
	x.s.ks.Thaw()
	x.s.gate.unlock()
	x.s.gate.rlock(x.c.id)
}

// sortItem is one element being sorted, with its weight. The strings
// share the bytes they come from (stored values, never modified, or the
// command's own copies), so that an item is small to move.
type sortItem struct {
	elem    string
	key     string  // ALPHA: the bytes compared (the weight with BY)
	score   float64 // numeric: the weight
	idx     int     // the loading order, for ties
	missing bool    // BY found no weight: 0 numerically, first with ALPHA
}

// bytesView is b as a string without a copy; b must never change.
func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

const msgSortScore = "ERR One or more scores can't be converted into double"

func (x *call) sort(a *sortArgs) {
	ks, db := x.s.ks, x.c.db
	kind, elems, err := ks.Elements(db, x.args[1])
	if err != nil {
		x.ksError(err)
		return
	}
	dontsort, alpha, hasBy := a.dontsort, a.alpha, a.hasBy
	if dontsort && kind == keyspace.KindSet && (a.hasStore || x.inScript) {
		// A set's order is its hash table's: what is stored or given to
		// a script (and replicated) is sorted instead, as in Redis.
		dontsort, alpha, hasBy = false, true, false
	}

	// LIMIT's window, clamped as Redis clamps it: [start, end].
	n := int64(len(elems))
	start := min(max(a.offset, 0), n)
	count := min(max(a.count, -1), n)
	end := n - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)

	var kb []byte // the key buffer of pattern lookups
	vec := elems
	switch {
	case dontsort && kind != keyspace.KindSet:
		// A list (an absent key is an empty one) or a sorted set keeps
		// its order, reversed by DESC, and only the window is loaded.
		if a.desc {
			slices.Reverse(elems)
		}
		vec = nil
		if end >= start {
			vec = elems[start : end+1]
		}
		start, end = 0, int64(len(vec))-1
	case !dontsort:
		var bad bool
		vec, bad, kb = x.sortVector(a, elems, alpha, hasBy, int(start), int(end), kb)
		if bad {
			x.r.error(msgSortScore)
			return
		}
	}

	rangeLen := max(end-start+1, 0)
	outLen := rangeLen
	if len(a.gets) > 0 {
		outLen *= int64(len(a.gets))
	}
	if !a.hasStore {
		x.r.array(int(outLen))
		for j := start; j <= end; j++ {
			if len(a.gets) == 0 {
				x.r.bulk(vec[j])
			}
			for _, g := range a.gets {
				var v []byte
				var ok bool
				if v, ok, kb = x.lookupPattern(g, vec[j], kb); ok {
					x.r.bulk(v)
				} else {
					x.r.null()
				}
			}
		}
		return
	}
	vals := make([][]byte, 0, outLen)
	for j := start; j <= end; j++ {
		if len(a.gets) == 0 {
			vals = append(vals, vec[j])
		}
		for _, g := range a.gets {
			var v []byte // nil if missing: Redis stores an empty element
			v, _, kb = x.lookupPattern(g, vec[j], kb)
			vals = append(vals, v)
		}
	}
	ks.StoreList(db, a.store, vals, "sortstore")
	x.r.int(outLen)
}

// sortVector weighs and sorts elems, at least the window [start, end] of
// them; bad reports a weight that is not a number (numeric sorting), after
// every weight was looked up, as Redis looks them all up before it
// reports one.
func (x *call) sortVector(a *sortArgs, elems [][]byte, alpha, hasBy bool, start, end int, kb []byte) ([][]byte, bool, []byte) {
	items := make([]sortItem, len(elems))
	bad := false
	for i, e := range elems {
		it := &items[i]
		it.elem, it.idx = bytesView(e), i
		w := e
		if hasBy {
			var ok bool
			if w, ok, kb = x.lookupPattern(a.by, e, kb); !ok {
				it.missing = true
				continue
			}
		}
		if alpha {
			if !a.hasStore {
				w = cprefix(w) // strcoll reads C strings
			}
			it.key = bytesView(w)
			continue
		}
		var ok bool
		if it.score, ok = sortScore(w); !ok {
			bad = true
		}
	}
	if bad {
		return nil, true, kb
	}
	v := &sortVec{items: items, alpha: alpha, by: hasBy, desc: a.desc}
	v.window(start, end+1)
	out := make([][]byte, len(items))
	for i := range items {
		out[i] = elems[items[i].idx]
	}
	return out, false, kb
}

// sortVec is the items being sorted and how (sort.Interface: the
// comparisons work on the items in place, which a comparison function
// taking them by value or through a closure would copy or allocate).
type sortVec struct {
	items           []sortItem
	alpha, by, desc bool
}

func (v *sortVec) Len() int           { return len(v.items) }
func (v *sortVec) Swap(i, j int)      { v.items[i], v.items[j] = v.items[j], v.items[i] }
func (v *sortVec) Less(i, j int) bool { return v.cmp(i, j) < 0 }

// cmp is Redis's sortCompare, then the loading order for what it finds
// equal (as a stable sort keeps them): a total order, so that a partial
// sort gives the window a full sort would.
func (v *sortVec) cmp(i, j int) int {
	p, q := &v.items[i], &v.items[j]
	c := 0
	switch {
	case !v.alpha:
		if p.score > q.score {
			c = 1
		} else if p.score < q.score {
			c = -1
		} else {
			c = strings.Compare(p.elem, q.elem) // Redis's tie-break
		}
	case v.by && (p.missing || q.missing): // no weight first
		if p.missing != q.missing {
			c = 1
			if p.missing {
				c = -1
			}
		}
	default:
		c = strings.Compare(p.key, q.key)
	}
	if v.desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return cmp.Compare(p.idx, q.idx)
}

// sub is v over items[lo:hi].
func (v *sortVec) sub(lo, hi int) *sortVec {
	w := *v
	w.items = v.items[lo:hi]
	return &w
}

// window sorts items[lo:hi] into the places a full sort would give them;
// the rest is left in some order. A window smaller than half the items is
// selected first (quickselect, as Redis's pqsort does for BY with LIMIT),
// so that LIMIT 0 10 of a million costs about two linear passes.
func (v *sortVec) window(lo, hi int) {
	if lo >= hi {
		return
	}
	if hi-lo > len(v.items)/2 {
		sort.Sort(v)
		return
	}
	if lo > 0 {
		v.selectNth(lo)
	}
	v.sub(lo, len(v.items)).selectNth(hi - lo - 1)
	sort.Sort(v.sub(lo, hi))
}

// selectNth reorders the items so that item k is the one a sort would put
// there, with none greater before it and none smaller after (Hoare's
// quickselect, median-of-three pivots). Past a few rounds more than a
// balanced selection takes it sorts instead, so the worst case is a sort's.
func (v *sortVec) selectNth(k int) {
	l, r := 0, len(v.items)-1
	budget := 2*bits.Len(uint(len(v.items))) + 8
	for r-l > 16 {
		if budget--; budget < 0 {
			break
		}
		m := l + (r-l)/2 // median of l, m, r to l, as the pivot
		if v.cmp(m, l) < 0 {
			v.Swap(m, l)
		}
		if v.cmp(r, l) < 0 {
			v.Swap(r, l)
		}
		if v.cmp(r, m) < 0 {
			v.Swap(r, m)
		}
		v.Swap(l, m)
		i, j := l, r+1
		for {
			for i++; v.cmp(i, l) < 0; i++ { // stops at r at the latest: r >= pivot
			}
			for j--; v.cmp(l, j) < 0; j-- { // stops at l at the latest
			}
			if i >= j {
				break
			}
			v.Swap(i, j)
		}
		v.Swap(l, j) // the pivot's place
		switch {
		case k == j:
			return
		case k < j:
			r = j - 1
		default:
			l = j + 1
		}
	}
	sort.Sort(v.sub(l, r+1))
}

// lookupPattern is Redis's lookupKeyByPattern: "#" is the element itself;
// otherwise the first '*' of the pattern is replaced by the element to
// name a key, whose string value it returns, or, when "->field" follows
// the '*', that field of the key's hash. A pattern without '*', a missing
// key or field, or a key of another type give nothing. The pattern is
// searched as a C string (up to a NUL), but its whole bytes make the key
// and field. buf is reused for the key name, which the keyspace does not
// keep.
func (x *call) lookupPattern(p, subst, buf []byte) ([]byte, bool, []byte) {
	if isHashPattern(p) {
		return subst, true, buf
	}
	c := cprefix(p)
	star := bytes.IndexByte(c, '*')
	if star < 0 {
		return nil, false, buf
	}
	keyEnd, field := len(p), []byte(nil)
	if f := bytes.Index(c[star+1:], []byte("->")); f >= 0 {
		if f += star + 1; f+2 < len(c) { // "->" then something: a field
			keyEnd, field = f, p[f+2:]
		}
	}
	buf = append(append(append(buf[:0], p[:star]...), subst...), p[star+1:keyEnd]...)
	var v []byte
	var ok bool
	var err error
	if field != nil {
		v, ok, err = x.s.ks.HGet(x.c.db, buf, field)
	} else {
		v, ok, err = x.s.ks.Get(x.c.db, buf)
	}
	if err != nil || !ok { // WRONGTYPE is no value here
		return nil, false, buf
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, buf
}

// dblMin is the smallest normal double, below which strtod may report
// ERANGE.
const dblMin = 0x1p-1022

// sortScore is how SORT reads a weight: C's strtod over the value as a C
// string, which must be consumed to its end, with errno ERANGE or NaN an
// error. So leading white space is skipped, the empty string is 0, bytes
// after a NUL are ignored, and a result too small for a normal double that
// is inexact (glibc's underflow, judged after rounding) fails, as does an
// overflow.
func sortScore(b []byte) (float64, bool) {
	b = cprefix(b)
	if len(b) == 0 {
		return 0, true // no conversion, and the end pointer is at the NUL
	}
	t := bytes.TrimLeftFunc(b, func(r rune) bool { return r < 128 && isCSpace(byte(r)) })
	if len(t) == 0 {
		return 0, false // no conversion: the end pointer is at the first space
	}
	f, ok, erange := strtod(t)
	if !ok || erange || math.IsNaN(f) {
		return 0, false
	}
	if f != 0 && math.Abs(f) <= dblMin && tinyInexact(t, f) {
		return 0, false
	}
	return f, true
}

// shortDecimal rewrites a plain decimal number (sign, digits, point,
// exponent) longer than keepDigits as at most keepDigits significant
// digits, a final 1 if any nonzero digit was dropped, and an exponent. A
// double's exact decimal value has at most 767 significant digits, so the
// short form lies on the same side as s of every double and of every
// point halfway between two: strtod's result and its exactness are the
// same. It takes time linear in len(s); a SORT weight can be megabytes.
func shortDecimal(s []byte) ([]byte, bool) {
	const keepDigits = 800
	if len(s) <= keepDigits {
		return nil, false
	}
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg, i = s[0] == '-', 1
	}
	var digits []byte
	exp, point, dropped, seen := 0, false, false, false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' && !point {
			point = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		seen = true
		switch {
		case len(digits) == 0 && c == '0': // a leading zero
			if point {
				exp--
			}
		case len(digits) < keepDigits:
			digits = append(digits, c)
			if point {
				exp--
			}
		default: // dropped: the kept digits stand for the same magnitude
			dropped = dropped || c != '0'
			if !point {
				exp++
			}
		}
	}
	if !seen {
		return nil, false
	}
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return nil, false
		}
		e, err := strconv.ParseInt(string(s[i+1:]), 10, 32)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
				return nil, false
			}
		}
		exp += int(e) // ParseInt saturates at ±2^31, far past any double
	}
	if len(digits) == 0 {
		return []byte("0"), true
	}
	if dropped {
		digits = append(digits, '1')
		exp--
	}
	out := make([]byte, 0, len(digits)+16)
	if neg {
		out = append(out, '-')
	}
	out = append(out, digits...)
	out = append(out, 'e')
	return strconv.AppendInt(out, int64(exp), 10), true
}

// tinyInexact reports whether the number s, which strtod read as f (at
// most the smallest normal double), sets ERANGE in glibc: tiny after
// rounding to 53 bits, and not exactly f.
func tinyInexact(s []byte, f float64) bool {
	if short, ok := shortDecimal(s); ok {
		s = short // big.Rat reads a long decimal in quadratic time
	}
	r, ok := new(big.Rat).SetString(string(s))
	if !ok {
		return false // forms big.Rat does not read ("inf") are never tiny
	}
	if r.Cmp(new(big.Rat).SetFloat64(f)) == 0 {
		return false
	}
	rounded := new(big.Float).SetPrec(53).SetMode(big.ToNearestEven).SetRat(r)
	return rounded.Abs(rounded).Cmp(big.NewFloat(dblMin)) < 0
}
