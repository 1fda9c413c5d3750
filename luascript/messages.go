package luascript

import (
	"regexp"
	"strings"
)

// gopher-lua words some runtime errors differently from Lua 5.1, whose
// texts scripts and their tests may match. lua51Message rewrites the common
// ones. Lua 5.1 also names the variable when it knows it ("attempt to
// index local 'a' (a nil value)"); gopher-lua cannot, so those keep the
// short form.
var (
	reOperation = regexp.MustCompile(`cannot perform (\w+) operation between (\w+) and (\w+)`)
	reIndex     = regexp.MustCompile(`attempt to index a non-table object\((\w+)\) with key '.*'`)
	reCompare   = regexp.MustCompile(`attempt to compare (\w+) with (\w+)`)
)

func lua51Message(s string) string {
	if !strings.Contains(s, "attempt to") && !strings.Contains(s, "cannot perform") {
		return s
	}
	s = reOperation.ReplaceAllStringFunc(s, func(m string) string {
		p := reOperation.FindStringSubmatch(m)
		bad := p[2]
		if bad == "number" || bad == "string" {
			bad = p[3]
		}
		if p[1] == "concat" {
			return "attempt to concatenate a " + bad + " value"
		}
		return "attempt to perform arithmetic on a " + bad + " value"
	})
	s = reIndex.ReplaceAllString(s, "attempt to index a $1 value")
	return reCompare.ReplaceAllStringFunc(s, func(m string) string {
		p := reCompare.FindStringSubmatch(m)
		if p[1] == p[2] {
			return "attempt to compare two " + p[1] + " values"
		}
		return m
	})
}
