package geo

import (
	"math"
	"math/big"
)

const piDigits = "3.1415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679"

// Correctly rounded sin, cos and asin. glibc (Redis's libm) returns the
// correctly rounded result for all but a vanishing share of arguments;
// Go's math package is only faithful (within one unit in the last place)
// and differs from glibc for about a tenth of arguments (a third for
// asin). Here each function is evaluated in double-double arithmetic (about
// 104 significant bits) and rounded once, which agrees with glibc unless
// the exact result lies within about 2^-100 of a rounding boundary.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

// twoProd is a*b exactly, as a sum of two doubles.
func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

// add is the accurate double-double sum: its error is relative to the
// result, so it stays accurate when x and y nearly cancel.
func add(x, y dd) dd {
	s := twoSum(x.hi, y.hi)
	t := twoSum(x.lo, y.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func neg(x dd) dd { return dd{-x.hi, -x.lo} }

func sub(x, y dd) dd { return add(x, neg(y)) }

func mul(x, y dd) dd {
	p := twoProd(x.hi, y.hi)
	p.lo += float64(x.hi*y.lo) + float64(x.lo*y.hi)
	return quickTwoSum(p.hi, p.lo)
}

func mulD(x dd, d float64) dd {
	p := twoProd(x.hi, d)
	p.lo += float64(x.lo * d)
	return quickTwoSum(p.hi, p.lo)
}

func div(x, y dd) dd {
	q1 := x.hi / y.hi
	r := sub(x, mulD(y, q1))
	q2 := r.hi / y.hi
	r = sub(r, mulD(y, q2))
	q3 := r.hi / y.hi
	return add(quickTwoSum(q1, q2), dd{q3, 0})
}

// round is x rounded to the nearest double.
func (x dd) round() float64 { return x.hi + x.lo }

var (
	// pio2 is π/2 to about 160 bits, as three doubles.
	pio2a, pio2b, pio2c float64
	pio2                dd
	// sinCoef[i] is (-1)^i/(2i+1)!, cosCoef[i] (-1)^i/(2i)!.
	sinCoef, cosCoef [16]dd
)

func init() {
	// Split π/2, from 100 decimals of π, into three doubles.
	p, _, err := big.ParseFloat(piDigits, 10, 340, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	p.Quo(p, big.NewFloat(2))
	parts := [3]*float64{&pio2a, &pio2b, &pio2c}
	for _, part := range parts {
		*part, _ = p.Float64()
		p.Sub(p, new(big.Float).SetFloat64(*part))
	}
	pio2 = quickTwoSum(pio2a, pio2b)
	fact := dd{1, 0}
	for n := 0; n < 32; n++ {
		if n > 0 {
			fact = mulD(fact, float64(n))
		}
		c := div(dd{1, 0}, fact)
		if (n/2)%2 == 1 {
			c = neg(c)
		}
		if n%2 == 0 {
			cosCoef[n/2] = c
		} else {
			sinCoef[n/2] = c
		}
	}
}

// sinPoly and cosPoly are sin r and cos r for |r| <= π/4.
func sinPoly(r dd) dd {
	r2 := mul(r, r)
	p := sinCoef[len(sinCoef)-1]
	for i := len(sinCoef) - 2; i >= 0; i-- {
		p = add(mul(p, r2), sinCoef[i])
	}
	return mul(p, r)
}

func cosPoly(r dd) dd {
	r2 := mul(r, r)
	p := cosCoef[len(cosCoef)-1]
	for i := len(cosCoef) - 2; i >= 0; i-- {
		p = add(mul(p, r2), cosCoef[i])
	}
	return p
}

// reduce returns r = x - k·π/2 with |r| <= about π/4, and k mod 4. It is
// exact enough for |x| <= reduceMax; the geo code only needs a few radians.
func reduce(x float64) (dd, int) {
	k := math.RoundToEven(x / pio2a)
	r := sub(dd{x, 0}, twoProd(k, pio2a))
	r = sub(r, twoProd(k, pio2b))
	r = sub(r, twoProd(k, pio2c))
	return r, int(int64(k) & 3)
}

// reduceMax bounds the arguments sin and cos reduce themselves. Larger
// ones (from absurd search radii) only feed bounds Redis then ignores (a
// search that wide uses the coarsest cells and excludes none), so Go's
// math is good enough for them.
const reduceMax = 1 << 20

func sinCR(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > reduceMax {
		return math.Sin(x)
	}
	return sinQuadrant(reduce(x))
}

func cosCR(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > reduceMax {
		return math.Cos(x)
	}
	r, q := reduce(x)
	return sinQuadrant(r, q+1) // cos x = sin(x + π/2)
}

// sinQuadrant is sin(r + q·π/2), correctly rounded, for r from reduce.
func sinQuadrant(r dd, q int) float64 {
	switch q & 3 {
	case 0:
		return sinPoly(r).round()
	case 1:
		return cosPoly(r).round()
	case 2:
		return -sinPoly(r).round()
	}
	return -cosPoly(r).round()
}

// asinSmall is asin z for 0 <= z <= 0.5 (about), in double-double: one
// Newton step on sin y = z from Go's asin, which is within an ulp, leaves
// an error of order ulp².
func asinSmall(z dd) dd {
	y0 := math.Asin(z.hi)
	y := dd{y0, 0}
	s, c := sinPoly(y), cosPoly(y)
	return add(y, div(sub(z, s), c))
}

func asinCR(x float64) float64 {
	if !(x >= -1 && x <= 1) || x == 0 {
		return math.Asin(x)
	}
	ax := math.Abs(x)
	var res float64
	if ax <= 0.5 {
		res = asinSmall(dd{ax, 0}).round()
	} else {
		// asin x = π/2 - 2·asin(sqrt((1-x)/2)), which stays well
		// conditioned up to x = 1; 1-x and the halving are exact.
		t := (1 - ax) / 2
		s := math.Sqrt(t)
		z := dd{s, 0}
		if s != 0 {
			z = quickTwoSum(s, math.FMA(-s, s, t)/(2*s))
		}
		res = sub(pio2, mulD(asinSmall(z), 2)).round()
	}
	if x < 0 {
		return -res
	}
	return res
}
