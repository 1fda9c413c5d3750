package luascript

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseReply(t *testing.T) {
	for in, want := range map[string]Value{
		"+OK\r\n":                  {Kind: Status, Str: "OK"},
		"-ERR x y\r\n":             {Kind: Error, Str: "ERR x y"},
		":-12\r\n":                 {Kind: Int, Int: -12},
		"$3\r\na\r\n\r\n":          {Kind: Bulk, Str: "a\r\n"},
		"$-1\r\n":                  {Kind: Nil},
		"*-1\r\n":                  {Kind: Nil},
		"_\r\n":                    {Kind: Null},
		"#t\r\n":                   {Kind: Bool, Int: 1},
		",-inf\r\n":                {Kind: Double, Float: negInf},
		"(123\r\n":                 {Kind: BigNumber, Str: "123"},
		"=6\r\ntxt:hi\r\n":         {Kind: Verbatim, Format: "txt", Str: "hi"},
		"*2\r\n:1\r\n$-1\r\n":      {Kind: Array, Elems: []Value{{Kind: Int, Int: 1}, {Kind: Nil}}},
		"%1\r\n+k\r\n:2\r\n":       {Kind: Map, Elems: []Value{{Kind: Status, Str: "k"}, {Kind: Int, Int: 2}}},
		"~1\r\n$1\r\nm\r\n":        {Kind: Set, Elems: []Value{{Kind: Bulk, Str: "m"}}},
		"|1\r\n+a\r\n+b\r\n:7\r\n": {Kind: Int, Int: 7},
		"*1\r\n*1\r\n*0\r\n":       {Kind: Array, Elems: []Value{{Kind: Array, Elems: []Value{{Kind: Array, Elems: []Value{}}}}}},
	} {
		got, err := ParseReply([]byte(in))
		require.NoError(t, err, "%q", in)
		require.Equal(t, want, got, "%q", in)
	}
	for _, bad := range []string{"", "+OK", "$5\r\nab\r\n", "*2\r\n:1\r\n", "?\r\n", ":x\r\n"} {
		_, err := ParseReply([]byte(bad))
		require.Error(t, err, "%q", bad)
	}
}

func TestStr2Number(t *testing.T) {
	for in, want := range map[string]float64{"1e3": 1000, " 0x10 ": 16, "-0X1f": -31, ".5": 0.5, "5.": 5, "1E2": 100} {
		got, ok := str2number(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "1e", "0x", "1_0", "12abc", "1 2"} {
		_, ok := str2number(in)
		require.False(t, ok, in)
	}
}

var negInf = math.Inf(-1)
