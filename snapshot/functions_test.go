package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	testLib1 = "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 'one' end)"
	testLib2 = "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes'}}"
)

// functionFile is an RDB file with libs before one key.
func functionFile(t testing.TB, libs ...string) []byte {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	require.NoError(t, e.WriteHeader(map[string]string{"redis-ver": "7.0.15"}))
	for _, l := range libs {
		require.NoError(t, e.WriteFunction([]byte(l)))
	}
	require.NoError(t, e.WriteRecord(&Record{Key: []byte("k"), Str: []byte("v")}))
	require.NoError(t, e.Close())
	return buf.Bytes()
}

func TestDecoderFunctions(t *testing.T) {
	data := functionFile(t, testLib1, testLib2)
	var got []string
	recs, _, err := decodeAll(data, DecoderOptions{OnFunction: func(code []byte) error {
		got = append(got, string(code))
		return nil
	}})
	require.NoError(t, err)
	require.Equal(t, []string{testLib1, testLib2}, got)
	require.Len(t, recs, 1)

	// Without OnFunction: unsupported, or skipped.
	_, _, err = decodeAll(data, DecoderOptions{})
	require.ErrorIs(t, err, ErrUnsupportedType)
	skipped := 0
	recs, _, err = decodeAll(data, DecoderOptions{SkipUnsupported: true, OnSkip: func(_ int, key []byte, typ string) {
		require.Nil(t, key)
		require.Equal(t, "function", typ)
		skipped++
	}})
	require.NoError(t, err)
	require.Equal(t, 2, skipped)
	require.Len(t, recs, 1)

	// OnFunction's refusal stops the decoding.
	_, _, err = decodeAll(data, DecoderOptions{OnFunction: func([]byte) error { return errors.New("Library 'lib1' already exists") }})
	require.ErrorIs(t, err, ErrFunction)
	require.Contains(t, err.Error(), "Library 'lib1' already exists")

	// A library after a database is refused by the Encoder.
	e := NewEncoder(io.Discard)
	require.NoError(t, e.WriteHeader(nil))
	require.NoError(t, e.WriteRecord(&Record{Key: []byte("k"), Str: []byte("v")}))
	require.Error(t, e.WriteFunction([]byte(testLib1)))
}

// TestDecoderPreGAFunction: Redis 7.0's release candidates wrote a library
// as its name, engine, optional description and code; it reads as the
// code with its shebang line, as Redis's rdbFunctionLoad rebuilds it.
func TestDecoderPreGAFunction(t *testing.T) {
	body := "\nredis.register_function('old', function() return 1 end)"
	for _, desc := range [][]byte{{0}, cat([]byte{1}, rawStr("a library"))} {
		data := rdbFile(10, cat([]byte{opFunctionPreGA}, rawStr("oldlib"), rawStr("LUA"), desc, rawStr(body)))
		var got []string
		_, _, err := decodeAll(data, DecoderOptions{OnFunction: func(code []byte) error {
			got = append(got, string(code))
			return nil
		}})
		require.NoError(t, err)
		require.Equal(t, []string{"#!LUA name=oldlib\n" + body}, got)
		_, _, err = decodeAll(data, DecoderOptions{SkipUnsupported: true})
		require.ErrorIs(t, err, ErrUnsupportedType)
	}
}

func TestFunctionDumpRoundTrip(t *testing.T) {
	for _, libs := range [][]string{nil, {testLib1}, {testLib1, testLib2, strings.Repeat("x", 100000)}} {
		var codes [][]byte
		for _, l := range libs {
			codes = append(codes, []byte(l))
		}
		payload := DumpFunctions(codes)
		got, err := ParseFunctionDump(payload)
		require.NoError(t, err)
		require.Equal(t, codes, got)
	}
	good := DumpFunctions([][]byte{[]byte(testLib1)})
	for _, tc := range []struct {
		name    string
		payload []byte
		err     string
	}{
		{"short", []byte{1, 2}, ErrDumpPayload.Error()},
		{"checksum", append(append([]byte{}, good[:len(good)-1]...), good[len(good)-1]^1), ErrDumpPayload.Error()},
		{"version", withFooter(cat([]byte{opFunction2}, rawStr(testLib1)), MaxVersion+1), ErrDumpPayload.Error()},
		{"not a function", withFooter(cat([]byte{typeString}, rawStr("x")), 10), "given type is not a function"},
		{"truncated", withFooter(cat([]byte{opFunction2}, rawStr(testLib1)[:10]), 10), "Failed loading library payload"},
		{"truncated pre-GA", withFooter(cat([]byte{opFunctionPreGA}, rawStr("n")), 10), "Failed loading library engine name"},
	} {
		_, err := ParseFunctionDump(tc.payload)
		require.EqualError(t, err, tc.err, tc.name)
	}
}

// withFooter appends a DUMP payload's version and checksum to body.
func withFooter(body []byte, version uint16) []byte {
	b := binary.LittleEndian.AppendUint16(append([]byte{}, body...), version)
	return binary.LittleEndian.AppendUint64(b, crc64Update(0, b))
}

// TestRedisLoadsFunctions: Redis loads a file the Encoder wrote with
// libraries, and runs them; sessiond's Decoder reads the libraries of a
// file Redis saved.
func TestRedisLoadsFunctions(t *testing.T) {
	requireTool(t, "redis-server")
	dir := t.TempDir()
	require.NoError(t, WriteFileAtomic(dir, "dump.rdb", func(w io.Writer) error {
		_, err := w.Write(functionFile(t, testLib1, testLib2))
		return err
	}))
	rc := startRedis(t, dir)
	require.Equal(t, "one", rc.must("FCALL", "f1", "0"))
	require.Equal(t, int64(2), rc.must("FCALL_RO", "f2", "0"))
	require.Equal(t, "v", rc.must("GET", "k"))

	long := "#!lua name=long\n" + strings.Repeat("-- a comment Redis compresses\n", 40) + "redis.register_function('lf', function() return 1 end)"
	rc.must("FUNCTION", "LOAD", long)
	rc.must("SAVE")
	data, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
	require.NoError(t, err)
	var got []string
	_, _, err = decodeAll(data, DecoderOptions{OnFunction: func(code []byte) error {
		got = append(got, string(code))
		return nil
	}})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{testLib1, testLib2, long}, got)

	// And FUNCTION DUMP's payloads, both ways.
	payload, ok := rc.must("FUNCTION", "DUMP").(string)
	require.True(t, ok)
	codes, err := ParseFunctionDump([]byte(payload))
	require.NoError(t, err)
	require.Len(t, codes, 3)
	rc.must("FUNCTION", "FLUSH")
	require.Equal(t, "OK", rc.must("FUNCTION", "RESTORE", string(DumpFunctions(codes))))
	require.Equal(t, "one", rc.must("FCALL", "f1", "0"))
	require.Equal(t, int64(1), rc.must("FCALL", "lf", "0"))
}

// FuzzFunctionDump feeds arbitrary payloads to ParseFunctionDump: it never
// panics, and what it accepts dumps and parses again to the same code.
func FuzzFunctionDump(f *testing.F) {
	f.Add(DumpFunctions(nil))
	f.Add(DumpFunctions([][]byte{[]byte(testLib1), []byte(testLib2)}))
	f.Add(withFooter(cat([]byte{opFunctionPreGA}, rawStr("n"), rawStr("LUA"), []byte{1}, rawStr("d"), rawStr("\nx")), 10))
	f.Add(withFooter(cat([]byte{opFunction2}, []byte{0xC3, 5, 36, 0x00, 'a', 0xE0, 26, 0x00}), 10))
	f.Fuzz(func(t *testing.T, payload []byte) {
		codes, err := ParseFunctionDump(payload)
		if err != nil {
			return
		}
		again, err := ParseFunctionDump(DumpFunctions(codes))
		require.NoError(t, err)
		require.Equal(t, len(codes), len(again))
		for i := range codes {
			require.Equal(t, codes[i], again[i])
		}
	})
}
