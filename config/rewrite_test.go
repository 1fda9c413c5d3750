package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRewriteText(t *testing.T) {
	c := New()
	require.NoError(t, c.Set("maxclients", "70"))
	require.NoError(t, c.Set("requirepass", "two words"))
	require.NoError(t, c.Set("save", "3600 1 300 100"))
	old := "# header\n\n  maxclients 10  \nbogus-param 1\nsave 60 1\nmaxclients 20\n" + rewriteSignature + "\ntimeout 5\n"
	out := RewriteText(old, c.Get)
	assert.Equal(t, "# header\n\nmaxclients 70\n# ??? bogus-param 1\nsave 3600 1 300 100\n"+rewriteSignature+
		"\ntimeout 0\nrequirepass \"two words\"\nsave-interval 5m0s\n", out)
	// What it wrote loads back to the same values.
	back := New()
	require.NoError(t, back.LoadFile("x", strings.NewReader(out))) // the ??? line is now a comment
	for _, p := range []string{"maxclients", "requirepass", "save-interval", "timeout"} {
		assert.Equal(t, c.Get(p), back.Get(p), p)
	}
}

func TestRewriteFile(t *testing.T) {
	c := New()
	require.ErrorIs(t, c.Rewrite(), ErrNoConfigFile)
	dir := t.TempDir()
	real := filepath.Join(dir, "real.conf")
	link := filepath.Join(dir, "link.conf")
	require.NoError(t, os.WriteFile(real, []byte("# keep\ntimeout 3\n"), 0o640))
	require.NoError(t, os.Symlink(real, link))
	f, err := os.Open(link)
	require.NoError(t, err)
	require.NoError(t, c.LoadFile(link, f))
	f.Close()
	require.NoError(t, c.Set("timeout", "9"))
	require.NoError(t, c.Rewrite())
	data, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, "# keep\ntimeout 9\n", string(data))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.True(t, fi.Mode()&os.ModeSymlink != 0, "the symlink stays a symlink")
	back := New()
	require.NoError(t, back.LoadFile(real, strings.NewReader(string(data))))
	assert.Equal(t, "9", back.Get("timeout"))
}
