package snapshot

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigFile is a valid file of over concurrentCRCMin bytes.
func bigFile(t *testing.T) []byte {
	var recs []rec
	for i := range 600 {
		recs = append(recs, rec{Key: fmt.Sprintf("k%d", i), Str: string(bytes.Repeat([]byte{byte(i)}, 10_000))})
	}
	data := encode(t, nil, recs)
	require.Greater(t, len(data), concurrentCRCMin)
	return data
}

func decodeCount(r io.Reader, concurrent bool) (int, error) {
	d, err := NewDecoder(r, DecoderOptions{ConcurrentCRC: concurrent})
	if err != nil {
		return 0, err
	}
	defer d.Close()
	if concurrent != (d.rd.crcw != nil) {
		return 0, fmt.Errorf("concurrent CRC worker running: %v", d.rd.crcw != nil)
	}
	n := 0
	for {
		if _, err := d.Next(); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

func TestConcurrentCRCVerifiesLikeInline(t *testing.T) {
	data := bigFile(t)
	for _, concurrent := range []bool{false, true} {
		for _, sized := range []bool{false, true} {
			name := fmt.Sprintf("concurrent=%v/sized=%v", concurrent, sized)
			src := func(b []byte) io.Reader {
				if sized {
					return bytes.NewReader(b)
				}
				return onlyReader{bytes.NewReader(b)}
			}
			n, err := decodeCount(src(data), concurrent)
			require.NoError(t, err, name)
			assert.Equal(t, 600, n, name)
			// A flipped byte early, in the middle and just before the EOF
			// opcode: every one is caught by the checksum.
			for _, at := range []int{40, len(data) / 2, len(data) - 10} {
				bad := flipByte(data, at, 0x01)
				_, err := decodeCount(src(bad), concurrent)
				require.ErrorIs(t, err, ErrChecksum, "%s: byte %d", name, at)
			}
		}
	}
}

func TestConcurrentCRCGoroutineEndsWithTheDecoder(t *testing.T) {
	data := bigFile(t)
	before := runtime.NumGoroutine()
	for range 5 {
		_, err := decodeCount(onlyReader{bytes.NewReader(data[:len(data)/2])}, true) // truncated: fails midway
		require.ErrorIs(t, err, ErrCorrupt)
		_, err = Load(onlyReader{bytes.NewReader(data[:len(data)/2])}, newKS(t, nil), LoadOptions{})
		require.ErrorIs(t, err, ErrCorrupt)
	}
	// Polled by hand: assert.Eventually runs the condition on a goroutine of its own.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
