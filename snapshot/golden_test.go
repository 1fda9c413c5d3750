package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Listpack builders (listpack.c's format, written out by hand).
func lpStr(s string) []byte {
	n := len(s)
	switch {
	case n < 64:
		return append([]byte{0x80 | byte(n)}, s...)
	case n < 4096:
		return append([]byte{0xE0 | byte(n>>8), byte(n)}, s...)
	}
	return append(binary.LittleEndian.AppendUint32([]byte{0xF0}, uint32(n)), s...)
}

func lpUint7(v int) []byte { return []byte{byte(v)} }

func lpInt13(v int) []byte { return []byte{0xC0 | byte(uint16(v)>>8)&0x1F, byte(v)} }

// lpInt encodes v with code 0xF1..0xF4 (16, 24, 32, 64 bits).
func lpInt(code byte, v int64) []byte {
	width := [...]int{2, 3, 4, 8}[code-0xF1]
	b := []byte{code}
	for i := range width {
		b = append(b, byte(uint64(v)>>(8*i)))
	}
	return b
}

func listpack(count int, entries ...[]byte) []byte {
	b := make([]byte, 6)
	for _, e := range entries {
		b = append(b, e...)
		b = appendBacklen(b, uint64(len(e)))
	}
	b = append(b, lpEOF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], uint16(count))
	return b
}

func intset(enc int, vals ...int64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(enc))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vals)))
	for _, v := range vals {
		for i := range enc {
			b = append(b, byte(uint64(v)>>(8*i)))
		}
	}
	return b
}

func setObj(t byte, key string, blob []byte) []byte {
	return cat([]byte{t}, rawStr(key), rawStr(string(blob)))
}

func TestGoldenValues(t *testing.T) {
	long := strings.Repeat("x", 5000)
	mid := strings.Repeat("m", 100)
	tests := []struct {
		name    string
		body    []byte
		version int
		want    []rec
	}{
		{name: "int8", body: strKey("k", []byte{0xC0, 0x7B}), want: []rec{{Key: "k", Str: "123"}}},
		{name: "int8 negative", body: strKey("k", []byte{0xC0, 0xFB}), want: []rec{{Key: "k", Str: "-5"}}},
		{name: "int16", body: strKey("k", []byte{0xC1, 0x39, 0x30}), want: []rec{{Key: "k", Str: "12345"}}},
		{name: "int16 min", body: strKey("k", []byte{0xC1, 0x00, 0x80}), want: []rec{{Key: "k", Str: "-32768"}}},
		{name: "int32", body: strKey("k", []byte{0xC2, 0xFF, 0xFF, 0xFF, 0x7F}), want: []rec{{Key: "k", Str: "2147483647"}}},
		{name: "int32 negative", body: strKey("k", []byte{0xC2, 0x00, 0x00, 0x00, 0x80}), want: []rec{{Key: "k", Str: "-2147483648"}}},
		{name: "int-encoded key", body: cat([]byte{typeString, 0xC0, 7}, rawStr("v")), want: []rec{{Key: "7", Str: "v"}}},
		{name: "14-bit length", body: strKey("k", cat([]byte{0x40 | 0x01, 0x2C}, []byte(strings.Repeat("a", 300)))), want: []rec{{Key: "k", Str: strings.Repeat("a", 300)}}},
		{name: "32-bit length", body: strKey("k", cat([]byte{0x80, 0, 0, 0, 3}, []byte("abc"))), want: []rec{{Key: "k", Str: "abc"}}},
		{name: "64-bit length", body: strKey("k", cat([]byte{0x81, 0, 0, 0, 0, 0, 0, 0, 2}, []byte("ab"))), want: []rec{{Key: "k", Str: "ab"}}},
		{
			// "a" literally, then one back reference of 35 bytes at distance 1.
			name: "LZF run", body: strKey("k", []byte{0xC3, 5, 36, 0x00, 'a', 0xE0, 26, 0x00}),
			want: []rec{{Key: "k", Str: strings.Repeat("a", 36)}},
		},
		{
			// literal "abc"; 9 bytes from 3 back (overlapping: abcabcabc);
			// 3 bytes from 6 back ("abc"); literal "xyz!?".
			name: "LZF mixed",
			body: strKey("k", []byte{0xC3, 15, 20,
				0x02, 'a', 'b', 'c',
				0xE0, 0x00, 0x02,
				0x20, 0x05,
				0x04, 'x', 'y', 'z', '!', '?'}),
			want: []rec{{Key: "k", Str: "abcabcabcabcabcxyz!?"}},
		},
		{name: "set", body: cat([]byte{typeSet}, rawStr("s"), []byte{3, 0xC0, 1}, rawStr("b"), rawStr("")), want: []rec{{Key: "s", Kind: KindSet, Members: []string{"1", "b", ""}}}},
		{name: "intset 16", body: setObj(typeSetIntset, "s", intset(2, -2, 5, 300)), want: []rec{{Key: "s", Kind: KindSet, Members: []string{"-2", "5", "300"}}}},
		{name: "intset 32", body: setObj(typeSetIntset, "s", intset(4, -70000, 1, 70000)), want: []rec{{Key: "s", Kind: KindSet, Members: []string{"-70000", "1", "70000"}}}},
		{name: "intset 64", body: setObj(typeSetIntset, "s", intset(8, -1<<40, 0, 1<<40, 1<<63-1)), want: []rec{{Key: "s", Kind: KindSet, Members: []string{"-1099511627776", "0", "1099511627776", "9223372036854775807"}}}},
		{
			name: "listpack all encodings",
			body: setObj(typeSetListpack, "s", listpack(14,
				lpUint7(5), lpUint7(127), lpStr("hello"), lpStr(""), lpInt13(-100), lpInt13(4000),
				lpStr(mid), lpStr(long), lpInt(0xF1, -30000), lpInt(0xF2, 8000000), lpInt(0xF2, -8000000),
				lpInt(0xF3, -2000000000), lpInt(0xF4, 1<<40), lpInt(0xF4, -1<<63))),
			want: []rec{{Key: "s", Kind: KindSet, Members: []string{"5", "127", "hello", "", "-100", "4000", mid, long,
				"-30000", "8000000", "-8000000", "-2000000000", "1099511627776", "-9223372036854775808"}}},
		},
		{name: "listpack unknown count", body: setObj(typeSetListpack, "s", listpack(0xFFFF, lpStr("a"), lpStr("b"))), want: []rec{{Key: "s", Kind: KindSet, Members: []string{"a", "b"}}}},
		{
			name: "opcodes before key",
			body: cat([]byte{opSelectDB, 3, opResizeDB, 1, 1, opAux}, rawStr("x"), []byte{0xC0, 9},
				[]byte{opExpireTimeMs}, binary.LittleEndian.AppendUint64(nil, 1700000000123),
				[]byte{opIdle, 0x40, 0x10, opFreq, 7}, strKey("k", rawStr("v"))),
			want: []rec{{DB: 3, Key: "k", Str: "v", ExpireMs: 1700000000123}},
		},
		{
			name: "expire in seconds",
			body: cat([]byte{opExpireTime}, binary.LittleEndian.AppendUint32(nil, 1700000000), strKey("k", rawStr("v")), strKey("n", rawStr("w"))),
			want: []rec{{Key: "k", Str: "v", ExpireMs: 1700000000000}, {Key: "n", Str: "w"}},
		},
		{
			name: "expire -1 means none, 0 means long expired",
			body: cat([]byte{opExpireTimeMs}, binary.LittleEndian.AppendUint64(nil, 1<<64-1), strKey("a", rawStr("v")),
				[]byte{opExpireTimeMs}, make([]byte, 8), strKey("b", rawStr("v"))),
			want: []rec{{Key: "a", Str: "v"}, {Key: "b", Str: "v", ExpireMs: 1}},
		},
		{name: "version 3 has no checksum", version: 3, body: strKey("k", rawStr("v")), want: []rec{{Key: "k", Str: "v"}}},
		{name: "version 11", version: 11, body: strKey("k", rawStr("v")), want: []rec{{Key: "k", Str: "v"}}},
		{name: "version 12 slot info", version: 12, body: cat([]byte{opSlotInfo, 1, 2, 3}, strKey("k", rawStr("v"))), want: []rec{{Key: "k", Str: "v"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.version
			if v == 0 {
				v = 10
			}
			data := rdbFile(v, tt.body)
			got, _, err := decodeAll(data, DecoderOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			got, _, err = decodeFrom(onlyReader{bytes.NewReader(data)}, DecoderOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestChecksumZeroAccepted(t *testing.T) {
	data := rdbFile(10, strKey("k", rawStr("v")))
	clear(data[len(data)-8:])
	got, _, err := decodeAll(data, DecoderOptions{})
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

func TestAuxBeforeFirstNext(t *testing.T) {
	data := rdbFile(10, []byte{opAux}, rawStr("redis-bits"), []byte{0xC0, 64}, []byte{opAux}, rawStr("redis-ver"), rawStr("7.2.4"))
	d, err := NewDecoder(bytes.NewReader(data), DecoderOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"redis-bits": "64", "redis-ver": "7.2.4"}, d.Aux())
	_, err = d.Next()
	assert.ErrorIs(t, err, io.EOF)
	_, err = d.Next()
	assert.ErrorIs(t, err, io.EOF, "io.EOF is sticky")
}

func TestDecodeErrors(t *testing.T) {
	good := rdbFile(10, strKey("k", rawStr("v")))
	badSum := bytes.Clone(good)
	badSum[len(badSum)-1] ^= 1
	tests := []struct {
		name   string
		data   []byte
		target error
		msg    string
	}{
		{"empty", nil, ErrNotRDB, "offset 0"},
		{"bad magic", []byte("RUDIS0010\xff"), ErrNotRDB, "bad magic"},
		{"bad version digits", []byte("REDIS00a1\xff"), ErrVersion, "bad version"},
		{"version 0", rdbFile(0), ErrVersion, "version 0"},
		{"version 13", rdbFile(13), ErrVersion, "version 13"},
		{"bad checksum", badSum, ErrChecksum, "checksum"},
		{"no checksum", good[:len(good)-8], ErrCorrupt, "truncated checksum"},
		{"garbage opcode", rdbFile(10, []byte{8}, rawStr("k")), ErrCorrupt, "unknown opcode or value type 0x08"},
		{"garbage opcode 0xF3", rdbFile(10, []byte{0xF3}), ErrCorrupt, "0xf3"},
		{"bad length prefix", rdbFile(10, []byte{typeString, 0x82}), ErrCorrupt, "bad length prefix 0x82"},
		{"unknown string encoding", rdbFile(10, []byte{typeString, 0xC4}), ErrCorrupt, "unknown string encoding 4"},
		{"length beyond file", rdbFile(10, []byte{typeString, 0x80, 0x7F, 0, 0, 0}), ErrCorrupt, "truncated key"},
		{"db 16", rdbFile(10, []byte{opSelectDB, 16}), ErrCorrupt, "SELECTDB 16"},
		{"duplicate set member", rdbFile(10, []byte{typeSet}, rawStr("s"), []byte{2}, rawStr("a"), rawStr("a")), ErrCorrupt, `duplicate set member "a"`},
		{"duplicate int member", rdbFile(10, []byte{typeSet}, rawStr("s"), []byte{2, 0xC0, 5}, rawStr("5")), ErrCorrupt, "duplicate"},
		{"intset unsorted", rdbFile(10, setObj(typeSetIntset, "s", intset(2, 5, 1))), ErrCorrupt, "not above"},
		{"intset bad encoding", rdbFile(10, setObj(typeSetIntset, "s", intset(3, 1))), ErrCorrupt, "intset encoding 3"},
		{"intset short", rdbFile(10, setObj(typeSetIntset, "s", intset(2, 1, 2)[:10])), ErrCorrupt, "claims 2 elements"},
		{"listpack bad total", rdbFile(10, setObj(typeSetListpack, "s", listpack(1, lpStr("a"))[1:])), ErrCorrupt, "listpack"},
		{"listpack bad count", rdbFile(10, setObj(typeSetListpack, "s", listpack(3, lpStr("a")))), ErrCorrupt, "header says 3 elements"},
		{"listpack bad backlen", rdbFile(10, setObj(typeSetListpack, "s", func() []byte { b := listpack(1, lpStr("ab")); b[9] = 9; return b }())), ErrCorrupt, "back length"},
		{"listpack dup", rdbFile(10, setObj(typeSetListpack, "s", listpack(2, lpUint7(1), lpStr("1")))), ErrCorrupt, "duplicate"},
		{"LZF bad data", rdbFile(10, strKey("k", []byte{0xC3, 2, 10, 0x20, 0x00})), ErrCorrupt, "LZF"},
		{"LZF short output", rdbFile(10, strKey("k", []byte{0xC3, 2, 3, 0x00, 'a'})), ErrCorrupt, "1 bytes decoded, 3 announced"},
		{"LZF impossible ratio", rdbFile(10, strKey("k", []byte{0xC3, 1, 0x80, 0x10, 0, 0, 0, 0x00})), ErrCorrupt, "impossible LZF"},
		{"stream cut short", rdbFile(10, []byte{typeStream3}, rawStr("st")), ErrCorrupt, "stream node count"},
		{"module aux", rdbFile(10, []byte{opModuleAux}), ErrUnsupportedType, "module AUX"},
		{"function", rdbFile(10, []byte{opFunction2}, rawStr("code")), ErrUnsupportedType, "function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeAll(tt.data, DecoderOptions{})
			require.ErrorIs(t, err, tt.target)
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "snapshot: offset "), err.Error())
			var de *DecodeError
			require.ErrorAs(t, err, &de)
		})
	}
}

// TestTruncatedEverywhere cuts a rich valid file at every byte: each prefix
// is an error (never a panic, never io.EOF).
func TestTruncatedEverywhere(t *testing.T) {
	data := rdbFile(10,
		[]byte{opAux}, rawStr("redis-ver"), rawStr("7.0.15"),
		[]byte{opSelectDB, 2, opResizeDB, 3, 1},
		[]byte{opExpireTimeMs}, binary.LittleEndian.AppendUint64(nil, 1700000000123),
		strKey("k", []byte{0xC3, 5, 36, 0x00, 'a', 0xE0, 26, 0x00}),
		setObj(typeSetListpack, "lp", listpack(2, lpStr("a"), lpInt13(-3))),
		setObj(typeSetIntset, "is", intset(4, 1, 70000)),
		cat([]byte{typeSet}, rawStr("s"), []byte{2}, rawStr("x"), []byte{0xC1, 0, 1}),
		cat([]byte{typeZset2}, rawStr("z2"), []byte{2}, rawStr("a"), binary.LittleEndian.AppendUint64(nil, math.Float64bits(-1.5)),
			[]byte{0xC0, 7}, binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.7e12))),
		cat([]byte{typeZset}, rawStr("z1"), []byte{2}, rawStr("a"), textScore("0.5"), rawStr("b"), []byte{255}),
		setObj(typeZsetListpack, "zl", listpack(4, lpStr("a"), lpStr("1.5"), lpUint7(3), lpInt(0xF4, 1700000000123))),
		cat([]byte{typeListQuicklist2}, rawStr("l"), []byte{2, quicklistPacked}, rawStr(string(listpack(2, lpStr("a"), lpInt13(-3)))),
			[]byte{quicklistPlain}, rawStr("big")),
		cat([]byte{typeList}, rawStr("l1"), []byte{2}, rawStr("x"), []byte{0xC0, 7}),
	)
	for n := range len(data) {
		for _, r := range []io.Reader{bytes.NewReader(data[:n]), onlyReader{bytes.NewReader(data[:n])}} {
			_, _, err := decodeFrom(r, DecoderOptions{})
			require.Error(t, err, "prefix %d", n)
			if n >= 9 {
				require.ErrorIs(t, err, ErrCorrupt, "prefix %d", n)
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "prefix %d: %v", n, err)
			}
		}
	}
}

// TestHugeLengthsDoNotAllocate feeds claimed lengths of up to 2^64-1 through
// readers that can and cannot tell their size.
func TestHugeLengthsDoNotAllocate(t *testing.T) {
	cases := map[string][]byte{
		"64-bit string": rdbFile(10, []byte{typeString, 0x81, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, []byte("abc")),
		"32-bit string": rdbFile(10, []byte{typeString, 1, 'k', 0x80, 0xFF, 0xFF, 0xFF, 0xF0}, []byte("abc")),
		"set count":     rdbFile(10, []byte{typeSet, 1, 's', 0x81, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, rawStr("a")),
		"LZF":           rdbFile(10, []byte{typeString, 1, 'k', 0xC3, 0x80, 0x7F, 0, 0, 0, 0x80, 0x7F, 0, 0, 0, 0x00}),
		"list count":    rdbFile(10, []byte{typeList, 1, 'l', 0x81, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, rawStr("a")),
		"list nodes":    rdbFile(10, []byte{typeListQuicklist2, 1, 'l', 0x81, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, quicklistPlain}, rawStr("a")),
		"list node":     rdbFile(10, []byte{typeListQuicklist2, 1, 'l', 1, quicklistPacked, 0x80, 0x7F, 0xFF, 0xFF, 0xFF}, listpack(1, lpStr("a"))),
		"zset count":    rdbFile(10, []byte{typeZset2, 1, 'z', 0x81, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, rawStr("a"), make([]byte, 8)),
		"zset score":    rdbFile(10, []byte{typeZset, 1, 'z', 1}, rawStr("a"), []byte{252}, []byte("1.5")),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			for _, r := range []io.Reader{bytes.NewReader(data), onlyReader{bytes.NewReader(data)}} {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, _, err := decodeFrom(r, DecoderOptions{SkipUnsupported: true})
				runtime.ReadMemStats(&after)
				require.ErrorIs(t, err, ErrCorrupt)
				assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "allocated")
			}
		})
	}
}

// TestSkipUnsupported parses past every skippable type and reads the string
// that follows each.
func TestSkipUnsupported(t *testing.T) {
	next := strKey("after", rawStr("ok"))
	tests := []struct {
		name, typ string
		value     []byte
	}{
		{"module2", "module", cat([]byte{typeModule2}, rawStr("x"), []byte{0x40, 0x20,
			moduleOpSInt, 5, moduleOpUInt, 0x41, 0x00, moduleOpFloat, 0, 0, 0, 0, moduleOpDouble}, make([]byte, 8),
			[]byte{moduleOpString}, rawStr("blob"), []byte{moduleOpEOF})},
		{"module aux", "module-aux", cat([]byte{opModuleAux, 0x40, 0x20, moduleOpUInt, 2, moduleOpString}, rawStr("data"), []byte{moduleOpEOF})},
		{"function", "function", cat([]byte{opFunction2}, rawStr("#!lua name=lib\n..."))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := rdbFile(10, []byte{opSelectDB, 4}, tt.value, next)
			var skipped []string
			opts := DecoderOptions{SkipUnsupported: true, OnSkip: func(db int, key []byte, typ string) {
				assert.Equal(t, 4, db)
				skipped = append(skipped, typ+":"+string(key))
			}}
			got, _, err := decodeAll(data, opts)
			require.NoError(t, err)
			assert.Equal(t, []rec{{DB: 4, Key: "after", Str: "ok"}}, got)
			wantKey := "x"
			if tt.typ == "module-aux" || tt.typ == "function" {
				wantKey = ""
			}
			assert.Equal(t, []string{tt.typ + ":" + wantKey}, skipped)

			_, _, err = decodeAll(data, DecoderOptions{})
			require.ErrorIs(t, err, ErrUnsupportedType)
		})
	}
	// Hashes with field expiry stay an error even when skipping.
	_, _, err := decodeAll(rdbFile(12, []byte{typeHashMeta}, rawStr("st"), next), DecoderOptions{SkipUnsupported: true})
	require.ErrorIs(t, err, ErrUnsupportedType)
	assert.Contains(t, err.Error(), "cannot be skipped")
}

func TestEmptySetSkipped(t *testing.T) {
	data := rdbFile(10, []byte{typeSet}, rawStr("e"), []byte{0}, strKey("k", rawStr("v")))
	var skipped []string
	got, _, err := decodeAll(data, DecoderOptions{OnSkip: func(_ int, key []byte, typ string) { skipped = append(skipped, typ+":"+string(key)) }})
	require.NoError(t, err)
	assert.Equal(t, []rec{{Key: "k", Str: "v"}}, got)
	assert.Equal(t, []string{"empty set:e"}, skipped)
}

// errReader fails with a non-EOF error after its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestIOErrorIsNotCorruption(t *testing.T) {
	boom := errors.New("disk on fire")
	data := rdbFile(10, strKey("k", rawStr("value")))
	_, _, err := decodeFrom(&errReader{data: data[:15], err: boom}, DecoderOptions{})
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "disk on fire")
	assert.Contains(t, err.Error(), "snapshot: offset ")
}

func TestDuplicateDetection(t *testing.T) {
	d := &Decoder{}
	bs := func(ss ...string) [][]byte {
		var out [][]byte
		for _, s := range ss {
			out = append(out, []byte(s))
		}
		return out
	}
	// Same length, first and last 8 bytes: equal fingerprints, not equal.
	assert.Equal(t, -1, d.duplicate(bs("aaaaaaaaXbbbbbbbb", "aaaaaaaaYbbbbbbbb", "", "a", "ab")))
	assert.Equal(t, 3, d.duplicate(bs("aaaaaaaaXbbbbbbbb", "aaaaaaaaYbbbbbbbb", "", "aaaaaaaaYbbbbbbbb")))
	assert.Equal(t, 2, d.duplicate(bs("", "x", "")))
	var big []string
	for i := range 100 {
		big = append(big, strconv.Itoa(i))
	}
	assert.Equal(t, -1, d.duplicate(bs(big...)))
	assert.Equal(t, 100, d.duplicate(bs(append(big, "42")...)))
	assert.Equal(t, -1, d.duplicate(bs(big[:50]...)), "map reused after clear")
}
