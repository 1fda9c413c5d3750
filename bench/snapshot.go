//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Memory during a save is the server's VmRSS (/proc/<pid>/status, a
// counter: cheap to read) and, for Redis, its child's copy-on-write pages
// as Redis measures them. /proc/<pid>/smaps_rollup is not read: it walks
// the server's page tables, 5-6 ms for the 470 MB of 1M sessions, and each
// read stalled the server's requests for milliseconds.

type snapResult struct {
	base, save         LatWindow
	rssBefore, rssPeak int64         // the server process's
	cow                int64         // Redis's fork child: rdb_last_cow_size; 0 for sessiond
	saveDur            time.Duration // BGSAVE sent -> rdb_bgsave_in_progress:0 seen
	size               int64
	logDur             time.Duration // from sessiond's "snapshot written" line; 0 if none
	status             string
}

func (s snapResult) mbps() float64 { return float64(s.size) / 1e6 / s.saveDur.Seconds() }

// runSnapshot measures request latency and memory during BGSAVE with
// --snapshot-sessions resident, the write speed, and then the load time of
// each server's file by each server.
func runSnapshot(ctx context.Context, o *options, sides []extraSide, tmp string, out io.Writer, problem func(string, ...any)) error {
	n := *snapSessions
	progress("snapshot: %d sessions of %d B, paced driver %.0f req/s, BGSAVE", n, o.valueSize, *pacedRate)
	files := filepath.Join(tmp, "rdb-files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		return err
	}
	res := map[string][]snapResult{}
	var timeline []string
	err := forRounds(ctx, sides, tmp, "snapshot", problem, func(r int, sd extraSide, srv *Server) error {
		keys, _, err := loadSessionsPlain(ctx, srv.Addr(), n, o.valueSize)
		if err != nil {
			return err
		}
		runtime.GC()
		time.Sleep(time.Second)
		value := make([]byte, o.valueSize)
		memBlob(value, 3)
		drv, err := startPaced(ctx, srv.Addr(), keys[:min(len(keys), 100000)], value, o.clients, *pacedRate)
		if err != nil {
			return err
		}
		baseStart := time.Now()
		time.Sleep(*baselineWindow)
		var s snapResult
		s.rssBefore, _ = readRSS(srv.Pid())
		c, err := dial(srv.Addr(), 2*time.Second)
		if err != nil {
			drv.stop()
			return err
		}
		defer c.Close()
		_ = c.nc.SetDeadline(time.Now().Add(time.Minute))
		saveStart := time.Now()
		rep, err := c.Do("BGSAVE")
		if err != nil || rep.Kind != '+' || !strings.HasPrefix(string(rep.Str), "Background saving started") {
			drv.stop()
			return fmt.Errorf("BGSAVE answered %v (%v)", rep, err)
		}
		s.rssPeak = s.rssBefore
		for {
			if time.Since(saveStart) > 2*time.Minute {
				drv.stop()
				return fmt.Errorf("BGSAVE still in progress after 2 minutes")
			}
			rep, err := c.Do("INFO", "persistence")
			if err != nil {
				drv.stop()
				return err
			}
			m := parseInfo(string(rep.Str))
			if rs, err := readRSS(srv.Pid()); err == nil {
				s.rssPeak = max(s.rssPeak, rs)
			}
			if m["rdb_bgsave_in_progress"] == "0" {
				s.saveDur = time.Since(saveStart)
				s.status = m["rdb_last_bgsave_status"]
				s.cow, _ = strconv.ParseInt(m["rdb_last_cow_size"], 10, 64)
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		saveEnd := time.Now()
		time.Sleep(500 * time.Millisecond)
		recs, derr := drv.stop()
		if derr != nil {
			return fmt.Errorf("paced driver: %w", derr)
		}
		s.base = window(recs, baseStart.Add(500*time.Millisecond).UnixNano(), saveStart.UnixNano())
		s.save = window(recs, saveStart.UnixNano(), saveEnd.UnixNano())
		if s.base.Bad+s.save.Bad > 0 {
			problem("snapshot round %d on %s: %d bad replies", r+1, sd.label, s.base.Bad+s.save.Bad)
		}
		if s.status != "ok" {
			problem("snapshot round %d on %s: rdb_last_bgsave_status:%s", r+1, sd.label, s.status)
		}
		rdb := filepath.Join(srv.Dir, "dump.rdb")
		st, err := os.Stat(rdb)
		if err != nil {
			return fmt.Errorf("after BGSAVE: %w", err)
		}
		s.size = st.Size()
		if sd.kind == kindSessiond {
			s.logDur = snapshotLogDuration(srv.LogTail(1 << 16))
		}
		if r == 0 {
			if err := copyFile(rdb, filepath.Join(files, sd.label+".rdb")); err != nil {
				return err
			}
		}
		res[sd.label] = append(res[sd.label], s)
		timeline = append(timeline, fmt.Sprintf("round %d %s:\n%s", r+1, sd.label, latTimeline(recs, saveStart.UnixNano(), saveEnd.UnixNano())))
		progress("snapshot round %d %-9s baseline %s; during save %s; save %v (log %v), %d bytes, %.0f MB/s; RSS %s -> peak %s, child's copy-on-write %s",
			r+1, sd.label, s.base, s.save, s.saveDur.Round(time.Millisecond), s.logDur, s.size, s.mbps(), mib(s.rssBefore), mib(s.rssPeak), mib(s.cow))
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "### snapshot: BGSAVE with %d sessions (%d B, SETEX 1800) resident, paced driver on 100,000 of them\n\n", n, o.valueSize)
	fmt.Fprintf(out, "Request latency p50 / p99 / p99.9 / max in ms, median over rounds; baseline = %v before BGSAVE, save = BGSAVE sent until INFO shows rdb_bgsave_in_progress:0 (polled every 2 ms). Memory: the server's RSS before the save -> its peak during the save (read every 2 ms) plus, for Redis, the fork child's copy-on-write pages (INFO rdb_last_cow_size, which Redis's child measures itself); /proc/<pid>/smaps is not read during the save, as that stalled the server for milliseconds. Write speed = file size / save time. Targets: save p99 <= 1.5x baseline, no request over 1 ms, extra memory <= 10%%, >= 200 MB/s. Per-50 ms latency around each save: snapshot-timeline.txt.\n\n", *baselineWindow)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tbaseline p50/p99/p99.9/max\tsave p50/p99/p99.9/max\tsave/base p99\t>1ms during save\tmemory before -> peak\textra\tsave time\tfile\tMB/s\t\n")
	for _, sd := range sides {
		ss := res[sd.label]
		if len(ss) == 0 {
			fmt.Fprintf(tw, "%s\tfailed\t\t\t\t\t\t\t\t\t\n", sd.label)
			continue
		}
		pb := medianF(mapF(ss, func(s snapResult) float64 { return float64(s.rssBefore) }))
		pp := medianF(mapF(ss, func(s snapResult) float64 { return float64(s.rssPeak + s.cow) }))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fx\t%.0f of %.0f\t%s -> %s\t%+.1f%%\t%.0f ms\t%.1f MB\t%.0f\t\n", sd.label,
			latCell(ss, func(s snapResult) LatWindow { return s.base }), latCell(ss, func(s snapResult) LatWindow { return s.save }),
			medianF(mapF(ss, func(s snapResult) float64 { return float64(s.save.P99) / float64(max(s.base.P99, 1)) })),
			medianF(mapF(ss, func(s snapResult) float64 { return float64(s.save.Over1ms) })), medianF(mapF(ss, func(s snapResult) float64 { return float64(s.save.N) })),
			mib(int64(pb)), mib(int64(pp)), 100*(pp-pb)/pb,
			medianF(mapF(ss, func(s snapResult) float64 { return float64(s.saveDur.Milliseconds()) })),
			medianF(mapF(ss, func(s snapResult) float64 { return float64(s.size) / 1e6 })),
			medianF(mapF(ss, func(s snapResult) float64 { return s.mbps() })))
	}
	tw.Flush()
	if ss := res[sides[0].label]; len(ss) > 0 && ss[0].logDur > 0 {
		fmt.Fprintf(out, "\nsessiond's own log (snapshot written ... duration): %s\n", strings.Join(func() []string {
			var e []string
			for _, s := range ss {
				e = append(e, fmt.Sprintf("%v = %.0f MB/s", s.logDur, float64(s.size)/1e6/s.logDur.Seconds()))
			}
			return e
		}(), ", "))
	}
	fmt.Fprintln(out)
	err = os.MkdirAll(o.out, 0o755)
	if err == nil {
		err = os.WriteFile(filepath.Join(o.out, "snapshot-timeline.txt"), []byte(strings.Join(timeline, "\n")), 0o644)
	}
	if err != nil {
		problem("snapshot timeline: %v", err)
	}
	return runLoadTimes(ctx, o, sides, tmp, files, n, out, problem)
}

var snapDurRE = regexp.MustCompile(`snapshot written.*duration=(\S+)`)

func snapshotLogDuration(log string) time.Duration {
	m := snapDurRE.FindAllStringSubmatch(log, -1)
	if len(m) == 0 {
		return 0
	}
	d, _ := time.ParseDuration(m[len(m)-1][1])
	return d
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// runLoadTimes starts each server on each server's file and times process
// start -> PONG (not -LOADING) and DBSIZE == n.
func runLoadTimes(ctx context.Context, o *options, sides []extraSide, tmp, files string, n int, out io.Writer, problem func(string, ...any)) error {
	type combo struct {
		sd   extraSide
		file string
	}
	var combos []combo
	for _, sd := range sides {
		for _, f := range sides {
			if _, err := os.Stat(filepath.Join(files, f.label+".rdb")); err == nil {
				combos = append(combos, combo{sd, f.label})
			}
		}
	}
	times := map[string][]float64{}
	for r := 0; r < *extraRounds+1; r++ {
		for _, cb := range combos {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			key := cb.sd.label + " <- " + cb.file + ".rdb"
			d, err := timeLoad(ctx, cb.sd, tmp, filepath.Join(files, cb.file+".rdb"), int64(n))
			if err != nil {
				problem("load %s round %d: %v", key, r+1, err)
				continue
			}
			times[key] = append(times[key], d.Seconds()*1000)
			progress("load %-28s round %d: %v", key, r+1, d.Round(time.Millisecond))
		}
	}
	fmt.Fprintf(out, "### snapshot load: process start -> PING answers PONG (not -LOADING) and DBSIZE = %d\n\n", n)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server <- file\tfile size\tmedian ms\trounds ms\tMB/s\t\n")
	for _, cb := range combos {
		key := cb.sd.label + " <- " + cb.file + ".rdb"
		st, _ := os.Stat(filepath.Join(files, cb.file+".rdb"))
		med := medianF(times[key])
		var each []string
		for _, t := range times[key] {
			each = append(each, fmt.Sprintf("%.0f", t))
		}
		fmt.Fprintf(tw, "%s\t%.1f MB\t%s\t%s\t%.0f\t\n", key, float64(st.Size())/1e6, fmtMsF(med), strings.Join(each, " "), float64(st.Size())/1e6/(med/1000))
	}
	tw.Flush()
	fmt.Fprintln(out)
	return nil
}

func timeLoad(ctx context.Context, sd extraSide, tmp, file string, want int64) (time.Duration, error) {
	dir, err := os.MkdirTemp(tmp, "load-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if err := copyFile(file, filepath.Join(dir, "dump.rdb")); err != nil {
		return 0, err
	}
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	var args []string
	if sd.kind == kindRedis {
		args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--logfile", ""}
	} else {
		args = []string{"--addr", "127.0.0.1:" + strconv.Itoa(port), "--dir", dir, "--save-interval", "0"}
		args = append(args, sessiondArgs...) // --event-loops
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	runtime.GC()
	cmd := exec.Command(sd.bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill() // the file is a copy; no shutdown save wanted
		<-exited
	}()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var c *conn
	var last string
	for {
		if time.Since(t0) > 2*time.Minute {
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return 0, fmt.Errorf("not loaded after 2 minutes (last: %s); log tail:\n%s", last, tail(string(b), 1500))
		}
		select {
		case err := <-exited:
			exited <- err
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return 0, fmt.Errorf("exited (%v) while loading; log tail:\n%s", err, tail(string(b), 1500))
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
		if c == nil {
			if c, err = dial(addr, time.Second); err != nil {
				c, last = nil, err.Error()
				time.Sleep(2 * time.Millisecond)
				continue
			}
			defer c.Close()
		}
		_ = c.nc.SetDeadline(time.Now().Add(5 * time.Second))
		rp, err := c.Do("PING")
		if err != nil {
			c.Close()
			c, last = nil, err.Error()
			continue
		}
		if rp.Kind == '+' && string(rp.Str) == "PONG" {
			rd, err := c.Do("DBSIZE")
			if err == nil && rd.Kind == ':' && rd.Int == want {
				return time.Since(t0), nil
			}
			last = fmt.Sprintf("PONG but DBSIZE %v %v", rd, err)
		} else {
			last = rp.String()
		}
		time.Sleep(2 * time.Millisecond)
	}
}
