package resp_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
	"sessiond/resp"
)

// TestLolwutMatchesRedis: LOLWUT answers as Redis 7.0.15's, with the
// version INFO reports in place of Redis's: the version alone by default
// and for versions other than 5 and 6; VERSION 5's squares (byte for byte
// where no square is turned at random: its first two rows, and the whole
// of a drawing of two rows), VERSION 6's skyline (its shape: the lines,
// the cells in the four grays); argument errors. RESP2 and RESP3.
func TestLolwutMatchesRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	ours := func(redis string) string {
		return strings.ReplaceAll(redis, "Redis ver. 7.0.15", "Redis ver. "+resp.Version)
	}
	text := func(v rv) string { return strings.TrimPrefix(v.str, "txt:") } // RESP3: a verbatim string
	for _, proto := range []string{"2", "3"} {
		if proto == "3" {
			p.do(t, "HELLO", "3")
		}
		for _, args := range []string{
			"LOLWUT", "LOLWUT 10 x", "LOLWUT VERSION", "LOLWUT VERSION x", "LOLWUT VERSION 5 x", "LOLWUT VERSION 6 x",
			"LOLWUT VERSION 6 10 x", "LOLWUT VERSION 7", "LOLWUT VERSION -1", "lolwut version 4294967301 1 1 1",
			"LOLWUT VERSION 5 20 3 2", "LOLWUT VERSION 5 0 0 0", "LOLWUT VERSION 5 2000 300 1", "LOLWUT VERSION 5 1 1 1 x",
		} {
			a, b := p.do(t, strings.Fields(args)...)
			require.Equal(t, b.typ, a.typ, args)
			require.Equal(t, ours(b.str), a.str, args) // a verbatim string's "txt:" included
		}
		a, b := p.do(t, "LOLWUT", "VERSION", "5")
		al, bl := strings.Split(text(a), "\n"), strings.Split(ours(text(b)), "\n")
		require.Equal(t, len(bl), len(al))
		assert.Equal(t, bl[:8], al[:8], "the first two rows of squares")
		assert.Equal(t, bl[len(bl)-3:], al[len(al)-3:])
		for i := range al {
			assert.Equal(t, utf8.RuneCountInString(bl[i]), utf8.RuneCountInString(al[i]), "line %d", i)
		}

		cell := regexp.MustCompile("^(\x1b\\[0;(30;40|90;100|37;47|97;107)m \x1b\\[0m){40}$")
		a, b = p.do(t, "LOLWUT", "VERSION", "6", "40", "10")
		al, bl = strings.Split(text(a), "\n"), strings.Split(ours(text(b)), "\n")
		require.Equal(t, len(bl), len(al))
		assert.Equal(t, bl[len(bl)-3:], al[len(al)-3:])
		for i, l := range al[:len(al)-3] {
			assert.Regexp(t, cell, l, "line %d", i)
			assert.Regexp(t, cell, bl[i], "redis's line %d", i)
		}
	}
}
