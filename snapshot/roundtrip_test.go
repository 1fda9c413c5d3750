package snapshot

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCRC64CheckValue(t *testing.T) {
	assert.Equal(t, uint64(0xe9c6d914c4b8d9ca), crc64Update(0, []byte("123456789")))
}

func TestCRC64MatchesBitwise(t *testing.T) {
	bitwise := func(crc uint64, p []byte) uint64 {
		const poly = 0x95ac9329ac4bc9b5 // 0xad93d23594c935a9 reflected
		for _, b := range p {
			crc ^= uint64(b)
			for range 8 {
				if crc&1 == 1 {
					crc = crc>>1 ^ poly
				} else {
					crc >>= 1
				}
			}
		}
		return crc
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 100 {
		p := []byte(randBytes(rng, n*7))
		split := rng.IntN(len(p) + 1)
		got := crc64Update(crc64Update(0, p[:split]), p[split:])
		assert.Equal(t, bitwise(0, p), got, "len %d split %d", len(p), split)
	}
}

func TestRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	want := randRecords(rng, 600)
	aux := map[string]string{"redis-ver": "7.0.15", "redis-bits": "64", "ctime": "1700000000", "zz-custom": "x", "aof-base": "0"}
	data := encode(t, aux, want)

	got, d, err := decodeAll(data, DecoderOptions{})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, aux, d.Aux())
	assert.Equal(t, WriteVersion, d.Version())
	assert.Equal(t, int64(len(data)), d.Offset())

	// Every database appears.
	dbs := map[int]bool{}
	for _, r := range got {
		dbs[r.DB] = true
	}
	assert.Len(t, dbs, NumDBs)
}

func TestIntEncodingOnlyWhenCanonical(t *testing.T) {
	for _, s := range intLike {
		t.Run(strconv.Quote(s), func(t *testing.T) {
			data := encode(t, nil, []rec{{Key: "k", Str: s}})
			got, _, err := decodeAll(data, DecoderOptions{})
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, s, got[0].Str)

			v, err := strconv.ParseInt(s, 10, 32)
			canonical := err == nil && strconv.FormatInt(v, 10) == s
			encoded := bytes.Contains(data, []byte{typeString, 1, 'k', 0xC0}) ||
				bytes.Contains(data, []byte{typeString, 1, 'k', 0xC1}) ||
				bytes.Contains(data, []byte{typeString, 1, 'k', 0xC2})
			assert.Equal(t, canonical, encoded, "int-encoded")
		})
	}
}

func TestEncoderDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	recs := randRecords(rng, 50)
	aux := map[string]string{"b": "2", "a": "1", "redis-ver": "7.0.15", "ctime": "1"}
	a := encode(t, aux, recs)
	b := encode(t, aux, recs)
	assert.Equal(t, a, b)
	assert.Equal(t, "REDIS0010", string(a[:9]))
	// redis-ver first, then ctime, then the rest sorted.
	iv, ic, ia := bytes.Index(a, []byte("redis-ver")), bytes.Index(a, []byte("ctime")), bytes.Index(a, []byte{1, 'a'})
	assert.True(t, iv < ic && ic < ia, "aux order")
}

func TestEncoderRejects(t *testing.T) {
	tests := []struct {
		name string
		r    Record
	}{
		{"db out of range", Record{DB: 16, Key: []byte("k")}},
		{"negative db", Record{DB: -1, Key: []byte("k")}},
		{"negative expiry", Record{Key: []byte("k"), ExpireMs: -5}},
		{"empty set", Record{Key: []byte("k"), Kind: KindSet}},
		{"unknown kind", Record{Key: []byte("k"), Kind: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := NewEncoder(&buf)
			require.NoError(t, e.WriteHeader(nil))
			require.Error(t, e.WriteRecord(&tt.r))
			assert.Error(t, e.Close(), "errors are sticky")
		})
	}
	e := NewEncoder(&bytes.Buffer{})
	assert.Error(t, e.WriteRecord(&Record{Key: []byte("k")}), "record before header")
	e = NewEncoder(&bytes.Buffer{})
	require.NoError(t, e.WriteHeader(nil))
	assert.Error(t, e.SelectDB(16, 0, 0))
}

// TestEncoderLargeValues covers values larger than the Encoder's buffer,
// which are written straight through.
func TestEncoderLargeValues(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*encBufSize/16+5)
	recs := []rec{
		{Key: "a", Str: "small"},
		{Key: "big", Str: string(big)},
		{Key: "half", Str: string(big[:encBufSize/2+3])},
		{Key: "set", Kind: KindSet, Members: []string{string(big), "x"}},
	}
	data := encode(t, nil, recs)
	got, _, err := decodeAll(data, DecoderOptions{})
	require.NoError(t, err)
	assert.Equal(t, recs, got)
	// The same through a reader that cannot tell its size.
	got, _, err = decodeFrom(onlyReader{bytes.NewReader(data)}, DecoderOptions{})
	require.NoError(t, err)
	assert.Equal(t, recs, got)
}
