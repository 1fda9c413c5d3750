package snapshot

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// hook, when non-nil, is called by WriteFileAtomic after each step
// ("write", "fsync", "close", "rename") and may return an error to simulate
// a failure or crash right there. Tests only.
var hook func(step string) error

// WriteFileAtomic writes dir/temp-<pid>.rdb through write, fsyncs it,
// renames it over dir/name, and fsyncs dir, as Redis does for dump.rdb. After
// a crash at any point dir/name holds the previous file or the complete new
// one, never a mix.
//
// On any error before the rename the temp file is removed and dir/name is
// untouched. An error from the final directory fsync means the new file is
// in place but the rename may not yet be durable.
//
// The temp name depends only on the process id, so the caller must not run
// two WriteFileAtomic calls on the same dir concurrently (sessiond saves
// one snapshot at a time, as Redis does).
func WriteFileAtomic(dir, name string, write func(w io.Writer) error) (err error) {
	tmp := filepath.Join(dir, "temp-"+strconv.Itoa(os.Getpid())+".rdb")
	dst := filepath.Join(dir, name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("snapshot: create %s: %w", tmp, err)
	}
	renamed := false
	defer func() {
		if err != nil && !renamed {
			f.Close()      // may already be closed; its error is irrelevant now
			os.Remove(tmp) // never leave a partial temp file behind
		}
	}()
	step := func(name string) error {
		if hook != nil {
			return hook(name)
		}
		return nil
	}

	// Small writes are gathered; a write at least this large, made while
	// the buffer is empty (the Encoder's ~1 MiB chunks), goes straight to
	// the file without a second copy.
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("snapshot: write %s: %w", tmp, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("snapshot: write %s: %w", tmp, err)
	}
	if err := step("write"); err != nil {
		return err
	}
	if err := f.Sync(); err != nil { // the data must be durable before the rename
		return fmt.Errorf("snapshot: fsync %s: %w", tmp, err)
	}
	if err := step("fsync"); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("snapshot: close %s: %w", tmp, err)
	}
	if err := step("close"); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("snapshot: rename %s to %s: %w", tmp, dst, err)
	}
	renamed = true
	if err := step("rename"); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil { // make the rename itself durable
		return fmt.Errorf("snapshot: fsync directory %s: %w", dir, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}
