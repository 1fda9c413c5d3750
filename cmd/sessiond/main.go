// Command sessiond is a Redis-compatible session cache server. See the
// repository README for usage; `sessiond --help` lists every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"sessiond/config"
	"sessiond/expiry"
	"sessiond/keyspace"
	"sessiond/resp"
	"sessiond/snapshot"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, nil)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp): // --help: the usage went to stderr, as flag does
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// loadConfig applies defaults, then the file named by --config, then the
// flags given on the command line (so flags win over the file).
func loadConfig(args []string, stderr io.Writer) (*config.Config, bool, error) {
	cfg := config.New()
	fs := flag.NewFlagSet("sessiond", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "redis.conf-style config file (one \"name value\" per line)")
	version := fs.Bool("version", false, "print the version and exit")
	vals := map[string]*string{}
	for _, p := range config.Params {
		vals[p.Name] = fs.String(p.Name, p.Default, p.Usage) // --help is printUsage's
	}
	fs.Usage = func() { printUsage(stderr) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, false, err
		}
		return nil, false, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sessiond: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return nil, false, errUsage
	}
	if *version {
		return cfg, true, nil
	}
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return nil, false, fmt.Errorf("config file: %w", err)
		}
		err = cfg.LoadFile(*file, f)
		f.Close()
		if err != nil {
			return nil, false, fmt.Errorf("config file: %w", err)
		}
	}
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		if v, ok := vals[f.Name]; ok {
			if err := cfg.Set(f.Name, *v); err != nil {
				errs = append(errs, fmt.Errorf("--%w", err))
			}
		}
	})
	return cfg, false, errors.Join(errs...)
}

// printUsage lists every flag with its default and what it does (--help).
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: sessiond [--config FILE] [--name value ...]")
	fmt.Fprintln(w, "A Redis-compatible session cache. Every parameter below can also be set in the")
	fmt.Fprintln(w, "config file (\"name value\", one per line; see sessiond.conf) and most with CONFIG SET.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  --%-28s %s\n", "config FILE", "redis.conf-style config file; flags given on the command line win over it")
	fmt.Fprintf(w, "  --%-28s %s\n", "version", "print the version and exit")
	fmt.Fprintf(w, "  --%-28s %s\n", "help", "print this help and exit")
	for _, p := range config.Params {
		usage := p.Usage
		if p.Inert && !strings.Contains(usage, "accepted") {
			usage += " (accepted for compatibility)"
		}
		if !p.Mutable {
			usage += " [fixed at start]"
		}
		fmt.Fprintf(w, "  --%-28s %s (default %q)\n", p.Name, usage, p.Default)
	}
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch cfg.Get("loglevel") {
	case "debug", "verbose":
		level = slog.LevelDebug
	case "warning":
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Get("log-format") == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// run wires the packages together and blocks until ctx is cancelled, a
// signal arrives or SHUTDOWN is received. ready, if not nil, receives the
// listening address.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- net.Addr) error {
	cfg, showVersion, err := loadConfig(args, stderr)
	if err != nil {
		return err
	}
	if showVersion {
		fmt.Fprintf(stdout, "sessiond %s (redis %s compatible)\n", resp.ServerVersion, resp.Version)
		return nil
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	gcLoading := applyMemorySettings(ctx, cfg)
	defer stop()

	ks, err := keyspace.New(keyspace.Options{})
	if err != nil {
		return err
	}
	wheel, err := expiry.New(expiry.Options{Store: ks, Clock: ks, Logger: log.With("component", "expiry")})
	if err != nil {
		return err
	}
	ks.SetScheduler(wheel)
	wheelCtx, stopWheel := context.WithCancel(context.Background())
	defer stopWheel()
	go wheel.Run(wheelCtx)
	shutdown := make(chan string, 1)
	srv := resp.NewServer(resp.Options{
		Keyspace: ks, Config: cfg, Logger: log, Expiry: wheelStats{wheel}, ActiveExpiry: wheel,
		Shutdown: func(mode string) error {
			select {
			case shutdown <- mode:
			default:
			}
			return nil
		},
	})
	snaps := snapshot.NewManager(snapshot.ManagerOptions{
		Keyspace: ks, Logger: log.With("component", "snapshot"),
		Dir: func() string { return cfg.Get("dir") }, File: func() string { return cfg.Get("dbfilename") },
		Functions: srv.Functions,
	})
	srv.SetPersistence(persistence{snaps})

	if a := cfg.Get("pprof-addr"); a != "" {
		pln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("pprof listen: %w", err)
		}
		defer pln.Close()
		go http.Serve(pln, http.DefaultServeMux) // net/http/pprof registers there
		log.Info("pprof listening", "addr", pln.Addr().String())
	}
	if a := cfg.Get("metrics-addr"); a != "" {
		mln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("metrics listen: %w", err)
		}
		defer mln.Close()
		go http.Serve(mln, srv.MetricsHandler())
		log.Info("metrics listening", "addr", mln.Addr().String(), "paths", "/metrics /healthz /readyz")
	}
	ln, err := net.Listen("tcp", cfg.Get("addr"))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := srv.LoadACLFile(); err != nil {
		ln.Close()
		return fmt.Errorf("aclfile: %w", err)
	}
	addr := ln.Addr()
	if both, err := resp.ListenTLS(cfg, ln, log); err != nil { // with tls-port: plain and TLS
		ln.Close()
		return err
	} else {
		ln = both
	}
	log.Info("sessiond started", "version", resp.ServerVersion, "addr", ln.Addr().String(), "dir", cfg.Get("dir"),
		"pid", os.Getpid(), "config", changedParams(cfg))
	// Clients may connect while the snapshot loads; they get -LOADING.
	srv.SetLoading(true)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- addr
	}
	start := time.Now()
	gcLoading(true)
	st, err := snapshot.LoadFile(snaps.Path(), ks, snapshot.LoadOptions{
		SkipUnsupported: cfg.Bool("rdb-skip-unsupported"), Logger: log.With("component", "snapshot"),
		OnFunction: srv.LoadFunction,
	})
	gcLoading(false)
	if err != nil {
		// Refuse to serve a partial dataset, and never overwrite the file.
		srv.Close()
		<-errc
		return fmt.Errorf("refusing to start: %w", err)
	}
	if st.Keys+st.Expired+st.Skipped+st.Functions > 0 {
		log.Info("snapshot loaded", "path", snaps.Path(), "keys", st.Keys, "functions", st.Functions, "expired_skipped", st.Expired,
			"unsupported_skipped", st.Skipped, "bytes", st.Bytes, "duration", time.Since(start).Round(time.Millisecond))
	}
	srv.SetLoading(false)
	saveCtx, stopSaves := context.WithCancel(context.Background())
	defer stopSaves()
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		snaps.Run(saveCtx, func() time.Duration { return cfg.Duration("save-interval") })
	}()

	mode := ""
	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", "signal")
	case mode = <-shutdown:
		log.Info("shutting down", "cause", "SHUTDOWN command", "mode", mode)
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	<-errc
	stopSaves()
	<-runDone // so that no periodic save starts after the Wait
	snaps.Wait()
	if mode == "save" || (mode == "" && cfg.Duration("save-interval") > 0) {
		if err := snaps.Save(); err != nil {
			return fmt.Errorf("final snapshot: %w", err)
		}
	}
	log.Info("bye")
	return nil
}

// changedParams lists the parameters that differ from their defaults, for
// the start-up log line.
func changedParams(cfg *config.Config) []string {
	var out []string
	for _, p := range config.Params {
		if v := cfg.Get(p.Name); v != p.Default {
			if p.Name == "requirepass" {
				v = "(set)"
			}
			out = append(out, p.Name+"="+v)
		}
	}
	return out
}

// persistence adapts the snapshot manager to what the command layer needs.
type persistence struct{ m *snapshot.Manager }

func (p persistence) Save() error   { return p.m.Save() }
func (p persistence) BGSave() error { return p.m.BGSave() }
func (p persistence) Exclusive(save bool, fn func() error) error {
	return p.m.Exclusive(save, fn)
}
func (p persistence) LastSave() int64 { return p.m.LastSave() }
func (p persistence) Info() resp.PersistInfo {
	st := p.m.Status()
	return resp.PersistInfo{
		ChangesSinceSave: st.ChangesSinceSave, BGSaveInProgress: st.InProgress, LastSaveTime: st.LastSaveTime,
		LastBGSaveOK: st.LastOK, LastBGSaveSeconds: st.LastSeconds, LastDuration: st.LastDuration,
	}
}

// wheelStats adapts the wheel's counters to what INFO needs.
type wheelStats struct{ w *expiry.Wheel }

func (s wheelStats) ExpiryInfo() (float64, int64) {
	st := s.w.Stats()
	return st.LastTickStaleRatio, st.TimeCapReached
}

// applyMemorySettings sets the Go runtime's GC percent and memory limit
// from the configuration, now and whenever CONFIG SET changes them. A
// cache's heap is almost all live data, so the default GC percent (100,
// letting the heap grow to twice the live data) would double its memory;
// maxmemory, when set, bounds the dataset (eviction) and also sets the
// runtime's soft memory limit somewhat above it (keyspace.GoMemoryLimit).
//
// The returned function marks the snapshot load's start and end: while it
// runs, the GC percent is at least loadGCPercent (gctune.go).
func applyMemorySettings(ctx context.Context, cfg *config.Config) (loading func(bool)) {
	tu := newGCTuner(cfg) // gc-percent with gc-headroom-min: gctune.go
	tu.apply()
	cfg.OnSet("gc-percent", func(string) { tu.apply() })
	cfg.OnSet("gc-headroom-min", func(string) { tu.apply() })
	go tu.run(ctx)
	limit := func(string) { debug.SetMemoryLimit(keyspace.GoMemoryLimit(cfg.Int("maxmemory"))) }
	limit("")
	cfg.OnSet("maxmemory", limit)
	return tu.setLoading
}
