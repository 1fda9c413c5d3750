package snapshot

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/keyspace"
)

func listRec(key string, elems ...string) rec {
	return rec{Key: key, Kind: KindList, Members: elems}
}

// quicklist2 builds an RDB_TYPE_LIST_QUICKLIST_2 value: nodes are
// container byte and node string, already framed.
func quicklist2(key string, nodes ...[]byte) []byte {
	return cat([]byte{typeListQuicklist2}, rawStr(key), appendLen(nil, uint64(len(nodes))), cat(nodes...))
}

func packedNode(lp []byte) []byte { return cat([]byte{quicklistPacked}, rawStr(string(lp))) }

func plainNode(s string) []byte { return cat([]byte{quicklistPlain}, rawStr(s)) }

// quicklist1 builds an RDB_TYPE_LIST_QUICKLIST value of ziplist nodes.
func quicklist1(key string, zls ...[]byte) []byte {
	b := cat([]byte{typeListQuicklist}, rawStr(key), appendLen(nil, uint64(len(zls))))
	for _, zl := range zls {
		b = append(b, rawStr(string(zl))...)
	}
	return b
}

// lzfLiterals is a valid LZF stream of literal runs only, framed as an
// RDB LZF string: what a writer may emit for incompressible data.
func lzfLiterals(s string) []byte {
	var stream []byte
	for p := s; len(p) > 0; {
		n := min(len(p), 32)
		stream = append(append(stream, byte(n-1)), p[:n]...)
		p = p[n:]
	}
	b := appendLen([]byte{lenEnc<<6 | encLZF}, uint64(len(stream)))
	b = appendLen(b, uint64(len(s)))
	return append(b, stream...)
}

func TestGoldenLists(t *testing.T) {
	long := strings.Repeat("L", 5000)
	mid := strings.Repeat("m", 100)
	tests := []struct {
		name    string
		version int
		body    []byte
		want    []rec
	}{
		{"list of strings", 6, cat([]byte{typeList}, rawStr("l"), []byte{6},
			rawStr("a"), []byte{0xC0, 7}, rawStr(""), rawStr("a"), []byte{0xC2, 0, 0, 0, 0x80}, rawStr(long)),
			[]rec{listRec("l", "a", "7", "", "a", "-2147483648", long)}},
		{"ziplist", 8, setObj(typeListZiplist, "l", ziplist(12, false,
			zlStr("a"), zlStr(""), zlStr(mid), zlStr(long),
			zlInt(0xFE, -5), zlInt(0xC0, -300), zlInt(0xF0, 8000000), zlInt(0xD0, -2000000000),
			zlInt(0xE0, 1<<40), zlImm(0), zlImm(12), zlStr("a"))),
			[]rec{listRec("l", "a", "", mid, long, "-5", "-300", "8000000", "-2000000000", "1099511627776", "0", "12", "a")}},
		{"quicklist of ziplists, empty ones skipped", 9, quicklist1("l",
			ziplist(2, false, zlStr("a"), zlInt(0xC0, 300)),
			ziplist(0, false),
			ziplist(0xFFFF, true, zlStr(mid), zlStr("a"))),
			[]rec{listRec("l", "a", "300", mid, "a")}},
		{"quicklist2 every listpack encoding", 10, quicklist2("l", packedNode(listpack(14,
			lpUint7(5), lpUint7(127), lpStr("hello"), lpStr(""), lpInt13(-100), lpInt13(4000),
			lpStr(mid), lpStr(long), lpInt(0xF1, -30000), lpInt(0xF2, 8000000), lpInt(0xF2, -8000000),
			lpInt(0xF3, -2000000000), lpInt(0xF4, 1<<40), lpInt(0xF4, -1<<63)))),
			[]rec{listRec("l", "5", "127", "hello", "", "-100", "4000", mid, long,
				"-30000", "8000000", "-8000000", "-2000000000", "1099511627776", "-9223372036854775808")}},
		{"quicklist2 plain, packed, LZF and empty nodes", 10, quicklist2("l",
			plainNode(long),
			packedNode(listpack(2, lpStr("a"), lpStr("a"))),
			packedNode(listpack(0)), // skipped, as Redis skips it
			cat([]byte{quicklistPacked}, lzfLiterals(string(listpack(0xFFFF, lpStr(mid), lpUint7(1))))),
			cat([]byte{quicklistPlain}, []byte{0xC0, 7}), // int-encoded plain element
			cat([]byte{quicklistPlain}, lzfLiterals(mid))),
			[]rec{listRec("l", long, "a", "a", mid, "1", "7", mid)}},
		{"quicklist2 with expiry", 10, cat([]byte{opExpireTimeMs}, binary.LittleEndian.AppendUint64(nil, 1700000000123),
			quicklist2("l", packedNode(listpack(1, lpStr("x"))))),
			[]rec{{Key: "l", Kind: KindList, Members: []string{"x"}, ExpireMs: 1700000000123}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := rdbFile(tt.version, tt.body)
			got, _, err := decodeAll(data, DecoderOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			got, _, err = decodeFrom(onlyReader{bytes.NewReader(data)}, DecoderOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestListDecodeErrors(t *testing.T) {
	lp := listpack(1, lpStr("a"))
	tests := []struct {
		name string
		body []byte
		msg  string
	}{
		{"container 0", quicklist2("l", cat([]byte{0}, rawStr(string(lp)))), `key "l": quicklist node 0: unknown container 0`},
		{"container 3", quicklist2("l", packedNode(lp), cat([]byte{3}, rawStr(string(lp)))), `key "l": quicklist node 1: unknown container 3`},
		{"container is a string encoding", quicklist2("l", []byte{0xC0}), "quicklist container: string encoding"},
		{"empty packed node", quicklist2("l", packedNode(nil)), `key "l": quicklist node 0 is an empty string`},
		{"empty plain node", quicklist2("l", packedNode(lp), plainNode("")), `key "l": quicklist node 1 is an empty string`},
		{"empty ziplist node string", quicklist1("l", nil), `key "l": quicklist node 0 is an empty string`},
		{"bad listpack node", quicklist2("l", packedNode(listpack(2, lpStr("a")))), `key "l": quicklist node 0: listpack header says 2 elements`},
		{"listpack node not a listpack", quicklist2("l", packedNode([]byte("abc"))), "quicklist node 0: listpack of 3 bytes"},
		{"ziplist node in a quicklist2", quicklist2("l", packedNode(ziplist(1, false, zlStr("a")))), "quicklist node 0: listpack"},
		{"bad ziplist node", quicklist1("l", ziplist(3, false, zlStr("a"))), `key "l": quicklist node 0: ziplist header says 3 entries`},
		{"bad list ziplist", setObj(typeListZiplist, "l", ziplist(2, false, zlStr("a"), []byte{0xC1})), `key "l": ziplist entry 1`},
		{"node count is a string encoding", cat([]byte{typeListQuicklist2}, rawStr("l"), []byte{0xC0}), "quicklist node count: string encoding"},
		{"list size is a string encoding", cat([]byte{typeList}, rawStr("l"), []byte{0xC1}), "list size: string encoding"},
		{"bad LZF node", quicklist2("l", cat([]byte{quicklistPacked}, []byte{0xC3, 2, 10, 0x20, 0x00})), "quicklist node: invalid LZF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeAll(rdbFile(10, tt.body), DecoderOptions{SkipUnsupported: true})
			require.ErrorIs(t, err, ErrCorrupt)
			assert.Contains(t, err.Error(), tt.msg)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Greater(t, de.Offset, int64(9))
		})
	}
}

// TestListTruncated cuts a file of one list of each encoding at every
// byte inside the value: truncation is corruption, never a short list.
func TestListTruncated(t *testing.T) {
	for name, body := range map[string][]byte{
		"list":       cat([]byte{typeList}, rawStr("l"), []byte{2}, rawStr("a"), []byte{0xC0, 7}),
		"ziplist":    setObj(typeListZiplist, "l", ziplist(2, false, zlStr("a"), zlImm(3))),
		"quicklist":  quicklist1("l", ziplist(1, false, zlStr("a")), ziplist(1, false, zlInt(0xC0, 300))),
		"quicklist2": quicklist2("l", packedNode(listpack(2, lpStr("a"), lpInt13(-3))), plainNode("big")),
	} {
		t.Run(name, func(t *testing.T) {
			data := rdbFile(10, body)
			for n := 10; n < len(data); n++ {
				_, _, err := decodeAll(data[:n], DecoderOptions{})
				require.ErrorIs(t, err, ErrCorrupt, "prefix %d", n)
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "prefix %d: %v", n, err)
			}
		})
	}
}

// TestEmptyListSkipped: a list with no elements, however encoded, is
// dropped as Redis drops it ("empty keys skipped"), including a quicklist
// whose every node is an empty listpack or ziplist.
func TestEmptyListSkipped(t *testing.T) {
	next := strKey("after", rawStr("ok"))
	for name, body := range map[string][]byte{
		"list":                   cat([]byte{typeList}, rawStr("l"), []byte{0}),
		"ziplist":                setObj(typeListZiplist, "l", ziplist(0, false)),
		"quicklist no nodes":     quicklist1("l"),
		"quicklist empty nodes":  quicklist1("l", ziplist(0, false), ziplist(0xFFFF, false)),
		"quicklist2 no nodes":    quicklist2("l"),
		"quicklist2 empty nodes": quicklist2("l", packedNode(listpack(0)), packedNode(listpack(0xFFFF))),
	} {
		t.Run(name, func(t *testing.T) {
			var skipped []string
			got, _, err := decodeAll(rdbFile(10, body, next), DecoderOptions{OnSkip: func(_ int, key []byte, typ string) {
				skipped = append(skipped, typ+":"+string(key))
			}})
			require.NoError(t, err)
			assert.Equal(t, []rec{{Key: "after", Str: "ok"}}, got)
			assert.Equal(t, []string{"empty list:l"}, skipped)
		})
	}
	// Load drops it without counting it as skipped, as for the other types.
	ks := newKS(t, nil)
	st, err := Load(bytes.NewReader(rdbFile(10, quicklist2("l"), next)), ks, LoadOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Keys)
	assert.Zero(t, st.Skipped)
	assert.Equal(t, keyspace.KindNone, ks.Type(0, []byte("l")))
}

// TestEncoderListBytes pins RDB_TYPE_LIST_QUICKLIST_2 for a small list:
// one PACKED node holding a listpack with integer entries for canonical
// int64 strings only, as lpAppend writes them.
func TestEncoderListBytes(t *testing.T) {
	elems := []string{"a", "7", "-100", "", "007", "9223372036854775807", "-0", "4096", "-32769", "8388608", "-2147483648", strings.Repeat("s", 64)}
	lp := listpack(len(elems), lpStr("a"), lpUint7(7), lpInt13(-100), lpStr(""), lpStr("007"), lpInt(0xF4, math.MaxInt64),
		lpStr("-0"), lpInt(0xF1, 4096), lpInt(0xF2, -32769), lpInt(0xF3, 8388608), lpInt(0xF3, -2147483648), lpStr(strings.Repeat("s", 64)))
	data := encode(t, nil, []rec{listRec("l", elems...)})
	want := cat([]byte{typeListQuicklist2, 1, 'l', 1, quicklistPacked}, rawStr(string(lp)), []byte{opEOF})
	assert.True(t, bytes.Contains(data, want), "% x", data)
}

// listNodes returns the nodes of key's RDB_TYPE_LIST_QUICKLIST_2 value in
// data: container and bytes (LZF already undone).
func listNodes(t *testing.T, data []byte, key string) (containers []uint64, blobs [][]byte) {
	t.Helper()
	prefix := cat([]byte{typeListQuicklist2}, rawStr(key))
	i := bytes.Index(data, prefix)
	require.GreaterOrEqual(t, i, 0, "key %q is RDB_TYPE_LIST_QUICKLIST_2", key)
	d := &Decoder{rd: newReader(bytes.NewReader(data[i+len(prefix):]))}
	n, err := d.readLen("nodes")
	require.NoError(t, err)
	for range n {
		c, err := d.readLen("container")
		require.NoError(t, err)
		b, err := d.readString("node")
		require.NoError(t, err)
		containers = append(containers, c)
		blobs = append(blobs, bytes.Clone(b))
	}
	return containers, blobs
}

// checkNodeFill checks that nodes were filled as quicklistPushTail fills
// them: a PLAIN node for each element of at least packedThreshold bytes;
// packed nodes of several elements within 8 KiB; and each packed node
// closed only when the next element would have taken it past the limit.
func checkNodeFill(t *testing.T, elems []string, containers []uint64, blobs [][]byte) {
	t.Helper()
	next := 0
	for i, c := range containers {
		if c == quicklistPlain {
			require.Equal(t, elems[next], string(blobs[i]), "node %d", i)
			require.GreaterOrEqual(t, len(blobs[i]), packedThreshold, "node %d", i)
			next++
			continue
		}
		d := &Decoder{}
		require.NoError(t, d.parseListpack(blobs[i]), "node %d", i)
		n := len(d.members)
		for j, m := range d.members {
			require.Equal(t, elems[next+j], string(m), "node %d element %d", i, j)
			require.Less(t, len(m), packedThreshold)
		}
		next += n
		if n > 1 {
			require.LessOrEqual(t, len(blobs[i]), listNodeLimit, "node %d of %d elements", i, n)
		}
		if next < len(elems) && len(elems[next]) < packedThreshold {
			require.Greater(t, len(blobs[i])+len(elems[next])+listNodeOverhead, listNodeLimit,
				"node %d (%d bytes) closed though element %d (%d bytes) fit", i, len(blobs[i]), next, len(elems[next]))
		}
	}
	require.Equal(t, len(elems), next)
}

// TestEncoderListNodes checks the node layout: 79 elements of 100 bytes
// per node (7 + 79*103 = 8144 bytes, and 8144 + 100 + 8 > 8192), an
// element over 8 KiB alone in a packed node, elements from packedThreshold
// up in PLAIN nodes.
func TestEncoderListNodes(t *testing.T) {
	var elems []string
	for i := range 200 {
		elems = append(elems, strings.Repeat(string(rune('a'+i%26)), 100))
	}
	data := encode(t, nil, []rec{listRec("l", elems...)})
	containers, blobs := listNodes(t, data, "l")
	require.Len(t, blobs, 3)
	assert.Len(t, blobs[0], 8144)
	checkNodeFill(t, elems, containers, blobs)

	big := []string{"a", strings.Repeat("x", 9000), "b", "c", strings.Repeat("y", 8180), strings.Repeat("z", 8184), "d"}
	containers, blobs = listNodes(t, encode(t, nil, []rec{listRec("l", big...)}), "l")
	assert.Equal(t, []uint64{2, 2, 2, 2, 2, 2}, containers)
	checkNodeFill(t, big, containers, blobs)

	defer func(v int) { packedThreshold = v }(packedThreshold)
	packedThreshold = 50
	mixed := []string{"a", strings.Repeat("p", 50), strings.Repeat("p", 50), "b", "12345678901234567890123456789012345678901234567890123", "c"}
	containers, blobs = listNodes(t, encode(t, nil, []rec{listRec("l", mixed...)}), "l")
	assert.Equal(t, []uint64{2, 1, 1, 2, 1, 2}, containers)
	checkNodeFill(t, mixed, containers, blobs)
	got, _, err := decodeAll(encode(t, nil, []rec{listRec("l", mixed...)}), DecoderOptions{})
	require.NoError(t, err)
	assert.Equal(t, []rec{listRec("l", mixed...)}, got)
}

func TestEncoderRejectsEmptyList(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	require.NoError(t, e.WriteHeader(nil))
	n := e.Written()
	err := e.WriteRecord(&Record{Key: []byte("l"), Kind: KindList})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key "l": empty list`)
	assert.Equal(t, n, e.Written(), "nothing written")
	assert.Error(t, e.Close(), "errors are sticky")
}

// TestListRoundTrip writes lists of every size class and element shape and
// reads them back in order.
func TestListRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var large []string
	for i := range 50_000 {
		large = append(large, "sess:"+strconv.Itoa(i%977))
	}
	var ints []string
	for i := range 64 {
		v := int64(1) << i
		ints = append(ints, strconv.FormatInt(v-1, 10), strconv.FormatInt(-v, 10), strconv.FormatInt(v, 10))
	}
	recs := []rec{
		listRec("one", "x"),
		listRec("empties", "", "", ""),
		listRec("int-like", intLike...),
		listRec("ints", ints...),
		listRec("big", strings.Repeat("b", 8193), "", strings.Repeat("c", 100_000), "1", strings.Repeat("d", 8185)),
		listRec("binary", randBytes(rng, 10), "\x00", "\xff\xfe", randBytes(rng, 5000), randBytes(rng, 70)),
		{DB: 5, Key: "large", Kind: KindList, Members: large, ExpireMs: 1800000000000},
		{DB: 5, Key: "", Kind: KindList, Members: randList(rng)},
	}
	data := encode(t, nil, recs)
	got, _, err := decodeAll(data, DecoderOptions{})
	require.NoError(t, err)
	assert.Equal(t, recs, got)
	for _, r := range recs {
		if r.Key == "" {
			continue // listNodes finds a value by its key's bytes
		}
		containers, blobs := listNodes(t, data, r.Key)
		checkNodeFill(t, r.Members, containers, blobs)
	}
}

// listItems returns every list of ks as db/key -> elements, with deadlines.
func listItems(t *testing.T, ks *keyspace.Keyspace) (map[string][]string, map[string]int64) {
	t.Helper()
	out, deadlines := map[string][]string{}, map[string]int64{}
	for db := range keyspace.NumDBs {
		require.NoError(t, ks.Walk(db, func(items []keyspace.Item) error {
			for i := range items {
				it := &items[i]
				if it.Kind != keyspace.KindList {
					continue
				}
				k := strconv.Itoa(db) + "/" + it.Key
				els := []string{}
				it.EachElem(func(v []byte) { els = append(els, string(v)) })
				require.Len(t, els, it.ListLen())
				out[k], deadlines[k] = els, it.Deadline
			}
			return nil
		}))
	}
	return out, deadlines
}

func bss(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// TestListSaveLoadThroughKeyspace saves lists from a keyspace (small,
// large, big and empty elements, deadlines) and loads them into another:
// every element, its order and the deadlines survive.
func TestListSaveLoadThroughKeyspace(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	src := newKS(t, clk)
	now := clk.Now().UnixMilli()
	rng := rand.New(rand.NewPCG(9, 10))
	src.RestoreList(0, []byte("small"), bss("a", "", "7", "a", "-0"), 0)
	src.RestoreList(0, []byte("big-elems"), bss(strings.Repeat("x", 9000), "y", strings.Repeat("z", 300_000)), now+60_000)
	var large []string
	for i := range 20_000 {
		large = append(large, strconv.Itoa(i*7919%20_000))
	}
	src.RestoreList(7, []byte("large"), bss(large...), now+3_600_000)
	src.RestoreList(7, []byte("gone"), bss("x"), now+1000)
	src.RestoreList(9, []byte("random"), bss(randList(rng)...), 0)
	_, err := src.LPush(9, []byte("pushed"), true, false, bss("c", "b", "a"))
	require.NoError(t, err)
	_, err = src.Set(7, []byte("str"), []byte("v"), keyspace.SetArgs{})
	require.NoError(t, err)

	var buf bytes.Buffer
	n, err := Save(&buf, src, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 7, n)

	clk.Advance(2 * time.Second) // "gone" has expired by the load
	dst := newKS(t, clk)
	st, err := Load(bytes.NewReader(buf.Bytes()), dst, LoadOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 6, st.Keys)
	assert.EqualValues(t, 1, st.Expired)
	want, wantDeadlines := listItems(t, src)
	delete(want, "7/gone")
	delete(wantDeadlines, "7/gone")
	have, haveDeadlines := listItems(t, dst)
	assert.Equal(t, want, have)
	assert.Equal(t, wantDeadlines, haveDeadlines)
	assert.Equal(t, []string{"a", "b", "c"}, have["9/pushed"])
	assert.Len(t, have["7/large"], 20_000)
	assert.Equal(t, keyspace.KindList, dst.Type(0, []byte("small")))
	assert.Zero(t, dst.Dirty(), "a loaded key is not a change since the last save")
}

// FuzzListEncodings feeds arbitrary blobs to the Decoder as list nodes and
// values: a listpack node (18), a PLAIN node (18), a ziplist node (14) and
// a ziplist list (10), alone or followed by a second node. It never panics
// nor fails other than ErrCorrupt, and an accepted list keeps its elements,
// in order, when written by the Encoder and when rebuilt as one listpack of
// string entries.
func FuzzListEncodings(f *testing.F) {
	f.Add(listpack(6, lpUint7(5), lpStr("hello"), lpInt13(-100), lpInt(0xF1, -30000), lpInt(0xF3, 1<<30), lpInt(0xF4, 1<<40)), uint8(0))
	f.Add(listpack(0xFFFF, lpStr(strings.Repeat("m", 70)), lpStr(""), lpStr("a"), lpStr("a")), uint8(4))
	f.Add([]byte("plain element"), uint8(1))
	f.Add(ziplist(4, false, zlStr("a"), zlInt(0xC0, -300), zlStr(strings.Repeat("b", 70)), zlImm(3)), uint8(2))
	f.Add(ziplist(0xFFFF, true, zlInt(0xE0, 1<<40), zlInt(0xF0, -5), zlStr(""), zlInt(0xFE, 1)), uint8(3))
	f.Add(listpack(0), uint8(6))
	f.Fuzz(func(t *testing.T, blob []byte, mode uint8) {
		var body []byte
		var tail []string // the second node's elements, if any
		switch mode % 4 {
		case 0:
			body = quicklist2("l", packedNode(blob))
		case 1:
			body = quicklist2("l", plainNode(string(blob)))
		case 2:
			body = quicklist1("l", blob)
		default:
			body = setObj(typeListZiplist, "l", blob)
		}
		if mode&4 != 0 && mode%4 != 3 {
			tail = []string{"t", "1"}
			body[2+len("l")]++ // one more node
			if mode%4 == 2 {
				body = append(body, rawStr(string(ziplist(2, false, zlStr("t"), zlImm(1))))...)
			} else {
				body = append(body, packedNode(listpack(2, lpStr("t"), lpUint7(1)))...)
			}
		}
		got, _, err := decodeAll(rdbFile(10, body), DecoderOptions{})
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		if len(got) == 0 {
			return // empty: skipped
		}
		require.Len(t, got, 1)
		r := got[0]
		require.Equal(t, KindList, r.Kind)
		require.GreaterOrEqual(t, len(r.Members), len(tail))
		require.Equal(t, tail, nilIfEmpty(r.Members[len(r.Members)-len(tail):]))
		var entries [][]byte
		for _, m := range r.Members {
			entries = append(entries, lpStr(m))
		}
		again, _, err := decodeAll(encode(t, nil, got), DecoderOptions{})
		require.NoError(t, err)
		require.Equal(t, got, again)
		rebuilt, _, err := decodeAll(rdbFile(10, quicklist2("l", packedNode(listpack(min(len(entries), 0xFFFF), entries...)))), DecoderOptions{})
		require.NoError(t, err)
		require.Equal(t, got, rebuilt)
	})
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
