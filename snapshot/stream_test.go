package snapshot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/keyspace"
)

// sampleStream builds a stream in a keyspace (so its nodes are laid out
// as Redis lays them out) with n entries, tombstones, groups, pending
// entries and consumers, and returns it as a snapshot takes it.
func sampleStream(t testing.TB, seed uint64, n int) *keyspace.StreamData {
	t.Helper()
	ks, err := keyspace.New(keyspace.Options{Stripes: 1})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(seed, 1))
	key := []byte("s")
	for i := 1; i <= n; i++ {
		fv := [][]byte{[]byte("f"), []byte(strconv.Itoa(r.IntN(1000)))}
		switch r.IntN(4) {
		case 0:
			fv = [][]byte{[]byte("other"), bytes.Repeat([]byte("v"), r.IntN(90)), []byte("-12"), []byte("0x1")}
		case 1:
			fv = append(fv, []byte("g"), []byte(strconv.FormatInt(r.Int64(), 10)))
		}
		_, err := ks.XAdd(0, key, keyspace.XAddArgs{ID: keyspace.StreamID{Ms: uint64(100 + i/2), Seq: uint64(i % 2)}, IDGiven: true, SeqGiven: true, Fields: fv})
		require.NoError(t, err)
	}
	for range n / 8 {
		i := 1 + r.IntN(n)
		_, err := ks.XDel(0, key, []keyspace.StreamID{{Ms: uint64(100 + i/2), Seq: uint64(i % 2)}})
		require.NoError(t, err)
	}
	if n > 0 {
		for _, g := range []string{"g1", "g0"} {
			_, err := ks.XGroup(0, key, keyspace.XGroupArgs{Sub: "create", Group: []byte(g), ID: []byte("0"), EntriesRead: -1})
			require.NoError(t, err)
		}
		for i, c := range []string{"bob", "alice", "carol"} {
			_, _, err := ks.XRead(0, keyspace.XReadArgs{Keys: [][]byte{key}, IDs: [][]byte{[]byte(">")}, Count: 1 + i*3,
				Group: []byte("g1"), Consumer: []byte(c)})
			require.NoError(t, err)
		}
	}
	var out *keyspace.StreamData
	require.NoError(t, ks.Walk(0, func(items []keyspace.Item) error {
		for i := range items {
			out = cloneStreamData(items[i].Stream())
		}
		return nil
	}))
	require.NotNil(t, out)
	return out
}

func streamFile(t testing.TB, sd *keyspace.StreamData) []byte {
	return encode(t, nil, []rec{{Key: "s", Kind: KindStream, Stream: sd}})
}

func TestStreamRoundTrip(t *testing.T) {
	for _, n := range []int{1, 5, 99, 100, 101, 700} {
		sd := sampleStream(t, uint64(n), n)
		got, _, err := decodeAll(streamFile(t, sd), DecoderOptions{})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, KindStream, got[0].Kind)
		require.Equal(t, sd, got[0].Stream, "n=%d", n)
		// And as a DUMP payload.
		p, err := Dump(&Record{Kind: KindStream, Stream: sd})
		require.NoError(t, err)
		r, err := ParseDump(p)
		require.NoError(t, err)
		require.Equal(t, sd, cloneStreamData(r.Stream))
	}
}

// writeStreamAs writes sd as RDB type t (15: no first ID, max deleted ID,
// entries-added, entries-read; 21: consumers' active time).
func writeStreamAs(sd *keyspace.StreamData, t byte) []byte {
	b := []byte{t}
	b = append(b, rawStr("s")...)
	b = appendLen(b, uint64(len(sd.Nodes)))
	for i := range sd.Nodes {
		b = append(b, rawStr(string(appendStreamID(nil, sd.Nodes[i].Master)))...)
		b = append(b, rawStr(string(streamListpack(nil, &sd.Nodes[i])))...)
	}
	for _, v := range []uint64{sd.Length, sd.LastID.Ms, sd.LastID.Seq} {
		b = appendLen(b, v)
	}
	if t != typeStreamListpacks {
		for _, v := range []uint64{sd.FirstID.Ms, sd.FirstID.Seq, sd.MaxDeleted.Ms, sd.MaxDeleted.Seq, sd.EntriesAdded} {
			b = appendLen(b, v)
		}
	}
	b = appendLen(b, uint64(len(sd.Groups)))
	for _, g := range sd.Groups {
		b = append(b, rawStr(string(g.Name))...)
		b = appendLen(b, g.LastID.Ms)
		b = appendLen(b, g.LastID.Seq)
		if t != typeStreamListpacks {
			b = appendLen(b, uint64(g.EntriesRead))
		}
		b = appendLen(b, uint64(len(g.PEL)))
		for _, n := range g.PEL {
			b = appendStreamID(b, n.ID)
			b = binary.LittleEndian.AppendUint64(b, uint64(n.Time))
			b = appendLen(b, n.Count)
		}
		b = appendLen(b, uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			b = append(b, rawStr(string(c.Name))...)
			b = binary.LittleEndian.AppendUint64(b, uint64(c.SeenTime))
			if t == typeStream3 {
				b = binary.LittleEndian.AppendUint64(b, uint64(c.SeenTime+5))
			}
			b = appendLen(b, uint64(len(c.PEL)))
			for _, id := range c.PEL {
				b = appendStreamID(b, id)
			}
		}
	}
	return b
}

func TestStreamOlderAndNewerTypes(t *testing.T) {
	sd := sampleStream(t, 3, 250)
	got, _, err := decodeAll(rdbFile(12, writeStreamAs(sd, typeStream3)), DecoderOptions{})
	require.NoError(t, err)
	require.Equal(t, sd, got[0].Stream)

	got, _, err = decodeAll(rdbFile(9, writeStreamAs(sd, typeStreamListpacks)), DecoderOptions{})
	require.NoError(t, err)
	old := got[0].Stream
	// What Redis derives for a stream of RDB 9: entries-added is the
	// length, the first ID the first live entry's, nothing deleted, and a
	// group's entries-read estimated from its last ID.
	require.Equal(t, sd.Length, old.EntriesAdded)
	require.True(t, old.MaxDeleted.IsZero())
	require.Equal(t, sd.FirstID, old.FirstID)
	for i, g := range old.Groups {
		want := (&keyspace.StreamData{Length: sd.Length, LastID: sd.LastID, FirstID: sd.FirstID, EntriesAdded: sd.Length}).EstimateEntriesRead(g.LastID)
		require.Equal(t, want, g.EntriesRead, "group %d", i)
	}
	require.Equal(t, sd.Nodes, old.Nodes)

	// An empty stream of type 15: first ID is streamGetEdgeID's "none".
	empty := &keyspace.StreamData{LastID: keyspace.StreamID{Ms: 5}}
	got, _, err = decodeAll(rdbFile(9, writeStreamAs(empty, typeStreamListpacks)), DecoderOptions{})
	require.NoError(t, err)
	require.Equal(t, keyspace.MaxStreamID, got[0].Stream.FirstID)
}

// TestStreamDamage truncates and flips bytes of encoded streams: every
// damaged file is an error (or, for a flip the format cannot notice,
// decodes to something that re-encodes), never a panic.
func TestStreamDamage(t *testing.T) {
	sd := sampleStream(t, 9, 130)
	body := writeStreamAs(sd, typeStream2)
	for cut := 1; cut < len(body); cut++ {
		_, _, err := decodeAll(rdbFile(10, body[:cut]), DecoderOptions{})
		require.Error(t, err, "cut at %d", cut)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		b := bytes.Clone(body)
		for range 1 + r.IntN(3) {
			b[1+r.IntN(len(b)-1)] ^= byte(1 + r.IntN(255))
		}
		recs, _, err := decodeAll(rdbFile(10, b), DecoderOptions{})
		if err == nil {
			again, _, err := decodeAll(encode(t, nil, recs), DecoderOptions{})
			require.NoError(t, err)
			require.Equal(t, recs, again)
		}
	}
}

func TestStreamValidateRefuses(t *testing.T) {
	base := func() *keyspace.StreamData { return sampleStream(t, 4, 250) } // three nodes
	cases := map[string]func(sd *keyspace.StreamData){
		"length":  func(sd *keyspace.StreamData) { sd.Length++ },
		"last id": func(sd *keyspace.StreamData) { sd.LastID = keyspace.StreamID{Ms: 1} },
		"order": func(sd *keyspace.StreamData) {
			var live []int
			for i, e := range sd.Nodes[0].Entries {
				if e.Flags&keyspace.StreamFlagDeleted == 0 {
					live = append(live, i)
				}
			}
			sd.Nodes[0].Entries[live[1]].ID = sd.Nodes[0].Entries[live[0]].ID
		},
		"pel twice":   func(sd *keyspace.StreamData) { sd.Groups[1].PEL = append(sd.Groups[1].PEL, sd.Groups[1].PEL[0]) },
		"pel unowned": func(sd *keyspace.StreamData) { sd.Groups[1].Consumers = nil },
		"group twice": func(sd *keyspace.StreamData) { sd.Groups[0].Name = sd.Groups[1].Name },
		"consumer pel": func(sd *keyspace.StreamData) {
			sd.Groups[1].Consumers[0].PEL = append(sd.Groups[1].Consumers[0].PEL, keyspace.StreamID{Ms: 1})
		},
		"empty node": func(sd *keyspace.StreamData) { sd.Nodes[0].Entries = nil },
		"below master": func(sd *keyspace.StreamData) { // in a node but the last
			first := sd.Nodes[0].Entries[0].ID
			sd.Nodes[0].Master = keyspace.StreamID{Ms: first.Ms, Seq: first.Seq + 1}
		},
		"master fields": func(sd *keyspace.StreamData) {
			sd.Nodes[0].MasterFields = append(sd.Nodes[0].MasterFields, []byte("x"))
		},
	}
	for name, mod := range cases {
		sd := base()
		require.Greater(t, sd.NodeCount(), 1)
		mod(sd)
		require.Error(t, keyspace.ValidateStream(sd), name)
		_, _, err := decodeAll(rdbFile(10, writeStreamAs(sd, typeStream2)), DecoderOptions{})
		require.ErrorIs(t, err, ErrCorrupt, name)
	}

	// The last node may hold entries below its master ID, as Redis leaves
	// one after XSETID lowered the last ID of a stream of tombstones and
	// XADD appended.
	sd := sampleStream(t, 4, 30)
	require.Equal(t, 1, sd.NodeCount())
	first := sd.Nodes[0].Entries[0].ID
	sd.Nodes[0].Master = keyspace.StreamID{Ms: first.Ms, Seq: first.Seq + 1}
	require.NoError(t, keyspace.ValidateStream(sd))
	recs, _, err := decodeAll(rdbFile(10, writeStreamAs(sd, typeStream2)), DecoderOptions{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
}

// streamSeeds are stream files for the fuzz targets.
func streamSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for i, n := range []int{0, 1, 3, 12} {
		var sd *keyspace.StreamData
		if n == 0 {
			sd = &keyspace.StreamData{LastID: keyspace.StreamID{Ms: 9, Seq: 1}, EntriesAdded: 4,
				Groups: []keyspace.StreamGroup{{Name: []byte("g"), EntriesRead: -1, Consumers: []keyspace.StreamConsumer{{Name: []byte("c")}}}}}
		} else {
			sd = sampleStream(t, uint64(i), n)
		}
		out = append(out, writeStreamAs(sd, []byte{typeStream2, typeStreamListpacks, typeStream3, typeStream2}[i]))
	}
	return out
}

func TestStreamSeedsDecode(t *testing.T) {
	for i, s := range streamSeeds(t) {
		_, _, err := decodeAll(rdbFile(12, s), DecoderOptions{})
		require.NoError(t, err, "seed %d", i)
		p := payload(MaxVersion, s[:1], s[1+len(rawStr("s")):])
		_, err = ParseDump(p)
		require.NoError(t, err, "seed %d", i)
	}
	_ = fmt.Sprint
	_ = strings.Repeat
}
