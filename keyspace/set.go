package keyspace

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
)

// Limits of the packed encoding, as Redis's set-max-listpack-entries and
// set-max-listpack-value.
const (
	maxPackedMembers = 128
	maxPackedMember  = 64
)

// set is a set of binary-safe members. A small set (a user's index of a
// few session ids is the typical one) is packed into one byte slice, each
// member a uvarint length and its bytes, as Redis packs small sets into a
// listpack: two allocations instead of a map and one string per member. A
// set that grows past maxPackedMembers or gets a member longer than
// maxPackedMember becomes a map and stays one. A set is modified in place
// under its stripe's write lock.
//
// The struct is 32 bytes, a size class, as every user's index has one:
// the map form, rare, is behind a pointer, and a packed set keeps no count
// (counting its at most 128 length bytes is cheap next to the scan an add
// or a remove makes anyway).
type set struct {
	packed []byte  // the members while big is nil
	big    *bigSet // the members once the set outgrew the packed form
}

type bigSet struct {
	m      map[string]struct{}
	mbytes int64 // heap bytes of m's member strings (allocSize each), for MEMORY USAGE
}

func (s *set) len() int {
	switch {
	case s == nil:
		return 0
	case s.big != nil:
		return len(s.big.m)
	}
	return s.packedCount()
}

// empty reports whether s has no members, without counting them.
func (s *set) empty() bool {
	switch {
	case s == nil:
		return true
	case s.big != nil:
		return len(s.big.m) == 0
	}
	return len(s.packed) == 0
}

// packedCount counts the members of a packed set.
func (s *set) packedCount() int {
	n := 0
	for i := 0; i < len(s.packed); n++ {
		l, k := memberLen(s.packed[i:])
		i += k + l
	}
	return n
}

// each calls fn with every member until fn returns false. The slice is
// valid only during the call and must not be modified.
func (s *set) each(fn func(m []byte) bool) {
	if s == nil {
		return
	}
	if s.big != nil {
		for k := range s.big.m {
			if !fn(view(k)) { // read-only, as fn's contract says
				return
			}
		}
		return
	}
	for p := s.packed; len(p) > 0; {
		l, k := memberLen(p)
		m := p[k : k+l]
		p = p[k+l:]
		if !fn(m) {
			return
		}
	}
}

// find returns the offset of member's length prefix in packed, or -1.
// Members of one set tend to share a prefix and a length ("sess:<id>"),
// so a member of 8 bytes or more is first told apart by its last 8 bytes,
// one load, before a full comparison: an SADD's duplicate check in a set of
// 50 session ids takes about half the time of comparing each in full
// (BenchmarkPackedSetFind).
func (s *set) find(b []byte) int {
	i, _ := s.scan(b)
	return i
}

// scan is find that also returns, when b is absent, the number of members
// (it has passed them all).
func (s *set) scan(b []byte) (at, members int) {
	p, n := s.packed, len(b)
	var tail uint64
	if n >= 8 {
		tail = binary.LittleEndian.Uint64(b[n-8:])
	}
	for i := 0; i < len(p); members++ {
		l, k := memberLen(p[i:])
		j := i + k
		if l == n && (n < 8 || binary.LittleEndian.Uint64(p[j+n-8:]) == tail) && bytes.Equal(p[j:j+n], b) {
			return i, members
		}
		i = j + l
	}
	return -1, members
}

// memberLen decodes a packed member's length prefix, a uvarint. It is one
// byte, as packed members are at most maxPackedMember (< 128, which the
// constant below enforces at compile time) bytes long; the two-byte form
// is there for completeness. It is small enough to inline: called out of
// line on every member, it was half of an SADD's duplicate scan
// (BenchmarkPackedSetFind, 50 members: 267-357 ns against 181-195).
func memberLen(p []byte) (l, k int) {
	const _ = uint(127 - maxPackedMember) // a longer member would need a wider prefix
	if b := p[0]; b < 0x80 {
		return int(b), 1
	}
	return int(p[0]&0x7f) | int(p[1])<<7, 2
}

func (s *set) has(b []byte) bool {
	if s == nil {
		return false
	}
	if s.big != nil {
		_, ok := s.big.m[string(b)]
		return ok
	}
	return s.find(b) >= 0
}

// add adds b and reports whether it was new. b is copied.
func (s *set) add(b []byte) bool {
	if s.big == nil {
		if len(b) <= maxPackedMember { // else it is not there, and does not fit
			at, n := s.scan(b)
			if at >= 0 {
				return false
			}
			if n < maxPackedMembers {
				if need := packedLen(b); cap(s.packed)-len(s.packed) < need {
					// Grow by a quarter, not append's doubling: most sets stop small.
					s.grow(need + len(s.packed)/4)
				}
				s.packed = binary.AppendUvarint(s.packed, uint64(len(b)))
				s.packed = append(s.packed, b...)
				return true
			}
		}
		s.toMap()
	}
	if _, ok := s.big.m[string(b)]; ok {
		return false
	}
	s.big.m[string(b)] = struct{}{}
	s.big.mbytes += allocSize(len(b))
	return true
}

// packedLen is the bytes member b takes in a packed set: a one-byte
// length (memberLen) and b.
func packedLen(b []byte) int { return 1 + len(b) }

// grow makes room for n more packed bytes.
func (s *set) grow(n int) {
	grown := make([]byte, len(s.packed), len(s.packed)+n)
	copy(grown, s.packed)
	s.packed = grown
}

// reserve sizes a new, empty set for members, so that adding them makes
// one allocation of exactly what they need, not one per member with a
// quarter to spare each time: an index created by one SADD or loaded from
// a snapshot often stays as it is (5 session ids: 192 bytes instead of
// 240). Duplicates are counted, so the room may be a little more than
// used. It does nothing for a set that has members (SAdd must not change
// an existing set's size before it knows a member is new), for one member
// (add grows the set itself), or for members that will not stay packed.
func (s *set) reserve(members [][]byte) {
	if s.big != nil || len(s.packed) > 0 || len(members) < 2 || len(members) > maxPackedMembers {
		return
	}
	need := 0
	for _, b := range members {
		if len(b) > maxPackedMember {
			return
		}
		need += packedLen(b)
	}
	if cap(s.packed) < need {
		s.grow(need)
	}
}

// remove removes b and reports whether it was there.
func (s *set) remove(b []byte) bool {
	if s.big != nil {
		if _, ok := s.big.m[string(b)]; !ok {
			return false
		}
		delete(s.big.m, string(b))
		s.big.mbytes -= allocSize(len(b))
		return true
	}
	i := s.find(b)
	if i < 0 {
		return false
	}
	l, k := memberLen(s.packed[i:])
	end := i + k + l
	s.packed = append(s.packed[:i], s.packed[end:]...)
	return true
}

func (s *set) toMap() {
	m := make(map[string]struct{}, s.packedCount()+1)
	var mb int64
	s.each(func(b []byte) bool {
		m[string(b)] = struct{}{}
		mb += allocSize(len(b))
		return true
	})
	s.big, s.packed = &bigSet{m: m, mbytes: mb}, nil
}

// clone returns a copy sharing nothing with s.
func (s *set) clone() *set {
	c := &set{}
	if s.big != nil {
		c.big = &bigSet{m: make(map[string]struct{}, len(s.big.m)), mbytes: s.big.mbytes}
		for k := range s.big.m {
			c.big.m[k] = struct{}{}
		}
		return c
	}
	c.packed = bytes.Clone(s.packed)
	return c
}

// members returns copies of every member.
func (s *set) members() [][]byte {
	out := make([][]byte, 0, s.len())
	s.each(func(b []byte) bool {
		out = append(out, bytes.Clone(b))
		return true
	})
	return out
}

// random returns up to count distinct members chosen at random, as copies.
func (s *set) random(count int) [][]byte {
	all := s.members()
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(count, len(all))]
}

// newSetOf returns a set holding members (duplicates collapse).
func newSetOf(members [][]byte) *set {
	s := &set{}
	s.reserve(members)
	for _, m := range members {
		s.add(m)
	}
	return s
}
