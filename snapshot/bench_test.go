package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"sessiond/keyspace"
)

// benchRecords returns n session-like records: 40-byte keys, values of
// valueSize bytes, every other one with an expiry; or sets of 10 members.
func benchRecords(n, valueSize int, sets bool) []*Record {
	rng := rand.New(rand.NewPCG(1, 1))
	out := make([]*Record, n)
	for i := range out {
		r := &Record{DB: i * NumDBs / n, Key: fmt.Appendf(nil, "session:%032d", i)}
		if i%2 == 0 {
			r.ExpireMs = 1_800_000_000_000 + int64(i)
		}
		if sets {
			r.Kind = KindSet
			for j := range 10 {
				r.Members = append(r.Members, fmt.Appendf(nil, "member-%d-%d", i, j))
			}
		} else {
			r.Str = []byte(randBytes(rng, valueSize))
		}
		out[i] = r
	}
	return out
}

func encodeRecords(w io.Writer, recs []*Record) (int64, error) {
	e := NewEncoder(w)
	if err := e.WriteHeader(map[string]string{"redis-ver": "7.0.15", "redis-bits": "64"}); err != nil {
		return 0, err
	}
	for _, r := range recs {
		if err := e.WriteRecord(r); err != nil {
			return 0, err
		}
	}
	err := e.Close()
	return e.Written(), err
}

var benchCases = []struct {
	name  string
	n     int
	value int
	sets  bool
}{
	{"value=200B", 20000, 200, false},
	{"value=1KiB", 10000, 1024, false},
	{"value=64KiB", 200, 64 << 10, false},
	{"kind=set/members=10", 10000, 0, true},
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			recs := benchRecords(bc.n, bc.value, bc.sets)
			size, err := encodeRecords(io.Discard, recs)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := encodeRecords(io.Discard, recs); err != nil {
					b.Fatal(err)
				}
			}
			reportCPUThroughput(b, size, cpu)
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			var buf bytes.Buffer
			if _, err := encodeRecords(&buf, benchRecords(bc.n, bc.value, bc.sets)); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				d, err := NewDecoder(bytes.NewReader(data), DecoderOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := d.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			reportCPUThroughput(b, int64(len(data)), cpu)
		})
	}
}

// reportCPUThroughput adds "cpu-MB/s": bytes per CPU second of the whole
// process (GC included) since start.
func reportCPUThroughput(b *testing.B, bytesPerOp int64, start time.Duration) {
	if d := processCPU() - start; d > 0 && start > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}

func BenchmarkCRC64(b *testing.B) {
	p := make([]byte, 1<<20)
	b.SetBytes(int64(len(p)))
	cpu := processCPU()
	for b.Loop() {
		crc64Update(0, p)
	}
	reportCPUThroughput(b, int64(len(p)), cpu)
}

// BenchmarkWriteFileAtomic is the end-to-end save: encode session records
// into a temp file, fsync, rename, fsync the directory.
func BenchmarkWriteFileAtomic(b *testing.B) {
	recs := benchRecords(100_000, 512, false)
	dir := b.TempDir()
	var size int64
	cpu := processCPU()
	for b.Loop() {
		err := WriteFileAtomic(dir, "dump.rdb", func(w io.Writer) error {
			n, err := encodeRecords(w, recs)
			size = n
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
	reportCPUThroughput(b, size, cpu)
}

// BenchmarkSaveKeyspace is Save over a real keyspace of session strings
// (keys and values scattered over the heap, visited in map order, as in a
// BGSAVE), to io.Discard: the CPU cost of a save before the file system.
func BenchmarkSaveKeyspace(b *testing.B) {
	const n = 500_000
	ks, err := keyspace.New(keyspace.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	val := []byte(randBytes(rng, 256))
	for i := range n {
		ks.RestoreString(0, fmt.Appendf(nil, "sess:%d", i), val, 1_800_000_000_000+int64(i))
	}
	size, err := Save(io.Discard, ks, nil)
	if err != nil || size != n {
		b.Fatal(size, err)
	}
	cw := &countingWriter{w: io.Discard}
	if _, err := Save(cw, ks, nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(cw.n)
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		if _, err := Save(io.Discard, ks, nil); err != nil {
			b.Fatal(err)
		}
	}
	reportCPUThroughput(b, cw.n, cpu)
}
