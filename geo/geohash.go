package geo

import "math"

// The limits of the encoding (Web Mercator's: no poles).
const (
	LonMin = -180.0
	LonMax = 180.0
	LatMin = -85.05112878
	LatMax = 85.05112878
	// Step is the precision of a stored position: 26 bits per coordinate.
	Step = 26
)

// Hash is a cell: the first 2·Step bits of a position's interleaved
// code. The zero Hash (Step 0) is "no cell".
type Hash struct {
	Bits uint64
	Step uint8
}

func (h Hash) zero() bool { return h.Bits == 0 && h.Step == 0 }

// rng is an interval of one coordinate.
type rng struct{ min, max float64 }

var (
	lonRange = rng{LonMin, LonMax}
	latRange = rng{LatMin, LatMax}
	// latStd is the latitude range of the usual geohash (GEOHASH's strings).
	latStd = rng{-90, 90}
)

// spread moves the 32 bits of v to the even bit positions.
func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// squeeze is spread's inverse: the even bits of v, packed.
func squeeze(v uint64) uint32 {
	x := v & 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	return uint32(x)
}

// cUint32 converts a non-negative double below 2^32 as C's (uint32_t)
// cast does on x86-64 (truncation toward zero).
func cUint32(f float64) uint32 { return uint32(CInt64(f)) }

// CInt64 is C's (long long) cast of a double on x86-64 (cvttsd2si):
// truncation, and the "integer indefinite" 1<<63 for NaN and values out
// of range.
func CInt64(f float64) int64 {
	if !(f > -9223372036854775809.0 && f < 9223372036854775808.0) {
		return math.MinInt64
	}
	return int64(f)
}

// cUint64 converts as gcc's (uint64_t) cast of a double does on x86-64:
// values from 2^63 up are converted after subtracting 2^63; NaN,
// negative and too large values wrap as the instructions make them.
func cUint64(f float64) uint64 {
	if f >= 9223372036854775808.0 {
		return uint64(CInt64(f-9223372036854775808.0)) ^ 1<<63
	}
	return uint64(CInt64(f))
}

// encode is the cell of step steps holding (lon, lat) within the ranges,
// or false if the position is outside them or outside the encoding's
// limits.
func encode(lonR, latR rng, lon, lat float64, step uint8) (Hash, bool) {
	if lon > LonMax || lon < LonMin || lat > LatMax || lat < LatMin {
		return Hash{}, false
	}
	if lat < latR.min || lat > latR.max || lon < lonR.min || lon > lonR.max {
		return Hash{}, false
	}
	latOff := (lat - latR.min) / (latR.max - latR.min)
	lonOff := (lon - lonR.min) / (lonR.max - lonR.min)
	scale := float64(uint64(1) << step)
	latOff *= scale
	lonOff *= scale
	return Hash{Bits: spread(cUint32(latOff)) | spread(cUint32(lonOff))<<1, Step: step}, true
}

// area is the extent of a cell.
type area struct{ lon, lat rng }

func decode(lonR, latR rng, h Hash) area {
	latScale := latR.max - latR.min
	lonScale := lonR.max - lonR.min
	ilat := squeeze(h.Bits)
	ilon := squeeze(h.Bits >> 1)
	div := float64(uint64(1) << h.Step)
	var a area
	a.lat.min = latR.min + float64(float64(ilat)/div*latScale)
	a.lat.max = latR.min + float64(float64(ilat+1)/div*latScale)
	a.lon.min = lonR.min + float64(float64(ilon)/div*lonScale)
	a.lon.max = lonR.min + float64(float64(ilon+1)/div*lonScale)
	return a
}

// centre is a cell's middle, clamped to the encoding's limits.
func (a area) centre() (lon, lat float64) {
	lon = (a.lon.min + a.lon.max) / 2
	lon = min(max(lon, LonMin), LonMax)
	lat = (a.lat.min + a.lat.max) / 2
	lat = min(max(lat, LatMin), LatMax)
	return lon, lat
}

// align52 is the first score of h's cell.
func align52(h Hash) uint64 { return h.Bits << (52 - 2*uint(h.Step)) }

// Valid reports whether (lon, lat) is within the encoding's limits.
func Valid(lon, lat float64) bool {
	return !(lon < LonMin || lon > LonMax || lat < LatMin || lat > LatMax)
}

// Encode is the score of (lon, lat), which must be Valid.
func Encode(lon, lat float64) float64 {
	h, _ := encode(lonRange, latRange, lon, lat, Step)
	return float64(align52(h))
}

// Decode is the position a score stands for: its cell's centre. Any
// score decodes (as Redis, by casting it to an integer).
func Decode(score float64) (lon, lat float64) {
	return decode(lonRange, latRange, Hash{Bits: cUint64(score), Step: Step}).centre()
}

const base32 = "0123456789bcdefghjkmnpqrstuvwxyz"

// String is the usual 11-character geohash of a score's position.
func String(score float64) string {
	lon, lat := Decode(score)
	h, _ := encode(lonRange, latStd, lon, lat, Step)
	var b [11]byte
	for i := range 10 {
		b[i] = base32[(h.Bits>>(52-(i+1)*5))&0x1f]
	}
	b[10] = '0' // 52 bits make 10.4 characters: the last is always 0
	return string(b[:])
}

// move shifts a cell by d (-1, 0, 1) along one coordinate: the bits
// selected by mask (odd bits: longitude, even: latitude). Carries skip the
// other coordinate's bits, and a cell wraps around at the range's end.
func (h *Hash) move(d int, odd bool) {
	if d == 0 {
		return
	}
	const oddBits, evenBits = 0xaaaaaaaaaaaaaaaa, 0x5555555555555555
	mine, other := uint64(oddBits), uint64(evenBits)
	if !odd {
		mine, other = other, mine
	}
	shift := 64 - 2*uint(h.Step)
	v := h.Bits & mine
	keep := h.Bits & other
	fill := other >> shift // the other coordinate's bits, within the step
	if d > 0 {
		v += fill + 1
	} else {
		v |= fill
		v -= fill + 1
	}
	v &= mine >> shift
	h.Bits = v | keep
}

func (h Hash) moved(dlon, dlat int) Hash {
	h.move(dlon, true)
	h.move(dlat, false)
	return h
}
