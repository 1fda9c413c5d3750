package resp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sessiondOnly are the commands of the table Redis does not document, so
// COMMAND DOCS gives only their summary, since and group. None today.
var sessiondOnly = []string{}

// TestCommandDocsData: the embedded files parse (runs without Redis, so a
// broken file cannot wait for the comparison test); every command and
// subcommand of the table is documented but sessiondOnly, and every
// documented one is in the table (a command removed from it, or renamed,
// must leave the files too); the hand-written file only adds to the
// generated one.
func TestCommandDocsData(t *testing.T) {
	docs, err := commandDocs()
	require.NoError(t, err)
	gen, err := parseDocs(docsGenerated)
	require.NoError(t, err)
	hand, err := parseDocs(docsByHand)
	require.NoError(t, err)
	for name := range hand {
		assert.NotContains(t, gen, name, "%s is in both files: regenerate (go generate ./resp)", name)
	}
	table := buildTable()
	var undocumented []string
	for _, n := range table.sortedNames() {
		c := table[n]
		for _, c := range append([]*command{c}, c.sortedSubs()...) {
			if docs[c.name] == nil {
				undocumented = append(undocumented, c.name)
			}
		}
	}
	assert.ElementsMatch(t, sessiondOnly, undocumented)
	for name := range docs {
		assert.NotNil(t, table.lookupName(name), "%s is documented but not in the table", name)
	}
}

// TestParseDocsRejects: lines the format cannot mean fail to parse rather
// than give a wrong reply.
func TestParseDocsRejects(t *testing.T) {
	docs, err := parseDocs(`get complexity="O(1)" history=(1.0.0 "x") args=(k:key?* @0 token=K since=1.0 a:block (b:string c:pure-token token="")) tips=(b a "c d")`)
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a", "c d"}, docs["get"].tips, "tips in the file's order")
	for _, line := range []string{
		`get args=(k:key (a:string))`, // only oneof and block have arguments
		`get args=(key:key @x)`, `get args=(key:nosuch)`, `get args=(k:oneof?)`, `get args=()`,
		`get args=(k:key??)`, `get args=(k:key*?)`, `get args=(k:block (b:string)`, `get args=(k:key token=)`,
		`get history=(1.0.0)`, `get history=()`, `get tips=()`, `get tips=x`, `get tips=(a (b))`, `get complexity=`, `get complexity=(`, `get bogus=1`, `get "x"`,
		`get complexity="unterminated`, `get get`, `get complexity=1 ` + "\nget complexity=2",
	} {
		_, err := parseDocs(line)
		assert.Error(t, err, "%s", line)
	}
}
