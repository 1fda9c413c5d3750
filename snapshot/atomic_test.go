package snapshot

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setHook installs hook for one test.
func setHook(t *testing.T, h func(step string) error) {
	t.Helper()
	hook = h
	t.Cleanup(func() { hook = nil })
}

func loadFile(t *testing.T, path string) []rec {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, _, err := decodeFrom(f, DecoderOptions{})
	require.NoError(t, err)
	return got
}

func writeRecs(recs []rec) func(io.Writer) error {
	return func(w io.Writer) error {
		e := NewEncoder(w)
		if err := e.WriteHeader(nil); err != nil {
			return err
		}
		for _, r := range recs {
			if err := e.WriteRecord(toRecord(r)); err != nil {
				return err
			}
		}
		return e.Close()
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "temp-*.rdb"))
	require.NoError(t, err)
	return m
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	v1 := []rec{{Key: "k", Str: "v1"}}
	require.NoError(t, WriteFileAtomic(dir, "dump.rdb", writeRecs(v1)))
	assert.Equal(t, v1, loadFile(t, filepath.Join(dir, "dump.rdb")))
	assert.Empty(t, tempFiles(t, dir))

	v2 := []rec{{Key: "k", Str: "v2"}, {Key: "s", Kind: KindSet, Members: []string{"a"}}}
	require.NoError(t, WriteFileAtomic(dir, "dump.rdb", writeRecs(v2)))
	assert.Equal(t, v2, loadFile(t, filepath.Join(dir, "dump.rdb")))
	assert.Empty(t, tempFiles(t, dir))
}

// TestWriteFileAtomicInterrupted fails each step in turn: before the rename
// the previous file must be intact and no temp file left; from the rename
// on, the new file must be complete.
func TestWriteFileAtomicInterrupted(t *testing.T) {
	old := []rec{{Key: "k", Str: "old"}}
	next := []rec{{Key: "k", Str: "new"}, {Key: "n", Str: "more"}}
	crash := errors.New("simulated crash")
	for _, step := range []string{"write", "fsync", "close", "rename"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "dump.rdb")
			require.NoError(t, WriteFileAtomic(dir, "dump.rdb", writeRecs(old)))
			var seen []string
			setHook(t, func(s string) error {
				seen = append(seen, s)
				if s == step {
					return crash
				}
				return nil
			})

			err := WriteFileAtomic(dir, "dump.rdb", writeRecs(next))
			require.ErrorIs(t, err, crash)
			assert.Equal(t, step, seen[len(seen)-1])
			if step == "rename" {
				assert.Equal(t, next, loadFile(t, path), "renamed file is complete")
			} else {
				assert.Equal(t, old, loadFile(t, path), "previous file intact")
			}
			assert.Empty(t, tempFiles(t, dir), "no temp file left behind")
		})
	}
}

func TestWriteFileAtomicWriteError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.rdb")
	old := []rec{{Key: "k", Str: "old"}}
	require.NoError(t, WriteFileAtomic(dir, "dump.rdb", writeRecs(old)))
	boom := errors.New("encoder failed half way")
	err := WriteFileAtomic(dir, "dump.rdb", func(w io.Writer) error {
		_, _ = w.Write([]byte("REDIS0010 partial garbage"))
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, old, loadFile(t, path))
	assert.Empty(t, tempFiles(t, dir))

	// A directory that does not exist fails cleanly.
	err = WriteFileAtomic(filepath.Join(dir, "missing"), "dump.rdb", writeRecs(old))
	require.Error(t, err)
}
