package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/keyspace"
)

// onlyReader hides every method but Read, so the Decoder cannot learn the
// input's size.
type onlyReader struct{ io.Reader }

// rec is a Record in comparable form (strings, nil-free).
type rec struct {
	DB       int
	Key      string
	Kind     Kind
	Str      string
	Members  []string
	Scores   []float64 // KindZSet: Members[i]'s score
	Fields   []string  // KindHash: field, value, ...
	ExpireMs int64
	Stream   *keyspace.StreamData // KindStream: a deep copy
}

func toRec(r *Record) rec {
	out := rec{DB: r.DB, Key: string(r.Key), Kind: r.Kind, Str: string(r.Str), ExpireMs: r.ExpireMs}
	for _, m := range r.Members {
		out.Members = append(out.Members, string(m))
	}
	out.Scores = slices.Clone(r.Scores)
	for _, f := range r.Fields {
		out.Fields = append(out.Fields, string(f))
	}
	out.Stream = cloneStreamData(r.Stream)
	return out
}

// cloneStreamData copies sd and its bytes (the Decoder reuses its buffers).
func cloneStreamData(sd *keyspace.StreamData) *keyspace.StreamData {
	if sd == nil {
		return nil
	}
	cb := func(b []byte) []byte { return append([]byte{}, b...) }
	c := *sd
	c.Nodes, c.NumNodes, c.EachNode = nil, 0, nil
	sd.Each(func(_ int, n *keyspace.StreamNode) bool {
		nn := keyspace.StreamNode{Master: n.Master}
		for _, f := range n.MasterFields {
			nn.MasterFields = append(nn.MasterFields, cb(f))
		}
		for _, e := range n.Entries {
			ne := keyspace.StreamNodeEntry{ID: e.ID, Flags: e.Flags}
			for _, f := range e.Fields {
				ne.Fields = append(ne.Fields, cb(f))
			}
			nn.Entries = append(nn.Entries, ne)
		}
		c.Nodes = append(c.Nodes, nn)
		return true
	})
	c.Groups = nil
	for _, g := range sd.Groups {
		ng := keyspace.StreamGroup{Name: cb(g.Name), LastID: g.LastID, EntriesRead: g.EntriesRead}
		if len(g.PEL) > 0 {
			ng.PEL = slices.Clone(g.PEL)
		}
		for _, cs := range g.Consumers {
			nc := keyspace.StreamConsumer{Name: cb(cs.Name), SeenTime: cs.SeenTime}
			if len(cs.PEL) > 0 {
				nc.PEL = slices.Clone(cs.PEL)
			}
			ng.Consumers = append(ng.Consumers, nc)
		}
		c.Groups = append(c.Groups, ng)
	}
	return &c
}

func toRecord(r rec) *Record {
	out := &Record{DB: r.DB, Key: []byte(r.Key), Kind: r.Kind, Str: []byte(r.Str), ExpireMs: r.ExpireMs}
	for _, m := range r.Members {
		out.Members = append(out.Members, []byte(m))
	}
	out.Scores = slices.Clone(r.Scores)
	for _, f := range r.Fields {
		out.Fields = append(out.Fields, []byte(f))
	}
	out.Stream = cloneStreamData(r.Stream)
	return out
}

// encode writes recs (grouped as given) into an RDB file.
func encode(t testing.TB, aux map[string]string, recs []rec) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	require.NoError(t, e.WriteHeader(aux))
	db := -1
	for i, r := range recs {
		if r.DB != db {
			var keys, exp uint64
			for _, o := range recs[i:] {
				if o.DB != r.DB {
					break
				}
				keys++
				if o.ExpireMs > 0 {
					exp++
				}
			}
			require.NoError(t, e.SelectDB(r.DB, keys, exp))
			db = r.DB
		}
		require.NoError(t, e.WriteRecord(toRecord(r)))
	}
	require.NoError(t, e.Close())
	require.Equal(t, int64(buf.Len()), e.Written())
	return buf.Bytes()
}

// decodeAll decodes every record of data, copying each.
func decodeAll(data []byte, opts DecoderOptions) ([]rec, *Decoder, error) {
	return decodeFrom(bytes.NewReader(data), opts)
}

func decodeFrom(r io.Reader, opts DecoderOptions) ([]rec, *Decoder, error) {
	d, err := NewDecoder(r, opts)
	if err != nil {
		return nil, nil, err
	}
	var out []rec
	for {
		r, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out, d, nil
		}
		if err != nil {
			return out, d, err
		}
		out = append(out, toRec(r))
	}
}

// rdbFile frames body as a complete file of the given version: magic, body,
// EOF and (version >= 5) a correct CRC64.
func rdbFile(version int, body ...[]byte) []byte {
	b := fmt.Appendf(nil, "REDIS%04d", version)
	for _, p := range body {
		b = append(b, p...)
	}
	b = append(b, opEOF)
	if version >= 5 {
		b = binary.LittleEndian.AppendUint64(b, crc64Update(0, b))
	}
	return b
}

// Builders for hand-made byte sequences.
func rawStr(s string) []byte { return append(appendLen(nil, uint64(len(s))), s...) }

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

func strKey(key string, value []byte) []byte {
	return cat([]byte{typeString}, rawStr(key), value)
}

// intLike lists strings that look like integers; only canonical int32 ones
// may be int-encoded.
var intLike = []string{
	"0", "1", "-1", "123", "-5", "127", "128", "-128", "-129", "32767", "32768",
	"-32768", "-32769", "2147483647", "2147483648", "-2147483648", "-2147483649",
	"00012", "007", "+1", "-0", " 1", "1 ", "-", "1e3", "0x10", "12345678901",
	"99999999999", "9223372036854775807", "-9223372036854775808", "1.5",
}

// randRecords returns n distinct-key random records spread over all 16
// databases, sorted by database.
func randRecords(rng *rand.Rand, n int) []rec {
	now := int64(1_800_000_000_000)
	seen := map[[2]string]bool{}
	var out []rec
	for len(out) < n {
		r := rec{DB: rng.IntN(NumDBs)}
		switch rng.IntN(4) {
		case 0:
			r.Key = intLike[rng.IntN(len(intLike))]
		case 1:
			r.Key = ""
		default:
			r.Key = randBytes(rng, rng.IntN(40))
		}
		k := [2]string{fmt.Sprint(r.DB), r.Key}
		if seen[k] {
			continue
		}
		seen[k] = true
		if rng.IntN(3) == 0 {
			r.ExpireMs = now + rng.Int64N(1e9)
		}
		if rng.IntN(6) == 0 {
			r.Kind = KindZSet
			r.Members, r.Scores = randZSet(rng)
		} else if rng.IntN(5) == 0 {
			r.Kind = KindList
			r.Members = randList(rng)
		} else if rng.IntN(4) == 0 {
			r.Kind = KindHash
			r.Fields = randHash(rng)
		} else if rng.IntN(2) == 0 {
			r.Kind = KindString
			switch rng.IntN(5) {
			case 0:
				r.Str = intLike[rng.IntN(len(intLike))]
			case 1:
				r.Str = ""
			case 2:
				r.Str = randBytes(rng, 1000+rng.IntN(70000))
			default:
				r.Str = randBytes(rng, rng.IntN(300))
			}
		} else {
			r.Kind = KindSet
			size := []int{1, 2, 5, 17, 100, 1000}[rng.IntN(6)]
			ms := map[string]bool{}
			for len(ms) < size {
				var m string
				switch rng.IntN(4) {
				case 0:
					m = intLike[rng.IntN(len(intLike))]
				case 1:
					m = fmt.Sprint(rng.Int64N(1e12) - 5e11)
				default:
					m = randBytes(rng, rng.IntN(30))
				}
				ms[m] = true
			}
			for m := range ms {
				r.Members = append(r.Members, m)
			}
			slices.Sort(r.Members)
			rng.Shuffle(len(r.Members), func(i, j int) { r.Members[i], r.Members[j] = r.Members[j], r.Members[i] })
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b rec) int { return a.DB - b.DB })
	return out
}

func randBytes(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return string(b)
}

// randHash returns the pairs of a random hash: small ones (which Redis
// keeps in a listpack) and large or long-valued ones (a hash table).
func randHash(rng *rand.Rand) []string {
	size := []int{1, 2, 5, 17, 100, 600}[rng.IntN(6)]
	seen := map[string]bool{}
	var out []string
	for len(seen) < size {
		var f string
		switch rng.IntN(4) {
		case 0:
			f = intLike[rng.IntN(len(intLike))]
		case 1:
			f = fmt.Sprint("field:", rng.IntN(1e6))
		default:
			f = randBytes(rng, rng.IntN(30))
		}
		if seen[f] {
			continue
		}
		seen[f] = true
		var v string
		switch rng.IntN(5) {
		case 0:
			v = intLike[rng.IntN(len(intLike))]
		case 1:
			v = ""
		case 2:
			v = randBytes(rng, 65+rng.IntN(200))
		default:
			v = randBytes(rng, rng.IntN(40))
		}
		out = append(out, f, v)
	}
	return out
}

// randZSet returns the members and scores of a random sorted set: sizes
// around Redis's listpack limit of 128 elements, members up to 100 bytes
// (over the 64-byte listpack limit), and scores from the special values
// (infinities, zeros, extremes), millisecond timestamps, integers and
// arbitrary doubles. Members are in random order.
func randZSet(rng *rand.Rand) ([]string, []float64) {
	size := []int{1, 2, 5, 17, 128, 129, 400}[rng.IntN(7)]
	seen := map[string]bool{}
	var ms []string
	var scores []float64
	for len(ms) < size {
		var m string
		switch rng.IntN(5) {
		case 0:
			m = intLike[rng.IntN(len(intLike))]
		case 1:
			m = fmt.Sprint("user:", rng.IntN(1e6))
		case 2:
			m = randBytes(rng, 60+rng.IntN(40))
		default:
			m = randBytes(rng, rng.IntN(30))
		}
		if seen[m] {
			continue
		}
		seen[m] = true
		ms = append(ms, m)
		scores = append(scores, randScore(rng))
	}
	return ms, scores
}

// randList returns the elements of a random list: sizes up to several
// 8 KiB quicklist nodes, with duplicates, empty and integer-looking
// elements (every listpack integer width, and near misses that must stay
// strings), binary ones and, rarely, elements over 8 KiB.
func randList(rng *rand.Rand) []string {
	size := []int{1, 2, 5, 17, 100, 1000}[rng.IntN(6)]
	out := make([]string, 0, size)
	for len(out) < size {
		switch rng.IntN(6) {
		case 0:
			out = append(out, intLike[rng.IntN(len(intLike))])
		case 1:
			v := rng.Int64() >> rng.IntN(64) // every magnitude
			if rng.IntN(2) == 0 {
				v = -v - 1
			}
			out = append(out, strconv.FormatInt(v, 10))
		case 2:
			if len(out) > 0 {
				out = append(out, out[rng.IntN(len(out))]) // a duplicate
			}
		case 3:
			if rng.IntN(40) == 0 {
				out = append(out, randBytes(rng, 8000+rng.IntN(12000)))
				continue
			}
			out = append(out, "")
		default:
			out = append(out, randBytes(rng, rng.IntN(100)))
		}
	}
	return out
}

// specialScores are scores whose encoding is easy to get wrong.
var specialScores = []float64{
	0, math.Copysign(0, -1), -1.5, 0.1, 1e300, -1e300, math.Inf(1), math.Inf(-1),
	math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1 << 53, 1<<53 + 2, -(1 << 63),
	1.7e12, 1718000000123, 0.30000000000000004, 123456789.123456789,
}

func randScore(rng *rand.Rand) float64 {
	switch rng.IntN(5) {
	case 0:
		return specialScores[rng.IntN(len(specialScores))]
	case 1:
		return float64(1_700_000_000_000 + rng.Int64N(1e11)) // a millisecond timestamp
	case 2:
		return float64(rng.IntN(2001) - 1000)
	case 3:
		for {
			if f := math.Float64frombits(rng.Uint64()); !math.IsNaN(f) {
				return f
			}
		}
	}
	return rng.NormFloat64() * 1e6
}

// pairMap turns flat pairs ([]string or a RESP []any) into a map.
func pairMap(pairs any) map[string]string {
	var flat []string
	switch p := pairs.(type) {
	case []string:
		flat = p
	case []any:
		for _, x := range p {
			flat = append(flat, x.(string))
		}
	}
	m := map[string]string{}
	for i := 0; i+1 < len(flat); i += 2 {
		m[flat[i]] = flat[i+1]
	}
	return m
}

// sortPairs returns flat pairs sorted by field (nil stays nil).
func sortPairs(flat []string) []string {
	if flat == nil {
		return nil
	}
	idx := make([]int, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(flat[a], flat[b]) })
	out := make([]string, 0, len(flat))
	for _, i := range idx {
		out = append(out, flat[i], flat[i+1])
	}
	return out
}
