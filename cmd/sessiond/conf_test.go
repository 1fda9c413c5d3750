package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/config"
)

var update = flag.Bool("update", false, "rewrite sessiond.conf from the Params table")

const exampleConf = "../../sessiond.conf"

// exampleConfig renders the example configuration: every parameter at its
// default, with its description as a comment.
func exampleConfig() string {
	var b strings.Builder
	b.WriteString(`# sessiond example configuration.
#
# Start with: sessiond --config sessiond.conf
# The format is redis.conf's: "name value" per line, '#' starts a comment,
# values with spaces are quoted. Every line below sets a parameter to its
# default; flags on the command line (--name value) win over this file, and
# CONFIG SET changes the mutable ones at run time (CONFIG REWRITE writes them
# back here, keeping these comments). Generated from the Params table:
#   go test ./cmd/sessiond -run TestExampleConfig -update
`)
	for _, p := range config.Params {
		b.WriteString("\n")
		usage := p.Usage
		if p.Inert && !strings.Contains(usage, "accepted") {
			usage += " (accepted for compatibility)"
		}
		if !p.Mutable {
			usage += " [fixed at start: not changeable with CONFIG SET]"
		}
		for _, l := range wrap(usage, 76) {
			b.WriteString("# " + l + "\n")
		}
		v := p.Default
		if v == "" || strings.ContainsAny(v, " \t") && p.Name != "save" {
			v = `"` + v + `"`
		}
		b.WriteString(p.Name + " " + v + "\n")
	}
	return b.String()
}

func wrap(s string, width int) []string {
	var lines []string
	var cur string
	for _, w := range strings.Fields(s) {
		if cur != "" && len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = w
			continue
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	return append(lines, cur)
}

// TestExampleConfig: sessiond.conf at the repository root lists every
// parameter and loads, giving the defaults.
func TestExampleConfig(t *testing.T) {
	want := exampleConfig()
	if *update {
		require.NoError(t, os.WriteFile(exampleConf, []byte(want), 0o644))
	}
	data, err := os.ReadFile(exampleConf)
	require.NoError(t, err)
	assert.Equal(t, want, string(data), "sessiond.conf is stale: go test ./cmd/sessiond -run TestExampleConfig -update")

	listed := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			listed[f[0]] = true
		}
	}
	for _, p := range config.Params {
		assert.True(t, listed[p.Name], "sessiond.conf does not list %s", p.Name)
	}

	cfg, _, err := loadConfig([]string{"--config", exampleConf}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, exampleConf, cfg.File())
	for _, p := range config.Params {
		assert.Equal(t, p.Default, cfg.Get(p.Name), p.Name)
	}
}

// TestHelpListsEveryFlag: --help names every parameter with its default.
func TestHelpListsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	_, _, err := loadConfig([]string{"--help"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	help := out.String()
	for _, p := range config.Params {
		assert.Contains(t, help, "--"+p.Name+" ", p.Name)
		for _, line := range strings.Split(help, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "--"+p.Name+" ") {
				assert.Contains(t, line, "(default \""+p.Default+"\")", p.Name)
			}
		}
	}
	for _, f := range []string{"--config", "--version", "--help"} {
		assert.Contains(t, help, f)
	}
}
