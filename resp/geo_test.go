package resp_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// geoSetup fills the keys the hand-written geo cases read: Sicily (the
// documentation's), pts (the limits of the encoding, the antimeridian,
// the equator, and four members at one position, whose equal distances
// test the order of ties), and a string.
var geoSetup = [][]string{
	{"GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"},
	{"GEOADD", "pts", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0", "o", "179.9999", "0.0001", "am1",
		"-179.9999", "-0.0001", "am2", "0.5", "0.5", "d4", "0.5", "0.5", "d2", "0.5", "0.5", "d3", "0.5", "0.5", "d1",
		"1", "1", "e", "-1", "-1", "w", "0.7", "0.3", "f"},
	{"SET", "str", "x"},
}

// geoCases are run after geoSetup, in order, on both servers; every reply
// must be byte for byte Redis's.
var geoCases = [][]string{
	// GEOADD
	{"GEOADD", "g", "NX", "1", "2", "a"}, {"GEOADD", "g", "NX", "3", "4", "a"}, {"GEOPOS", "g", "a"},
	{"GEOADD", "g", "XX", "3", "4", "a", "5", "6", "b"}, {"GEOADD", "g", "XX", "CH", "5", "6", "a"}, {"GEOADD", "g", "CH", "5", "6", "a", "7", "8", "c"},
	{"GEOADD", "g", "NX", "XX", "1", "2", "a"}, {"GEOADD", "g", "1", "2"}, {"GEOADD", "g", "1", "2", "a", "3"}, {"GEOADD", "g", "nx", "ch", "ch"},
	{"GEOADD", "g", "200", "100", "bad"}, {"GEOADD", "g", "1", "85.05112879", "bad"}, {"GEOADD", "g", "abc", "1", "bad"}, {"GEOADD", "g", "1", "inf", "bad"},
	{"GEOADD", "g", "-inf", "1", "bad"}, {"GEOADD", "g", "1e300", "1", "bad"}, {"GEOADD", "g", "1", " 1", "bad"}, {"GEOADD", "g", "1", "2", "ok", "181", "0", "bad"},
	{"ZRANGE", "g", "0", "-1", "WITHSCORES"}, {"GEOADD", "str", "1", "2", "a"}, {"GEOADD", "g"}, {"GEOADD", "g", "XX", "1", "2", "new"}, {"GEOADD", "nokey", "XX", "1", "2", "a"},
	{"EXISTS", "nokey"}, {"GEOADD", "g", "0x10", "1e1", "hex"}, {"GEOPOS", "g", "hex"},
	// GEODIST
	{"GEODIST", "Sicily", "Palermo", "Catania"}, {"GEODIST", "Sicily", "Palermo", "Catania", "km"}, {"GEODIST", "Sicily", "Palermo", "Catania", "MI"},
	{"GEODIST", "Sicily", "Palermo", "Catania", "ft"}, {"GEODIST", "Sicily", "Palermo", "Catania", "m"}, {"GEODIST", "Sicily", "Palermo", "Catania", "yd"},
	{"GEODIST", "Sicily", "Palermo", "Catania", "km", "x"}, {"GEODIST", "Sicily", "Palermo", "nope"}, {"GEODIST", "nokey", "a", "b"},
	{"GEODIST", "str", "a", "b"}, {"GEODIST", "str", "a", "b", "yd"}, {"GEODIST", "Sicily", "Palermo", "Palermo"}, {"GEODIST", "pts", "ne", "sw", "km"},
	{"GEODIST", "pts", "am1", "am2"}, {"GEODIST", "pts", "d1", "d2"}, {"GEODIST", "pts", "o", "f", "mi"},
	// GEOHASH, GEOPOS, including scores no GEOADD makes
	{"ZADD", "odd", "-1", "neg", "1e300", "big", "4503599627370496", "p52", "0.5", "half", "inf", "inf"},
	{"GEOHASH", "Sicily", "Palermo", "Catania", "nope"}, {"GEOHASH", "pts", "ne", "sw", "o", "am1", "am2", "d1"}, {"GEOHASH", "nokey", "a", "b"},
	{"GEOHASH", "str", "a"}, {"GEOHASH", "Sicily"}, {"GEOHASH", "odd", "neg", "big", "p52", "half", "inf"},
	{"GEOPOS", "Sicily", "Palermo", "nope", "Catania"}, {"GEOPOS", "pts", "ne", "sw", "o", "am1", "am2", "e"}, {"GEOPOS", "nokey", "a"},
	{"GEOPOS", "str", "a"}, {"GEOPOS", "Sicily"}, {"GEOPOS", "odd", "neg", "big", "p52", "half", "inf"}, {"GEODIST", "odd", "neg", "big"},
	// GEOSEARCH
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "DESC", "WITHCOORD", "WITHDIST", "WITHHASH"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "WITHDIST"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "100", "100", "mi", "WITHHASH"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1", "DESC"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1", "ANY"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "5", "ANY", "DESC"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "0", "0", "BYRADIUS", "500", "km"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "0", "0", "BYRADIUS", "500", "km", "ASC", "WITHDIST"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "0", "0", "BYRADIUS", "500", "km", "DESC", "WITHDIST"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "0", "0", "BYRADIUS", "500", "km", "COUNT", "3"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "0", "0", "BYRADIUS", "500", "km", "COUNT", "6", "DESC"},
	{"GEOSEARCH", "pts", "FROMMEMBER", "d3", "BYRADIUS", "500", "km", "COUNT", "3", "WITHDIST"},
	{"GEOSEARCH", "pts", "FROMMEMBER", "d3", "BYRADIUS", "500", "km", "COUNT", "2", "ANY"},
	{"GEOSEARCH", "pts", "FROMMEMBER", "d3", "BYRADIUS", "0", "m"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "180", "0", "BYRADIUS", "100", "km", "WITHCOORD"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "-180", "0", "BYBOX", "100", "100", "km", "WITHCOORD"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "0", "85", "BYRADIUS", "30000", "km", "ASC"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "0", "85", "BYRADIUS", "inf", "km"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "0", "0", "BYBOX", "1e10", "1", "m"},
	{"GEOSEARCH", "pts", "FROMLONLAT", "10", "-85.05112878", "BYBOX", "2000", "2000", "km"},
	// GEOSEARCH errors
	{"GEOSEARCH", "Sicily", "BYRADIUS", "200", "km"}, {"geosearch", "Sicily", "FROMLONLAT", "15", "37"}, {"GeoSearch", "Sicily", "FROMMEMBER", "Palermo", "ASC"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "BYBOX", "1", "1", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "km", "BYRADIUS", "200", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "COUNT", "0"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "COUNT", "-3"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "COUNT", "x"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "COUNT"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "ANY"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "STORE", "x"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "STOREDIST"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "yd"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "-1", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "x", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "x", "1", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "x", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "-1", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "yd"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "1"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "x", "km"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "200", "100", "BYRADIUS", "200", "km"},
	{"GEOSEARCH", "Sicily", "FROMLONLAT", "x", "1", "BYRADIUS", "200", "km"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "bogus"},
	{"GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"},
	{"GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "x", "km"},
	{"GEOSEARCH", "nokey", "FROMMEMBER", "nope"},
	{"GEOSEARCH", "str", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"},
	{"GEOSEARCH", "str", "bogus", "1", "2", "3", "4"},
	{"GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "WITHDIST", "WITHDIST", "COUNT", "1", "COUNT", "2"},
	// GEOSEARCHSTORE
	{"GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"}, {"ZRANGE", "dst", "0", "-1", "WITHSCORES"},
	{"GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"}, {"ZRANGE", "dst", "0", "-1", "WITHSCORES"},
	{"GEOSEARCHSTORE", "dst", "pts", "FROMLONLAT", "0", "0", "BYBOX", "500", "500", "km", "COUNT", "3", "DESC", "STOREDIST"}, {"ZRANGE", "dst", "0", "-1", "WITHSCORES"},
	{"GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHDIST"},
	{"GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x"},
	{"GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"}, {"EXISTS", "dst"},
	{"GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"}, {"EXISTS", "dst"},
	{"GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"},
	{"GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"}, {"EXISTS", "dst"},
	{"GEOSEARCHSTORE", "str", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"}, {"TYPE", "str"},
	{"GEOSEARCHSTORE", "dst", "str", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"},
	{"GEOSEARCHSTORE", "Sicily", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"}, {"ZRANGE", "Sicily", "0", "-1", "WITHSCORES"},
	{"GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, {"SET", "str", "x"},
	// GEORADIUS family
	{"GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "ASC"},
	{"GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "WITHHASH"},
	{"GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "rd"}, {"ZRANGE", "rd", "0", "-1", "WITHSCORES"},
	{"GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "rd", "DESC", "COUNT", "1"}, {"ZRANGE", "rd", "0", "-1", "WITHSCORES"},
	{"GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "rd", "WITHDIST"},
	{"GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "rd", "STOREDIST", "rd2"}, {"EXISTS", "rd2"},
	{"GEORADIUS", "Sicily", "15", "37", "1", "m", "STORE", "rd"}, {"EXISTS", "rd"},
	{"GEORADIUS", "Sicily", "200", "100", "1", "m"}, {"GEORADIUS", "Sicily", "15", "37", "-1", "m"}, {"GEORADIUS", "Sicily", "15", "37", "1", "yd"},
	{"GEORADIUS", "Sicily", "15", "37", "1", "km", "FROMMEMBER", "Palermo"}, {"GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE"},
	{"GEORADIUS", "nokey", "15", "37", "1", "km"}, {"GEORADIUS", "nokey", "15", "37", "1", "km", "STORE", "Sicily"}, {"EXISTS", "Sicily"},
	{"GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"},
	{"GEORADIUS", "str", "15", "37", "1", "km"}, {"GEORADIUS", "str", "x", "37", "1", "km"},
	{"GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST", "DESC"}, {"GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"},
	{"GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STOREDIST", "x"},
	{"GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST"}, {"GEORADIUSBYMEMBER", "Sicily", "nope", "200", "km"},
	{"GEORADIUSBYMEMBER", "Sicily", "nope", "x", "km"}, {"GEORADIUSBYMEMBER", "Sicily", "Palermo", "x", "km"},
	{"GEORADIUSBYMEMBER", "nokey", "nope", "x", "km"}, {"GEORADIUSBYMEMBER", "nokey", "nope", "x", "km", "bogus"},
	{"GEORADIUSBYMEMBER", "nokey", "nope", "x", "km", "STORE", "rd"},
	{"GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STOREDIST", "rd", "ASC"}, {"ZRANGE", "rd", "0", "-1", "WITHSCORES"},
	{"GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "200", "km", "WITHCOORD", "WITHHASH", "COUNT", "1", "ANY"},
	{"GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "200", "km", "STORE", "x"},
	{"GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"}, {"GEORADIUS", "Sicily", "15", "37", "200", "km", "FROMLONLAT", "1", "2"},
	// The commands' table entries and keys.
	{"COMMAND", "GETKEYS", "GEORADIUS", "k", "1", "2", "3", "km", "STORE", "d1", "STOREDIST", "d2"},
	{"COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "k", "m", "3", "km", "STORE", "d1"},
	{"COMMAND", "GETKEYSANDFLAGS", "GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"},
	{"COMMAND", "GETKEYSANDFLAGS", "GEORADIUS", "k", "1", "2", "3", "km", "STOREDIST", "d2"},
}

// geoCommandNames are the geo commands, for COMMAND INFO.
var geoCommandNames = []string{"geoadd", "geodist", "geohash", "geopos", "geosearch", "geosearchstore", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro"}

func TestGeoCasesMatchRedis(t *testing.T) {
	redis := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, resp3 := range []bool{false, true} {
		t.Run(fmt.Sprintf("resp3=%v", resp3), func(t *testing.T) {
			p := newPair(t, sd.Addr, redis.Addr)
			p.same(t, "FLUSHALL")
			if resp3 {
				p.do(t, "HELLO", "3")
			}
			for _, c := range geoSetup {
				p.same(t, c...)
			}
			for _, c := range geoCases {
				p.same(t, c...)
			}
			// COMMAND INFO: name, arity, flags, key positions, categories
			// and tips; sessiond lists key specs in COMMAND DOCS' data only
			// (they are empty in its COMMAND INFO for every command).
			a, b := p.do(t, append([]string{"COMMAND", "INFO"}, geoCommandNames...)...)
			require.Len(t, a.elems, len(geoCommandNames))
			for i := range geoCommandNames {
				for j := range 8 {
					require.Equal(t, string(b.elems[i].elems[j].raw), string(a.elems[i].elems[j].raw), "%s field %d", geoCommandNames[i], j)
				}
			}
		})
	}
}

// TestGeoEventsMatchRedis compares the keyspace events of the geo
// commands (GEOADD's zadd, the stores' geosearchstore and georadiusstore,
// del when a store empties its destination, keymiss) and WATCH: a store
// touches its destination, a search nothing.
func TestGeoEventsMatchRedis(t *testing.T) {
	redis := testserver.StartRedis(t)
	sd := testserver.Start(t)
	cmds := [][]string{
		{"GEOADD", "g", "1", "2", "a", "1.001", "2", "b"}, {"GEOADD", "g", "1", "2", "a"}, {"GEOADD", "g", "XX", "CH", "3", "4", "a"},
		{"GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "b", "BYRADIUS", "1", "km"}, {"GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "b", "BYRADIUS", "1", "m"},
		{"GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"}, {"GEOSEARCHSTORE", "d", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"},
		{"GEORADIUS", "g", "1", "2", "1000", "km", "STORE", "d2"}, {"GEORADIUS", "g", "1", "2", "1000", "km", "STOREDIST", "d2"},
		{"GEORADIUS", "g", "50", "2", "1", "km", "STORE", "d2"}, {"GEOSEARCH", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"},
		{"GEOPOS", "nokey", "a"}, {"GEODIST", "nokey", "a", "b"}, {"GEOHASH", "nokey", "a"},
		{"GEORADIUSBYMEMBER", "nokey", "a", "1", "km", "STORE", "g"},
	}
	stream := func(addr string) []string {
		c := dialRaw(t, addr)
		sub := dialRaw(t, addr)
		_, err := c.do("CONFIG", "SET", "notify-keyspace-events", "KEAm")
		require.NoError(t, err)
		_, err = sub.do("PSUBSCRIBE", "__key*__:*")
		require.NoError(t, err)
		for _, a := range cmds {
			_, err := c.do(a...)
			require.NoError(t, err, "%q", a)
		}
		_, err = c.do("PUBLISH", "__keymarker__:end", "done")
		require.NoError(t, err)
		return collect(t, sub)
	}
	want := stream(redis.Addr)
	got := stream(sd.Addr)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
	require.Contains(t, strings.Join(got, "\n"), "geosearchstore")

	p := newPair(t, sd.Addr, redis.Addr)
	other := newPair(t, sd.Addr, redis.Addr)
	for _, store := range [][]string{
		{"GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "3", "4", "BYRADIUS", "1", "km"},
		{"GEORADIUS", "g", "3", "4", "1", "km", "STORE", "d"},
		{"GEOSEARCH", "g", "FROMLONLAT", "3", "4", "BYRADIUS", "1", "km"},
		{"GEOADD", "g", "NX", "3", "4", "a"},
		{"GEOADD", "g", "5", "6", "x"},
	} {
		p.same(t, "WATCH", "d", "g")
		other.same(t, store...)
		p.same(t, "MULTI")
		p.same(t, "PING")
		p.same(t, "EXEC")
	}
}

// TestGeoRandomMatchesRedis is the differential test: random points (the
// poles' limits, the antimeridian, the equator, clusters and repeated
// positions), and random searches of every kind, compared byte for byte.
// Stored distances are compared as numbers within a few units in the last
// place: sessiond's sin, cos and asin are correctly rounded, glibc's
// (Redis's) are not for about one argument in a thousand.
func TestGeoRandomMatchesRedis(t *testing.T) {
	redis := testserver.StartRedis(t)
	sd := testserver.Start(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	lon := func() float64 {
		switch r.IntN(6) {
		case 0:
			return []float64{180, -180, 179.99999, -179.99999, 0, 1e-9}[r.IntN(6)]
		case 1:
			return 13 + r.Float64()*4
		}
		return r.Float64()*360 - 180
	}
	lat := func() float64 {
		switch r.IntN(6) {
		case 0:
			return []float64{85.05112878, -85.05112878, 85.05, -85.0511, 0, -1e-9, 66.5, 80.1}[r.IntN(8)]
		case 1:
			return 36 + r.Float64()*3
		}
		return r.Float64()*170.1 - 85.05
	}
	units := []string{"m", "km", "ft", "mi", "KM"}
	found := 0 // searches that found more than one member
	defer func() { require.Greater(t, found, 150, "too few searches found anything to order") }()
	for _, resp3 := range []bool{false, true} {
		p := newPair(t, sd.Addr, redis.Addr)
		p.same(t, "FLUSHALL")
		if resp3 {
			p.do(t, "HELLO", "3")
		}
		var members []string
		for k, n := range map[string]int{"big": 400, "small": 60} {
			args := []string{"GEOADD", k}
			for i := range n {
				m := fmt.Sprintf("m%d", i)
				members = append(members, m)
				if i > 0 && r.IntN(10) == 0 { // a repeated position
					args = append(args, args[len(args)-3], args[len(args)-2], m)
					continue
				}
				args = append(args, f(lon()), f(lat()), m)
			}
			p.same(t, args...)
		}
		radius := func() []string {
			d := []string{"1", "10", "100", "500", "2000", "6000", "20000", "0", "0.5"}[r.IntN(9)]
			u := units[r.IntN(len(units))]
			if u == "m" || u == "ft" {
				d += "000"
			}
			return []string{d, u}
		}
		key := func() string { return []string{"big", "big", "small", "none"}[r.IntN(4)] }
		for range 400 {
			k := key()
			var opts []string
			with := r.IntN(3) > 0
			store := !with && r.IntN(4) == 0
			if with {
				for _, w := range []string{"WITHDIST", "WITHCOORD", "WITHHASH"} {
					if r.IntN(2) == 0 {
						opts = append(opts, w)
					}
				}
			}
			switch r.IntN(3) {
			case 0:
				opts = append(opts, "ASC")
			case 1:
				opts = append(opts, "DESC")
			}
			if r.IntN(2) == 0 {
				opts = append(opts, "COUNT", strconv.Itoa(1+r.IntN(20)))
				if r.IntN(3) == 0 {
					opts = append(opts, "ANY")
				}
			}
			member := members[r.IntN(len(members))]
			var args []string
			switch r.IntN(5) {
			case 0, 1:
				from := []string{"FROMLONLAT", f(lon()), f(lat())}
				if r.IntN(2) == 0 {
					from = []string{"FROMMEMBER", member}
				}
				by := append([]string{"BYRADIUS"}, radius()...)
				if r.IntN(2) == 0 {
					by = []string{"BYBOX", radius()[0], radius()[0], units[r.IntN(len(units))]}
				}
				if store {
					args = append([]string{"GEOSEARCHSTORE", "dst", k}, append(from, by...)...)
					if r.IntN(2) == 0 {
						opts = append(opts, "STOREDIST")
					}
				} else {
					args = append([]string{"GEOSEARCH", k}, append(from, by...)...)
				}
			case 2, 3:
				args = append([]string{"GEORADIUS", k, f(lon()), f(lat())}, radius()...)
			default:
				args = append([]string{"GEORADIUSBYMEMBER", k, member}, radius()...)
			}
			if store && args[0] != "GEOSEARCHSTORE" {
				opts = append(opts, []string{"STORE", "STOREDIST"}[r.IntN(2)], "dst")
			}
			args = append(args, opts...)
			if v := p.same(t, args...); len(v.elems) > 1 || (v.typ == ':' && v.str != "0") {
				found++
			}
			if store {
				a, b := p.do(t, "ZRANGE", "dst", "0", "-1", "WITHSCORES")
				sameScores(t, a, b, args)
			}
			switch r.IntN(4) {
			case 0:
				p.same(t, "GEODIST", k, member, members[r.IntN(len(members))], units[r.IntN(len(units))])
			case 1:
				p.same(t, "GEOHASH", k, member, members[r.IntN(len(members))], "nope")
			case 2:
				p.same(t, "GEOPOS", k, member, "nope", members[r.IntN(len(members))])
			}
		}
	}
}

// sameScores compares two ZRANGE WITHSCORES replies: the same members,
// scores within 4 units in the last place (see TestGeoRandomMatchesRedis).
func sameScores(t *testing.T, a, b rv, args []string) {
	t.Helper()
	if string(a.raw) == string(b.raw) {
		return
	}
	flat := func(v rv) []string {
		var out []string
		for _, e := range v.elems {
			if len(e.elems) > 0 {
				for _, x := range e.elems {
					out = append(out, x.str)
				}
				continue
			}
			out = append(out, e.str)
		}
		return out
	}
	x, y := flat(a), flat(b)
	require.Equal(t, len(y), len(x), "%q: %s vs %s", args, a, b)
	byMember := map[string]float64{}
	for i := 0; i+1 < len(y); i += 2 {
		byMember[y[i]], _ = strconv.ParseFloat(y[i+1], 64)
	}
	diff := 0
	for i := 0; i+1 < len(x); i += 2 {
		want, ok := byMember[x[i]]
		require.True(t, ok, "%q: member %q not in Redis's %s", args, x[i], b)
		got, _ := strconv.ParseFloat(x[i+1], 64)
		require.LessOrEqual(t, math.Abs(got-want), 4*(math.Nextafter(want, math.Inf(1))-want), "%q: %q scored %v, Redis %v", args, x[i], got, want)
		if got != want {
			diff++
		}
	}
	t.Logf("%q: %d of %d stored distances differ in the last place", args, diff, len(x)/2)
}
