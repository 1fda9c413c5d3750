// Package cnum has C's number conversions as glibc does them, for the
// places where Redis's reply depends on what its C parses: strtod of the
// longest leading number (cjson's decoder, DEBUG SLEEP's argument).
//
// Invariant: StrtodPrefix reads what glibc's strtod reads and gives its
// value, bit for bit (NaN payloads included); it never skips leading
// white space, which its callers do as their C does.
package cnum

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// StrtodPrefix is glibc's strtod over the longest number s starts with
// (no white space first): decimal or hexadecimal, with an exponent, inf,
// infinity, nan and nan(chars); it returns the value and the bytes read,
// 0 when s starts with no number. A value out of range is ±Inf or 0, as
// strtod makes it.
func StrtodPrefix(s string) (float64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	lower := strings.ToLower(s[i:min(i+8, len(s))])
	switch {
	case strings.HasPrefix(lower, "infinity"):
		return sign(math.Inf(1)), i + 8
	case strings.HasPrefix(lower, "inf"):
		return sign(math.Inf(1)), i + 3
	case strings.HasPrefix(lower, "nan"):
		i += 3
		bits := uint64(0x7ff8000000000000) // glibc's NAN
		if i < len(s) && s[i] == '(' {
			j := i + 1
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				// A payload that is all number (strtoull, base 0) goes
				// into the mantissa, under the quiet bit.
				if p, ok := parseCUint(s[i+1 : j]); ok {
					bits |= p & (1<<51 - 1)
				}
				i = j + 1
			}
		}
		if neg {
			bits |= 1 << 63
		}
		return math.Float64frombits(bits), i
	}
	start := i
	digits := func(hex bool) int {
		n := 0
		for i < len(s) && (isDigit(s[i]) || hex && isHex(s[i])) {
			i++
			n++
		}
		return n
	}
	hex := i+1 < len(s) && s[i] == '0' && s[i+1]|0x20 == 'x' &&
		(i+2 < len(s) && isHex(s[i+2]) || i+3 < len(s) && s[i+2] == '.' && isHex(s[i+3]))
	if hex {
		i += 2
	}
	n := digits(hex)
	if i < len(s) && s[i] == '.' {
		i++
		n += digits(hex)
	}
	if n == 0 {
		return 0, 0
	}
	mant := s[start:i]
	exp := byte('e')
	if hex {
		exp = 'p'
	}
	if i < len(s) && s[i]|0x20 == exp {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	text := s[start:i]
	if hex && len(text) == len(mant) {
		text += "p0" // Go wants the exponent strtod takes as optional
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, 0 // cannot happen: text is a number
	}
	return sign(f), i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }

// parseCUint is strtoull(s, &end, 0) that must read all of s.
func parseCUint(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'x':
		s, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	v, err := strconv.ParseUint(s, base, 64)
	if errors.Is(err, strconv.ErrRange) {
		return math.MaxUint64, true
	}
	return v, err == nil
}
