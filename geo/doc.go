// Package geo is the geohash arithmetic behind the GEO commands, written
// to give bit-for-bit the results Redis 7.0.15 gives, so that a geo set
// (a sorted set whose scores are geohashes) moves between sessiond and
// Redis unchanged and every search selects and orders the same members.
//
// Invariants of the encoding:
//
//   - A position is a 52-bit integer: 26 bits of latitude and 26 of
//     longitude interleaved, latitude in the even bits (bit 0 is the
//     latitude's lowest), longitude in the odd ones. Stored as a sorted-set
//     score it is exact (it is below 2^53).
//   - Longitude covers [-180, 180] and latitude [-85.05112878, 85.05112878]
//     (the Web Mercator limits): positions outside are refused, and a
//     decoded position (the centre of its cell) is clamped to them.
//   - A cell of step s (s bits of each coordinate) holds exactly the
//     scores [bits<<(52-2s), (bits+1)<<(52-2s)): a search is a few score
//     ranges, filtered by true distance.
//   - GEOHASH's string re-encodes the decoded position with the standard
//     latitude range [-90, 90]; its 11th character is always '0'.
//
// Floating point follows Redis's C operation by operation (no fused
// multiply-adds). sin, cos and asin are computed correctly rounded
// (double-double arithmetic), which is what glibc's libm, which Redis
// uses, returns; Go's math package differs from it in the last bit for
// a good share of arguments, and one bit is enough to change a stored
// distance or, at a search's edge, whether a member is included.
package geo
