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
	"os"
	"os/signal"
	"syscall"
	"time"

	"sessiond/config"
	"sessiond/keyspace"
	"sessiond/resp"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, nil)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
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
		usage := p.Usage
		if p.Inert {
			usage += " (accepted for compatibility)"
		}
		vals[p.Name] = fs.String(p.Name, p.Default, usage)
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sessiond [--config FILE] [--name value ...]")
		fmt.Fprintln(stderr, "A Redis-compatible session cache. Every parameter can also be set in the config file.")
		fs.PrintDefaults()
	}
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
	defer stop()

	ks, err := keyspace.New(keyspace.Options{})
	if err != nil {
		return err
	}
	shutdown := make(chan string, 1)
	srv := resp.NewServer(resp.Options{
		Keyspace: ks, Config: cfg, Logger: log,
		Shutdown: func(mode string) error {
			select {
			case shutdown <- mode:
			default:
			}
			return nil
		},
	})
	ln, err := net.Listen("tcp", cfg.Get("addr"))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("sessiond started", "version", resp.ServerVersion, "addr", ln.Addr().String(), "dir", cfg.Get("dir"), "pid", os.Getpid())
	if ready != nil {
		ready <- ln.Addr()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", "signal")
	case mode := <-shutdown:
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
	log.Info("bye")
	return nil
}
