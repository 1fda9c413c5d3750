package snapshot

import (
	"errors"
	"io"
)

// decBufSize is the Decoder's read buffer. Every byte of the file passes
// through it exactly once, and the CRC is computed over it in large runs.
const decBufSize = 256 << 10

// reader is a buffered reader that knows its offset, checksums what it has
// consumed, and, when the source can tell its size, how much remains.
type reader struct {
	src    io.Reader
	buf    []byte
	r, w   int   // buf[r:w] is buffered, unread
	base   int64 // file offset of buf[0]
	crc    uint64
	crcPos int        // buf[:crcPos] is already in crc
	size   int64      // total size of the file from its first byte; -1 unknown
	srcErr error      // sticky error from src (io.EOF at the end)
	crcw   *crcWorker // non-nil: the CRC from here on is computed there (crcasync.go)
}

func newReader(src io.Reader) *reader {
	rd := &reader{src: src, size: -1}
	rd.size = remainingSize(src)
	n := decBufSize
	if rd.size >= 0 && rd.size+16 < int64(n) {
		n = int(rd.size) + 16
	}
	rd.buf = make([]byte, n)
	return rd
}

// remainingSize returns how many bytes src will yield, or -1 if it cannot
// tell without reading. *os.File, *bytes.Reader and *strings.Reader can.
func remainingSize(src io.Reader) int64 {
	if l, ok := src.(interface{ Len() int }); ok {
		return int64(l.Len())
	}
	if s, ok := src.(io.Seeker); ok {
		cur, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		end, err := s.Seek(0, io.SeekEnd)
		if err != nil {
			return -1
		}
		if _, err := s.Seek(cur, io.SeekStart); err != nil {
			return -1
		}
		if end < cur {
			return -1
		}
		return end - cur
	}
	return -1
}

// offset is the file offset of the next unread byte.
func (rd *reader) offset() int64 { return rd.base + int64(rd.r) }

// remaining returns how many unread bytes the file still holds, or -1.
func (rd *reader) remaining() int64 {
	if rd.size < 0 {
		return -1
	}
	return rd.size - rd.offset()
}

// fill reads more data, compacting the buffer first. It returns an error only
// if no byte at all could be added.
func (rd *reader) fill() error {
	if rd.srcErr != nil {
		return rd.srcErr
	}
	if rd.r > 0 {
		rd.addCRC(rd.buf[rd.crcPos:rd.r])
		n := copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.base += int64(rd.r)
		rd.w = n
		rd.r = 0
		rd.crcPos = 0
	}
	for range 100 {
		n, err := rd.src.Read(rd.buf[rd.w:])
		rd.w += n
		if err != nil {
			rd.srcErr = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	rd.srcErr = io.ErrNoProgress
	return rd.srcErr
}

// need makes sure n (<= len(buf)) bytes are buffered.
func (rd *reader) need(n int) error {
	for rd.w-rd.r < n {
		if err := rd.fill(); err != nil {
			return err
		}
	}
	return nil
}

func (rd *reader) readByte() (byte, error) {
	if rd.r == rd.w {
		if err := rd.fill(); err != nil {
			return 0, err
		}
	}
	b := rd.buf[rd.r]
	rd.r++
	return b, nil
}

func (rd *reader) peekByte() (byte, error) {
	if rd.r == rd.w {
		if err := rd.fill(); err != nil {
			return 0, err
		}
	}
	return rd.buf[rd.r], nil
}

// next returns the next n (<= 16) bytes; the slice is valid until the next
// read.
func (rd *reader) next(n int) ([]byte, error) {
	if err := rd.need(n); err != nil {
		return nil, err
	}
	p := rd.buf[rd.r : rd.r+n]
	rd.r += n
	return p, nil
}

// errTooLong reports a length larger than what the file still holds.
var errTooLong = errors.New("length exceeds the rest of the file")

// appendN appends the next n bytes to dst. It never allocates more than
// the bytes that actually arrive (plus append's geometric slack): a claimed
// length is checked against the file size when known, and otherwise dst
// grows only as data is read.
func (rd *reader) appendN(dst []byte, n uint64) ([]byte, error) {
	if rem := rd.remaining(); rem >= 0 && n > uint64(rem) {
		return dst, errTooLong
	}
	for n > 0 {
		if rd.r == rd.w {
			if err := rd.fill(); err != nil {
				return dst, err
			}
		}
		k := min(n, uint64(rd.w-rd.r))
		dst = append(dst, rd.buf[rd.r:rd.r+int(k)]...)
		rd.r += int(k)
		n -= k
	}
	return dst, nil
}

// skip discards the next n bytes (they are still checksummed).
func (rd *reader) skip(n uint64) error {
	if rem := rd.remaining(); rem >= 0 && n > uint64(rem) {
		return errTooLong
	}
	for n > 0 {
		if rd.r == rd.w {
			if err := rd.fill(); err != nil {
				return err
			}
		}
		k := min(n, uint64(rd.w-rd.r))
		rd.r += int(k)
		n -= k
	}
	return nil
}

// sum returns the CRC of every byte consumed so far.
func (rd *reader) sum() uint64 {
	rd.addCRC(rd.buf[rd.crcPos:rd.r])
	rd.crcPos = rd.r
	rd.stopCRC()
	return rd.crc
}

func (rd *reader) addCRC(p []byte) {
	if rd.crcw != nil {
		rd.crcw.add(p)
		return
	}
	rd.crc = crc64Update(rd.crc, p)
}

// stopCRC collects the checksum from the worker, if one runs.
func (rd *reader) stopCRC() {
	if rd.crcw != nil {
		rd.crc = rd.crcw.finish()
		rd.crcw = nil
	}
}
