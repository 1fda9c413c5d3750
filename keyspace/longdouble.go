package keyspace

import (
	"math"
	"math/big"
	"strings"
)

// INCRBYFLOAT in Redis computes in C long double: on x86-64, where Redis
// servers run, the x87 80-bit format with a 64-bit mantissa and a 15-bit
// exponent. Its replies and stored values are the long double printed with
// "%.17Lf" and trailing zeros removed. sessiond reproduces that format
// exactly with math/big: values are parsed exactly, rounded to 64 bits
// (nearest, ties to even, as strtold and x87 addition do) and printed from
// the exact binary value.

const (
	ldPrec       = 64     // mantissa bits
	ldMaxExp     = 16384  // |x| < 2^16384 (big.Float exponent convention: 0.5 <= mant < 1)
	ldMinNormExp = -16381 // |x| >= 2^-16382 is normal
	ldSubnormal  = 16445  // subnormals are multiples of 2^-16445
	ldMaxChars   = 5 * 1024
)

// longDouble is a finite long double value, or an infinity.
type longDouble struct {
	r   *big.Rat // exact value when finite
	inf int      // +1 or -1 for an infinity
}

// parseLongDouble parses b as Redis's string2ld does with glibc's strtold:
// no leading space, nothing after the number, decimal or hexadecimal
// (0x1.8p3) numbers, inf and infinity in any case; overflow, underflow to
// zero and NaN are rejected.
func parseLongDouble(b []byte) (longDouble, bool) {
	if len(b) == 0 || len(b) >= ldMaxChars {
		return longDouble{}, false
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return longDouble{}, false
	}
	s := string(b)
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if ls := strings.ToLower(s); ls == "inf" || ls == "infinity" {
		if neg {
			return longDouble{inf: -1}, true
		}
		return longDouble{inf: 1}, true
	}
	var r *big.Rat
	var ok bool
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		r, ok = parseHexRat(s[2:])
	} else {
		r, ok = parseDecRat(s)
	}
	if !ok {
		return longDouble{}, false
	}
	if neg {
		r.Neg(r)
	}
	v, ok := roundLongDouble(r)
	if !ok || (v.Sign() == 0 && r.Sign() != 0) { // overflow, or underflow to zero (ERANGE)
		return longDouble{}, false
	}
	return longDouble{r: v}, true
}

// TimeoutMs converts b, a blocking command's timeout in seconds, to
// milliseconds as Redis's getTimeoutFromObjectOrReply does on x86-64:
// parsed as a long double (string2ld), multiplied by 1000 in long double,
// rounded up (ceill) and converted to a long long, which turns anything
// beyond its range, infinities included, into LLONG_MIN. So -0.001 is 0
// (no timeout: the long double nearest 0.001 is a little under it) and
// inf is negative. ok is false if b is not a number.
func TimeoutMs(b []byte) (ms int64, ok bool) {
	v, ok := parseLongDouble(b)
	if !ok {
		return 0, false
	}
	if v.inf != 0 {
		return math.MinInt64, true
	}
	r, finite := roundLongDouble(new(big.Rat).Mul(v.r, big.NewRat(1000, 1)))
	if !finite {
		return math.MinInt64, true
	}
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int)) // floor
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return math.MinInt64, true
	}
	return q.Int64(), true
}

// splitMantissa splits s into integer digits, fraction digits and the rest,
// accepting digits as isDigit does; at least one digit is required.
func splitMantissa(s string, isDigit func(byte) bool) (intPart, frac, rest string, ok bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart, s = s[:i], s[i:]
	if len(s) > 0 && s[0] == '.' {
		j := 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		frac, s = s[1:j], s[j:]
	}
	return intPart, frac, s, len(intPart)+len(frac) > 0
}

func isDec(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDec(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// parseExp parses an exponent: [+-]digits, the whole of s. Huge exponents
// are clamped (the value then overflows or underflows anyway).
func parseExp(s string) (int64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	var e int64
	for i := 0; i < len(s); i++ {
		if !isDec(s[i]) {
			return 0, false
		}
		if e < 1<<40 {
			e = e*10 + int64(s[i]-'0')
		}
	}
	if neg {
		e = -e
	}
	return e, true
}

// parseDecRat parses digits[.digits][e[+-]digits] exactly.
func parseDecRat(s string) (*big.Rat, bool) {
	intPart, frac, rest, ok := splitMantissa(s, isDec)
	if !ok {
		return nil, false
	}
	var e10 int64
	if rest != "" {
		if rest[0] != 'e' && rest[0] != 'E' {
			return nil, false
		}
		if e10, ok = parseExp(rest[1:]); !ok {
			return nil, false
		}
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return new(big.Rat), true
	}
	e10 -= int64(len(frac))
	// The value is about 10^(len(digits)+e10): far outside the long double
	// range it is an overflow or an underflow to zero either way.
	switch mag := int64(len(digits)) + e10; {
	case mag > 4940:
		return new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), ldMaxExp+1)), true
	case mag < -4960:
		return new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), ldSubnormal+2)), true
	}
	n, _ := new(big.Int).SetString(digits, 10)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs64(e10)), nil)
	if e10 >= 0 {
		return new(big.Rat).SetInt(n.Mul(n, p)), true
	}
	return new(big.Rat).SetFrac(n, p), true
}

// parseHexRat parses hexdigits[.hexdigits][p[+-]digits] (after "0x") exactly.
func parseHexRat(s string) (*big.Rat, bool) {
	intPart, frac, rest, ok := splitMantissa(s, isHex)
	if !ok {
		return nil, false
	}
	var e2 int64
	if rest != "" {
		if rest[0] != 'p' && rest[0] != 'P' {
			return nil, false
		}
		if e2, ok = parseExp(rest[1:]); !ok {
			return nil, false
		}
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return new(big.Rat), true
	}
	e2 -= 4 * int64(len(frac))
	switch mag := 4*int64(len(digits)) + e2; {
	case mag > ldMaxExp+8:
		e2 = ldMaxExp + 8 - 4*int64(len(digits))
	case mag < -ldSubnormal-8:
		e2 = -ldSubnormal - 8 - 4*int64(len(digits))
	}
	n, _ := new(big.Int).SetString(digits, 16)
	p := new(big.Int).Lsh(big.NewInt(1), uint(abs64(e2)))
	if e2 >= 0 {
		return new(big.Rat).SetInt(n.Mul(n, p)), true
	}
	return new(big.Rat).SetFrac(n, p), true
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// roundLongDouble rounds r to the nearest long double (ties to even),
// including subnormals. It reports false on overflow.
func roundLongDouble(r *big.Rat) (*big.Rat, bool) {
	if r.Sign() == 0 {
		return new(big.Rat), true
	}
	f := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).SetRat(r)
	e := f.MantExp(nil)
	if e > ldMaxExp {
		return nil, false
	}
	if e >= ldMinNormExp {
		out, _ := f.Rat(nil)
		return out, true
	}
	// Subnormal: round to a multiple of 2^-16445.
	q := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), ldSubnormal)))
	n := roundHalfEven(q)
	return new(big.Rat).SetFrac(n, new(big.Int).Lsh(big.NewInt(1), ldSubnormal)), true
}

// roundHalfEven rounds q to the nearest integer, ties to even.
func roundHalfEven(q *big.Rat) *big.Int {
	num, den := q.Num(), q.Denom()
	quo, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	// Compare 2|rem| with den.
	twice := new(big.Int).Abs(rem)
	twice.Lsh(twice, 1)
	switch c := twice.Cmp(den); {
	case c > 0 || c == 0 && quo.Bit(0) == 1:
		if num.Sign() < 0 {
			quo.Sub(quo, big.NewInt(1))
		} else {
			quo.Add(quo, big.NewInt(1))
		}
	}
	return quo
}

// formatLongDouble prints v as Redis's ld2string in LD_STR_HUMAN mode:
// "%.17Lf", trailing zeros and a trailing point removed, "-0" as "0".
func formatLongDouble(v *big.Rat) string {
	// Every long double fits a 64-bit mantissa: the conversion is exact.
	s := new(big.Float).SetPrec(ldPrec).SetRat(v)
	out := s.Text('f', 17)
	if strings.IndexByte(out, '.') >= 0 {
		out = strings.TrimRight(out, "0")
		out = strings.TrimSuffix(out, ".")
	}
	if out == "-0" {
		out = "0"
	}
	return out
}

// incrByLongDouble adds incr to cur as Redis's INCRBYFLOAT does. It returns
// ErrNotFloat if either is not a number, ErrNaN if the sum is not finite.
func incrByLongDouble(cur []byte, hasCur bool, incr []byte) ([]byte, error) {
	v := longDouble{r: new(big.Rat)}
	if hasCur {
		var ok bool
		if v, ok = parseLongDouble(cur); !ok {
			return nil, ErrNotFloat
		}
	}
	d, ok := parseLongDouble(incr)
	if !ok {
		return nil, ErrNotFloat
	}
	if v.inf != 0 || d.inf != 0 {
		return nil, ErrNaN // inf + x is infinite, inf - inf is NaN
	}
	sum, ok := roundLongDouble(new(big.Rat).Add(v.r, d.r))
	if !ok {
		return nil, ErrNaN
	}
	return []byte(formatLongDouble(sum)), nil
}
