package snapshot

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/keyspace"
)

func newKS(t *testing.T, clk keyspace.Clock) *keyspace.Keyspace {
	t.Helper()
	ks, err := keyspace.New(keyspace.Options{Stripes: 16, Clock: clk})
	require.NoError(t, err)
	return ks
}

// dump lists every live key of ks as "db/key=type:value@deadline".
func dump(t *testing.T, ks *keyspace.Keyspace) []string {
	var out []string
	for db := range keyspace.NumDBs {
		require.NoError(t, ks.Walk(db, func(items []keyspace.Item) error {
			for _, it := range items {
				v := string(it.Str)
				if it.Kind == keyspace.KindSet {
					m := append([]string(nil), it.Members...)
					sort.Strings(m)
					v = fmt.Sprint(m)
				}
				if it.Kind == keyspace.KindZSet {
					var els []string
					it.EachScored(func(m []byte, s float64) { els = append(els, fmt.Sprintf("%q=%b", m, s)) })
					v = fmt.Sprint(els) // in order, scores exact
				}
				out = append(out, fmt.Sprintf("%d/%s=%s:%s@%d", db, it.Key, it.Kind, v, it.Deadline))
			}
			return nil
		}))
	}
	sort.Strings(out)
	return out
}

func TestSaveLoadRoundTripThroughKeyspace(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	src := newKS(t, clk)
	now := clk.Now().UnixMilli()
	for db := range keyspace.NumDBs {
		for i := range 20 {
			k := []byte(fmt.Sprintf("sess:%d:%d", db, i))
			dl := int64(0)
			if i%2 == 0 {
				dl = now + int64(1000*(i+1))
			}
			_, err := src.Set(db, k, []byte(fmt.Sprintf("blob\x00%d", i)), keyspace.SetArgs{Deadline: dl})
			require.NoError(t, err)
		}
		_, err := src.SAdd(db, []byte("user_sess:1"), [][]byte{[]byte("a"), []byte("123"), []byte("")})
		require.NoError(t, err)
		src.RestoreZSet(db, []byte("sess_by_expiry"), [][]byte{[]byte("s1"), []byte("s2"), []byte("")},
			[]float64{float64(now + 1800_000), float64(now + 60_000), -1.5}, 0)
	}
	var buf bytes.Buffer
	n, err := Save(&buf, src, map[string]string{"redis-ver": "7.2.4"})
	require.NoError(t, err)
	assert.EqualValues(t, 16*22, n)

	// Load after 5 s: keys with a deadline before then are skipped.
	clk.Advance(5 * time.Second)
	dst := newKS(t, clk)
	st, err := Load(bytes.NewReader(buf.Bytes()), dst, LoadOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 16*2, st.Expired, "per db, deadlines +1s and +3s are past; +5s is exactly now and still live")
	assert.EqualValues(t, n-st.Expired, st.Keys)
	assert.Equal(t, dump(t, src), dump(t, dst), "every live key, value, set, sorted set and deadline survives")
	assert.Zero(t, dst.Dirty(), "a loaded key is not a change since the last save")
}

func TestLoadRefusesDamageAndNamesOffset(t *testing.T) {
	src := newKS(t, nil)
	_, _ = src.Set(0, []byte("k"), bytes.Repeat([]byte("v"), 100), keyspace.SetArgs{})
	var buf bytes.Buffer
	_, err := Save(&buf, src, nil)
	require.NoError(t, err)
	data := buf.Bytes()
	_, err = Load(bytes.NewReader(data[:len(data)-20]), newKS(t, nil), LoadOptions{})
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "offset")
	bad := bytes.Clone(data)
	bad[len(bad)-3] ^= 1
	_, err = Load(bytes.NewReader(bad), newKS(t, nil), LoadOptions{})
	require.ErrorIs(t, err, ErrChecksum)
}

// blockingKS makes a save wait until released, to observe a save in progress.
type blockingKS struct {
	*keyspace.Keyspace
	entered chan struct{}
	release chan struct{}
}

func (b *blockingKS) Walk(db int, fn func([]keyspace.Item) error) error {
	if db == 0 {
		b.entered <- struct{}{}
		<-b.release
	}
	return b.Keyspace.Walk(db, fn)
}

func TestManagerSavesOneAtATime(t *testing.T) {
	dir := t.TempDir()
	ks := &blockingKS{Keyspace: newKS(t, nil), entered: make(chan struct{}), release: make(chan struct{})}
	_, _ = ks.Set(0, []byte("k"), []byte("v"), keyspace.SetArgs{})
	m := NewManager(ManagerOptions{Keyspace: ks, Dir: func() string { return dir }, File: func() string { return "dump.rdb" }})
	assert.EqualValues(t, 0, m.Status().ChangesSinceSave)
	_, _ = ks.Set(0, []byte("k2"), []byte("v"), keyspace.SetArgs{})
	assert.EqualValues(t, 1, m.Status().ChangesSinceSave)

	require.NoError(t, m.BGSave())
	<-ks.entered
	assert.True(t, m.Status().InProgress)
	assert.ErrorIs(t, m.BGSave(), ErrInProgress)
	assert.ErrorIs(t, m.Save(), ErrInProgress)
	assert.Equal(t, "Background save already in progress", ErrInProgress.Error(), "the reply text Redis sends")
	close(ks.release)
	m.Wait()
	st := m.Status()
	assert.False(t, st.InProgress)
	assert.True(t, st.LastOK)
	assert.Zero(t, st.ChangesSinceSave)

	got := newKS(t, nil)
	_, err := LoadFile(filepath.Join(dir, "dump.rdb"), got, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, got.Exists(0, [][]byte{[]byte("k"), []byte("k2")}))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temp file left behind")
}

func TestLoadFileMissingIsEmpty(t *testing.T) {
	st, err := LoadFile(filepath.Join(t.TempDir(), "dump.rdb"), newKS(t, nil), LoadOptions{})
	require.NoError(t, err)
	assert.Zero(t, st.Keys)
}

func TestManagerSaveFailsIntoStatus(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	m := NewManager(ManagerOptions{Keyspace: newKS(t, nil), Dir: func() string { return file }, File: func() string { return "dump.rdb" }})
	require.Error(t, m.Save())
	assert.False(t, m.Status().LastOK, "rdb_last_bgsave_status:err")
}

// TestLoadDetectsEveryFlippedByte flips each byte of a saved file in turn:
// every variant must fail to load (bad structure or checksum), none may load.
func TestLoadDetectsEveryFlippedByte(t *testing.T) {
	src := newKS(t, nil)
	_, _ = src.Set(0, []byte("k"), bytes.Repeat([]byte("v"), 1000), keyspace.SetArgs{})
	var buf bytes.Buffer
	_, err := Save(&buf, src, map[string]string{"redis-ver": "7.2.4", "ctime": "1700000000"})
	require.NoError(t, err)
	data := buf.Bytes()
	for i := range data {
		for _, mask := range []byte{0x01, 0x40, 0x80} {
			_, err := Load(bytes.NewReader(flipByte(data, i, mask)), newKS(t, nil), LoadOptions{})
			assert.Error(t, err, "byte %d ^ %#x of %d loaded without error", i, mask, len(data))
		}
	}
}

func flipByte(b []byte, i int, mask byte) []byte {
	out := bytes.Clone(b)
	out[i] ^= mask
	return out
}
