package snapshot

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/keyspace"
)

// reserveKS records Reserve calls and passes them on.
type reserveKS struct {
	*keyspace.Keyspace
	calls []string
}

func (r *reserveKS) Reserve(db, keys int) {
	r.calls = append(r.calls, fmt.Sprintf("%d:%d", db, keys))
	r.Keyspace.Reserve(db, keys)
}

func TestDecoderReportsResizeDB(t *testing.T) {
	data := rdbFile(10,
		[]byte{opSelectDB, 3, opResizeDB, 2, 1}, strKey("a", rawStr("1")), strKey("b", rawStr("2")),
		[]byte{opSelectDB, 5, opResizeDB, 0x80, 0x40, 0, 0, 0, 7}, strKey("c", rawStr("3")))
	var got []string
	d, err := NewDecoder(bytes.NewReader(data), DecoderOptions{OnResizeDB: func(db int, keys, expires uint64) {
		got = append(got, fmt.Sprintf("%d:%d/%d", db, keys, expires))
	}})
	require.NoError(t, err)
	assert.EqualValues(t, len(data)-9, d.Remaining())
	n := 0
	for {
		if _, err := d.Next(); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		n++
	}
	assert.Equal(t, 3, n)
	assert.Equal(t, []string{"3:2/1", "5:1073741824/7"}, got, "the counts as written, unchecked")
	assert.Zero(t, d.Remaining())
}

func TestLoadReservesFromResizeDB(t *testing.T) {
	src := newKS(t, nil)
	val := bytes.Repeat([]byte("x"), 100) // records well over presizeBytes
	for i := range 300 {
		_, err := src.Set(2, fmt.Appendf(nil, "s:%d", i), val, keyspace.SetArgs{})
		require.NoError(t, err)
	}
	for i := range 40 {
		_, err := src.Set(7, fmt.Appendf(nil, "t:%d", i), val, keyspace.SetArgs{})
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	_, err := Save(&buf, src, nil)
	require.NoError(t, err)
	dst := &reserveKS{Keyspace: newKS(t, nil)}
	st, err := Load(bytes.NewReader(buf.Bytes()), dst, LoadOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 340, st.Keys)
	assert.Equal(t, []string{"2:300", "7:40"}, dst.calls)
	assert.Equal(t, dump(t, src), dump(t, dst.Keyspace))
}

func TestLoadDoesNotBelieveResizeDB(t *testing.T) {
	// A 1 KiB file claiming 2^60 keys: at most 1 KiB / presizeBytes are reserved.
	body := cat([]byte{opSelectDB, 0, opResizeDB, 0x81, 0x10, 0, 0, 0, 0, 0, 0, 0, 0},
		strKey("k", rawStr(strings.Repeat("v", 1000))))
	data := rdbFile(10, body)
	dst := &reserveKS{Keyspace: newKS(t, nil)}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	st, err := Load(bytes.NewReader(data), dst, LoadOptions{})
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Keys)
	require.Len(t, dst.calls, 1)
	assert.Equal(t, fmt.Sprintf("0:%d", (len(data)-len("REDIS0010")-13)/presizeBytes), dst.calls[0])
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20))

	// With a reader of unknown size nothing is reserved.
	dst = &reserveKS{Keyspace: newKS(t, nil)}
	_, err = Load(onlyReader{bytes.NewReader(data)}, dst, LoadOptions{})
	require.NoError(t, err)
	assert.Empty(t, dst.calls)
}
