package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Function libraries (Redis 7.0 functions). An RDB file holds each loaded
// library as the FUNCTION2 opcode (0xF5) and one string, the library's
// whole code, its "#!lua name=<lib>" line included, after the AUX fields
// and before the first database. Files of Redis 7.0's release candidates
// used FUNCTION (0xF6): the library's name, engine, an optional description
// and the code without its shebang line; the Decoder turns these into the
// same code, as Redis's rdbFunctionLoad does.
//
// FUNCTION DUMP's payload is the same opcodes and strings one after
// another, then the RDB version (2 bytes, little-endian) and the CRC64 of
// everything before it, as a DUMP payload ends.

// WriteFunction writes one library's code (the FUNCTION2 opcode). Call it
// after WriteHeader and before the first SelectDB or WriteRecord, where
// Redis writes its libraries.
func (e *Encoder) WriteFunction(code []byte) error {
	if err := e.check(); err != nil {
		return err
	}
	if e.db >= 0 {
		return e.fail(errors.New("snapshot: WriteFunction after a database"))
	}
	e.buf = append(e.buf, opFunction2)
	e.writeString(code)
	return e.maybeFlush()
}

// DumpFunctions returns FUNCTION DUMP's payload of the libraries' code,
// with version WriteVersion. The strings are not LZF-compressed (Redis
// compresses those over 20 bytes), so the bytes differ from Redis's
// payload for the same libraries; each server restores the other's.
func DumpFunctions(codes [][]byte) []byte {
	var out bytes.Buffer
	e := &Encoder{w: &out, state: encBody, db: -1}
	for _, c := range codes {
		e.buf = append(e.buf, opFunction2)
		e.writeString(c)
	}
	e.buf = binary.LittleEndian.AppendUint16(e.buf, WriteVersion)
	_ = e.flush() // a bytes.Buffer does not fail
	return binary.LittleEndian.AppendUint64(out.Bytes(), e.crc)
}

// ParseFunctionDump checks a FUNCTION DUMP payload's version and checksum
// (ErrDumpPayload) and returns the libraries' code it holds. Any other
// error's text is Redis's reply to FUNCTION RESTORE, without its "ERR ".
func ParseFunctionDump(payload []byte) ([][]byte, error) {
	body, version, err := dumpBody(payload)
	if err != nil {
		return nil, err
	}
	d := dumpDecoder(body, version, len(payload))
	var codes [][]byte
	for d.rd.offset() < int64(len(body)) {
		t, err := d.rd.readByte()
		if err != nil {
			return nil, errors.New("can not read data type")
		}
		if t != opFunction2 && t != opFunctionPreGA {
			return nil, errors.New("given type is not a function")
		}
		code, msg, err := d.readFunction(t)
		if err != nil {
			return nil, errors.New(msg)
		}
		codes = append(codes, code)
	}
	return codes, nil
}

// readFunction reads a library after its opcode t (FUNCTION2, or the
// release candidates' FUNCTION) and returns its code, in a new slice. On
// failure msg says what failed in Redis's words ("Failed loading library
// payload") and err is the decoding error.
func (d *Decoder) readFunction(t byte) (code []byte, msg string, err error) {
	read := func(what string) ([]byte, error) {
		b, err := d.readString("function library " + what)
		if err != nil {
			msg = "Failed loading library " + what
			return nil, err
		}
		return bytes.Clone(b), nil
	}
	if t == opFunction2 {
		code, err = read("payload")
		return code, msg, err
	}
	name, err := read("name")
	if err != nil {
		return nil, msg, err
	}
	engine, err := read("engine name")
	if err != nil {
		return nil, msg, err
	}
	hasDesc, err := d.readLen("function library description indicator")
	if err != nil {
		return nil, "Failed loading library description indicator", err
	}
	if hasDesc != 0 {
		if _, err := read("description"); err != nil {
			return nil, msg, err
		}
	}
	blob, err := read("blob")
	if err != nil {
		return nil, msg, err
	}
	code = make([]byte, 0, len(engine)+len(name)+len(blob)+9)
	code = append(append(append(append(append(code, "#!"...), engine...), " name="...), name...), '\n')
	return append(code, blob...), "", nil
}
