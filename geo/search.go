package geo

import "math"

const (
	// earthRadius is the radius Redis's distances use (metres).
	earthRadius  = 6372797.560856
	mercatorSpan = 20037726.37
)

// degToRad is C's (M_PI / 180.0): the constant rounded to a double,
// divided in double precision (Go would fold math.Pi/180 exactly).
var degToRad = func() float64 {
	pi := math.Pi
	return pi / 180.0
}()

func rad(deg float64) float64 { return deg * degToRad }
func deg(r float64) float64   { return r / degToRad }

// latDistance is the distance between two latitudes on one meridian.
func latDistance(lat1, lat2 float64) float64 {
	return earthRadius * math.Abs(rad(lat2)-rad(lat1))
}

// Distance is the haversine distance in metres between two positions, as
// Redis computes it (a shortcut when the longitudes' sine difference is 0).
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	return distance(lon1, lat1, lon2, lat2, func() float64 { return cosCR(rad(lat1)) })
}

// distance is Distance with the first latitude's cosine from cos1, called
// only when needed: a search's centre computes it once (Shape.centreCos).
func distance(lon1, lat1, lon2, lat2 float64, cos1 func() float64) float64 {
	lon1r, lon2r := rad(lon1), rad(lon2)
	v := sinCR((lon2r - lon1r) / 2)
	if v == 0 {
		return latDistance(lat1, lat2)
	}
	lat1r, lat2r := rad(lat1), rad(lat2)
	u := sinCR((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(cos1()*cosCR(lat2r))*v)*v)
	return 2.0 * earthRadius * asinCR(math.Sqrt(a))
}

// Shape is a search area: a circle of Radius, or a Width × Height box,
// centred on (Lon, Lat); lengths are in a unit of Conversion metres.
type Shape struct {
	Lon, Lat      float64
	Box           bool
	Radius        float64
	Width, Height float64
	Conversion    float64

	cosLat float64 // the centre latitude's cosine, once known (centreCos)
	hasCos bool
}

// centreCos is the centre latitude's correctly rounded cosine, computed
// once per search rather than once per candidate.
func (s *Shape) centreCos() float64 {
	if !s.hasCos {
		s.cosLat, s.hasCos = cosCR(rad(s.Lat)), true
	}
	return s.cosLat
}

// fromCentre is Distance(s.Lon, s.Lat, lon, lat).
func (s *Shape) fromCentre(lon, lat float64) float64 {
	return distance(s.Lon, s.Lat, lon, lat, s.centreCos)
}

// bounds is the shape's enclosing longitude and latitude interval.
func (s *Shape) bounds() (minLon, minLat, maxLon, maxLat float64) {
	var h, w float64
	if s.Box {
		h = s.Conversion * (s.Height / 2)
		w = s.Conversion * (s.Width / 2)
	} else {
		h = s.Conversion * s.Radius
		w = s.Conversion * s.Radius
	}
	latDelta := deg(h / earthRadius)
	lonDeltaTop := deg(w / earthRadius / cosCR(rad(s.Lat+latDelta)))
	lonDeltaBottom := deg(w / earthRadius / cosCR(rad(s.Lat-latDelta)))
	// Meridians converge toward the pole: the wider end of the box is the
	// one nearer the equator.
	if s.Lat < 0 {
		minLon, maxLon = s.Lon-lonDeltaBottom, s.Lon+lonDeltaBottom
	} else {
		minLon, maxLon = s.Lon-lonDeltaTop, s.Lon+lonDeltaTop
	}
	return minLon, s.Lat - latDelta, maxLon, s.Lat + latDelta
}

// stepsFor is the cell size (step) whose cells are about as large as a
// search of radius metres at latitude lat.
func stepsFor(radius, lat float64) uint8 {
	if radius == 0 {
		return 26
	}
	step := 1
	for radius < mercatorSpan {
		radius *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), 26))
}

// ScoreRange is the scores [Min, Max) of one cell.
type ScoreRange struct{ Min, Max float64 }

// Ranges are the score ranges of the cells a search scans, in the order
// Redis scans them: the centre's cell, then north, south, east, west,
// north-east, north-west, south-east, south-west; cells the shape cannot
// reach are left out, as is a cell equal to the one scanned just before it.
func (s *Shape) Ranges() []ScoreRange {
	minLon, minLat, maxLon, maxLat := s.bounds()
	radius := s.Radius
	if s.Box {
		radius = math.Sqrt(float64((s.Width/2)*(s.Width/2)) + float64((s.Height/2)*(s.Height/2)))
	}
	radius *= s.Conversion
	steps := stepsFor(radius, s.Lat)
	var cells [9]Hash
	fill := func() area {
		h, _ := encode(lonRange, latRange, s.Lon, s.Lat, steps)
		cells = [9]Hash{h, h.moved(0, 1), h.moved(0, -1), h.moved(1, 0), h.moved(-1, 0),
			h.moved(1, 1), h.moved(-1, 1), h.moved(1, -1), h.moved(-1, -1)}
		return decode(lonRange, latRange, h)
	}
	const me, n, so, e, w, ne, nw, se, sw = 0, 1, 2, 3, 4, 5, 6, 7, 8
	a := fill()
	// The estimate can be one step too fine near a cell's edge: then a
	// neighbour does not reach as far as the shape.
	if steps > 1 && (decode(lonRange, latRange, cells[n]).lat.max < maxLat ||
		decode(lonRange, latRange, cells[so]).lat.min > minLat ||
		decode(lonRange, latRange, cells[e]).lon.max < maxLon ||
		decode(lonRange, latRange, cells[w]).lon.min > minLon) {
		steps--
		a = fill()
	}
	if steps >= 2 {
		if a.lat.min < minLat {
			cells[so], cells[sw], cells[se] = Hash{}, Hash{}, Hash{}
		}
		if a.lat.max > maxLat {
			cells[n], cells[ne], cells[nw] = Hash{}, Hash{}, Hash{}
		}
		if a.lon.min < minLon {
			cells[w], cells[sw], cells[nw] = Hash{}, Hash{}, Hash{}
		}
		if a.lon.max > maxLon {
			cells[e], cells[se], cells[ne] = Hash{}, Hash{}, Hash{}
		}
	}
	out := make([]ScoreRange, 0, 9)
	// Redis compares a cell with the last one scanned only when that was
	// not the centre's (its index 0 doubles as "none yet").
	last := 0
	for i, c := range cells {
		if c.zero() || (last != 0 && c == cells[last]) {
			continue
		}
		lo := align52(c)
		c.Bits++
		out = append(out, ScoreRange{float64(lo), float64(align52(c))})
		last = i
	}
	return out
}

// Within decodes score and reports whether its position is in the shape,
// and its distance in metres from the shape's centre.
func (s *Shape) Within(score float64) (lon, lat, dist float64, ok bool) {
	lon, lat = Decode(score)
	if !s.Box {
		if estimate(s.Lon, s.Lat, lon, lat, s.Radius*s.Conversion) > 0 {
			return lon, lat, 0, false
		}
		dist = s.fromCentre(lon, lat)
		return lon, lat, dist, !(dist > s.Radius*s.Conversion)
	}
	width, height := s.Width*s.Conversion, s.Height*s.Conversion
	if latDistance(lat, s.Lat) > height/2 {
		return lon, lat, 0, false
	}
	switch estimate(lon, lat, s.Lon, lat, width/2) {
	case 1:
		return lon, lat, 0, false
	case 0:
		if Distance(lon, lat, s.Lon, lat) > width/2 {
			return lon, lat, 0, false
		}
	}
	return lon, lat, s.fromCentre(lon, lat), true
}

// estimate compares the distance between two positions with limit where
// the difference is far beyond any rounding: 1 clearly beyond, -1 clearly
// within, 0 too close to tell (Distance decides). A search's cells hold
// many candidates outside its shape, and the correctly rounded distance
// costs about 2.5 µs against 0.1 for this estimate with Go's math
// functions, each within an ulp or two of the exact value: a relative
// margin of 1e-9 is far wider than their error. Near-antipodal points,
// where asin's slope makes the estimate's error grow, are left to Distance.
func estimate(lon1, lat1, lon2, lat2, limit float64) int {
	v := math.Sin((rad(lon2) - rad(lon1)) / 2)
	u := math.Sin((rad(lat2) - rad(lat1)) / 2)
	a := u*u + math.Cos(rad(lat1))*math.Cos(rad(lat2))*v*v
	if !(a < 0.98) {
		return 0
	}
	switch d := 2 * earthRadius * math.Asin(math.Sqrt(a)); {
	case d > limit*(1+1e-9):
		return 1
	case d < limit*(1-1e-9):
		return -1
	}
	return 0
}
