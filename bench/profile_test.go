//go:build linux

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFetchProfile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/heap" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("profile bytes"))
	}))
	defer srv.Close()
	old := profileDir
	profileDir = t.TempDir()
	defer func() { profileDir = old }()
	addr := strings.TrimPrefix(srv.URL, "http://")

	require.NoError(t, fetchProfile(context.Background(), addr, "heap", "heap-mem.pprof"))
	b, err := os.ReadFile(filepath.Join(profileDir, "heap-mem.pprof"))
	require.NoError(t, err)
	assert.Equal(t, "profile bytes", string(b))

	err = fetchProfile(context.Background(), addr, "nothing", "x.pprof")
	assert.ErrorContains(t, err, "404")
}
