// Package hll implements Redis's HyperLogLog values (PFADD, PFCOUNT,
// PFMERGE) byte for byte as Redis 7.0.15 stores them, so that values move
// between sessiond and Redis with GET/SET, DUMP/RESTORE and snapshots.
//
// A value is a string:
//
//   - a 16-byte header: "HYLL", the encoding (0 dense, 1 sparse), three
//     bytes Redis ignores, and the cached cardinality, 8 bytes little
//     endian, whose top bit set means "stale, recompute";
//   - dense: 16384 6-bit registers packed low bits first, 12288 bytes, so a
//     dense value is exactly 12304 bytes long;
//   - sparse: run-length opcodes covering the 16384 registers in order:
//     00xxxxxx a run of 1-64 zero registers, 01xxxxxx yyyyyyyy a run of
//     1-16384 zero registers (14 bits), 1vvvvvxx a run of 1-4 registers of
//     value 1-32.
//
// An element goes to register hash&16383 with the value "trailing zero
// bits of hash>>14, plus one" (at most 51), hash being MurmurHash64A with
// seed 0xadc83b19. A new value is sparse; it becomes dense when a register
// needs a value over 32 or an update would make it longer than
// hll-sparse-max-bytes. PFCOUNT uses Ertl's estimator (tau and sigma) as
// Redis 5+ does.
//
// Values come from users (SET, RESTORE, snapshots), so every function here
// accepts arbitrary bytes: it never panics, never allocates more than the
// dense size plus the input's length, and reports corruption where Redis
// does. Header checks are IsHLL (Redis's WRONGTYPE); structural damage in
// a sparse value is reported by the operations (Redis's INVALIDOBJ). The
// operations follow Redis's step by step, including how they treat a
// damaged sparse value (what each accepts or rejects, and the partial
// updates PFADD leaves), so the same commands give the same bytes. One
// exception is deliberate: an opcode running past the last register makes
// merging and conversion to dense fail at once, as in the redis-server
// 7.0.15 the tests compare with (Debian's, with the fix for
// CVE-2025-32023), where the 7.0.15 tag's source stops at a value opcode
// and may accept the value, and overflows a C int on huge zero runs. A
// 2-byte opcode cut by the end of the value reads its second byte as 0
// (Redis: the byte past the end, normally the string's terminator).
package hll
