package luascript

import (
	"errors"
	"strconv"
)

// Kind is the RESP type of a Value.
type Kind uint8

const (
	Status    Kind = iota // Str
	Error                 // Str, the whole text ("ERR ..."), without the '-'
	Int                   // Int
	Bulk                  // Str
	Nil                   // RESP2's null bulk or null array: false in Lua
	Null                  // RESP3's null: nil in Lua
	Array                 // Elems
	Map                   // Elems: key, value, key, value...
	Set                   // Elems
	Double                // Float
	Bool                  // Int: 0 or 1
	BigNumber             // Str
	Verbatim              // Str, Format
)

// Value is one RESP reply as a tree: what a command called from a script
// replied, or what a script returns.
type Value struct {
	Kind   Kind
	Str    string
	Int    int64
	Float  float64
	Format string
	Elems  []Value
}

// ErrorValue is an error reply with text msg ("ERR ...").
func ErrorValue(msg string) Value { return Value{Kind: Error, Str: msg} }

var errProto = errors.New("luascript: malformed reply")

// ParseReply parses one RESP2 or RESP3 reply from b, as a command wrote it.
func ParseReply(b []byte) (Value, error) {
	v, _, err := parseAt(b, 0, 0)
	return v, err
}

const maxParseDepth = 1000

func line(b []byte, i int) (string, int, error) {
	for j := i; j+1 < len(b); j++ {
		if b[j] == '\r' && b[j+1] == '\n' {
			return string(b[i:j]), j + 2, nil
		}
	}
	return "", 0, errProto
}

func parseAt(b []byte, i, depth int) (Value, int, error) {
	if i >= len(b) || depth > maxParseDepth {
		return Value{}, 0, errProto
	}
	t := b[i]
	s, next, err := line(b, i+1)
	if err != nil {
		return Value{}, 0, err
	}
	switch t {
	case '+':
		return Value{Kind: Status, Str: s}, next, nil
	case '-':
		return Value{Kind: Error, Str: s}, next, nil
	case ':':
		n, err := strconv.ParseInt(s, 10, 64)
		return Value{Kind: Int, Int: n}, next, err
	case '_':
		return Value{Kind: Null}, next, nil
	case '#':
		return Value{Kind: Bool, Int: int64(boolInt(s == "t"))}, next, nil
	case ',':
		f, err := parseDouble(s)
		return Value{Kind: Double, Float: f}, next, err
	case '(':
		return Value{Kind: BigNumber, Str: s}, next, nil
	case '$', '=':
		n, err := strconv.Atoi(s)
		if err != nil {
			return Value{}, 0, err
		}
		if n < 0 {
			return Value{Kind: Nil}, next, nil
		}
		if next+n+2 > len(b) {
			return Value{}, 0, errProto
		}
		str := string(b[next : next+n])
		if t == '=' {
			if len(str) < 4 {
				return Value{}, 0, errProto
			}
			return Value{Kind: Verbatim, Format: str[:3], Str: str[4:]}, next + n + 2, nil
		}
		return Value{Kind: Bulk, Str: str}, next + n + 2, nil
	case '*', '~', '%', '>', '|':
		n, err := strconv.Atoi(s)
		if err != nil {
			return Value{}, 0, err
		}
		if n < 0 {
			return Value{Kind: Nil}, next, nil
		}
		count := n
		if t == '%' || t == '|' {
			count = 2 * n
		}
		elems := make([]Value, 0, min(count, 1024))
		for range count {
			var e Value
			e, next, err = parseAt(b, next, depth+1)
			if err != nil {
				return Value{}, 0, err
			}
			elems = append(elems, e)
		}
		switch t {
		case '|': // an attribute: skipped, the reply follows
			return parseAt(b, next, depth+1)
		case '%':
			return Value{Kind: Map, Elems: elems}, next, nil
		case '~':
			return Value{Kind: Set, Elems: elems}, next, nil
		}
		return Value{Kind: Array, Elems: elems}, next, nil
	}
	return Value{}, 0, errProto
}

func parseDouble(s string) (float64, error) {
	switch s {
	case "inf":
		s = "+Inf"
	case "-inf":
		s = "-Inf"
	}
	return strconv.ParseFloat(s, 64)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
