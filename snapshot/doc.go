// Package snapshot reads and writes Redis RDB files: the subset sessiond
// needs to save its keyspace in a form redis-check-rdb accepts and Redis
// loads, and to load the dump.rdb files Redis 7 writes (migration both
// ways). It is the format layer only; walking and filling the keyspace is
// the caller's job.
//
// # Format subset
//
// A file is the magic "REDIS" and a four-digit version, opcodes and keys,
// the EOF opcode 0xFF and, from version 5, an 8-byte little-endian CRC64
// (Redis's CRC-64/Jones, reflected, init 0) of every byte before it. A stored
// checksum of 0 means "not computed" and is accepted.
//
//	0xFA AUX        <string name> <string value>
//	0xFE SELECTDB   <length db>
//	0xFB RESIZEDB   <length keys> <length expires>      (a hint: OnResizeDB)
//	0xFC EXPIRETIME_MS <int64 LE Unix ms>              (applies to the next key)
//	0xFD EXPIRETIME    <int32 LE Unix seconds>         (old files)
//	0xF8 IDLE <length>, 0xF9 FREQ <byte>               (ignored)
//	0xF4 SLOT_INFO <length> x3                         (Redis 7.4 cluster, ignored)
//	0xF5 FUNCTION2 <string code>                       (a function library: OnFunction)
//	0xF6 FUNCTION  (Redis 7.0 release candidates)      (read as FUNCTION2: functions.go)
//	0xF7 MODULE_AUX                                    (unsupported, or skipped)
//	<type byte> <string key> <value>
//
// A length is 1, 2, 5 or 9 bytes: 00xxxxxx (6 bits), 01xxxxxx xxxxxxxx (14
// bits, big-endian), 0x80 + uint32 BE, 0x81 + uint64 BE. A prefix 11xxxxxx
// introduces a specially encoded string instead: 0/1/2 an int8/16/32
// (little-endian) whose decimal form is the string, 3 an LZF-compressed
// string <length clen> <length rawlen> <clen bytes>.
//
// Value types read: 0 string; 2 set (a length and that many strings); 11
// set as an intset; 20 set as a listpack (Redis 7.2); 4 hash (a count of
// pairs and that many field and value strings); 16 hash as a listpack
// (Redis 7); 13 hash as a ziplist (Redis 3.2-6.2); 9 hash as a zipmap
// (before 2.6); 5 sorted set (a count and that many member strings, each
// followed by its score as an 8-byte little-endian IEEE double); 3 sorted
// set of old files (before Redis 4: the score as a length byte and that
// much decimal text, 253/254/255 standing for NaN/+inf/-inf); 17 sorted set
// as a listpack (Redis 7) and 12 as a ziplist (before 7), both member, score,
// member, score... with each score a decimal string or an integer entry;
// 18 list as a quicklist of Redis 7 (a count of nodes, each a container
// kind, 1 PLAIN or 2 PACKED, and a string: one element, or a listpack of
// elements), 14 list as a quicklist of ziplists (Redis 3.2-6.2), 10 list
// as one ziplist and 1 list of old files (a count and that many strings).
// Streams: 19 (Redis 7.0 and 7.2), 15 (Redis 5 and 6) and 21 (Redis 7.4),
// stream.go. Function libraries go to DecoderOptions.OnFunction; without it
// they are unsupported like module values. With
// DecoderOptions.SkipUnsupported, module values of the self-describing v2
// format (7), module AUX data and (without OnFunction) function libraries
// are parsed past and reported through OnSkip; hashes with field expiry
// (22-25, Redis 7.4) and pre-release formats always fail. The Encoder
// writes libraries with WriteFunction, before the databases, as Redis does.
//
// The Encoder writes version 10 (what Redis 7.0 writes; loaded by every Redis
// since): AUX fields in a fixed order, SELECTDB and RESIZEDB per database,
// EXPIRETIME_MS for keys with a deadline, type 0 strings (int-encoded when
// the string is a canonical int32 decimal, as Redis does, otherwise plain;
// never LZF), type 2 sets, type 4 hashes, type 5 sorted sets, whose
// members go in the Record's order (Save gives them in descending order,
// as Redis writes its skiplists, so that Redis inserts each at the head
// when it loads them), and type 18 lists (version 10 is the first to have
// it), and type 19 streams (stream.go). A list's nodes are the ones Redis 7.0 builds by RPUSHing the
// elements under its defaults (list-max-listpack-size -2): listpacks of up
// to 8 KiB, a longer element alone in its node, an element of 1 GiB or more
// in a PLAIN node; elements that are canonical int64 decimals are listpack
// integers, as lpAppend stores them. The Decoder reads versions 1 to 12.
//
// # DUMP payloads
//
// Dump and ParseDump (dump.go) are the same encodings for one value
// without its key, as Redis's DUMP, RESTORE and MIGRATE carry it: the type
// byte and the value, then the RDB version (2 bytes, little-endian: Dump
// writes 10) and the CRC64 of everything before it (8 bytes). ParseDump
// takes versions up to 12 and every value type the Decoder reads, and
// refuses an empty value, as RESTORE does.
//
// # Invariants
//
//   - Expiry is an absolute Unix time in milliseconds; 0 means none. The
//     Decoder returns expired keys as they are: dropping them at load is
//     the caller's decision (Redis drops them on a master).
//   - A key appears at most once per database in a file the Encoder
//     writes; the caller guarantees it (Redis refuses duplicates).
//   - Sets are non-empty and their members distinct. The Encoder rejects
//     an empty set; the Decoder drops an empty set (as Redis does, telling
//     OnSkip) and rejects duplicate members as corruption. Hashes likewise:
//     non-empty (an empty one is skipped as "empty hash"), distinct fields,
//     and a compact encoding holding an odd number of elements is corrupt.
//     Sorted sets likewise ("empty zset", distinct members, whole member
//     and score pairs), and no score is NaN: the Encoder rejects one, the
//     Decoder takes one as corruption (Redis refuses it on load). Scores
//     keep every bit, the sign of zero included; the Decoder returns the
//     members in the file's order (ascending in a listpack or ziplist,
//     usually descending in type 5) and leaves sorting to the caller.
//   - Lists are non-empty, in order, and may repeat elements or hold empty
//     ones. The Encoder rejects an empty list. The Decoder follows Redis's
//     loader: an empty listpack or ziplist node is skipped, a node that is
//     an empty string (PLAIN or not) or has a container other than 1 or 2
//     is corrupt, and a list left with no elements is skipped ("empty
//     list").
//   - A score written as text is parsed in full, as strtod would read it
//     (decimal or hexadecimal, "inf", "nan"; beyond the double range it is
//     ±inf); trailing bytes, an empty string or an underscore are corrupt.
//   - Only integer strings that round-trip are int-encoded: "123" and "-5"
//     are, "00012", "+1", "-0" and " 1" are not.
//   - Databases are 0..15.
//   - The Decoder never allocates from a length in the file before checking
//     it: when the reader's size is known (*os.File, *bytes.Reader, an
//     io.Seeker, anything with Len) a length beyond the rest of the file is
//     rejected outright, and otherwise buffers grow only as bytes actually
//     arrive. Counts never pre-size slices. An LZF string may claim at most
//     88 times its compressed size, which it has already read. RESIZEDB's
//     counts are passed to OnResizeDB as written; Load sizes the keyspace
//     from them only up to one key per 64 bytes left in the file.
//   - Records returned by Decoder.Next are reused: they are valid until the
//     next call.
//
// # Error model
//
// Decoding errors are *DecodeError values with the byte offset of the bad
// item and a reason, for example
//
//	snapshot: offset 1234: truncated string value of 100 bytes: unexpected EOF
//
// and wrap one sentinel, tested with errors.Is: ErrNotRDB (bad magic or a
// file shorter than the header), ErrVersion, ErrCorrupt (truncation, an
// unknown opcode, type or encoding, a length beyond the file, an invalid
// intset, listpack, ziplist, zipmap or LZF stream, a bad quicklist node
// (unknown container, empty node string), a duplicate set member,
// hash field or sorted set member, a NaN or non-numeric score, a database
// out of range, a stream whose listpacks, IDs, counts or pending entries do
// not agree), ErrChecksum or ErrUnsupportedType (naming the key and its
// type: "module", "hash" with field expiry). An I/O
// error from the underlying reader is wrapped instead of a sentinel.
// Errors are sticky.
//
// Encoder errors are plain wrapped errors; they come from invalid records
// (a caller bug) or from the destination writer, and are sticky too.
//
// # Cost of a load
//
// Load sizes each database's stripes from RESIZEDB before its keys arrive
// (keyspace.Reserve), so no stripe map grows and rehashes its keys during
// the load: Redis writes keys in its own hash order, unrelated to the
// stripes, and those rehashes missed the cache on every key. With
// DecoderOptions.ConcurrentCRC (Load sets it) the checksum is computed on
// a second goroutine from copies of the consumed bytes, off the loading
// thread.
//
// # Publishing and concurrency
//
// WriteFileAtomic publishes a file the way Redis does: temp-<pid>.rdb in the
// same directory, fsync, close, rename over the target, fsync of the
// directory. Encoder and Decoder are not safe for concurrent use (a Decoder
// with ConcurrentCRC owns one goroutine until Close or the end of the file), and only
// one WriteFileAtomic may run per directory at a time; the package has no
// global state besides read-only tables, two test hooks (atomic.go's step
// hook, list.go's packedThreshold) and a write-only sink that keeps Save's
// cache-warming loads alive.
//
// # Cost of a save to requests
//
// Save runs in one goroutine without a fork, so on a small machine it
// competes with requests for CPU. It keeps that short and cooperative: it
// allocates nothing per key (no GC work), warms keys and values 32 ahead so
// their cache misses overlap (these misses were most of its CPU time), hands
// the file ~1 MiB writes with one copy, computes the CRC by slicing by 16,
// and every 256 keys and before each stripe yields both the P
// (runtime.Gosched) and the CPU (sched_yield on Linux), so requests never
// queue behind it for a Go or kernel scheduler slice and it is not
// preempted holding a stripe lock. Yielding is work-conserving: with an
// idle CPU the save runs at full speed. Duty-cycled sleeping (W of work,
// then R of sleep, from 0.5/0.5 to 8/0.5 ms) was measured: it did not lower
// the p99 during a save, and sleeps overshoot (Go timers, CPU wake-up), so
// write speed fell to 97-173 MB/s (bench/README.md). It does not sleep.
// A background save (BGSAVE, periodic) also runs on a thread at nice 19
// and on a P of its own (GOMAXPROCS + 1 while it runs; background.go), so
// the kernel gives request threads the CPU first and no loop waits for a P
// the save holds: with 1M sessions and a paced load, request p99 during a
// save median 0.92 ms against 1.21 ms at nice 0 on its own P (baseline
// 0.4-0.5 ms; 5 alternated rounds each). Such a save yields only the CPU,
// not the P: on its locked thread a Gosched hands the P to another thread
// and back, and without it the save ran about 50% faster. SCHED_IDLE,
// though closer to its baseline on a quiet machine, must not be used: under
// CPU-bound load from other processes the whole server stopped answering
// for over 10 s, since a thread the kernel hardly runs still holds stripe
// locks and must reach a safe point for every stop-the-world.
//
// # Compatibility checks
//
// The tests verify, when redis-server is installed (CI=true makes its
// absence a failure): that redis-check-rdb accepts Encoder output; that
// redis-server loads it with every value, set member, hash pair, sorted
// set element (exact score, in order, a listpack up to 128 elements and a
// skiplist beyond), list element (LRANGE, in order, PLAIN nodes included)
// and PTTL intact (and drops an already-expired key), and that its own SAVE
// writes back the Encoder's list nodes unchanged; that the Decoder reads a
// dump.rdb written by redis-server (int-encoded and LZF strings, LZF keys
// and members, intsets of every width, hashtable sets, listpack and
// hashtable hashes, listpack and skiplist sorted sets, quicklists with
// LZF-compressed, in-memory-compressed and PLAIN nodes, expiries in several
// databases, a skipped function library); that for the same elements the
// Encoder writes the very list nodes Redis holds, byte for byte; and that
// the listpack parser reads listpacks Redis wrote. Listpack sets (type 20)
// are written only by Redis 7.2+, ziplist and zipmap hashes, ziplist sorted
// sets, text-score sorted sets (type 3) and lists of types 1, 10 and 14
// only by older Redis, so they are covered by hand-built golden files.
// Redis 7.0 itself does not keep the sign of a zero score, so those tests
// compare -0 and 0 as equal.
package snapshot
