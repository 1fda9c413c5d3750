package keyspace

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func sid(ms uint64) StreamID { return StreamID{Ms: ms} }

func TestParseStreamID(t *testing.T) {
	for _, c := range []struct {
		in       string
		miss     uint64
		strict   bool
		star     bool
		want     StreamID
		seqGiven bool
		ok       bool
	}{
		{"1-2", 0, true, false, StreamID{1, 2}, true, true},
		{"5", 7, false, false, StreamID{5, 7}, true, true},
		{"-", 0, false, false, StreamID{}, true, true},
		{"+", 0, false, false, MaxStreamID, true, true},
		{"-", 0, true, false, StreamID{}, false, false},
		{"3-*", 0, true, true, StreamID{3, 0}, false, true},
		{"3-*", 0, true, false, StreamID{}, false, false},
		{"18446744073709551615-18446744073709551615", 0, true, false, MaxStreamID, true, true},
		{"18446744073709551616", 0, true, false, StreamID{}, false, false},
		{"-1", 0, false, false, StreamID{}, false, false},
		{"1-", 0, false, false, StreamID{}, false, false},
		{"", 0, false, false, StreamID{}, false, false},
		{"+1", 0, false, false, StreamID{1, 0}, true, true}, // strtoull's, as Redis's string2ull falls back to
		{" 1-+2", 0, false, false, StreamID{1, 2}, true, true},
		{"007", 0, false, false, StreamID{7, 0}, true, true},
		{"1 ", 0, false, false, StreamID{}, false, false},
		{"++1", 0, false, false, StreamID{}, false, false},
	} {
		id, sg, ok := ParseStreamID([]byte(c.in), c.miss, c.strict, c.star)
		require.Equal(t, c.ok, ok, c.in)
		if ok {
			require.Equal(t, c.want, id, c.in)
			require.Equal(t, c.seqGiven, sg, c.in)
		}
	}
}

// TestStreamChunkLayout: chunks close at 100 entries or when the tail's
// listpack plus the new entry's bytes reach 4096, as Redis's nodes do.
func TestStreamChunkLayout(t *testing.T) {
	s := &stream{}
	for i := uint64(1); i <= 250; i++ {
		s.append(sid(i), [][]byte{[]byte("f"), []byte("v")}, defLimits)
	}
	require.Len(t, s.chunks, 3)
	require.Equal(t, 100, s.chunks[0].entries())
	s = &stream{}
	big := make([]byte, 1000)
	for i := uint64(1); i <= 10; i++ {
		s.append(sid(i), [][]byte{[]byte("f"), big}, defLimits)
	}
	// Each entry is 1012 bytes of listpack: a fifth would reach 4096.
	require.Equal(t, 4, s.chunks[0].entries())
	require.Equal(t, 3, len(s.chunks))
}

// TestStreamSnapshotWhileWriting takes the stream as a snapshot does
// (Walk, then Item.Stream with no lock held) while another goroutine
// appends, deletes, trims and delivers: every copy is a valid stream
// (the race detector checks that nothing a snapshot reads is written).
func TestStreamSnapshotWhileWriting(t *testing.T) {
	ks, err := New(Options{Stripes: 1})
	require.NoError(t, err)
	key := []byte("s")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		next := uint64(1)
		_, _ = ks.XGroup(0, key, XGroupArgs{Sub: "create", Group: []byte("g"), ID: []byte("0"), MkStream: true, EntriesRead: -1})
		for {
			select {
			case <-stop:
				return
			default:
			}
			switch r.IntN(6) {
			case 0, 1, 2:
				_, err := ks.XAdd(0, key, XAddArgs{ID: sid(next), IDGiven: true, SeqGiven: true,
					Fields: [][]byte{[]byte("f"), []byte(strconv.Itoa(r.IntN(1000)))}})
				if err != nil {
					panic(err)
				}
				next++
			case 3:
				_, _ = ks.XDel(0, key, []StreamID{sid(1 + r.Uint64N(next))})
			case 4:
				_, _ = ks.XTrim(0, key, TrimArgs{Strategy: TrimMaxLen, MaxLen: 300, Approx: r.IntN(2) == 0, Limit: 0})
			default:
				_, _, _ = ks.XRead(0, XReadArgs{Keys: [][]byte{key}, IDs: [][]byte{[]byte(">")}, Count: 3, Group: []byte("g"), Consumer: []byte("c")})
				_, _ = ks.XAck(0, key, []byte("g"), [][]byte{[]byte(strconv.FormatUint(r.Uint64N(next), 10))})
			}
		}
	}()
	for range 300 {
		require.NoError(t, ks.Walk(0, func(items []Item) error {
			for i := range items {
				sd := items[i].Stream()
				if err := ValidateStream(sd); err != nil {
					return fmt.Errorf("snapshot of a stream: %w", err)
				}
			}
			return nil
		}))
	}
	close(stop)
	wg.Wait()
}

// TestStreamCloneIndependent: COPY's clone and the original change apart.
func TestStreamCloneIndependent(t *testing.T) {
	s := &stream{}
	for i := uint64(1); i <= 150; i++ {
		s.append(sid(i), [][]byte{[]byte("f"), []byte("v")}, defLimits)
	}
	g := s.addGroup([]byte("g"), StreamID{}, -1)
	c := g.addConsumer([]byte("c"), 5)
	s.deliver(g, c, StreamID{}, 10, false, 5)
	cl := s.clone()
	s.append(sid(151), [][]byte{[]byte("f"), []byte("x")}, defLimits)
	cl.append(sid(151), [][]byte{[]byte("f"), []byte("y")}, defLimits)
	require.True(t, s.delete(sid(3)))
	e, ok := cl.lookup(sid(3))
	require.True(t, ok)
	require.Equal(t, "v", string(e.Fields[1]))
	a, _ := s.lookup(sid(151))
	b, _ := cl.lookup(sid(151))
	require.Equal(t, "x", string(a.Fields[1]))
	require.Equal(t, "y", string(b.Fields[1]))
	g.ack(g.pel[0])
	require.Len(t, cl.groups[0].pel, 10)
	require.Len(t, cl.groups[0].conss[0].pel, 10)
	require.Same(t, cl.groups[0].conss[0], cl.groups[0].pel[0].cons)
}

var defLimits = nodeLimits{4096, 100}
