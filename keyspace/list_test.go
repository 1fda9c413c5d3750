package keyspace

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// listModel is the reference a list is checked against: a plain slice.
type listModel [][]byte

// checkList verifies l's invariants and that it holds exactly m.
func checkList(t *testing.T, l *list, m listModel) {
	t.Helper()
	n, cbytes := 0, int64(0)
	for k, c := range l.chunks {
		require.Positive(t, c.n, "chunk %d is empty", k)
		cnt := 0
		for off, d := 0, c.data(); off < len(d); cnt++ {
			_, off = nextElem(d, off)
		}
		require.Equal(t, c.n, cnt, "chunk %d count", k)
		require.True(t, c.size() <= listChunkBytes || c.n == 1, "chunk %d over the limit with %d elements", k, c.n)
		require.True(t, 0 <= c.off && c.off <= c.end && c.end <= len(c.arr), "chunk %d bounds", k)
		require.Equal(t, allocSize(len(c.arr)), c.alloc(), "chunk %d array not at a size class", k)
		n += c.n
		cbytes += c.alloc()
	}
	if l.chunks != nil {
		// The spare slots before the first chunk, and those after the
		// last, hold no array: a dropped chunk's must not stay reachable.
		first := unsafe.Add(unsafe.Pointer(unsafe.SliceData(l.chunks)), -l.spare*lchunkBytes)
		all := unsafe.Slice((*lchunk)(first), l.spare+cap(l.chunks))
		for i := range all {
			if i < l.spare || i >= l.spare+len(l.chunks) {
				require.Nil(t, all[i].arr, "slot %d (spare %d, %d chunks) not cleared", i, l.spare, len(l.chunks))
			}
		}
	}
	require.Equal(t, len(m), n, "element count")
	require.Equal(t, len(m), l.len())
	require.Equal(t, cbytes, l.cbytes)
	got := l.elements(0, l.len())
	require.Equal(t, len(m), len(got))
	for i := range m {
		require.True(t, bytes.Equal(m[i], got[i]), "element %d: %q, want %q", i, got[i], m[i])
	}
	var back [][]byte
	l.each(0, l.len(), true, func(v []byte) bool { back = append(back, v); return true })
	slices.Reverse(back)
	require.Equal(t, len(m), len(back))
	for i := range m {
		require.True(t, bytes.Equal(m[i], back[i]), "backwards element %d", i)
		require.True(t, bytes.Equal(m[i], l.index(i)), "index %d", i)
	}
}

func randElem(r *rand.Rand) []byte {
	switch r.IntN(20) {
	case 0:
		return []byte{}
	case 1:
		return bytes.Repeat([]byte{'b'}, 8000+r.IntN(2000)) // about a chunk, or more
	case 2:
		return bytes.Repeat([]byte{'m'}, 100+r.IntN(300)) // a two-byte length
	}
	return fmt.Appendf(nil, "e%d", r.IntN(8))
}

// TestListModel runs random operations on a list and on a slice and
// compares them after each.
func TestListModel(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 7))
		l := &list{}
		var m listModel
		for step := 0; step < 300; step++ {
			op := r.IntN(10)
			switch {
			case op == 0 || op == 1: // push
				vs := make([][]byte, 1+r.IntN(40))
				for i := range vs {
					vs[i] = randElem(r)
				}
				if op == 0 {
					l.push(vs, false)
					m = append(m, vs...)
				} else {
					l.push(vs, true)
					for _, v := range vs {
						m = slices.Insert(m, 0, v)
					}
				}
			case op == 2: // pop
				front, count := r.IntN(2) == 0, 1+r.IntN(30)
				got := l.pop(front, count)
				k := min(count, len(m))
				var want [][]byte
				if front {
					want, m = slices.Clone(m[:k]), m[k:]
				} else {
					want = slices.Clone(m[len(m)-k:])
					slices.Reverse(want)
					m = m[:len(m)-k]
				}
				require.Equal(t, len(want), len(got))
				for i := range want {
					require.True(t, bytes.Equal(want[i], got[i]), "popped %d", i)
				}
			case op == 3 && len(m) > 0: // set
				i, v := r.IntN(len(m)), randElem(r)
				l.set(i, v)
				m[i] = v
			case op == 4 && len(m) > 0: // insert
				pivot, v, after := m[r.IntN(len(m))], randElem(r), r.IntN(2) == 0
				if r.IntN(5) == 0 {
					pivot = []byte("absent")
				}
				at := slices.IndexFunc(m, func(e []byte) bool { return bytes.Equal(e, pivot) })
				require.Equal(t, at >= 0, l.insert(pivot, v, after))
				if at >= 0 {
					if after {
						at++
					}
					m = slices.Insert(m, at, v)
				}
			case op == 5: // remove
				v := fmt.Appendf(nil, "e%d", r.IntN(8))
				count := int64(r.IntN(7) - 3)
				if r.IntN(10) == 0 {
					count = math.MinInt64 // -LONG_MIN: all of them, from the back
				}
				want := removeModel(&m, v, count)
				require.Equal(t, want, l.remove(v, count))
			case op == 6 && len(m) > 0: // trim
				n := int64(len(m))
				start, stop := r.Int64N(2*n+2)-n-1, r.Int64N(2*n+2)-n-1
				from, to := l.span(start, stop)
				l.trim(from, to)
				m = m[from:to]
			case op == 7: // clone
				c := l.clone()
				checkList(t, c, m)
				l = c
			}
			if len(m) == 0 {
				m = nil
			}
			checkList(t, l, m)
		}
	}
}

// removeModel is LREM on the model.
func removeModel(m *listModel, v []byte, count int64) int {
	limit := count
	if count < 0 {
		limit = max(-count, 0)
	}
	removed := 0
	idx := make([]int, 0)
	for i := range *m {
		j := i
		if count < 0 {
			j = len(*m) - 1 - i
		}
		if bytes.Equal((*m)[j], v) && (limit == 0 || int64(removed) < limit) {
			idx = append(idx, j)
			removed++
		}
	}
	slices.Sort(idx)
	for k := len(idx) - 1; k >= 0; k-- {
		*m = slices.Delete(*m, idx[k], idx[k]+1)
	}
	return removed
}

// TestListBytesNeverRewritten checks the promise snapshots and replies
// rely on: a slice taken from a list keeps its bytes whatever is done to
// the list afterwards.
func TestListBytesNeverRewritten(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l := &list{}
	type taken struct{ got, want []byte }
	var views []taken
	for step := 0; step < 3000; step++ {
		switch r.IntN(6) {
		case 0:
			l.push([][]byte{randElem(r)}, false)
		case 1:
			l.push([][]byte{randElem(r)}, true)
		case 2:
			for _, v := range l.pop(r.IntN(2) == 0, 1+r.IntN(3)) {
				views = append(views, taken{v, bytes.Clone(v)})
			}
		case 3:
			if l.len() > 0 {
				l.set(r.IntN(l.len()), randElem(r))
			}
		case 4:
			for _, v := range l.elements(0, min(l.len(), 5)) {
				views = append(views, taken{v, bytes.Clone(v)})
			}
		case 5:
			l.remove(fmt.Appendf(nil, "e%d", r.IntN(8)), int64(r.IntN(3)-1))
		}
	}
	for i, v := range views {
		require.Equal(t, v.want, v.got, "view %d changed", i)
	}
}

func TestListPosAndSpan(t *testing.T) {
	l := newListOf([][]byte{[]byte("a"), []byte("b"), []byte("a"), []byte("c"), []byte("a")})
	from, to := l.span(0, -1)
	require.Equal(t, []int{0, 5}, []int{from, to})
	from, to = l.span(3, 1)
	require.Equal(t, from, to)
	from, to = l.span(-100, 100)
	require.Equal(t, []int{0, 5}, []int{from, to})
	from, to = l.span(math.MinInt64, math.MaxInt64)
	require.Equal(t, []int{0, 5}, []int{from, to})
}

func BenchmarkList(b *testing.B) {
	v := bytes.Repeat([]byte{'x'}, 64)
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("op=rpush-lpop/len=%d", n), func(b *testing.B) {
			l := &list{}
			for range n {
				l.push([][]byte{v}, false)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.push([][]byte{v}, false)
				l.pop(true, 1)
			}
		})
		b.Run(fmt.Sprintf("op=lpush-rpop/len=%d", n), func(b *testing.B) {
			l := &list{}
			for range n {
				l.push([][]byte{v}, false)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.push([][]byte{v}, true)
				l.pop(false, 1)
			}
		})
		b.Run(fmt.Sprintf("op=lpush-lpop/len=%d", n), func(b *testing.B) {
			l := &list{}
			for range n {
				l.push([][]byte{v}, false)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.push([][]byte{v}, true)
				l.pop(true, 1)
			}
		})
		b.Run(fmt.Sprintf("op=lindex-middle/len=%d", n), func(b *testing.B) {
			l := &list{}
			for range n {
				l.push([][]byte{v}, false)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.index(n / 2)
			}
		})
	}
}

// TestListChunksAreADeque checks that chunks come and go at the ends
// without moving the others: in a long queue fed at one end and drained
// at the other, the chunk holding the oldest element stays where it is
// (moving only when the chunk array is reallocated, now and then), and
// the elements come out in order.
func TestListChunksAreADeque(t *testing.T) {
	for _, front := range []bool{true, false} {
		l := &list{}
		v := bytes.Repeat([]byte{'j'}, 250)
		// The chunk holding the oldest element: where it is in memory,
		// and which chunk it is (its array).
		oldest := func() (*lchunk, *byte) {
			c := &l.chunks[0]
			if front {
				c = &l.chunks[len(l.chunks)-1]
			}
			return c, unsafe.SliceData(c.arr)
		}
		moves, next, want := 0, 0, 0
		var at *lchunk
		var id *byte
		for round := 0; round < 20000; round++ {
			e := fmt.Appendf(slices.Clip(v), "%08d", next)
			next++
			if front {
				l.push([][]byte{e}, true)
			} else {
				l.push([][]byte{e}, false)
			}
			if round%3 == 2 || l.len() > 3000 { // drain at the other end, a bit slower than the feed
				got := l.pop(!front, 1)[0]
				require.Equal(t, fmt.Sprintf("%08d", want), string(got[len(got)-8:]))
				want++
			}
			c, cid := oldest()
			if cid == id && c != at {
				moves++
			}
			at, id = c, cid
		}
		require.Less(t, moves, 50, "front=%v: the oldest chunk moved %d times", front, moves)
	}
}

// TestSmallListFootprint: a list made by one push has one chunk slot and
// an array sized for what it holds; a new list reserves no room in front
// that it may never use (it had five slots: 224 bytes more per list).
func TestSmallListFootprint(t *testing.T) {
	vs := make([][]byte, 10)
	for i := range vs {
		vs[i] = bytes.Repeat([]byte{'e'}, 20)
	}
	for _, front := range []bool{false, true} {
		l := &list{}
		if front {
			l.push(vs, true)
		} else {
			l.push(vs, false)
		}
		require.Equal(t, 1, l.spare+cap(l.chunks), "front=%v: chunk slots", front)
		require.Equal(t, allocSize(10*22), l.cbytes, "front=%v: chunk array", front)
		require.Equal(t, listStructBytes+allocSize(lchunkBytes)+allocSize(10*22), l.bytes())
	}
}
