//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Sample is the outcome of one run of one workload against one server.
type Sample struct {
	OpsPerSec float64
	// Latencies; zero when the tool did not report them.
	P50, P99, P999 time.Duration
	// Errors counts error or unexpected replies (Go driver only).
	Errors int64
	Ops    int64
	// CPU is the server's CPU time during the run (cpu.go); 0 when unknown.
	CPU time.Duration
}

// rbParse reads redis-benchmark output for one test. It accepts both the
// --csv form and the default verbose form. Redis 7.0's CSV has the columns
// test, rps, avg_latency_ms, min_latency_ms, p50_latency_ms, p95_latency_ms,
// p99_latency_ms, max_latency_ms (no p99.9); the verbose form ends in a
// "Summary" block with the same figures and also prints "Latency by
// percentile distribution" from its HDR histogram, from which p99.9 is read.
// The harness runs the verbose form for that reason.
func rbParse(out string) (Sample, error) {
	if s, ok, err := rbParseCSV(out); ok {
		return s, err
	}
	return rbParseVerbose(out)
}

// rbParseCSV parses --csv output. ok is false when out has no CSV header.
func rbParseCSV(out string) (s Sample, ok bool, err error) {
	idx := -1
	if strings.HasPrefix(out, `"test",`) {
		idx = 0
	} else if i := strings.Index(out, "\n\"test\","); i >= 0 {
		idx = i + 1
	}
	if idx < 0 {
		return s, false, nil
	}
	r := csv.NewReader(strings.NewReader(out[idx:]))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return s, true, fmt.Errorf("redis-benchmark csv header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	rec, err := r.Read()
	if err != nil {
		return s, true, fmt.Errorf("redis-benchmark csv: no data row: %w", err)
	}
	get := func(name string) (float64, bool, error) {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return 0, false, nil
		}
		v, err := strconv.ParseFloat(rec[i], 64)
		if err != nil {
			return 0, false, fmt.Errorf("redis-benchmark csv column %s=%q: %w", name, rec[i], err)
		}
		return v, true, nil
	}
	rps, found, err := get("rps")
	if err != nil {
		return s, true, err
	}
	if !found {
		return s, true, errors.New("redis-benchmark csv: no rps column")
	}
	s.OpsPerSec = rps
	for name, dst := range map[string]*time.Duration{
		"p50_latency_ms": &s.P50, "p99_latency_ms": &s.P99, "p999_latency_ms": &s.P999,
	} {
		v, found, err := get(name)
		if err != nil {
			return s, true, err
		}
		if found {
			*dst = msDuration(v)
		}
	}
	return s, true, nil
}

// rbParseVerbose parses the default (non -q, non --csv) output.
func rbParseVerbose(out string) (Sample, error) {
	var s Sample
	// redis-benchmark redraws its progress line with \r; keep only what
	// follows the last \r on each line.
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var lines []string
	for sc.Scan() {
		l := sc.Text()
		if i := strings.LastIndexByte(l, '\r'); i >= 0 {
			l = l[i+1:]
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	gotRPS, gotSummary := false, false
	inPct := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "Latency by percentile distribution"):
			inPct = true
			continue
		case l == "":
			inPct = false
			continue
		case strings.HasPrefix(l, "throughput summary:"):
			f := strings.Fields(strings.TrimPrefix(l, "throughput summary:"))
			if len(f) == 0 {
				return s, fmt.Errorf("redis-benchmark: bad line %q", l)
			}
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return s, fmt.Errorf("redis-benchmark: bad line %q: %w", l, err)
			}
			s.OpsPerSec, gotRPS = v, true
		case strings.HasPrefix(l, "latency summary") && i+2 < len(lines):
			names := strings.Fields(lines[i+1])
			vals := strings.Fields(lines[i+2])
			if len(names) != len(vals) {
				return s, fmt.Errorf("redis-benchmark: latency summary %q / %q", lines[i+1], lines[i+2])
			}
			for j, n := range names {
				v, err := strconv.ParseFloat(vals[j], 64)
				if err != nil {
					return s, fmt.Errorf("redis-benchmark: latency summary %q: %w", vals[j], err)
				}
				switch n {
				case "p50":
					s.P50 = msDuration(v)
				case "p99":
					s.P99 = msDuration(v)
				}
			}
			gotSummary = true
		}
		if inPct && s.P999 == 0 {
			// "99.902% <= 1.791 milliseconds (cumulative count 19981)"
			f := strings.Fields(l)
			if len(f) >= 3 && strings.HasSuffix(f[0], "%") && f[1] == "<=" {
				pct, err1 := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
				ms, err2 := strconv.ParseFloat(f[2], 64)
				if err1 == nil && err2 == nil && pct >= 99.9 {
					s.P999 = msDuration(ms)
				}
			}
		}
	}
	if !gotRPS {
		return s, errors.New("redis-benchmark: no throughput summary in output")
	}
	_ = gotSummary
	return s, nil
}

func msDuration(ms float64) time.Duration {
	return time.Duration(ms * float64(time.Millisecond))
}

// rbRun runs one redis-benchmark test against addr and parses the result.
func rbRun(ctx context.Context, bin, host string, port, clients, requests, pipeline, keyspace int, command []string) (Sample, error) {
	args := []string{
		"-h", host, "-p", strconv.Itoa(port),
		"-c", strconv.Itoa(clients),
		"-n", strconv.Itoa(requests),
		"-P", strconv.Itoa(pipeline),
		"-r", strconv.Itoa(keyspace),
	}
	args = append(args, command...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Sample{}, fmt.Errorf("redis-benchmark %s: %w: %s", strings.Join(args[:12], " "), err, tail(stderr.String()+stdout.String(), 400))
	}
	s, err := rbParse(stdout.String())
	if err != nil {
		return s, fmt.Errorf("%w (stderr: %s)", err, tail(stderr.String(), 300))
	}
	s.Ops = int64(requests)
	if e := stderr.String(); strings.Contains(e, "Error") || strings.Contains(e, "ERR") {
		s.Errors = int64(strings.Count(e, "\n")) + 1
	}
	return s, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}
