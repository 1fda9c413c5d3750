package snapshot

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/keyspace"
)

// textScore is an RDB_TYPE_ZSET score: a length byte and the text.
func textScore(s string) []byte { return append([]byte{byte(len(s))}, s...) }

// binScore is an RDB_TYPE_ZSET_2 score: an 8-byte little-endian double.
func binScore(f float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(f)) }

func zsetRec(key string, members []string, scores ...float64) rec {
	return rec{Key: key, Kind: KindZSet, Members: members, Scores: scores}
}

func TestGoldenZSets(t *testing.T) {
	long := strings.Repeat("L", 100) // over Redis's 64-byte listpack member limit
	inf, ninf := math.Inf(1), math.Inf(-1)
	tests := []struct {
		name    string
		version int
		body    []byte
		want    []rec
	}{
		{"zset text scores", 6, cat([]byte{typeZset}, rawStr("z"), []byte{8},
			rawStr("zero"), textScore("0"),
			rawStr("neg"), textScore("-1.5"),
			rawStr("big"), textScore("1.0000000000000001e+300"), // %.17g of 1e300
			rawStr("tenth"), textScore("0.10000000000000001"),
			rawStr("inf"), []byte{254},
			[]byte{0xC0, 7}, []byte{255}, // int-encoded member "7", -inf
			rawStr(long), textScore("1700000000123"),
			rawStr(""), textScore("-0")),
			[]rec{zsetRec("z", []string{"zero", "neg", "big", "tenth", "inf", "7", long, ""},
				0, -1.5, 1e300, 0.1, inf, ninf, 1.7e12+123, math.Copysign(0, -1))}},
		{"zset text score out of range is inf, as strtod", 6, cat([]byte{typeZset}, rawStr("z"), []byte{2},
			rawStr("a"), textScore("1e400"), rawStr("b"), textScore("-1e400")),
			[]rec{zsetRec("z", []string{"a", "b"}, inf, ninf)}},
		{"zset2 binary scores, descending as Redis writes them", 10, cat([]byte{typeZset2}, rawStr("z"), []byte{7},
			rawStr("inf"), binScore(inf),
			rawStr("big"), binScore(1e300),
			rawStr(long), binScore(1718000000123),
			[]byte{0xC1, 0x39, 0x30}, binScore(0), // int-encoded member "12345"
			rawStr("tiny"), binScore(-math.SmallestNonzeroFloat64),
			rawStr("neg"), binScore(-1.5),
			rawStr("ninf"), binScore(ninf)),
			[]rec{zsetRec("z", []string{"inf", "big", long, "12345", "tiny", "neg", "ninf"},
				inf, 1e300, 1718000000123, 0, -math.SmallestNonzeroFloat64, -1.5, ninf)}},
		{"zset2 equal scores", 10, cat([]byte{typeZset2}, rawStr("z"), []byte{2}, rawStr("b"), binScore(1), rawStr("a"), binScore(1)),
			[]rec{zsetRec("z", []string{"b", "a"}, 1, 1)}},
		{"listpack", 10, setObj(typeZsetListpack, "z", listpack(16,
			lpStr("ninf"), lpStr("-inf"),
			lpStr("neg"), lpInt13(-100),
			lpInt(0xF1, -30000), lpStr("-1.5"), // integer member
			lpStr("zero"), lpUint7(0),
			lpStr("tenth"), lpStr("0.10000000000000001"),
			lpStr(long), lpInt(0xF4, 1700000000123),
			lpStr("big"), lpStr("1e+300"),
			lpStr("inf"), lpStr("inf"))),
			[]rec{zsetRec("z", []string{"ninf", "neg", "-30000", "zero", "tenth", long, "big", "inf"},
				ninf, -100, -1.5, 0, 0.1, 1.7e12+123, 1e300, inf)}},
		{"listpack unknown count", 10, setObj(typeZsetListpack, "z", listpack(0xFFFF, lpStr("a"), lpStr("2.5"))),
			[]rec{zsetRec("z", []string{"a"}, 2.5)}},
		{"ziplist", 9, setObj(typeZsetZiplist, "z", ziplist(14, false,
			zlStr("ninf"), zlStr("-inf"),
			zlStr("neg"), zlInt(0xFE, -1),
			zlInt(0xC0, 1000), zlStr("-1.5"), // integer member
			zlStr("zero"), zlImm(0),
			zlStr(long), zlInt(0xE0, 1700000000123),
			zlStr("big"), zlStr("1.0000000000000001e+300"),
			zlStr("inf"), zlStr("inf"))),
			[]rec{zsetRec("z", []string{"ninf", "neg", "1000", "zero", long, "big", "inf"},
				ninf, -1, -1.5, 0, 1.7e12+123, 1e300, inf)}},
		{"ziplist 5-byte prevlens, unknown count", 9, setObj(typeZsetZiplist, "z", ziplist(0xFFFF, true,
			zlStr(strings.Repeat("m", 300)), zlInt(0xD0, -1<<30), zlStr("b"), zlInt(0xF0, 8000000))),
			[]rec{zsetRec("z", []string{strings.Repeat("m", 300), "b"}, -1<<30, 8000000)}},
		{"zset with expiry", 10, cat([]byte{opExpireTimeMs}, binary.LittleEndian.AppendUint64(nil, 1700000000123),
			[]byte{typeZset2}, rawStr("z"), []byte{1}, rawStr("m"), binScore(3)),
			[]rec{{Key: "z", Kind: KindZSet, Members: []string{"m"}, Scores: []float64{3}, ExpireMs: 1700000000123}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := rdbFile(tt.version, tt.body)
			got, _, err := decodeAll(data, DecoderOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assertSameSigns(t, tt.want, got)
			got, _, err = decodeFrom(onlyReader{bytes.NewReader(data)}, DecoderOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// assertSameSigns checks what assert.Equal cannot: -0 and 0 compare equal.
func assertSameSigns(t *testing.T, want, got []rec) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Len(t, got[i].Scores, len(want[i].Scores))
		for j, s := range want[i].Scores {
			assert.Equal(t, math.Float64bits(s), math.Float64bits(got[i].Scores[j]), "key %q score %d: %v", want[i].Key, j, got[i].Scores[j])
		}
	}
}

func TestZSetDecodeErrors(t *testing.T) {
	lp := func(entries ...[]byte) []byte {
		return setObj(typeZsetListpack, "z", listpack(len(entries), entries...))
	}
	zl := func(entries ...[]byte) []byte {
		return setObj(typeZsetZiplist, "z", ziplist(len(entries), false, entries...))
	}
	zset2 := func(elems ...[]byte) []byte {
		return cat([]byte{typeZset2}, rawStr("z"), []byte{byte(len(elems) / 2)}, cat(elems...))
	}
	zset1 := func(elems ...[]byte) []byte {
		return cat([]byte{typeZset}, rawStr("z"), []byte{byte(len(elems) / 2)}, cat(elems...))
	}
	tests := []struct {
		name string
		body []byte
		msg  string
	}{
		{"duplicate member", zset2(rawStr("a"), binScore(1), rawStr("a"), binScore(2)), `duplicate zset member "a"`},
		{"duplicate int-encoded member", zset2([]byte{0xC0, 5}, binScore(1), rawStr("5"), binScore(2)), `duplicate zset member "5"`},
		{"duplicate text-score member", zset1(rawStr("a"), textScore("1"), rawStr("a"), textScore("1")), `duplicate zset member "a"`},
		{"duplicate listpack member", lp(lpStr("7"), lpUint7(1), lpUint7(7), lpUint7(2)), `duplicate zset member "7"`},
		{"duplicate ziplist member", zl(zlStr("a"), zlImm(1), zlStr("a"), zlImm(2)), `duplicate zset member "a"`},
		{"NaN binary score", zset2(rawStr("a"), binScore(math.NaN())), `zset member "a" has a NaN score`},
		{"NaN text score 253", zset1(rawStr("a"), []byte{253}), `zset member "a" has a NaN score`},
		{"NaN text score as text", zset1(rawStr("a"), textScore("nan")), `zset member "a" has a NaN score`},
		{"NaN listpack score", lp(lpStr("a"), lpStr("nan")), `zset member "a" has a NaN score`},
		{"NaN ziplist score", zl(zlStr("a"), zlStr("NaN")), `zset member "a" has a NaN score`},
		{"odd listpack", lp(lpStr("a"), lpStr("1"), lpStr("b")), "listpack of 3 elements: not member and score pairs"},
		{"odd ziplist", zl(zlStr("a")), "ziplist of 1 elements: not member and score pairs"},
		{"listpack score not a number", lp(lpStr("a"), lpStr("abc")), `zset member "a" has score "abc", not a number`},
		{"ziplist score not a number", zl(zlStr("a"), zlStr("")), `zset member "a" has score "", not a number`},
		{"text score with trailing bytes", zset1(rawStr("a"), textScore("1.5x")), `zset score "1.5x" is not a number`},
		{"empty text score", zset1(rawStr("a"), textScore("")), `zset score "" is not a number`},
		{"text score with underscore", zset1(rawStr("a"), textScore("1_0")), `zset score "1_0" is not a number`},
		{"text score beyond the file", zset1(rawStr("a"), []byte{200}, []byte("1.5")), "truncated zset score"},
		{"bad listpack", setObj(typeZsetListpack, "z", listpack(3, lpStr("a"), lpStr("1"))), "header says 3 elements"},
		{"bad ziplist", setObj(typeZsetZiplist, "z", []byte{1, 2, 3}), "shorter than header"},
		{"zset size is a string encoding", cat([]byte{typeZset2}, rawStr("z"), []byte{0xC0}), "zset size: string encoding"},
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

// TestZSetTruncated cuts a file of one sorted set of each encoding at every
// byte inside the values: truncation is corruption, never a short set.
func TestZSetTruncated(t *testing.T) {
	for name, body := range map[string][]byte{
		"zset":     cat([]byte{typeZset}, rawStr("z"), []byte{2}, rawStr("a"), textScore("-1.5"), rawStr("b"), []byte{254}),
		"zset2":    cat([]byte{typeZset2}, rawStr("z"), []byte{2}, rawStr("a"), binScore(-1.5), rawStr("b"), binScore(2)),
		"listpack": setObj(typeZsetListpack, "z", listpack(2, lpStr("a"), lpStr("1.5"))),
		"ziplist":  setObj(typeZsetZiplist, "z", ziplist(2, false, zlStr("a"), zlStr("1.5"))),
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

func TestEmptyZSetSkipped(t *testing.T) {
	next := strKey("after", rawStr("ok"))
	for name, body := range map[string][]byte{
		"zset":     cat([]byte{typeZset}, rawStr("z"), []byte{0}),
		"zset2":    cat([]byte{typeZset2}, rawStr("z"), []byte{0}),
		"listpack": setObj(typeZsetListpack, "z", listpack(0)),
		"ziplist":  setObj(typeZsetZiplist, "z", ziplist(0, false)),
	} {
		t.Run(name, func(t *testing.T) {
			var skipped []string
			got, _, err := decodeAll(rdbFile(10, body, next), DecoderOptions{OnSkip: func(_ int, key []byte, typ string) {
				skipped = append(skipped, typ+":"+string(key))
			}})
			require.NoError(t, err)
			assert.Equal(t, []rec{{Key: "after", Str: "ok"}}, got)
			assert.Equal(t, []string{"empty zset:z"}, skipped)
		})
	}
}

// TestLoadDropsEmptyZSetQuietly: Redis drops an empty key on load without
// complaint, so Load neither restores nor counts it as skipped.
func TestLoadDropsEmptyZSetQuietly(t *testing.T) {
	data := rdbFile(10, cat([]byte{typeZset2}, rawStr("z"), []byte{0}), strKey("k", rawStr("v")))
	ks := newKS(t, nil)
	st, err := Load(bytes.NewReader(data), ks, LoadOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Keys)
	assert.Zero(t, st.Skipped)
	assert.Equal(t, keyspace.KindNone, ks.Type(0, []byte("z")))
}

// TestEncoderZSetBytes pins the bytes of RDB_TYPE_ZSET_2: type 5, key, a
// length, then member strings (int-encoded when canonical) and 8-byte
// little-endian doubles, in the Record's order.
func TestEncoderZSetBytes(t *testing.T) {
	data := encode(t, nil, []rec{zsetRec("z", []string{"a", "7"}, 1.5, math.Inf(-1))})
	want := []byte{typeZset2, 1, 'z', 2,
		1, 'a', 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,
		0xC0, 7, 0, 0, 0, 0, 0, 0, 0xF0, 0xFF}
	assert.True(t, bytes.Contains(data, want), "% x", data)
}

func TestEncoderRejectsBadZSets(t *testing.T) {
	tests := []struct {
		name string
		r    rec
		msg  string
	}{
		{"empty", zsetRec("z", nil), "empty zset"},
		{"fewer scores", zsetRec("z", []string{"a", "b"}, 1), "zset of 2 members and 1 scores"},
		{"more scores", zsetRec("z", []string{"a"}, 1, 2), "zset of 1 members and 2 scores"},
		{"NaN", zsetRec("z", []string{"a", "b"}, 1, math.NaN()), `zset member "b" has a NaN score`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := NewEncoder(&buf)
			require.NoError(t, e.WriteHeader(nil))
			n := e.Written()
			err := e.WriteRecord(toRecord(tt.r))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, n, e.Written(), "nothing written")
			assert.Error(t, e.Close(), "errors are sticky")
		})
	}
}

// TestZSetRoundTrip writes sorted sets of every size class and special
// score and reads them back in order, bit for bit.
func TestZSetRoundTrip(t *testing.T) {
	var special []string
	for i := range specialScores {
		special = append(special, "s"+strconv.Itoa(i))
	}
	var big []string
	var bigScores []float64
	for i := range 300 {
		big = append(big, "member:"+strconv.Itoa(i)+strings.Repeat("x", i%80))
		bigScores = append(bigScores, 1.7e12+float64(i)*1000.5)
	}
	recs := []rec{
		zsetRec("special", special, specialScores...),
		zsetRec("ints", []string{"1", "-3", "9223372036854775807", "", strings.Repeat("y", 65)}, math.Copysign(0, -1), 1, 2, 3, 4),
		{DB: 2, Key: "big", Kind: KindZSet, Members: big, Scores: bigScores, ExpireMs: 1800000000000},
	}
	got, _, err := decodeAll(encode(t, nil, recs), DecoderOptions{})
	require.NoError(t, err)
	assert.Equal(t, recs, got)
	assertSameSigns(t, recs, got)
}

// scored is one sorted-set element as a keyspace item yields it.
type scored struct {
	Member string
	Score  float64
}

// zsetItems returns every sorted set of ks as db/key -> elements in the
// keyspace's order, with their deadlines.
func zsetItems(t *testing.T, ks *keyspace.Keyspace) (map[string][]scored, map[string]int64) {
	t.Helper()
	out, deadlines := map[string][]scored{}, map[string]int64{}
	for db := range keyspace.NumDBs {
		require.NoError(t, ks.Walk(db, func(items []keyspace.Item) error {
			for i := range items {
				it := &items[i]
				if it.Kind != keyspace.KindZSet {
					continue
				}
				k := strconv.Itoa(db) + "/" + it.Key
				var els []scored
				it.EachScored(func(m []byte, s float64) { els = append(els, scored{string(m), s}) })
				require.Len(t, els, it.ZSetLen())
				out[k], deadlines[k] = els, it.Deadline
			}
			return nil
		}))
	}
	return out, deadlines
}

// TestZSetSaveLoadThroughKeyspace saves sorted sets from a keyspace (small,
// large, special scores, long members, deadlines) and loads them into
// another: every element, score and deadline survives, and the file holds
// each set in descending order, as Redis writes it.
func TestZSetSaveLoadThroughKeyspace(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	src := newKS(t, clk)
	now := clk.Now().UnixMilli()
	bs := func(ss []string) [][]byte {
		out := make([][]byte, len(ss))
		for i, s := range ss {
			out[i] = []byte(s)
		}
		return out
	}
	var special []string
	for i := range specialScores {
		special = append(special, "s"+strconv.Itoa(i))
	}
	src.RestoreZSet(0, []byte("special"), bs(special), specialScores, 0)
	src.RestoreZSet(0, []byte("sess:lastseen"), bs([]string{"alice", "bob", strings.Repeat("c", 100)}),
		[]float64{1718000000123, 1718000000001, 1718000000123}, now+60_000)
	var big []string
	var bigScores []float64
	for i := range 500 {
		big = append(big, "m"+strconv.Itoa(i*7919%500))
		bigScores = append(bigScores, float64(i%50)-25.5)
	}
	src.RestoreZSet(7, []byte("big"), bs(big), bigScores, now+3_600_000)
	src.RestoreZSet(7, []byte("gone"), bs([]string{"x"}), []float64{1}, now+1000)
	_, err := src.Set(7, []byte("str"), []byte("v"), keyspace.SetArgs{})
	require.NoError(t, err)

	var buf bytes.Buffer
	n, err := Save(&buf, src, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 5, n)

	// In the file: type 5, descending (score, member).
	got, _, err := decodeAll(buf.Bytes(), DecoderOptions{})
	require.NoError(t, err)
	zsets := 0
	for _, r := range got {
		if r.Kind != KindZSet {
			continue
		}
		zsets++
		assert.True(t, bytes.Contains(buf.Bytes(), cat([]byte{typeZset2}, rawStr(r.Key))), "key %q is RDB_TYPE_ZSET_2", r.Key)
		for i := 1; i < len(r.Members); i++ {
			a, b := r.Scores[i-1], r.Scores[i]
			assert.True(t, a > b || a == b && r.Members[i-1] > r.Members[i], "key %q: element %d (%q %v) after (%q %v)",
				r.Key, i, r.Members[i], b, r.Members[i-1], a)
		}
	}
	assert.Equal(t, 4, zsets)

	clk.Advance(2 * time.Second) // "gone" has expired by the load
	dst := newKS(t, clk)
	st, err := Load(bytes.NewReader(buf.Bytes()), dst, LoadOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 4, st.Keys)
	assert.EqualValues(t, 1, st.Expired)
	want, wantDeadlines := zsetItems(t, src)
	delete(want, "7/gone")
	delete(wantDeadlines, "7/gone")
	have, haveDeadlines := zsetItems(t, dst)
	assert.Equal(t, want, have)
	assert.Equal(t, wantDeadlines, haveDeadlines)
	for k, els := range want {
		for i, e := range els {
			assert.Equal(t, math.Signbit(e.Score), math.Signbit(have[k][i].Score), "%s %q", k, e.Member)
		}
	}
	assert.Len(t, want["7/big"], 500)
	assert.Equal(t, keyspace.KindZSet, dst.Type(0, []byte("special")))
	assert.Zero(t, dst.Dirty(), "a loaded key is not a change since the last save")
}

// FuzzZSetEncodings feeds arbitrary blobs to the Decoder as listpack and
// ziplist sorted sets: it never panics, and an accepted set keeps its
// members and the exact bits of its scores when written as RDB_TYPE_ZSET_2
// and when rebuilt as a listpack of scores printed in Go's shortest form.
func FuzzZSetEncodings(f *testing.F) {
	f.Add(listpack(6, lpStr("a"), lpStr("1.5"), lpUint7(7), lpInt(0xF4, 1700000000123), lpStr(strings.Repeat("m", 70)), lpStr("-inf")), false)
	f.Add(listpack(4, lpStr("a"), lpStr("0.10000000000000001"), lpStr("b"), lpStr("1e+300")), false)
	f.Add(ziplist(4, false, zlStr("a"), zlStr("-0"), zlInt(0xC0, 300), zlInt(0xE0, -1<<40)), true)
	f.Add(ziplist(0xFFFF, true, zlStr("a"), zlStr("inf"), zlStr("b"), zlImm(3)), true)
	f.Fuzz(func(t *testing.T, blob []byte, isZiplist bool) {
		typ := byte(typeZsetListpack)
		if isZiplist {
			typ = typeZsetZiplist
		}
		got, _, err := decodeAll(rdbFile(10, setObj(typ, "z", blob)), DecoderOptions{})
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		if len(got) == 0 {
			return // empty: skipped
		}
		require.Len(t, got, 1)
		r := got[0]
		require.Len(t, r.Scores, len(r.Members))
		var entries [][]byte
		for i, m := range r.Members {
			require.False(t, math.IsNaN(r.Scores[i]))
			entries = append(entries, lpStr(m), lpStr(strconv.FormatFloat(r.Scores[i], 'g', -1, 64)))
		}
		again, _, err := decodeAll(encode(t, nil, got), DecoderOptions{})
		require.NoError(t, err)
		count := min(len(entries), 0xFFFF) // 0xFFFF: "unknown"
		rebuilt, _, err := decodeAll(rdbFile(10, setObj(typeZsetListpack, "z", listpack(count, entries...))), DecoderOptions{})
		require.NoError(t, err)
		for _, other := range [][]rec{again, rebuilt} {
			require.Equal(t, got, other)
			for i, s := range r.Scores {
				require.Equal(t, math.Float64bits(s), math.Float64bits(other[0].Scores[i]))
			}
		}
	})
}
