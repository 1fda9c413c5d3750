//go:build linux

// Command bench runs sessiond and redis-server side by side on this machine
// and compares them: throughput and latency of session-store workloads
// (driven by redis-benchmark and by a Go session-mix driver), and memory per
// session. See bench/README.md.
//
//	go run ./bench --quick
//	go run ./bench                       # full, about 10-15 minutes
//	go run ./bench --workloads get,mix --rounds 7
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	quick        bool
	rounds       int
	keys         int
	clients      int
	valueSize    int
	workloads    string
	mem          int
	out          string
	sessiondBin  string
	target       string
	redisServer  string
	redisBench   string
	mixDuration  time.Duration
	requestsP1   int
	requestsP16  int
	settle       time.Duration
	keepTmp      bool
	runTimeout   time.Duration
	listWorkload bool
	profile      bool
	eventLoops   string // --event-loops, "" when not given
}

// workload is one line of the results table.
type workload struct {
	name     string // "get-p16"
	family   string // "get"
	desc     string
	pipeline int
	mix      bool     // Go driver instead of redis-benchmark
	command  []string // redis-benchmark command
	keyspace int      // redis-benchmark -r
	gmp1     bool     // sessiond side runs with GOMAXPROCS=1
}

func defineWorkloads(o *options, d *Dataset) []workload {
	value := string(d.Value)
	var ws []workload
	type fam struct {
		name, desc string
		cmd        []string
		keyspace   int
	}
	fams := []fam{
		{"setex", fmt.Sprintf("SETEX sess:<n> 1800 <%d B>, %d keys", o.valueSize, d.Keys), []string{"SETEX", "sess:__rand_int__", "1800", value}, d.Keys},
		{"get", fmt.Sprintf("GET sess:<n>, %d preloaded keys", d.Keys), []string{"GET", "sess:__rand_int__"}, d.Keys},
		{"smembers", fmt.Sprintf("SMEMBERS user_sess:<uid>, %d sets of 5", d.Users), []string{"SMEMBERS", "user_sess:__rand_int__"}, d.Users},
		{"sadd", fmt.Sprintf("SADD user_sess:<uid> sess:<n>, %d users", d.Users), []string{"SADD", "user_sess:__rand_int__", "sess:__rand_int__"}, d.Users},
	}
	for _, f := range fams {
		for _, p := range []int{1, 16} {
			ws = append(ws, workload{name: fmt.Sprintf("%s-p%d", f.name, p), family: f.name, desc: f.desc, pipeline: p, command: f.cmd, keyspace: f.keyspace})
		}
	}
	for _, p := range []int{1, 16} {
		ws = append(ws, workload{name: fmt.Sprintf("mix-p%d", p), family: "mix", pipeline: p, mix: true,
			desc: fmt.Sprintf("Go driver: %d%% GET, %d%% SETEX, %d%% EXPIRE, %d%% SADD, %d%% SMEMBERS, %d%% DEL on sess:<32hex>", mixGet, mixSetex, mixExpire, mixSadd, mixSmembers, mixDel)})
	}
	for _, f := range fams[:2] {
		ws = append(ws, workload{name: f.name + "-p1-gomaxprocs1", family: f.name, desc: f.desc + "; sessiond with GOMAXPROCS=1", pipeline: 1, command: f.cmd, keyspace: f.keyspace, gmp1: true})
	}
	return ws
}

// selected reports whether name passes the --workloads filter: an item
// matches a workload by its full name or by a prefix ending at a dash
// ("get" matches get-p1, get-p16 and get-p1-gomaxprocs1; "p16" is not a
// prefix, so use "get-p16").
func selected(filter, name string) bool {
	if strings.TrimSpace(filter) == "" || filter == "all" {
		return true
	}
	for _, f := range strings.Split(filter, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if name == f || strings.HasPrefix(name, f+"-") {
			return true
		}
		if f == "gomaxprocs1" && strings.HasSuffix(name, "-gomaxprocs1") {
			return true
		}
	}
	return false
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "smoke-test mode: fewer requests, shorter runs, 3 rounds, small memory test (about 1-2 minutes)")
	flag.IntVar(&o.rounds, "rounds", 0, "rounds per workload, each running sessiond then redis (default 3 with --quick, 5 otherwise)")
	flag.IntVar(&o.keys, "keys", 100000, "keyspace size for the throughput workloads")
	flag.IntVar(&o.clients, "clients", 50, "client connections")
	flag.IntVar(&o.valueSize, "value-size", 256, "session blob size in bytes")
	flag.StringVar(&o.workloads, "workloads", "", "comma-separated workloads or families to run (setex,get,smembers,sadd,mix,gomaxprocs1,mem or full names like get-p16); empty means all")
	flag.IntVar(&o.mem, "mem", -1, "sessions for the memory test (default 500000, or 100000 with --quick; 0 skips it)")
	flag.StringVar(&o.out, "out", filepath.Join("bench", "results"), "directory for results.md, results.csv, ratios.svg, rounds.txt (and extra.txt, snapshot-timeline.txt for the expiry and snapshot workloads)")
	flag.StringVar(&o.sessiondBin, "sessiond-bin", "", "use this sessiond binary instead of building ./cmd/sessiond")
	flag.StringVar(&o.target, "target", kindSessiond, "what plays side A: sessiond, or redis (a second redis-server, to test the harness or see the noise floor)")
	flag.StringVar(&o.redisServer, "redis-server", "redis-server", "redis-server binary")
	flag.StringVar(&o.redisBench, "redis-benchmark", "redis-benchmark", "redis-benchmark binary")
	flag.DurationVar(&o.mixDuration, "mix-duration", 0, "duration of each session-mix run (default 2s with --quick, 5s otherwise)")
	flag.IntVar(&o.requestsP1, "requests-p1", 0, "redis-benchmark -n at pipeline 1 (default 50000 with --quick, 200000 otherwise)")
	flag.IntVar(&o.requestsP16, "requests-p16", 0, "redis-benchmark -n at pipeline 16 (default 200000 with --quick, 1000000 otherwise)")
	flag.DurationVar(&o.settle, "settle", 15*time.Second, "wait after loading before measuring memory (both servers return idle pages about 10 s after a load; the RSS 2 s after it is reported too)")
	flag.BoolVar(&o.keepTmp, "keep", false, "keep the temporary directory (server logs and data dirs)")
	flag.DurationVar(&o.runTimeout, "run-timeout", 2*time.Minute, "give up on a single run after this long (a hung server)")
	flag.BoolVar(&o.listWorkload, "list", false, "list the workloads and exit")
	flag.BoolVar(&o.profile, "profile", false, "start sessiond with --pprof-addr and save cpu-<workload>.pprof (first round, 3s) and heap-mem.pprof into --out")
	flag.StringVar(&o.eventLoops, "event-loops", "", "pass --event-loops N to sessiond (0: one per GOMAXPROCS, -1: none, N: N loops); not given: pass nothing, sessiond's default")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench [flags]\n\nRuns sessiond and redis-server side by side and compares them. Flags:\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	applyDefaults(&o)
	if o.listWorkload {
		for _, w := range defineWorkloads(&o, newDataset(o.keys, o.valueSize)) {
			fmt.Printf("%-22s %s, pipeline %d\n", w.name, w.desc, w.pipeline)
		}
		fmt.Printf("%-22s load --mem sessions into fresh servers, compare RSS growth per session\n", "mem")
		fmt.Printf("%-22s only when named in --workloads: expiry-reclaim, expiry-storm, expiry-cpu, snapshot, soak (README)\n", "expiry, snapshot")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, &o)
	interrupted := ctx.Err() != nil
	stop()
	if interrupted {
		fmt.Fprintln(os.Stderr, "bench: interrupted; servers stopped, no results written")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func applyDefaults(o *options) {
	pick := func(v *int, quick, full int) {
		if *v <= 0 {
			if o.quick {
				*v = quick
			} else {
				*v = full
			}
		}
	}
	pick(&o.rounds, 3, 5)
	pick(&o.requestsP1, 50000, 200000)
	pick(&o.requestsP16, 200000, 1000000)
	if o.mem < 0 {
		o.mem = 500000
		if o.quick {
			o.mem = 100000
		}
	}
	if o.mixDuration <= 0 {
		o.mixDuration = 5 * time.Second
		if o.quick {
			o.mixDuration = 2 * time.Second
		}
	}
}

var startTime = time.Now()

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(startTime).Seconds(), fmt.Sprintf(format, args...))
}

// side is one of the two servers in a comparison, restartable after a crash.
type side struct {
	label, kind, bin string
	env              []string
	srv              *Server
}

func (s *side) start(ctx context.Context, base string, d *Dataset) error {
	srv, err := startServer(ctx, s.label, s.kind, s.bin, base, s.env)
	if err != nil {
		return err
	}
	s.srv = srv
	t0 := time.Now()
	if err := preload(ctx, srv.Addr(), d); err != nil {
		if !srv.Alive() {
			return fmt.Errorf("%s: %w; process %s; log tail:\n%s", s.label, err, srv.ExitStatus(), srv.LogTail(1500))
		}
		return fmt.Errorf("%s: %w", s.label, err)
	}
	progress("%s up on %s (pid %d), preloaded %d+%d keys and %d sets in %v", s.label, srv.Addr(), srv.Pid(), d.Keys, d.Keys, d.Users, time.Since(t0).Round(time.Millisecond))
	return nil
}

func (s *side) stop() {
	if s.srv != nil {
		s.srv.Stop()
		s.srv = nil
	}
}

func run(ctx context.Context, o *options) error {
	if o.target != kindSessiond && o.target != kindRedis {
		return usageError{fmt.Errorf("--target must be sessiond or redis, not %q", o.target)}
	}
	redisServer, err := exec.LookPath(o.redisServer)
	if err != nil {
		return usageError{fmt.Errorf("redis-server not found (%v): install it (apt-get install redis-server redis-tools) or pass --redis-server PATH", err)}
	}
	redisBench, err := exec.LookPath(o.redisBench)
	if err != nil {
		return usageError{fmt.Errorf("redis-benchmark not found (%v): install it (apt-get install redis-tools) or pass --redis-benchmark PATH", err)}
	}
	ws0 := defineWorkloads(o, newDataset(o.keys, o.valueSize))
	var ws []workload
	for _, w := range ws0 {
		if selected(o.workloads, w.name) {
			ws = append(ws, w)
		}
	}
	runMemTest := o.mem > 0 && selected(o.workloads, "mem")
	runExtra := anyExtraSelected(o.workloads) // expiry-*, snapshot: storm.go, snapshot.go
	if len(ws) == 0 && !runMemTest && !runExtra {
		return usageError{fmt.Errorf("--workloads %q selects nothing; see --list", o.workloads)}
	}

	if sessiondArgs, err = eventLoopsArgs(o.eventLoops); err != nil {
		return usageError{err}
	}
	if o.profile && o.target == kindSessiond {
		profileDir = o.out
	}
	tmp, err := os.MkdirTemp("", "sessiond-bench-")
	if err != nil {
		return err
	}
	if o.keepTmp {
		progress("temporary directory (kept): %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	aLabel, aBin := "sessiond", o.sessiondBin
	if aBin != "" && o.target == kindSessiond {
		st, err := os.Stat(aBin)
		if err != nil {
			return usageError{fmt.Errorf("--sessiond-bin: %w", err)}
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return usageError{fmt.Errorf("--sessiond-bin %s is not an executable file", aBin)}
		}
		if aBin, err = filepath.Abs(aBin); err != nil {
			return err
		}
	}
	if o.target == kindRedis {
		aLabel, aBin = "redis-a", redisServer
	} else if aBin == "" {
		progress("building ./cmd/sessiond")
		aBin, err = buildSessiond(ctx, tmp)
		if err != nil {
			return err
		}
	}
	bLabel := "redis"
	if o.target == kindRedis {
		bLabel = "redis-b"
	}

	rep := &Report{ALabel: aLabel, BLabel: bLabel}
	rep.Header = header(o, aBin, redisServer)
	d := newDataset(o.keys, o.valueSize)

	if len(ws) > 0 {
		if err := runThroughput(ctx, o, rep, ws, d, tmp, aLabel, aBin, redisServer, redisBench); err != nil {
			return err
		}
	}
	if runMemTest {
		progress("memory test: %d sessions of %d B + %d user sets, fresh servers, settle %v", o.mem, o.valueSize, o.mem/5, o.settle)
		for _, s := range []struct{ label, kind, bin string }{{aLabel, o.target, aBin}, {bLabel, kindRedis, redisServer}} {
			m, err := runMem(ctx, s.label, s.kind, s.bin, tmp, o.mem, o.valueSize, o.settle, progress)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				rep.Problems = append(rep.Problems, fmt.Sprintf("memory test on %s failed: %v", s.label, err))
				progress("memory test on %s failed: %v", s.label, err)
				continue
			}
			if m.Err != "" {
				rep.Problems = append(rep.Problems, fmt.Sprintf("memory test on %s: %s", s.label, m.Err))
			}
			progress("mem %s: RSS %s -> %s, %.0f B/session", s.label, mib(m.RSSBefore), mib(m.RSSAfter), m.PerSession())
			rep.Mem = append(rep.Mem, m)
		}
		if len(rep.Mem) != 2 {
			rep.Mem = nil
		}
	}
	if runExtra {
		if err := runExtraWorkloads(ctx, o, rep, tmp, aLabel, aBin, redisServer); err != nil {
			return err
		}
	}
	return writeOutputs(o, rep)
}

func header(o *options, aBin, redisServer string) []string {
	mode := "full"
	if o.quick {
		mode = "quick"
	}
	h := []string{
		fmt.Sprintf("date: %s", time.Now().UTC().Format("2006-01-02 15:04 UTC")),
		fmt.Sprintf("command: go run ./bench %s", strings.Join(os.Args[1:], " ")),
		fmt.Sprintf("mode: %s; rounds %d (A B A B ...); clients %d; keys %d; value %d B; redis-benchmark -n %d (P1) / %d (P16); mix %v per run",
			mode, o.rounds, o.clients, o.keys, o.valueSize, o.requestsP1, o.requestsP16, o.mixDuration),
	}
	if c := gitCommit(); c != "" {
		h = append(h, "sessiond commit: "+c)
	}
	h = append(h, fmt.Sprintf("side A binary: %s", aBin))
	h = append(h, eventLoopsHeader(o))
	if out, err := exec.Command(redisServer, "--version").Output(); err == nil {
		h = append(h, "redis: "+strings.TrimSpace(string(out)))
	}
	h = append(h, fmt.Sprintf("machine: %d CPUs (%s), %s; %s", runtime.NumCPU(), cpuModel(), runtime.GOOS+"/"+runtime.GOARCH, runtime.Version()))
	h = append(h, "load average at start: "+loadAvg())
	h = append(h, "latencies are medians over rounds of each run's percentile; at pipeline 16 a command's latency is its batch's round trip")
	h = append(h, cpuHeader(o))
	return h
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	la := strings.Join(f[:3], " ")
	// CPU pressure: the share of time some runnable task waited for a CPU.
	if psi, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		for _, l := range strings.Split(string(psi), "\n") {
			if rest, ok := strings.CutPrefix(l, "some "); ok {
				for _, kv := range strings.Fields(rest) {
					if v, ok := strings.CutPrefix(kv, "avg60="); ok {
						la += "; cpu pressure (some, avg60) " + v + "%"
					}
				}
			}
		}
	}
	return la
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += " (working tree has uncommitted changes)"
	}
	return c
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func runThroughput(ctx context.Context, o *options, rep *Report, ws []workload, d *Dataset, tmp, aLabel, aBin, redisServer, redisBench string) error {
	aKind := o.target
	a := &side{label: aLabel, kind: aKind, bin: aBin}
	agmp := &side{label: aLabel + "-gomaxprocs1", kind: aKind, bin: aBin, env: []string{"GOMAXPROCS=1"}}
	b := &side{label: rep.BLabel, kind: kindRedis, bin: redisServer}
	defer a.stop()
	defer agmp.stop()
	defer b.stop()

	if err := b.start(ctx, tmp, d); err != nil {
		return err
	}
	if err := verify(b.srv.Addr(), d); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s failed the preload check: %v", b.label, err))
	}

	total := 0
	for range ws {
		total += o.rounds
	}
	done := 0
	var rounds []string
	for _, w := range ws {
		sideA := a
		if w.gmp1 {
			sideA = agmp
			if a.srv != nil {
				a.stop() // one sessiond at a time: less memory and noise
			}
		}
		if sideA.srv == nil || !sideA.srv.Alive() {
			if err := sideA.start(ctx, tmp, d); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			if err := verify(sideA.srv.Addr(), d); err != nil {
				p := fmt.Sprintf("%s failed the preload check: %v", sideA.label, err)
				rep.Problems = append(rep.Problems, p)
				progress("PROBLEM: %s", p)
			}
		}
		row := Row{Workload: w.name, Desc: w.desc, Pipeline: w.pipeline}
		for r := 0; r < o.rounds; r++ {
			done++
			var okA, okB, cpuA, cpuB float64
			for _, sd := range []*side{sideA, b} {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if sd.srv == nil || !sd.srv.Alive() {
					if err := sd.start(ctx, tmp, d); err != nil {
						return err
					}
				}
				isA := sd != b
				var prof <-chan error
				if isA && r == 0 {
					prof = startCPUProfile(ctx, sd.srv, w.name)
				}
				s, detail, note, err := runOne(ctx, o, w, d, sd.srv, redisBench, uint64(r))
				detailNote := note
				if prof != nil {
					if perr := <-prof; perr != nil {
						progress("cpu profile for %s: %v", w.name, perr)
					} else if profileDir != "" {
						progress("cpu profile: %s", filepath.Join(profileDir, "cpu-"+w.name+".pprof"))
					}
				}
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					msg := fmt.Sprintf("%s round %d on %s: %v", w.name, r+1, sd.label, err)
					if !sd.srv.Alive() {
						msg += fmt.Sprintf("; %s died (%s); log tail:\n%s", sd.label, sd.srv.ExitStatus(), sd.srv.LogTail(1500))
						sd.stop()
					}
					progress("[%d/%d] FAILED %s", done, total, msg)
					rep.Problems = append(rep.Problems, msg)
					if isA {
						row.AErr = append(row.AErr, msg)
					} else {
						row.BErr = append(row.BErr, msg)
					}
					continue
				}
				if detail != "" {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s round %d on %s: %s", w.name, r+1, sd.label, detail))
				}
				if isA {
					row.A = append(row.A, s)
					okA, cpuA = s.OpsPerSec, cpuPerOp(s)
				} else {
					row.B = append(row.B, s)
					okB, cpuB = s.OpsPerSec, cpuPerOp(s)
				}
				lbl := sd.label
				if isA {
					lbl = aLabel // benchstat compares server=sessiond with server=redis
				}
				rounds = append(rounds, gobenchLine(benchName(lbl, w.name, w.pipeline, o.clients, o.valueSize), s))
				progress("[%d/%d] %-20s round %d %-22s %10s ops/s  p50 %s p99 %s p99.9 %s ms  cpu %s µs/req%s", done, total, w.name, r+1, sd.label,
					fmtOps(s.OpsPerSec), fmtMs(s.P50), fmtMs(s.P99), fmtMs(s.P999), fmtCPU(cpuPerOp(s)), errNote(s)+detailNote)
			}
			if okA > 0 && okB > 0 {
				row.Pairs = append(row.Pairs, okA/okB)
			}
			if cpuA > 0 && cpuB > 0 { // NaN (unknown) compares false
				row.CPUPairs = append(row.CPUPairs, cpuA/cpuB)
			}
		}
		rep.Rows = append(rep.Rows, summarize(row))
	}
	a.stop()
	agmp.stop()
	b.stop()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	txt := "# Go benchmark format, one line per round; compare with:\n#   benchstat -col /server rounds.txt\n" + strings.Join(rounds, "\n") + "\n"
	return os.WriteFile(filepath.Join(o.out, "rounds.txt"), []byte(txt), 0o644)
}

func errNote(s Sample) string {
	if s.Errors > 0 {
		return fmt.Sprintf("  (%d bad replies)", s.Errors)
	}
	return ""
}

// runOne runs one round of w against srv. detail carries anomalies worth
// reporting even when the run completed (bad replies).
// note is a short remark for the progress line (the mix's GET hit rate).
func runOne(ctx context.Context, o *options, w workload, d *Dataset, srv *Server, redisBench string, round uint64) (s Sample, detail, note string, err error) {
	ctx, cancel := context.WithTimeout(ctx, o.runTimeout)
	defer cancel()
	// Collect the harness's own garbage now, not during the next run.
	runtime.GC()
	if w.mix {
		var res MixResult
		withCPU, err := measureCPU(srv.Pid(), func() (Sample, error) {
			var err error
			res, err = runMix(ctx, srv.Addr(), d, o.clients, w.pipeline, o.mixDuration, 1000+round)
			return res.Sample, err
		})
		res.Sample = withCPU
		if err != nil {
			return Sample{}, "", "", err
		}
		if res.Errors > 0 {
			detail = fmt.Sprintf("%d bad replies of %d, first: %s", res.Errors, res.Ops, strings.Join(res.FirstErrs, "; "))
		}
		if res.Gets > 0 {
			note = fmt.Sprintf("  GET hits %.1f%%", 100*float64(res.Gets-res.Misses)/float64(res.Gets))
		}
		return res.Sample, detail, note, nil
	}
	n := o.requestsP1
	if w.pipeline > 1 {
		n = o.requestsP16
	}
	s, err = measureCPU(srv.Pid(), func() (Sample, error) {
		return rbRun(ctx, redisBench, "127.0.0.1", srv.Port, o.clients, n, w.pipeline, w.keyspace, w.command)
	})
	return s, "", "", err
}

func writeOutputs(o *options, rep *Report) error {
	rep.Header = append(rep.Header, "load average at end: "+loadAvg()+" (a load above 2 or a cpu pressure above a few percent means other work shared the machine: trust ratios, not absolutes, and look at the round ratios)")
	rep.WriteText(os.Stdout)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	write := func(name string, f func(*os.File) error) error {
		fh, err := os.Create(filepath.Join(o.out, name))
		if err != nil {
			return err
		}
		if err := f(fh); err != nil {
			fh.Close()
			return err
		}
		return fh.Close()
	}
	if err := write("results.md", func(f *os.File) error { rep.WriteMarkdown(f); return nil }); err != nil {
		return err
	}
	if err := write("results.txt", func(f *os.File) error { rep.WriteText(f); return nil }); err != nil {
		return err
	}
	if err := write("results.csv", func(f *os.File) error { return rep.WriteCSV(f) }); err != nil {
		return err
	}
	if err := write("ratios.svg", func(f *os.File) error { return rep.WriteSVG(f) }); err != nil {
		return err
	}
	abs, _ := filepath.Abs(o.out)
	progress("wrote results.md, results.txt, results.csv, ratios.svg (and rounds.txt for throughput runs) to %s", abs)
	if len(rep.Problems) > 0 {
		progress("%d problem(s) recorded; see the Problems section", len(rep.Problems))
	}
	return nil
}
