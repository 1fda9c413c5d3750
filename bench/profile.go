//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Profiling (--profile): sessiond is started with --pprof-addr on a free
// loopback port; the harness saves a CPU profile of sessiond during the first
// round of each throughput workload and a heap profile after the memory
// test's load, into the --out directory, for `go tool pprof`.
var (
	profileDir     string // empty: profiling off
	profileSeconds = 3 * time.Second
)

// fetchProfile GETs http://addr/debug/pprof/<path> into dir/name.
func fetchProfile(ctx context.Context, addr, path, name string) error {
	ctx, cancel := context.WithTimeout(ctx, profileSeconds+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/"+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("pprof %s: %w (does sessiond serve --pprof-addr?)", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("pprof %s: %s: %s", path, resp.Status, b)
	}
	if err := os.MkdirAll(profileDir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(profileDir, name))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startCPUProfile starts fetching a CPU profile of srv in the background;
// the returned channel yields the outcome once the profile is written.
func startCPUProfile(ctx context.Context, srv *Server, workload string) <-chan error {
	done := make(chan error, 1)
	if profileDir == "" || srv.PprofAddr == "" {
		done <- nil
		return done
	}
	go func() {
		done <- fetchProfile(ctx, srv.PprofAddr, fmt.Sprintf("profile?seconds=%d", int(profileSeconds.Seconds())), "cpu-"+workload+".pprof")
	}()
	return done
}
