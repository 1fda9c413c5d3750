package resp

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"sessiond/geo"
	"sessiond/keyspace"
)

// The geo commands keep positions in a sorted set, scored with 52-bit
// geohashes (package geo); the scores are Redis's, so geo sets move
// between sessiond and Redis unchanged, and the sorted-set commands work
// on them.
func geoCommands() []*command {
	const g = "geo"
	key1 := func(name string, arity int, flags cmdFlags, since, summary string, run func(*call)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: g, since: since, summary: summary, run: run}
	}
	const (
		w  = flagWrite | flagDenyOOM
		ro = flagReadonly
	)
	return []*command{
		key1("geoadd", -5, w, "3.2.0", "Add one or more geospatial items in the geospatial index represented using a sorted set", cmdGeoadd),
		key1("geodist", -4, ro, "3.2.0", "Returns the distance between two members of a geospatial index", cmdGeodist),
		key1("geohash", -2, ro, "3.2.0", "Returns members of a geospatial index as standard geohash strings", cmdGeohash),
		key1("geopos", -2, ro, "3.2.0", "Returns longitude and latitude of members of a geospatial index", cmdGeopos),
		key1("geosearch", -7, ro, "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", cmdGeosearch),
		{name: "geosearchstore", arity: -8, flags: w, firstKey: 1, lastKey: 2, step: 1, group: g, since: "6.2.0", summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", run: cmdGeosearch},
		// GEORADIUS's STORE key is found by its key specs' keyword search
		// (acl/commands_redis.go), hence movablekeys.
		key1("georadius", -6, w|flagMovableKeys, "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", cmdGeosearch),
		key1("georadius_ro", -6, ro, "3.2.10", "A read-only variant for GEORADIUS", cmdGeosearch),
		key1("georadiusbymember", -5, w|flagMovableKeys, "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", cmdGeosearch),
		key1("georadiusbymember_ro", -5, ro, "3.2.10", "A read-only variant for GEORADIUSBYMEMBER", cmdGeosearch),
	}
}

const (
	msgGeoUnit   = "ERR unsupported unit provided. please use M, KM, FT, MI"
	msgGeoMember = "ERR could not decode requested zset member"
)

// errGeoReply carries a reply error out of a keyspace callback.
type errGeoReply string

func (e errGeoReply) Error() string { return string(e) }

// cFloat is C's printf %f of v.
func cFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'f', 6, 64)
}

// lonLatArg parses a longitude and a latitude as Redis's
// extractLongLatOrReply, returning its error text if they are not valid.
func lonLatArg(lon, lat []byte) (float64, float64, string) {
	x, ok := parseScore(lon)
	if !ok {
		return 0, 0, msgNotFloat
	}
	y, ok := parseScore(lat)
	if !ok {
		return 0, 0, msgNotFloat
	}
	if !geo.Valid(x, y) {
		return 0, 0, "ERR invalid longitude,latitude pair " + cFloat(x) + "," + cFloat(y)
	}
	return x, y, ""
}

// unitArg is the length of a unit in metres.
func unitArg(b []byte) (float64, bool) {
	switch strings.ToLower(string(b)) {
	case "m":
		return 1, true
	case "km":
		return 1000, true
	case "ft":
		return 0.3048, true
	case "mi":
		return 1609.34, true
	}
	return 0, false
}

// formatDistance is a distance as GEODIST and WITHDIST give it: rounded
// (half to even, llrint) to 4 decimals, always printed with 4.
func formatDistance(d float64) string {
	if d == 0 {
		return "0.0000"
	}
	v := math.RoundToEven(d * 10000)
	neg := v < 0
	var u uint64
	if i := geo.CInt64(v); neg {
		u = uint64(-i) // -MinInt64 wraps to 1<<63, its magnitude, as in Redis
	} else {
		u = uint64(i)
	}
	s := strconv.FormatUint(u, 10)
	if len(s) < 5 {
		s = strings.Repeat("0", 5-len(s)) + s
	}
	s = s[:len(s)-4] + "." + s[len(s)-4:]
	if neg {
		s = "-" + s
	}
	return s
}

// humanDouble writes a coordinate as Redis's addReplyHumanLongDouble: the
// "%.17Lf" text, trailing zeros removed, as a bulk string, or a RESP3
// double.
func (r *reply) humanDouble(v float64) {
	s := strconv.FormatFloat(v, 'f', 17, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		s = "0"
	}
	r.doubleText(s)
}

func cmdGeoadd(x *call) {
	var f keyspace.ZAddFlags
	i := 2
options:
	for ; i < len(x.args); i++ {
		switch strings.ToLower(string(x.args[i])) {
		case "nx":
			f |= keyspace.ZAddNX
		case "xx":
			f |= keyspace.ZAddXX
		case "ch":
			f |= keyspace.ZAddCH
		default:
			break options
		}
	}
	rest := x.args[i:]
	// No triple at all is ZADD's syntax error, which Redis reaches by
	// calling ZADD with no pairs.
	if len(rest) == 0 || len(rest)%3 != 0 || (f&keyspace.ZAddNX != 0 && f&keyspace.ZAddXX != 0) {
		x.r.error(msgSyntax)
		return
	}
	n := len(rest) / 3
	scores := make([]float64, n)
	members := make([][]byte, n)
	for j := range n {
		lon, lat, msg := lonLatArg(rest[3*j], rest[3*j+1])
		if msg != "" {
			x.r.error(msg)
			return
		}
		scores[j], members[j] = geo.Encode(lon, lat), rest[3*j+2]
	}
	x.zadd(f, members, scores)
}

func cmdGeodist(x *call) {
	toMeter := 1.0
	if len(x.args) == 5 {
		var ok bool
		if toMeter, ok = unitArg(x.args[4]); !ok {
			x.r.error(msgGeoUnit)
			return
		}
	} else if len(x.args) > 5 {
		x.r.error(msgSyntax)
		return
	}
	scores, ok, err := x.s.ks.ZScores(x.c.db, x.args[1], x.args[2:4])
	if err != nil {
		x.ksError(err)
		return
	}
	if !ok[0] || !ok[1] {
		x.r.null()
		return
	}
	lon1, lat1 := geo.Decode(scores[0])
	lon2, lat2 := geo.Decode(scores[1])
	x.r.bulkString(formatDistance(geo.Distance(lon1, lat1, lon2, lat2) / toMeter))
}

func cmdGeohash(x *call) {
	scores, ok, err := x.s.ks.ZScores(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.array(len(scores))
	for i, s := range scores {
		if !ok[i] {
			x.r.null()
			continue
		}
		x.r.bulkString(geo.String(s))
	}
}

func cmdGeopos(x *call) {
	scores, ok, err := x.s.ks.ZScores(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.array(len(scores))
	for i, s := range scores {
		if !ok[i] {
			x.r.nullArray()
			continue
		}
		lon, lat := geo.Decode(s)
		x.r.array(2)
		x.r.humanDouble(lon)
		x.r.humanDouble(lat)
	}
}

// The variants of the search (Redis's georadiusGeneric flags).
const (
	geoFromCoords  = 1 << iota // GEORADIUS: position arguments
	geoFromMember              // GEORADIUSBYMEMBER: a member argument
	geoNoStore                 // the _RO variants: no STORE
	geoSearch                  // GEOSEARCH's option syntax
	geoSearchStore             // GEOSEARCHSTORE: STOREDIST, no key
)

const (
	geoSortNone = iota
	geoSortAsc
	geoSortDesc
)

// geoQuery is a parsed search.
type geoQuery struct {
	shape                         geo.Shape
	store                         []byte // destination, if any
	storeDist                     bool
	withDist, withHash, withCoord bool
	sort                          int
	any                           bool
	count                         int64 // 0: all
	fromMember, fromLoc, byRad    bool  // BYBOX: shape.Box
}

// parseGeoQuery parses a search's arguments in Redis's order, so the
// first error is Redis's. v is the source sorted set (member positions);
// with v not Existing, the member lookups (and GEORADIUSBYMEMBER's radius)
// are skipped, as in Redis, which only wants to know whether to reply with
// an empty array or store nothing. It returns the error reply, or "".
func parseGeoQuery(args [][]byte, flags int, v keyspace.ZView) (q geoQuery, msg string) {
	base := 0
	memberXY := func(m []byte) bool {
		s, ok := v.Score(m)
		if ok {
			q.shape.Lon, q.shape.Lat = geo.Decode(s)
		}
		return ok
	}
	distance := func(num, unit []byte) string {
		r, ok := parseScore(num)
		if !ok {
			return "ERR need numeric radius"
		}
		if r < 0 {
			return "ERR radius cannot be negative"
		}
		q.shape.Radius = r
		if q.shape.Conversion, ok = unitArg(unit); !ok {
			return msgGeoUnit
		}
		return ""
	}
	switch {
	case flags&geoFromCoords != 0:
		base = 6
		lon, lat, m := lonLatArg(args[2], args[3])
		if m != "" {
			return q, m
		}
		q.shape.Lon, q.shape.Lat = lon, lat
		if m := distance(args[4], args[5]); m != "" {
			return q, m
		}
	case flags&geoFromMember != 0:
		base = 5
		if !v.Exists() {
			break
		}
		if !memberXY(args[2]) {
			return q, msgGeoMember
		}
		if m := distance(args[3], args[4]); m != "" {
			return q, m
		}
	case flags&geoSearchStore != 0:
		base = 3
		q.store = args[1]
	default:
		base = 2
	}
	search := flags&geoSearch != 0
	canStore := flags&(geoNoStore|geoSearch) == 0
	for i := base; i < len(args); i++ {
		left := len(args) - i - 1 // arguments after this one
		switch opt := strings.ToLower(string(args[i])); {
		case opt == "withdist":
			q.withDist = true
		case opt == "withhash":
			q.withHash = true
		case opt == "withcoord":
			q.withCoord = true
		case opt == "any":
			q.any = true
		case opt == "asc":
			q.sort = geoSortAsc
		case opt == "desc":
			q.sort = geoSortDesc
		case opt == "count" && left >= 1:
			n, ok := keyspace.ParseInt(args[i+1])
			if !ok {
				return q, msgNotInteger
			}
			if n <= 0 {
				return q, "ERR COUNT must be > 0"
			}
			q.count = n
			i++
		case (opt == "store" || opt == "storedist") && left >= 1 && canStore:
			q.store, q.storeDist = args[i+1], opt == "storedist"
			i++
		case opt == "storedist" && flags&geoSearchStore != 0:
			q.storeDist = true
		case opt == "frommember" && left >= 1 && search && !q.fromLoc:
			if v.Exists() && !memberXY(args[i+1]) {
				return q, msgGeoMember
			}
			q.fromMember = true
			i++
		case opt == "fromlonlat" && left >= 2 && search && !q.fromMember:
			lon, lat, m := lonLatArg(args[i+1], args[i+2])
			if m != "" {
				return q, m
			}
			q.shape.Lon, q.shape.Lat = lon, lat
			q.fromLoc = true
			i += 2
		case opt == "byradius" && left >= 2 && search && !q.shape.Box:
			if m := distance(args[i+1], args[i+2]); m != "" {
				return q, m
			}
			q.byRad = true
			i += 2
		case opt == "bybox" && left >= 3 && search && !q.byRad:
			w, ok := parseScore(args[i+1])
			if !ok {
				return q, "ERR need numeric width"
			}
			h, ok := parseScore(args[i+2])
			if !ok {
				return q, "ERR need numeric height"
			}
			if h < 0 || w < 0 {
				return q, "ERR height or width cannot be negative"
			}
			q.shape.Width, q.shape.Height = w, h
			if q.shape.Conversion, ok = unitArg(args[i+3]); !ok {
				return q, msgGeoUnit
			}
			q.shape.Box = true
			i += 3
		default:
			return q, msgSyntax
		}
	}
	switch {
	case q.store != nil && (q.withDist || q.withHash || q.withCoord):
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		return q, "ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
	case search && !q.fromMember && !q.fromLoc:
		return q, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(args[0])
	case search && !q.byRad && !q.shape.Box:
		return q, "ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(args[0])
	case q.any && q.count == 0:
		return q, "ERR the ANY argument requires COUNT argument"
	}
	if q.count != 0 && q.sort == geoSortNone && !q.any {
		q.sort = geoSortAsc // the nearest COUNT
	}
	return q, ""
}

// geoPoint is a search's match.
type geoPoint struct {
	member   []byte
	score    float64
	lon, lat float64
	dist     float64 // metres until the reply converts it
}

// run finds the members of v in q's shape, in Redis's order, and keeps
// the ones the reply (or store) takes.
func (q *geoQuery) run(v keyspace.ZView) []geoPoint {
	var pts []geoPoint
	limit := 0
	if q.any {
		limit = int(q.count)
	}
	full := func() bool { return limit > 0 && len(pts) >= limit }
	for _, r := range q.shape.Ranges() {
		if full() {
			break
		}
		v.ScoreRange(r.Min, r.Max, func(m []byte, score float64) bool {
			if lon, lat, dist, ok := q.shape.Within(score); ok {
				pts = append(pts, geoPoint{member: m, score: score, lon: lon, lat: lat, dist: dist})
			}
			return !full()
		})
	}
	n := len(pts)
	if q.count != 0 && int64(n) > q.count {
		n = int(q.count)
	}
	if q.sort != geoSortNone {
		cmp := geoAsc
		if q.sort == geoSortDesc {
			cmp = func(a, b *geoPoint) int { return -geoAsc(a, b) }
		}
		if n == len(pts) {
			// glibc's qsort, which Redis calls, is a stable merge sort.
			slices.SortStableFunc(pts, func(a, b geoPoint) int { return cmp(&a, &b) })
		} else {
			pqsort(pts, cmp, 0, n-1)
		}
	}
	return pts[:n]
}

// geoAsc is Redis's ascending comparison of distances.
func geoAsc(a, b *geoPoint) int {
	switch {
	case a.dist > b.dist:
		return 1
	case a.dist == b.dist:
		return 0
	}
	return -1
}

// pqsort sorts a enough that its elements lo..hi are those a full sort
// would put there: Redis's pqsort (Bentley and McIlroy's quicksort, which
// skips the partitions outside lo..hi). It is reproduced step for step
// because it is not stable: which of the members at equal distances
// make the COUNT, and their order, depend on its exact swaps.
func pqsort(a []geoPoint, cmp func(a, b *geoPoint) int, lo, hi int) {
	c := func(i, j int) int { return cmp(&a[i], &a[j]) }
	swap := func(i, j int) { a[i], a[j] = a[j], a[i] }
	vecswap := func(i, j, n int) {
		for k := range n {
			swap(i+k, j+k)
		}
	}
	med3 := func(x, y, z int) int {
		if c(x, y) < 0 {
			if c(y, z) < 0 {
				return y
			}
			if c(x, z) < 0 {
				return z
			}
			return x
		}
		if c(y, z) > 0 {
			return y
		}
		if c(x, z) < 0 {
			return x
		}
		return z
	}
	overlaps := func(s, n int) bool {
		return !((lo < s && hi < s) || (lo >= s+n && hi >= s+n))
	}
	var sortPart func(base, n int)
	sortPart = func(base, n int) {
		for {
			if n < 7 {
				for m := base + 1; m < base+n; m++ {
					for l := m; l > base && c(l-1, l) > 0; l-- {
						swap(l, l-1)
					}
				}
				return
			}
			pm := base + n/2
			if n > 7 {
				pl, pn := base, base+n-1
				if n > 40 {
					d := n / 8
					pl = med3(pl, pl+d, pl+2*d)
					pm = med3(pm-d, pm, pm+d)
					pn = med3(pn-2*d, pn-d, pn)
				}
				pm = med3(pl, pm, pn)
			}
			swap(base, pm)
			pa, pb := base+1, base+1
			pc, pd := base+n-1, base+n-1
			for {
				for pb <= pc {
					r := c(pb, base)
					if r > 0 {
						break
					}
					if r == 0 {
						swap(pa, pb)
						pa++
					}
					pb++
				}
				for pb <= pc {
					r := c(pc, base)
					if r < 0 {
						break
					}
					if r == 0 {
						swap(pc, pd)
						pd--
					}
					pc--
				}
				if pb > pc {
					break
				}
				swap(pb, pc)
				pb++
				pc--
			}
			pn := base + n
			r := min(pa-base, pb-pa)
			vecswap(base, pb-r, r)
			r = min(pd-pc, pn-pd-1)
			vecswap(pb, pn-r, r)
			if r = pb - pa; r > 1 && overlaps(base, r) {
				sortPart(base, r)
			}
			if r = pd - pc; r > 1 {
				base, n = pn-r, r
				if overlaps(base, n) {
					continue
				}
			}
			return
		}
	}
	sortPart(0, len(a))
}

// geoFlags are the search variant of a command.
func geoFlags(name string) (flags, src int) {
	switch name {
	case "georadius":
		return geoFromCoords, 1
	case "georadius_ro":
		return geoFromCoords | geoNoStore, 1
	case "georadiusbymember":
		return geoFromMember, 1
	case "georadiusbymember_ro":
		return geoFromMember | geoNoStore, 1
	case "geosearch":
		return geoSearch, 1
	}
	return geoSearch | geoSearchStore, 2
}

// cmdGeosearch answers GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family
// (Redis's georadiusGeneric). The arguments are parsed against the source
// as the search reads it, in one view (or one store), since a FROMMEMBER
// lookup can decide the reply.
func cmdGeosearch(x *call) {
	flags, src := geoFlags(x.cmd.name)
	// A pass without the source only finds whether the command stores (the
	// lookups it skips cannot make a parse go further).
	pre, _ := parseGeoQuery(x.args, flags, keyspace.ZView{})
	if pre.store == nil {
		var q geoQuery
		var msg string
		var pts []geoPoint
		err := x.s.ks.ZRead(x.c.db, x.args[src], func(v keyspace.ZView) {
			if q, msg = parseGeoQuery(x.args, flags, v); msg == "" && v.Exists() {
				pts = q.run(v)
			}
		})
		switch {
		case err != nil:
			x.ksError(err)
		case msg != "":
			x.r.error(msg)
		default:
			x.geoReply(&q, pts)
		}
		return
	}
	event := "georadiusstore"
	if flags&geoSearch != 0 {
		event = "geosearchstore"
	}
	n, err := x.s.ks.ZReadStore(x.c.db, pre.store, x.args[src], event, func(v keyspace.ZView) ([]keyspace.Scored, error) {
		q, msg := parseGeoQuery(x.args, flags, v)
		if msg != "" {
			return nil, errGeoReply(msg)
		}
		if !v.Exists() {
			return nil, nil
		}
		pts := q.run(v)
		out := make([]keyspace.Scored, 0, len(pts)) // no member twice: the cells do not overlap
		for _, p := range pts {
			s := p.score
			if q.storeDist {
				s = p.dist / q.shape.Conversion
			}
			out = append(out, keyspace.Scored{Member: p.member, Score: s})
		}
		return out, nil
	})
	var e errGeoReply
	switch {
	case errors.As(err, &e):
		x.r.error(string(e))
	case err != nil:
		x.ksError(err)
	default:
		x.r.int(int64(n))
	}
}

// geoReply writes a search's matches.
func (x *call) geoReply(q *geoQuery, pts []geoPoint) {
	extra := 0
	for _, b := range []bool{q.withDist, q.withHash, q.withCoord} {
		if b {
			extra++
		}
	}
	x.r.array(len(pts))
	for _, p := range pts {
		if extra > 0 {
			x.r.array(extra + 1)
		}
		x.r.bulk(p.member)
		if q.withDist {
			x.r.bulkString(formatDistance(p.dist / q.shape.Conversion))
		}
		if q.withHash {
			x.r.int(int64(p.score))
		}
		if q.withCoord {
			x.r.array(2)
			x.r.humanDouble(p.lon)
			x.r.humanDouble(p.lat)
		}
	}
}
