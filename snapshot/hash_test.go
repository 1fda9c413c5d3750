package snapshot

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ziplist and zipmap builders (the formats Redis 3.2-6.2 and Redis before
// 2.6 wrote; see parseZiplist and parseZipmap).

// zlStr encodes a ziplist string entry's encoding and data (no prevlen).
func zlStr(s string) []byte {
	n := len(s)
	switch {
	case n < 64:
		return append([]byte{byte(n)}, s...)
	case n < 16384:
		return append([]byte{0x40 | byte(n>>8), byte(n)}, s...)
	}
	return append(binary.BigEndian.AppendUint32([]byte{0x80}, uint32(n)), s...)
}

// zlInt encodes a ziplist integer entry with encoding byte code.
func zlInt(code byte, v int64) []byte {
	width := map[byte]int{0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}[code]
	b := []byte{code}
	for i := range width {
		b = append(b, byte(uint64(v)>>(8*i)))
	}
	return b
}

// zlImm is the immediate encoding of 0..12.
func zlImm(v int) []byte { return []byte{0xF1 + byte(v)} }

// ziplist frames entries (encoding and data each) with prevlens and the
// header; count 0xFFFF means unknown. bigPrev forces 5-byte prevlens.
func ziplist(count int, bigPrev bool, entries ...[]byte) []byte {
	b := make([]byte, 10)
	prev, last := 0, 10
	for _, e := range entries {
		start := len(b)
		if prev < 254 && !bigPrev {
			b = append(b, byte(prev))
		} else {
			b = binary.LittleEndian.AppendUint32(append(b, 0xFE), uint32(prev))
		}
		b = append(b, e...)
		prev, last = len(b)-start, start
	}
	b = append(b, 0xFF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(last))
	binary.LittleEndian.PutUint16(b[8:], uint16(count))
	return b
}

func zmLen(n int) []byte {
	if n < 254 {
		return []byte{byte(n)}
	}
	return binary.LittleEndian.AppendUint32([]byte{254}, uint32(n))
}

// zipmap builds a zipmap of pairs, each value followed by free bytes.
func zipmap(count int, free int, pairs ...string) []byte {
	b := []byte{byte(count)}
	for i := 0; i+1 < len(pairs); i += 2 {
		b = append(b, zmLen(len(pairs[i]))...)
		b = append(b, pairs[i]...)
		b = append(b, zmLen(len(pairs[i+1]))...)
		b = append(b, byte(free))
		b = append(b, pairs[i+1]...)
		b = append(b, make([]byte, free)...)
	}
	return append(b, 0xFF)
}

func hashRec(key string, pairs ...string) rec {
	return rec{Key: key, Kind: KindHash, Fields: pairs}
}

func TestGoldenHashes(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name string
		body []byte
		want []rec
	}{
		{"hash table", cat([]byte{typeHash}, rawStr("h"), []byte{2}, rawStr("f"), []byte{0xC0, 7}, rawStr(""), rawStr(long)),
			[]rec{hashRec("h", "f", "7", "", long)}},
		{"listpack", setObj(typeHashListpack, "h", listpack(6, lpStr("a"), lpUint7(5), lpStr("b"), lpInt13(-100), lpInt(0xF4, 1<<40), lpStr(""))),
			[]rec{hashRec("h", "a", "5", "b", "-100", "1099511627776", "")}},
		{"listpack unknown count", setObj(typeHashListpack, "h", listpack(0xFFFF, lpStr("a"), lpStr("b"))), []rec{hashRec("h", "a", "b")}},
		{"ziplist", setObj(typeHashZiplist, "h", ziplist(12,
			false, zlStr("s"), zlStr("hello"), zlStr("i16"), zlInt(0xC0, -30000), zlStr("i32"), zlInt(0xD0, 1<<30),
			zlStr("i64"), zlInt(0xE0, -1<<40), zlStr("i24"), zlInt(0xF0, -8000000), zlStr("imm"), zlImm(12))),
			[]rec{hashRec("h", "s", "hello", "i16", "-30000", "i32", "1073741824", "i64", "-1099511627776", "i24", "-8000000", "imm", "12")}},
		{"ziplist long entries", setObj(typeHashZiplist, "h", ziplist(4, false, zlStr(long), zlInt(0xFE, -7), zlStr("z"), zlImm(0))),
			[]rec{hashRec("h", long, "-7", "z", "0")}},
		{"ziplist 5-byte prevlens, unknown count", setObj(typeHashZiplist, "h", ziplist(0xFFFF, true, zlStr("a"), zlStr(strings.Repeat("b", 20000)))),
			[]rec{hashRec("h", "a", strings.Repeat("b", 20000))}},
		{"zipmap", setObj(typeHashZipmap, "h", zipmap(2, 3, "f", "v", "field", long)), []rec{hashRec("h", "f", "v", "field", long)}},
		{"zipmap unknown count", setObj(typeHashZipmap, "h", zipmap(254, 0, "a", "")), []rec{hashRec("h", "a", "")}},
		{"hash with expiry", cat([]byte{opExpireTimeMs}, binary.LittleEndian.AppendUint64(nil, 1700000000123),
			[]byte{typeHash}, rawStr("h"), []byte{1}, rawStr("f"), rawStr("v")),
			[]rec{{Key: "h", Kind: KindHash, Fields: []string{"f", "v"}, ExpireMs: 1700000000123}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := rdbFile(10, tt.body)
			got, _, err := decodeAll(data, DecoderOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			got, _, err = decodeFrom(onlyReader{bytes.NewReader(data)}, DecoderOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestHashDecodeErrors(t *testing.T) {
	zl := ziplist(2, false, zlStr("a"), zlStr("b"))
	badPrev := bytes.Clone(zl)
	badPrev[10+3] = 9 // second entry's prevlen
	badTail := bytes.Clone(zl)
	badTail[4]++
	tests := []struct {
		name string
		body []byte
		msg  string
	}{
		{"odd listpack", setObj(typeHashListpack, "h", listpack(3, lpStr("a"), lpStr("b"), lpStr("c"))), "not field and value pairs"},
		{"duplicate field", cat([]byte{typeHash}, rawStr("h"), []byte{2}, rawStr("f"), rawStr("1"), rawStr("f"), rawStr("2")), `duplicate hash field "f"`},
		{"duplicate listpack field", setObj(typeHashListpack, "h", listpack(4, lpStr("f"), lpStr("1"), lpStr("f"), lpStr("2"))), `duplicate hash field "f"`},
		{"truncated hash table", cat([]byte{typeHash}, rawStr("h"), []byte{2}, rawStr("f"), rawStr("1")), "hash field"},
		{"ziplist prevlen", setObj(typeHashZiplist, "h", badPrev), "previous length"},
		{"ziplist tail", setObj(typeHashZiplist, "h", badTail), "tail offset"},
		{"ziplist count", setObj(typeHashZiplist, "h", ziplist(4, false, zlStr("a"), zlStr("b"))), "says 4 entries"},
		{"ziplist odd", setObj(typeHashZiplist, "h", ziplist(1, false, zlStr("a"))), "not field and value pairs"},
		{"ziplist bad encoding", setObj(typeHashZiplist, "h", ziplist(2, false, zlStr("a"), []byte{0xC1})), "bad encoding"},
		{"ziplist overrun", setObj(typeHashZiplist, "h", ziplist(2, false, zlStr("a"), []byte{0x3F, 'x'})), "overruns"},
		{"ziplist short", setObj(typeHashZiplist, "h", []byte{1, 2, 3}), "shorter than header"},
		{"zipmap count", setObj(typeHashZipmap, "h", zipmap(3, 0, "a", "b")), "says 3 pairs"},
		{"zipmap overrun", setObj(typeHashZipmap, "h", []byte{1, 1, 'a', 9, 0, 'b', 0xFF}), "overruns"},
		{"zipmap free overrun", setObj(typeHashZipmap, "h", []byte{1, 1, 'a', 1, 200, 'b', 0xFF}), "overruns"},
		{"zipmap no end", setObj(typeHashZipmap, "h", []byte{1, 1, 'a', 1, 0, 'b'}), "no end mark"},
		{"zipmap huge length", setObj(typeHashZipmap, "h", []byte{1, 254, 0xFF, 0xFF, 0xFF, 0x7F, 'a', 0xFF}), "beyond the zipmap"},
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

func TestEmptyHashSkipped(t *testing.T) {
	next := strKey("after", rawStr("ok"))
	for name, body := range map[string][]byte{
		"hash table": cat([]byte{typeHash}, rawStr("h"), []byte{0}),
		"listpack":   setObj(typeHashListpack, "h", listpack(0)),
		"ziplist":    setObj(typeHashZiplist, "h", ziplist(0, false)),
		"zipmap":     setObj(typeHashZipmap, "h", zipmap(0, 0)),
	} {
		t.Run(name, func(t *testing.T) {
			var skipped []string
			got, _, err := decodeAll(rdbFile(10, body, next), DecoderOptions{OnSkip: func(_ int, key []byte, typ string) {
				skipped = append(skipped, typ+":"+string(key))
			}})
			require.NoError(t, err)
			assert.Equal(t, []rec{{Key: "after", Str: "ok"}}, got)
			assert.Equal(t, []string{"empty hash:h"}, skipped)
		})
	}
}

func TestEncoderRejectsBadHashes(t *testing.T) {
	for _, fields := range [][]string{nil, {"f"}, {"f", "v", "g"}} {
		var buf bytes.Buffer
		e := NewEncoder(&buf)
		require.NoError(t, e.WriteHeader(nil))
		err := e.WriteRecord(toRecord(rec{Key: "h", Kind: KindHash, Fields: fields}))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "hash of")
	}
}

// TestHashRoundTrip writes hashes of every size class and reads them back
// in order.
func TestHashRoundTrip(t *testing.T) {
	var big []string
	for i := range 700 {
		big = append(big, "field:"+string(rune('a'+i%26))+string(rune('a'+i/26)), strings.Repeat("v", i))
	}
	recs := []rec{
		hashRec("small", "a", "1", "b", "", "", "c"),
		hashRec("ints", "1", "2", "-3", "9223372036854775807"),
		{DB: 2, Key: "big", Kind: KindHash, Fields: big, ExpireMs: 1800000000000},
	}
	got, _, err := decodeAll(encode(t, nil, recs), DecoderOptions{})
	require.NoError(t, err)
	assert.Equal(t, recs, got)
}

// FuzzHashEncodings feeds arbitrary blobs to the ziplist and zipmap
// parsers: they never panic, and an accepted blob rebuilt from its
// elements (as strings) parses to the same elements.
func FuzzHashEncodings(f *testing.F) {
	f.Add(ziplist(4, false, zlStr("a"), zlInt(0xC0, -300), zlStr(strings.Repeat("b", 70)), zlImm(3)))
	f.Add(ziplist(0xFFFF, true, zlInt(0xE0, 1<<40), zlInt(0xF0, -5), zlInt(0xD0, 7), zlInt(0xFE, 1)))
	f.Add(zipmap(2, 3, "f", "v", "g", ""))
	f.Add(zipmap(254, 0, strings.Repeat("k", 300), "v"))
	strs := func(ms [][]byte) []string {
		var out []string
		for _, m := range ms {
			out = append(out, string(m))
		}
		return out
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		d := &Decoder{}
		if d.parseZiplist(blob) == nil {
			want := strs(d.members)
			var entries [][]byte
			for _, m := range want {
				entries = append(entries, zlStr(m))
			}
			d2 := &Decoder{}
			require.NoError(t, d2.parseZiplist(ziplist(len(entries), false, entries...)))
			require.Equal(t, want, strs(d2.members))
		}
		d = &Decoder{}
		if d.parseZipmap(blob) == nil {
			want := strs(d.members)
			require.Zero(t, len(want)%2)
			d2 := &Decoder{}
			count := len(want) / 2
			if count >= 254 {
				count = 254
			}
			require.NoError(t, d2.parseZipmap(zipmap(count, 0, want...)))
			require.Equal(t, want, strs(d2.members))
		}
	})
}

// TestHashSaveLoadThroughKeyspace saves small (packed) and large (map)
// hashes from a keyspace and loads them into another: pairs, order of a
// small hash, and deadlines survive.
func TestHashSaveLoadThroughKeyspace(t *testing.T) {
	src := newKS(t, nil)
	small := [][]byte{[]byte("creationTime"), []byte("1718000000000"), []byte(""), []byte(""), []byte("z"), []byte("1")}
	_, err := src.HSet(0, []byte("sess"), small)
	require.NoError(t, err)
	var large [][]byte
	for i := range 600 {
		large = append(large, []byte("f"+strings.Repeat("x", i%10)+string(rune('a'+i%26))+string(rune('a'+i/26))), []byte(strings.Repeat("v", i%100)))
	}
	_, err = src.HSet(3, []byte("big"), large)
	require.NoError(t, err)
	require.True(t, src.Expire(3, []byte("big"), src.NowMs()+60_000, 0))

	var buf bytes.Buffer
	n, err := Save(&buf, src, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	dst := newKS(t, nil)
	st, err := Load(bytes.NewReader(buf.Bytes()), dst, LoadOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 2, st.Keys)

	got, err := dst.HGetAll(0, []byte("sess"))
	require.NoError(t, err)
	assert.Equal(t, small, got, "a small hash keeps its order")
	want, err := src.HGetAll(3, []byte("big"))
	require.NoError(t, err)
	got, err = dst.HGetAll(3, []byte("big"))
	require.NoError(t, err)
	assert.Equal(t, pairMap(strsOfBytes(want)), pairMap(strsOfBytes(got)))
	d, _ := dst.Deadline(3, []byte("big"))
	sd, _ := src.Deadline(3, []byte("big"))
	assert.Equal(t, sd, d)
}

func strsOfBytes(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}
