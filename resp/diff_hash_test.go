package resp_test

// Hash commands in the differential test (diff_test.go). Fields come from
// the member pool and values from the value pool, so hashes share keys
// with strings and sets (WRONGTYPE both ways) and now and then get a long
// field or value, which turns them into hash tables in both servers.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Comparison kinds of the hash commands (after diff_test.go's).
const (
	kHashPairs cmpKind = 100 + iota // HGETALL: exact for a listpack hash in Redis, else pairs as a multiset
	kHashList                       // HKEYS, HVALS: exact for a listpack hash in Redis, else a multiset
	kHrand                          // HRANDFIELD: by invariant against the hash before
	kHscan                          // HSCAN key 0 ...: iterated to completion on both, pairs as sets
)

func (g *gen) pairs(lo, hi int) []string {
	var out []string
	for range lo + g.n(hi-lo+1) {
		out = append(out, g.member(), g.value())
	}
	return out
}

func (g *gen) genHrand(_ bool) op {
	args := []string{g.cs("hrandfield"), g.key()}
	if g.chance(0.75) {
		args = append(args, g.pick([]string{"0", "1", "2", "3", "10", "-1", "-3", "-10", "abc", "-9223372036854775808",
			"4611686018427387904", "-4611686018427387904"}))
		// A huge count is an error only WITHVALUES; without, both servers
		// would try to send that many fields.
		if g.chance(0.5) || strings.HasSuffix(args[2], "4611686018427387904") {
			args = append(args, g.cs("withvalues"))
		}
		if g.chance(0.05) {
			args = append(args, "extra")
		}
	}
	return op{args: args, kind: kHrand}
}

func (g *gen) genHscan(_ bool) op {
	args := []string{g.cs("hscan"), g.key(), "0"}
	if g.chance(0.05) {
		args[2] = g.pick([]string{"abc", "", " 1", "99999999999999999999", "0\x00"})
	}
	for range g.n(3) {
		switch g.n(5) {
		case 0, 1:
			args = append(args, g.cs("match"), g.pick([]string{"*", "m*", "1*", "?", "[m1]*", "x"}))
		case 2, 3:
			args = append(args, g.cs("count"), g.pick([]string{"1", "2", "10", "0", "-1", "abc"}))
		default:
			args = append(args, g.pick([]string{"bogus", g.cs("novalues"), g.cs("count")}))
		}
	}
	return op{args: args, kind: kHscan}
}

func hashGenerators() []cmdGen {
	return []cmdGen{
		{8, simpleGen(kExact, func(g *gen) []string {
			args := argv(g.cs(g.pick([]string{"hset", "hset", "hmset"})), g.key(), g.pairs(1, 3))
			if g.chance(0.05) {
				args = args[:len(args)-1]
			}
			return args
		})},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("hsetnx"), g.key(), g.member(), g.value()) })},
		{5, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("hget"), g.key(), g.member()) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("hmget"), g.key(), g.members(1, 3)) })},
		{3, simpleGen(kHashPairs, func(g *gen) []string { return argv(g.cs("hgetall"), g.key()) })},
		{2, simpleGen(kHashList, func(g *gen) []string { return argv(g.cs(g.pick([]string{"hkeys", "hvals"})), g.key()) })},
		{4, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("hdel"), g.key(), g.members(1, 3)) })},
		{2, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs(g.pick([]string{"hexists", "hstrlen"})), g.key(), g.member())
		})},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("hlen"), g.key()) })},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("hincrby"), g.key(), g.member(), g.int(-10, 10)) })},
		{3, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs("hincrbyfloat"), g.key(), g.member(), g.pick(incrFloats))
		})},
		{2, (*gen).genHrand},
		{2, (*gen).genHscan},
	}
}

// hashEqual compares replies of kind kHashPairs or kHashList without
// asking the servers anything: as multisets (of pairs for HGETALL).
func hashEqual(k cmpKind, a, b rv) string {
	if a.typ != b.typ || len(a.elems) != len(b.elems) {
		return "type and length"
	}
	if k == kHashPairs {
		if !slices.Equal(pairMultiset(a.elems), pairMultiset(b.elems)) {
			return "pairs as a multiset"
		}
		return ""
	}
	if !slices.Equal(multiset(a.elems), multiset(b.elems)) {
		return "as a multiset"
	}
	return ""
}

// pairMultiset returns the (field, value) pairs of a flat list, sorted.
func pairMultiset(vs []rv) []string {
	var out []string
	for i := 0; i+1 < len(vs); i += 2 {
		out = append(out, string(vs[i].raw)+"\x00"+string(vs[i+1].raw))
	}
	slices.Sort(out)
	return out
}

// checkHash compares HGETALL, HKEYS or HVALS: byte for byte when Redis
// keeps the hash as a listpack (insertion order, as sessiond's packed
// hashes), else as multisets.
func (d *diffRun) checkHash(c *diffClient, o op, a, b rv) {
	if !c.inMulti && !d.pipelined {
		if enc := d.redisOnly(c, "object", "encoding", o.args[1]); enc.str == "listpack" {
			if string(a.raw) != string(b.raw) {
				d.mismatch(o, a, b, "exact (a listpack hash keeps insertion order)")
			}
			return
		}
	}
	if why := hashEqual(o.kind, a, b); why != "" {
		d.mismatch(o, a, b, why)
	}
}

// checkHrand checks HRANDFIELD's reply against the hash before.
func (d *diffRun) checkHrand(o op, before, a, b rv) {
	hash := map[string]string{}
	for i := 0; i+1 < len(before.elems); i += 2 {
		hash[before.elems[i].str] = before.elems[i+1].str
	}
	if len(o.args) == 2 {
		if a.null != b.null || a.typ != b.typ {
			d.mismatch(o, a, b, "HRANDFIELD null or not")
		}
		if _, ok := hash[a.str]; !a.null && !ok {
			d.mismatch(o, a, b, "HRANDFIELD returned a field not in the hash")
		}
		return
	}
	if a.typ != b.typ || len(a.elems) != len(b.elems) {
		d.mismatch(o, a, b, "type and length")
	}
	withValues := len(o.args) == 4
	var fields []string
	check := func(f, v rv, hasV bool) {
		want, ok := hash[f.str]
		if !ok {
			d.mismatch(o, a, b, fmt.Sprintf("HRANDFIELD returned %q, not a field of the hash", f.str))
		}
		if hasV && v.str != want {
			d.mismatch(o, a, b, fmt.Sprintf("HRANDFIELD returned %q=%q, the hash has %q", f.str, v.str, want))
		}
		fields = append(fields, f.str)
	}
	switch {
	case withValues && len(a.elems) > 0 && a.elems[0].typ == '*': // RESP3: [field, value] pairs
		for _, p := range a.elems {
			if len(p.elems) != 2 {
				d.mismatch(o, a, b, "HRANDFIELD pair shape")
			}
			check(p.elems[0], p.elems[1], true)
		}
	case withValues:
		for i := 0; i+1 < len(a.elems); i += 2 {
			check(a.elems[i], a.elems[i+1], true)
		}
	default:
		for _, f := range a.elems {
			check(f, rv{}, false)
		}
	}
	if n, _ := strconv.ParseInt(o.args[2], 10, 64); n >= 0 && len(sortedSet(fields)) != len(fields) {
		d.mismatch(o, a, b, "HRANDFIELD with a positive count repeated a field")
	}
}

// compareHashState compares hash key k in the final state.
func (d *diffRun) compareHashState(q func(*rconn, ...string) rv, db int, k string) {
	sv, rv := q(d.inspS, "hgetall", k), q(d.inspR, "hgetall", k)
	if !slices.Equal(pairMultiset(sv.elems), pairMultiset(rv.elems)) {
		d.fail("final state of db %d key %q: HGETALL sessiond %s, redis %s", db, k, sv, rv)
	}
}

// checkHscan iterates an HSCAN to completion on both servers and compares
// the (field, value) pairs they returned as sets; no field may repeat.
func (d *diffRun) checkHscan(c *diffClient, o op, a, b rv) {
	collect := func(who string, conn *rconn, first rv) []string {
		var all []string
		v := first
		for range 10000 {
			if v.typ != '*' || len(v.elems) != 2 || v.elems[0].typ != '$' || v.elems[1].typ != '*' || len(v.elems[1].elems)%2 != 0 {
				d.mismatch(o, a, b, who+" HSCAN reply shape")
			}
			for i := 0; i+1 < len(v.elems[1].elems); i += 2 {
				all = append(all, v.elems[1].elems[i].str+"\x00"+v.elems[1].elems[i+1].str)
			}
			if v.elems[0].str == "0" {
				return all
			}
			args := slices.Clone(o.args)
			args[2] = v.elems[0].str
			var err error
			if v, err = conn.do(args...); err != nil {
				d.fail("%s: %v", who, err)
			}
		}
		d.fail("%s: HSCAN did not finish", who)
		return nil
	}
	sp, rp := collect("sessiond", c.s, a), collect("redis", c.r, b)
	if len(sortedSet(sp)) != len(sp) {
		d.mismatch(o, a, b, fmt.Sprintf("sessiond HSCAN returned a pair twice: %q", sp))
	}
	if !slices.Equal(sortedSet(sp), sortedSet(rp)) {
		d.mismatch(o, a, b, fmt.Sprintf("complete HSCAN as sets of pairs: sessiond %q, redis %q", sortedSet(sp), sortedSet(rp)))
	}
}
