//go:build linux

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	assert.True(t, math.IsNaN(median(nil)))
	assert.Equal(t, 5.0, median([]float64{5}))
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
	xs := []float64{3, 1, 2}
	median(xs)
	assert.Equal(t, []float64{3, 1, 2}, xs, "input is not reordered")
}

func TestSummarize(t *testing.T) {
	r := Row{
		Workload: "get-p16",
		A: []Sample{
			{OpsPerSec: 300, P50: ms(1), P99: ms(3), P999: ms(9)},
			{OpsPerSec: 100, P50: ms(2), P99: ms(4), P999: ms(8)},
			{OpsPerSec: 200, P50: ms(3), P99: ms(5), P999: ms(7), Errors: 2},
		},
		B: []Sample{
			{OpsPerSec: 100, P50: ms(1), P99: ms(2)},
			{OpsPerSec: 50, P50: ms(1), P99: ms(2)},
		},
		BErr: []string{"round 3 failed"},
	}
	s := summarize(r)
	assert.Equal(t, 200.0, s.AOps)
	assert.Equal(t, 75.0, s.BOps)
	assert.InDelta(t, 200.0/75, s.Ratio, 1e-12)
	assert.Equal(t, ms(2), s.AP50)
	assert.Equal(t, ms(4), s.AP99)
	assert.Equal(t, ms(8), s.AP999)
	assert.Equal(t, time.Duration(0), s.BP999, "absent latencies stay absent")
	assert.EqualValues(t, 2, s.AErrors)
	assert.Equal(t, 1, s.BFailures)
	assert.Equal(t, 3, s.ARounds)
	assert.True(t, math.IsNaN(s.PairLo), "no pairs recorded")
	r.Pairs = []float64{0.9, 1.3, 1.1}
	s = summarize(r)
	assert.Equal(t, 0.9, s.PairLo)
	assert.Equal(t, 1.3, s.PairHi)

	none := summarize(Row{Workload: "x", A: []Sample{{OpsPerSec: 10}}})
	assert.True(t, math.IsNaN(none.Ratio), "no redis result: no ratio")
}

func TestFormatting(t *testing.T) {
	assert.Equal(t, "1,234,568", fmtOps(1234567.6))
	assert.Equal(t, "999", fmtOps(999))
	assert.Equal(t, "-", fmtOps(math.NaN()))
	assert.Equal(t, "1.25x", fmtRatio(1.25))
	assert.Equal(t, "-", fmtRatio(math.NaN()))
	assert.Equal(t, "0.250", fmtMs(250*time.Microsecond))
	assert.Equal(t, "-", fmtMs(0))
}

func sampleReport() *Report {
	rows := []Row{
		{Workload: "get-p1", A: []Sample{{OpsPerSec: 120000, P50: ms(0.3), P99: ms(1), P999: ms(2)}}, B: []Sample{{OpsPerSec: 100000, P50: ms(0.4), P99: ms(1.2), P999: ms(2.5)}}, Pairs: []float64{1.25, 1.1, 1.2}},
		{Workload: "setex-p16", A: []Sample{{OpsPerSec: 400000}}, B: []Sample{{OpsPerSec: 500000}}},
		{Workload: "mix-p1", A: nil, AErr: []string{"crash"}, B: []Sample{{OpsPerSec: 90000}}},
	}
	rep := &Report{ALabel: "sessiond", BLabel: "redis", Header: []string{"command: go run ./bench --quick"}}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, summarize(r))
	}
	rep.Mem = []MemResult{
		{Label: "sessiond", Sessions: 1000, RSSBefore: 10 << 20, RSSAfter: 10<<20 + 400000, RSSEarly: 10<<20 + 480000, UsedBefore: -1, UsedAfter: -1},
		{Label: "redis", Sessions: 1000, RSSBefore: 10 << 20, RSSAfter: 10<<20 + 650000, UsedBefore: 1000, UsedAfter: 601000},
	}
	rep.Problems = []string{"mix-p1 round 1 on sessiond: EOF; sessiond died\nlog line 1\nlog line 2"}
	return rep
}

func TestReportOutputs(t *testing.T) {
	rep := sampleReport()
	assert.InDelta(t, 400.0/650, rep.memRatio(), 1e-12)

	var txt bytes.Buffer
	rep.WriteText(&txt)
	assert.Contains(t, txt.String(), "1.20x")
	assert.Contains(t, txt.String(), "0.80x")
	assert.Contains(t, txt.String(), "sessiond failed 1 round(s)")
	assert.Contains(t, txt.String(), "RSS per session sessiond/redis: 0.62x")

	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	assert.Contains(t, md.String(), "| get-p1 | 120,000 | 100,000 | **1.20x** | 1.10-1.25 | 0.300 / 1.000 / 2.000 | 0.400 / 1.200 / 2.500 | - | - | **-** | - |  |")
	assert.Contains(t, md.String(), "| redis | 1000 |")
	assert.Contains(t, md.String(), "RSS B/session at 2s |")
	assert.Contains(t, md.String(), "| 400 | 480 | - |", "sessiond's RSS growth per session after settling and 2 s after loading")
	assert.Contains(t, md.String(), "  log line 1\n")

	var c bytes.Buffer
	require.NoError(t, rep.WriteCSV(&c))
	recs, err := csv.NewReader(&c).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 1+3+1, "header, 3 workloads, RSS line (no used_memory line: sessiond did not report it)")
	assert.Equal(t, []string{"get-p1", "sessiond", "redis", "120000.000", "100000.000", "1.200", "1.100", "1.250"}, recs[1][:8])
	for _, rec := range recs {
		require.Len(t, rec, len(recs[0]), "every line has the header's columns")
	}
	assert.Equal(t, "", recs[3][5], "no ratio without a sessiond result")
	assert.Equal(t, "mem-rss-bytes-per-session-1000", recs[4][0])

	var svg bytes.Buffer
	require.NoError(t, rep.WriteSVG(&svg))
	d := xml.NewDecoder(strings.NewReader(svg.String()))
	rects := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the SVG is well-formed XML")
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	assert.Equal(t, 1+2+1, rects, "background, two ratio bars (mix-p1 has none), the memory bar")
	assert.Contains(t, svg.String(), "no result")
	assert.Contains(t, svg.String(), "1.20x")
}

func TestGobenchLine(t *testing.T) {
	name := benchName("sessiond", "get-p16", 16, 50, 256)
	assert.Equal(t, "BenchmarkServer/server=sessiond/workload=get-p16/pipeline=16/conns=50/value=256", name)
	l := gobenchLine(name, Sample{OpsPerSec: 250000, Ops: 1000000, P50: ms(1), P99: ms(2), P999: ms(3)})
	assert.Equal(t, name+"\t1000000\t4000.0 ns/op\t250000 ops/s\t1000000 p50-ns\t2000000 p99-ns\t3000000 p99.9-ns", l)
	assert.Equal(t, "", gobenchLine(name, Sample{}))
}
