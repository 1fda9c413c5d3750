package resp

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSortWindow checks the partial sort against a full one: random items
// with many ties (broken by idx, as SORT's orders are), every kind of
// window, sizes around the selection's cut-offs, and inputs already
// sorted, reversed or constant, which a poor pivot choice would make
// quadratic.
func TestSortWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 5, 16, 17, 18, 19, 33, 100, 1000, 5000} {
		for shape := range 4 {
			items := make([]sortItem, n)
			for i := range items {
				items[i] = sortItem{score: float64(r.IntN(max(n/4, 1))), idx: i, elem: strconv.Itoa(r.IntN(3))}
				switch shape {
				case 1:
					items[i].score = float64(i)
				case 2:
					items[i].score = float64(n - i)
				case 3:
					items[i].score, items[i].elem = 7, "x"
				}
			}
			for _, desc := range []bool{false, true} {
				want := &sortVec{items: slices.Clone(items), desc: desc}
				slices.SortStableFunc(want.items, func(p, q sortItem) int { // the order by its definition
					c := 0
					switch {
					case p.score < q.score:
						c = -1
					case p.score > q.score:
						c = 1
					default:
						c = strings.Compare(p.elem, q.elem)
					}
					if desc {
						c = -c
					}
					return c
				})
				for range 20 {
					lo := r.IntN(n + 1)
					hi := lo + r.IntN(n-lo+1)
					if r.IntN(4) == 0 {
						lo, hi = 0, min(n, r.IntN(10))
					}
					got := &sortVec{items: slices.Clone(items), desc: desc}
					if shape == 0 {
						r.Shuffle(n, got.Swap)
					}
					got.window(lo, hi)
					for i := lo; i < hi; i++ {
						if got.items[i].idx != want.items[i].idx {
							t.Fatalf("n=%d shape=%d desc=%v window [%d,%d): position %d holds item %d, want %d",
								n, shape, desc, lo, hi, i, got.items[i].idx, want.items[i].idx)
						}
					}
				}
			}
		}
	}
}

// TestSortScore pins how SORT reads weights, as glibc's strtod does with
// Redis's checks (TestSortScoresMatchRedis compares random ones with Redis).
func TestSortScore(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"", 0, true}, {"1", 1, true}, {" 1", 1, true}, {"\t\n1", 1, true}, {"1 ", 0, false}, {"  ", 0, false},
		{"1\x00junk", 1, true}, {"\x00", 0, true}, {"0x10", 16, true}, {"0x", 0, false}, {"0x1p-2", 0.25, true},
		{"inf", 0, true}, {"-Infinity", 0, true}, {"nan", 0, false}, {"1e400", 0, false}, {"1e-400", 0, false},
		{"1e-310", 0, false}, {"0x1p-1074", 5e-324, true}, {"4.9406564584124654e-324", 0, false},
		{"2.2250738585072014e-308", 2.2250738585072014e-308, true}, {"0x1.fffffffffffffffp-1023", 0x1p-1022, true},
		{"0x1.fffffffffffff7p-1023", 0, false}, {"0x1.ffffffffffffep-1023", 0x1.ffffffffffffep-1023, true},
		{"1_0", 0, false}, {"+-1", 0, false}, {"0e-99999", 0, true}, {".5", 0.5, true}, {"5.", 5, true},
	} {
		got, ok := sortScore([]byte(c.in))
		if ok != c.ok || (ok && c.want != 0 && got != c.want) {
			t.Errorf("sortScore(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestSortScoreLongWeights: a weight of many digits gets the same verdict
// as the same number written short, and in linear time (a megabyte of
// digits, read with big.Rat alone, took seconds per element, with every
// other client held off: helper-58's review).
func TestSortScoreLongWeights(t *testing.T) {
	for _, c := range []struct{ long, short string }{
		{"0." + strings.Repeat("0", 320) + "1" + strings.Repeat("7", 300000), "1.1e-321"},    // inexact tiny: ERANGE
		{"0." + strings.Repeat("0", 320) + "1" + strings.Repeat("0", 300000), "1e-321"},      // the zeros change nothing
		{strings.Repeat("0", 500000) + "4.9406564584124654e-324", "4.9406564584124654e-324"}, // leading zeros
		{"-0." + strings.Repeat("0", 100000) + "5e99700", "-5e-301"},                         // a normal number
		{"1" + strings.Repeat("0", 400000) + "e-400320", "1e-320"},                           // integer digits dropped
		{"0." + strings.Repeat("0", 1000) + "1", "1e-1001"},                                  // underflows to 0
		{"2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324", "2.4703282292062327e-324"},
	} {
		f, ok := sortScore([]byte(c.long))
		g, ok2 := sortScore([]byte(c.short))
		if ok != ok2 || f != g {
			t.Errorf("%.40q...: (%v, %v), short form %s: (%v, %v)", c.long, f, ok, c.short, g, ok2)
		}
	}
	start := time.Now()
	long := "0." + strings.Repeat("0", 320) + "1" + strings.Repeat("7", 1<<20)
	for range 20 {
		sortScore([]byte(long))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("20 megabyte weights took %v", d)
	}
}
