package geo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Known answers of redis-server 7.0.15 (GEOADD then ZSCORE, GEOHASH,
// GEOPOS; the coordinates are printed as "%.17f", trailing zeros cut).
var redisPoints = []struct {
	lon, lat float64
	score    float64
	hash     string
	pos      [2]string
}{
	{13.361389, 38.115556, 3479099956230698, "sqc8b49rny0", [2]string{"13.36138933897018433", "38.11555639549629859"}},
	{15.087269, 37.502669, 3479447370796909, "sqdtr74hyu0", [2]string{"15.08726745843887329", "37.50266842333162032"}},
	// The upper limits give offsets of exactly 2^26: bit 26 of each
	// coordinate is set, and the score is 3·2^52.
	{180, 85.05112878, 13510798882111488, "bp05b5048p0", [2]string{"180", "85.0511287799999991"}},
	{-180, -85.05112878, 0, "00bh0hbj200", [2]string{"-179.99999731779098511", "-85.05112751263942528"}},
	{0, 0, 3377699720527872, "s0000000000", [2]string{"0.00000268220901489", "0.00000126736058093"}},
}

func human(v float64) string {
	s := strconv.FormatFloat(v, 'f', 17, 64)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func TestEncodeDecodeHashMatchRedis(t *testing.T) {
	for _, p := range redisPoints {
		if got := Encode(p.lon, p.lat); got != p.score {
			t.Errorf("Encode(%v, %v) = %v, Redis %v", p.lon, p.lat, got, p.score)
		}
		lon, lat := Decode(p.score)
		if human(lon) != p.pos[0] || human(lat) != p.pos[1] {
			t.Errorf("Decode(%v) = %s %s, Redis %s %s", p.score, human(lon), human(lat), p.pos[0], p.pos[1])
		}
		if got := String(p.score); got != p.hash {
			t.Errorf("String(%v) = %q, Redis %q", p.score, got, p.hash)
		}
	}
}

func TestValid(t *testing.T) {
	for _, c := range []struct {
		lon, lat float64
		ok       bool
	}{{180, 85.05112878, true}, {-180, -85.05112878, true}, {180.0000001, 0, false}, {0, 85.05112879, false}, {0, -85.0511288, false}, {math.Inf(1), 0, false}} {
		if Valid(c.lon, c.lat) != c.ok {
			t.Errorf("Valid(%v, %v) = %v", c.lon, c.lat, !c.ok)
		}
	}
}

// TestDistanceMatchesRedis: GEODIST's answers, before the 4-decimal
// rounding (Redis: 166274.1516, 18919.8446 km, 2768.0496 mi).
func TestDistanceMatchesRedis(t *testing.T) {
	d := func(a, b int) float64 {
		lon1, lat1 := Decode(redisPoints[a].score)
		lon2, lat2 := Decode(redisPoints[b].score)
		return Distance(lon1, lat1, lon2, lat2)
	}
	for _, c := range []struct {
		got, conv float64
		want      string
	}{{d(0, 1), 1, "166274.1516"}, {d(2, 3), 1000, "18919.8446"}, {d(4, 0), 1609.34, "2768.0496"}} {
		if s := strconv.FormatFloat(math.RoundToEven(c.got/c.conv*10000)/10000, 'f', 4, 64); s != c.want {
			t.Errorf("distance %v, Redis %s", s, c.want)
		}
	}
	// Same longitude: the latitude shortcut, exactly R·|Δφ|.
	if got, want := Distance(10, 20, 10, 21), earthRadius*math.Abs(21*degToRad-20*degToRad); got != want {
		t.Errorf("meridian distance %v, want %v", got, want)
	}
}

// glibc 2.36's sin, cos and asin (Redis's libm) for arguments where it
// is correctly rounded and Go's math package is not.
func TestLibmCorrectlyRounded(t *testing.T) {
	for _, c := range []struct {
		f       func(float64) float64
		name    string
		x, want float64
	}{
		{sinCR, "sin", -0.20718209103104332, -0.20570307375803534},
		{sinCR, "sin", -2.7875426531163767, -0.34669944479930465},
		{sinCR, "sin", 0.0669962650777559, 0.06694615754035987},
	} {
		if got := c.f(c.x); got != c.want {
			t.Errorf("%s(%v) = %v, want %v", c.name, c.x, got, c.want)
		}
	}
	// Identities that pin the reduction and the asin branches.
	for _, x := range []float64{0.5, 1, -1, 0.9999999999999999, 1e-300, 0.25} {
		if x == 1 && asinCR(x) != math.Pi/2 {
			t.Errorf("asin(1) = %v", asinCR(x))
		}
		if s := sinCR(asinCR(x)); math.Abs(s-x) > 2e-16*math.Abs(x) {
			t.Errorf("sin(asin(%v)) = %v", x, s)
		}
	}
	if cosCR(0) != 1 || sinCR(0) != 0 || cosCR(math.Pi) != -1 {
		t.Errorf("cos(0) %v sin(0) %v cos(pi) %v", cosCR(0), sinCR(0), cosCR(math.Pi))
	}
}

// TestRangesCoverShape: every position within a search is inside one of
// its score ranges (the cells cover the shape), for many centres and sizes.
func TestRangesCoverShape(t *testing.T) {
	for _, c := range []Shape{
		{Lon: 13.36, Lat: 38.11, Radius: 200, Conversion: 1000},
		{Lon: 179.9, Lat: 0, Radius: 50, Conversion: 1000},
		{Lon: -179.99, Lat: 84.9, Radius: 10, Conversion: 1000},
		{Lon: 0, Lat: 0, Box: true, Width: 400, Height: 100, Conversion: 1000},
		{Lon: 2, Lat: -60, Box: true, Width: 3, Height: 900, Conversion: 1609.34},
		{Lon: 5, Lat: 5, Radius: 0, Conversion: 1},
	} {
		rs := c.Ranges()
		if len(rs) == 0 || len(rs) > 9 {
			t.Fatalf("%+v: %d ranges", c, len(rs))
		}
		for i := range 2000 {
			lon := c.Lon + (float64(i%50)-25)/25*3
			lat := c.Lat + (float64(i/50)-20)/20*3
			if !Valid(lon, lat) {
				continue
			}
			s := Encode(lon, lat)
			if _, _, _, ok := c.Within(s); !ok {
				continue
			}
			found := false
			for _, r := range rs {
				found = found || (s >= r.Min && s < r.Max)
			}
			if !found {
				t.Errorf("%+v: (%v, %v) is within but in no range", c, lon, lat)
			}
		}
	}
}

func TestCConversions(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want uint64
	}{{-1, math.MaxUint64}, {math.Inf(1), 0}, {math.Inf(-1), 1 << 63}, {1 << 63, 1 << 63}, {3, 3}} {
		if got := cUint64(c.f); got != c.want {
			t.Errorf("cUint64(%v) = %#x, want %#x", c.f, got, c.want)
		}
	}
}

// TestEstimateAgreesWithDistance: wherever the fast estimate decides, the
// correctly rounded distance decides the same way, limits at the points'
// own distance (times 1 +- a few ulps) included, over the whole globe.
func TestEstimateAgreesWithDistance(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	decided := 0
	for range 200000 {
		lon1, lat1 := r.Float64()*360-180, r.Float64()*170-85
		lon2, lat2 := lon1+r.NormFloat64()*r.Float64()*10, lat1+r.NormFloat64()*r.Float64()*10
		d := Distance(lon1, lat1, lon2, lat2)
		for _, limit := range []float64{d, d * (1 + 1e-15), d * (1 - 1e-15), d * (1 + 1e-8), d * (1 - 1e-8), d * 2, d / 2, 0} {
			switch estimate(lon1, lat1, lon2, lat2, limit) {
			case 1:
				decided++
				if !(d > limit) {
					t.Fatalf("(%v,%v)-(%v,%v): estimate says beyond %v, Distance %v", lon1, lat1, lon2, lat2, limit, d)
				}
			case -1:
				decided++
				if d > limit {
					t.Fatalf("(%v,%v)-(%v,%v): estimate says within %v, Distance %v", lon1, lat1, lon2, lat2, limit, d)
				}
			}
		}
	}
	if decided < 500000 {
		t.Fatalf("the estimate decided only %d times", decided)
	}
}
