package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecoder feeds arbitrary bytes to the Decoder. Properties: it never
// panics; it never allocates far beyond the input (readers with and without
// a known size); and when a file decodes cleanly, its records re-encode and
// decode to the same records.
func FuzzDecoder(f *testing.F) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 4 {
		recs := randRecords(rng, 6)
		for i := range recs { // keep seeds small
			if len(recs[i].Str) > 100 {
				recs[i].Str = recs[i].Str[:100]
			}
			for j, m := range recs[i].Members {
				if recs[i].Kind == KindList && len(m) > 100 { // set members must stay distinct
					recs[i].Members[j] = m[:100]
				}
			}
			if len(recs[i].Members) > 20 {
				recs[i].Members = recs[i].Members[:20]
				if recs[i].Scores != nil {
					recs[i].Scores = recs[i].Scores[:20]
				}
			}
		}
		f.Add(encode(f, map[string]string{"redis-ver": "7.0.15", "redis-bits": "64"}, recs))
	}
	for _, body := range [][]byte{
		strKey("k", []byte{0xC0, 0x7B}),
		strKey("k", []byte{0xC2, 0xFF, 0xFF, 0xFF, 0x7F}),
		strKey("k", []byte{0xC3, 5, 36, 0x00, 'a', 0xE0, 26, 0x00}),
		setObj(typeSetIntset, "s", intset(2, -2, 5, 300)),
		setObj(typeSetIntset, "s", intset(8, -1<<40, 0, 1<<40)),
		setObj(typeSetListpack, "s", listpack(6, lpUint7(5), lpStr("hello"), lpInt13(-100),
			lpInt(0xF1, -30000), lpInt(0xF3, 1<<30), lpInt(0xF4, 1<<40))),
		cat([]byte{opSelectDB, 3, opResizeDB, 1, 1, opExpireTimeMs}, binary.LittleEndian.AppendUint64(nil, 1700000000123),
			[]byte{opIdle, 5, opFreq, 7}, strKey("k", rawStr("v"))),
		cat([]byte{typeZset}, rawStr("x"), []byte{1}, rawStr("a"), []byte{3, '1', '.', '5'}),
		cat([]byte{typeZset}, rawStr("x"), []byte{3}, rawStr("a"), []byte{253}, rawStr("b"), []byte{254}, []byte{0xC0, 7}, []byte{255}),
		cat([]byte{typeZset2}, rawStr("x"), []byte{3}, rawStr("a"), binScore(-1.5), []byte{0xC0, 7}, binScore(1.7e12),
			rawStr(strings.Repeat("m", 70)), binScore(math.Inf(1))),
		setObj(typeZsetListpack, "x", listpack(6, lpStr("a"), lpStr("1.5"), lpUint7(7), lpInt(0xF4, 1700000000123),
			lpStr(strings.Repeat("m", 70)), lpStr("-inf"))),
		setObj(typeZsetZiplist, "x", ziplist(4, false, zlStr("a"), zlStr("0.10000000000000001"), zlInt(0xC0, 300), zlImm(3))),
		cat([]byte{typeHash}, rawStr("h"), []byte{2}, rawStr("f"), []byte{0xC0, 7}, rawStr(""), rawStr("v")),
		setObj(typeHashListpack, "h", listpack(4, lpStr("a"), lpUint7(5), lpStr("b"), lpInt13(-100))),
		setObj(typeHashZiplist, "h", ziplist(4, false, zlStr("a"), zlInt(0xC0, -300), zlStr("b"), zlImm(3))),
		setObj(typeHashZipmap, "h", zipmap(1, 2, "f", "v")),
		cat([]byte{typeListQuicklist2}, rawStr("x"), []byte{2, quicklistPacked}, rawStr(string(listpack(3, lpStr("a"), lpUint7(7), lpStr("")))),
			[]byte{quicklistPlain}, rawStr(strings.Repeat("p", 70))),
		cat([]byte{typeListQuicklist}, rawStr("x"), []byte{1}, rawStr(string(ziplist(2, false, zlStr("a"), zlInt(0xC0, -300))))),
		setObj(typeListZiplist, "x", ziplist(2, false, zlStr("a"), zlImm(3))),
		cat([]byte{typeList}, rawStr("x"), []byte{3}, rawStr("a"), []byte{0xC0, 7}, rawStr("a")),
		cat([]byte{typeModule2}, rawStr("x"), []byte{1, moduleOpString}, rawStr("b"), []byte{moduleOpEOF}),
		cat([]byte{opFunction2}, rawStr(testLib1), []byte{opFunction2}, rawStr(testLib2), strKey("k", rawStr("v"))),
		cat([]byte{opFunction2}, []byte{0xC3, 5, 36, 0x00, 'a', 0xE0, 26, 0x00}),
		cat([]byte{opFunctionPreGA}, rawStr("old"), rawStr("LUA"), []byte{1}, rawStr("desc"), rawStr("\nreturn 1")),
		cat([]byte{opFunctionPreGA}, rawStr("old"), rawStr("LUA"), []byte{0}, rawStr("\nreturn 1")),
	} {
		f.Add(rdbFile(10, body))
	}
	f.Add(rdbFile(3, strKey("k", rawStr("v"))))
	for _, s := range streamSeeds(f) {
		f.Add(rdbFile(12, s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		opts := DecoderOptions{SkipUnsupported: len(data)%2 == 0}
		if len(data)%3 == 0 { // libraries read (functions.go), and refused now and then
			opts.OnFunction = func(code []byte) error {
				if len(code) == 7 {
					return errors.New("refused")
				}
				return nil
			}
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, _, err := decodeAll(data, opts)
		got2, _, err2 := decodeFrom(onlyReader{bytes.NewReader(data)}, opts)
		runtime.ReadMemStats(&after)
		// Two read buffers (at most 256 KiB each) plus a bounded multiple of
		// the input: an LZF string may expand 88x, and decoded integers and
		// per-member slice headers cost more than their encoded bytes.
		limit := uint64(2*decBufSize + 1<<20 + 400*len(data))
		require.LessOrEqual(t, after.TotalAlloc-before.TotalAlloc, limit, "allocated for %d input bytes", len(data))
		// Knowing the size changes only how early a bad length is caught.
		require.Equal(t, err == nil, err2 == nil, "sized: %v, unsized: %v", err, err2)
		// The checksum on another goroutine gives the same result.
		copts := opts
		copts.ConcurrentCRC = true
		got3, d3, err3 := decodeFrom(onlyReader{bytes.NewReader(data)}, copts)
		if d3 != nil {
			d3.Close()
		}
		require.Equal(t, fmt.Sprint(err2), fmt.Sprint(err3))
		require.Equal(t, got2, got3)
		if err != nil {
			return
		}
		require.Equal(t, got, got2)
		// Re-encode (grouping by database as the Encoder expects nothing in
		// particular: records carry their DB) and decode again.
		var buf bytes.Buffer
		e := NewEncoder(&buf)
		require.NoError(t, e.WriteHeader(nil))
		for _, r := range got {
			require.NoError(t, e.WriteRecord(toRecord(r)))
		}
		require.NoError(t, e.Close())
		again, _, err := decodeAll(buf.Bytes(), DecoderOptions{})
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}

// FuzzListpack feeds arbitrary blobs to the listpack and intset parsers:
// they never panic, and an accepted listpack rebuilt from its elements (as
// strings) parses to the same elements.
func FuzzListpack(f *testing.F) {
	f.Add(listpack(6, lpUint7(5), lpStr("hello"), lpInt13(-100), lpInt(0xF1, -30000), lpInt(0xF3, 1<<30), lpInt(0xF4, 1<<40)))
	f.Add(listpack(0xFFFF, lpStr(string(make([]byte, 200))), lpInt(0xF2, -5)))
	f.Add(intset(2, -2, 5, 300))
	f.Add(intset(8, -1<<40, 0, 1<<40))
	f.Fuzz(func(t *testing.T, blob []byte) {
		d := &Decoder{}
		_ = d.parseIntset(blob)
		d = &Decoder{}
		if d.parseListpack(blob) != nil {
			return
		}
		var entries [][]byte
		var want []string
		for _, m := range d.members {
			entries = append(entries, lpStr(string(m)))
			want = append(want, string(m))
		}
		d2 := &Decoder{}
		require.NoError(t, d2.parseListpack(listpack(len(entries), entries...)))
		var got []string
		for _, m := range d2.members {
			got = append(got, string(m))
		}
		require.Equal(t, want, got)
	})
}

// FuzzLZF decompresses arbitrary input into buffers of arbitrary size: it
// never panics or writes out of bounds, and succeeds only when the output
// is filled exactly.
func FuzzLZF(f *testing.F) {
	f.Add([]byte{0x00, 'a', 0xE0, 26, 0x00}, uint16(36))
	f.Add([]byte{0x02, 'a', 'b', 'c', 0xE0, 0x00, 0x02, 0x20, 0x05, 0x04, 'x', 'y', 'z', '!', '?'}, uint16(20))
	f.Fuzz(func(t *testing.T, in []byte, n uint16) {
		out := make([]byte, n)
		if err := lzfDecompress(in, out); err != nil {
			require.ErrorIs(t, err, errLZF)
		}
	})
}
