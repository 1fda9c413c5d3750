package resp

// COMMAND DOCS beyond the table's summary, since and group: complexity,
// deprecation, history and arguments, which redis-cli turns into its
// argument hints and `help <command>` lines; and COMMAND INFO's tips
// (nondeterministic_output, request_policy:all_shards...), which cluster
// clients and proxies read. COMMAND INFO's key specs are the ACL catalog's
// (acl/commands_redis.go), those COMMAND GETKEYS and the ACL checks use.
//
// The text is Redis's, as redis-server 7.0.15 gives it on the wire (the
// version the tests compare against; tips from its COMMAND INFO), kept in
// two embedded files:
//
//   - commanddocs.txt, written by `go generate ./resp` (internal/gendocs)
//     from a redis-server 7.0.15 for the commands in sessiond's table;
//     never edited by hand;
//   - commanddocs72.txt, by hand: the commands that are Redis 7.2's in
//     sessiond (new in 7.2, or with 7.2's arguments), as 7.2 documents
//     them, in 7.0.15's reply format (7.2 adds display_text to most
//     arguments). Its entries replace the generated ones.
//
// Both are parsed on the first COMMAND DOCS, COMMAND INFO or COMMAND, not
// at startup: most servers never see one (redis-cli sends COMMAND DOCS when
// it starts, cluster clients COMMAND), and parsing takes about a
// millisecond and keeps some 80 KB in about 2,800 allocations.
//
// The format, one command per line (blank lines and # comments aside):
//
//	NAME [complexity=S] [doc_flags=W,W] [deprecated_since=S] [replaced_by=S]
//	     [history=(SINCE CHANGES ...)] [args=(ARG ...)] [tips=(S ...)]
//	ARG: NAME:TYPE[?][*][+] [@N] [token=S] [summary=S] [since=S]
//	     [deprecated_since=S] [(ARG ...)]
//
// An argument's NAME ends at the last colon (CLIENT KILL has ip:port).
// ? is the optional flag, * multiple, + multiple_token; @N is the
// key_spec_index; a oneof or block argument has its arguments in
// parentheses. S is a bare word (no space, parenthesis or double quote) or
// a Go-quoted string. The reply's keys follow Redis's order
// (server.c addReplyCommandDocs, addReplyCommandArgList), whatever the
// order in the file; tips keep the file's order, which is Redis's.

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:generate go run ./internal/gendocs

//go:embed commanddocs.txt
var docsGenerated string

//go:embed commanddocs72.txt
var docsByHand string

// cmdDoc is a command's COMMAND DOCS entry beyond summary, since and
// group (the table's) and subcommands (the table's containers), and its
// COMMAND INFO tips. Empty strings and nil slices are fields Redis leaves
// out.
type cmdDoc struct {
	complexity      string
	docFlags        []string
	deprecatedSince string
	replacedBy      string
	history         []string // since, changes, since, changes...
	args            []docArg
	tips            []string
}

// docArg is one argument of a command, or of a oneof or block argument.
type docArg struct {
	name, typ       string
	keySpec         int // key_spec_index; -1: none
	token           string
	hasToken        bool // MIGRATE's empty-string token is "", not absent
	summary, since  string
	deprecatedSince string
	flags           argFlags
	args            []docArg // oneof and block only
}

// argFlags are an argument's flags, in the order Redis lists them.
type argFlags uint8

const (
	argOptional argFlags = 1 << iota
	argMultiple
	argMultipleToken
)

var argFlagNames = []string{"optional", "multiple", "multiple_token"}

// argFlagSuffix spells argFlags in the data files, in argFlagNames's order.
const argFlagSuffix = "?*+"

var docArgTypes = []string{"string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block"}

// commandDocs parses the embedded files once, when first needed.
var commandDocs = sync.OnceValues(func() (map[string]*cmdDoc, error) {
	docs, err := parseDocs(docsGenerated)
	if err != nil {
		return nil, fmt.Errorf("commanddocs.txt: %w", err)
	}
	over, err := parseDocs(docsByHand)
	if err != nil {
		return nil, fmt.Errorf("commanddocs72.txt: %w", err)
	}
	for n, d := range over {
		docs[n] = d
	}
	return docs, nil
})

// writeCommandDoc writes c's COMMAND DOCS map, with its subcommands'.
func (r *reply) writeCommandDoc(c *command, docs map[string]*cmdDoc) {
	d := docs[c.name]
	if d == nil {
		d = &cmdDoc{}
	}
	subs := c.sortedSubs()
	n := 3
	for _, has := range []bool{d.complexity != "", d.docFlags != nil, d.deprecatedSince != "", d.replacedBy != "",
		d.history != nil, d.args != nil, len(subs) > 0} {
		if has {
			n++
		}
	}
	r.mapLen(n)
	r.bulkString("summary")
	r.bulkString(c.summary)
	r.bulkString("since")
	r.bulkString(c.since)
	r.bulkString("group")
	r.bulkString(c.group)
	if d.complexity != "" {
		r.bulkString("complexity")
		r.bulkString(d.complexity)
	}
	if d.docFlags != nil {
		r.bulkString("doc_flags")
		r.setLen(len(d.docFlags))
		for _, f := range d.docFlags {
			r.status(f)
		}
	}
	if d.deprecatedSince != "" {
		r.bulkString("deprecated_since")
		r.bulkString(d.deprecatedSince)
	}
	if d.replacedBy != "" {
		r.bulkString("replaced_by")
		r.bulkString(d.replacedBy)
	}
	if d.history != nil {
		r.bulkString("history")
		r.setLen(len(d.history) / 2)
		for i := 0; i < len(d.history); i += 2 {
			r.array(2)
			r.bulkString(d.history[i])
			r.bulkString(d.history[i+1])
		}
	}
	if d.args != nil {
		r.bulkString("arguments")
		r.writeDocArgs(d.args)
	}
	if len(subs) > 0 {
		r.bulkString("subcommands")
		r.mapLen(len(subs))
		for _, s := range subs {
			r.bulkString(s.name)
			r.writeCommandDoc(s, docs)
		}
	}
}

func (r *reply) writeDocArgs(args []docArg) {
	r.array(len(args))
	for i := range args {
		a := &args[i]
		nested := a.typ == "oneof" || a.typ == "block"
		n := 2
		for _, has := range []bool{a.keySpec >= 0, a.hasToken, a.summary != "", a.since != "", a.deprecatedSince != "", a.flags != 0, nested} {
			if has {
				n++
			}
		}
		r.mapLen(n)
		r.bulkString("name")
		r.bulkString(a.name)
		r.bulkString("type")
		r.bulkString(a.typ)
		if a.keySpec >= 0 {
			r.bulkString("key_spec_index")
			r.int(int64(a.keySpec))
		}
		if a.hasToken {
			r.bulkString("token")
			r.bulkString(a.token)
		}
		if a.summary != "" {
			r.bulkString("summary")
			r.bulkString(a.summary)
		}
		if a.since != "" {
			r.bulkString("since")
			r.bulkString(a.since)
		}
		if a.deprecatedSince != "" {
			r.bulkString("deprecated_since")
			r.bulkString(a.deprecatedSince)
		}
		if a.flags != 0 {
			r.bulkString("flags")
			var names []string
			for j, name := range argFlagNames {
				if a.flags&(1<<j) != 0 {
					names = append(names, name)
				}
			}
			r.setLen(len(names))
			for _, name := range names {
				r.status(name)
			}
		}
		if nested {
			r.bulkString("arguments")
			r.writeDocArgs(a.args)
		}
	}
}

// parseDocs reads a data file (the format is above).
func parseDocs(text string) (map[string]*cmdDoc, error) {
	docs := map[string]*cmdDoc{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		name, d, err := parseDocLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if docs[name] != nil {
			return nil, fmt.Errorf("line %d: %s twice", i+1, name)
		}
		docs[name] = d
	}
	return docs, nil
}

// docTok is a token of a data line: a bare word, a quoted string
// (unquoted), or a parenthesis.
type docTok struct {
	s      string
	quoted bool
}

func (t docTok) is(s string) bool { return !t.quoted && t.s == s }

func docTokens(line string) ([]docTok, error) {
	var toks []docTok
	for i := 0; i < len(line); {
		switch c := line[i]; c {
		case ' ', '\t':
			i++
		case '(', ')':
			toks = append(toks, docTok{s: line[i : i+1]})
			i++
		case '"':
			q, err := strconv.QuotedPrefix(line[i:])
			if err != nil {
				return nil, fmt.Errorf("bad quoted string at %q", line[i:])
			}
			s, _ := strconv.Unquote(q)
			toks = append(toks, docTok{s: s, quoted: true})
			i += len(q)
		default:
			j := i
			for j < len(line) && !strings.ContainsRune(" \t()\"", rune(line[j])) {
				j++
			}
			toks = append(toks, docTok{s: line[i:j]})
			i = j
		}
	}
	return toks, nil
}

type docParser struct {
	toks []docTok
	i    int
}

func (p *docParser) more() bool { return p.i < len(p.toks) }

func (p *docParser) peek() docTok {
	if p.more() {
		return p.toks[p.i]
	}
	return docTok{}
}

func (p *docParser) next() (docTok, error) {
	if !p.more() {
		return docTok{}, fmt.Errorf("unexpected end of line")
	}
	p.i++
	return p.toks[p.i-1], nil
}

// value is the value of a key=value word: what follows the '=', or the
// next token when nothing does (a quoted string, or a parenthesis for
// history and args).
func (p *docParser) value(v string) (string, error) {
	if v != "" {
		return v, nil
	}
	t, err := p.next()
	if err != nil {
		return "", err
	}
	if !t.quoted && (t.s == "(" || t.s == ")") {
		return "", fmt.Errorf("missing value")
	}
	return t.s, nil
}

func (p *docParser) open() error {
	if t, err := p.next(); err != nil || !t.is("(") {
		return fmt.Errorf("want ( at token %d", p.i)
	}
	return nil
}

func parseDocLine(line string) (string, *cmdDoc, error) {
	toks, err := docTokens(line)
	if err != nil {
		return "", nil, err
	}
	p := &docParser{toks: toks}
	nt, _ := p.next()
	if nt.quoted || nt.s == "(" || nt.s == ")" || strings.Contains(nt.s, "=") {
		return "", nil, fmt.Errorf("no command name")
	}
	name, d := nt.s, &cmdDoc{}
	for p.more() {
		t, _ := p.next()
		key, v, ok := strings.Cut(t.s, "=")
		if t.quoted || !ok {
			return "", nil, fmt.Errorf("%s: unexpected %q", name, t.s)
		}
		switch key {
		case "complexity", "deprecated_since", "replaced_by", "doc_flags":
			if v, err = p.value(v); err != nil {
				return "", nil, fmt.Errorf("%s: %s: %w", name, key, err)
			}
			switch key {
			case "complexity":
				d.complexity = v
			case "deprecated_since":
				d.deprecatedSince = v
			case "replaced_by":
				d.replacedBy = v
			case "doc_flags":
				d.docFlags = strings.Split(v, ",")
			}
		case "history", "tips":
			if v != "" {
				return "", nil, fmt.Errorf("%s: %s: want (", name, key)
			}
			if err := p.open(); err != nil {
				return "", nil, fmt.Errorf("%s: %s: %w", name, key, err)
			}
			list := []string{}
			for !p.peek().is(")") {
				t, err := p.next()
				if err != nil || t.s == "(" && !t.quoted {
					return "", nil, fmt.Errorf("%s: %s: want strings", name, key)
				}
				list = append(list, t.s)
			}
			p.next()
			switch {
			case len(list) == 0:
				return "", nil, fmt.Errorf("%s: %s: empty", name, key)
			case key == "tips":
				d.tips = list
			case len(list)%2 != 0:
				return "", nil, fmt.Errorf("%s: history: want since, changes pairs", name)
			default:
				d.history = list
			}
		case "args":
			if v != "" {
				return "", nil, fmt.Errorf("%s: args: want (", name)
			}
			if d.args, err = p.args(); err != nil {
				return "", nil, fmt.Errorf("%s: %w", name, err)
			}
		default:
			return "", nil, fmt.Errorf("%s: unknown field %q", name, key)
		}
	}
	return name, d, nil
}

// args parses a parenthesised list of arguments.
func (p *docParser) args() ([]docArg, error) {
	if err := p.open(); err != nil {
		return nil, err
	}
	out := []docArg{}
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if t.is(")") {
			if len(out) == 0 {
				return nil, fmt.Errorf("empty argument list")
			}
			return out, nil
		}
		i := strings.LastIndexByte(t.s, ':')
		if t.quoted || i < 0 || strings.Contains(t.s, "=") {
			return nil, fmt.Errorf("want NAME:TYPE, have %q", t.s)
		}
		a := docArg{name: t.s[:i], typ: strings.TrimRight(t.s[i+1:], argFlagSuffix), keySpec: -1}
		suffix := t.s[i+1+len(a.typ):]
		for j, f := range argFlagSuffix {
			if strings.HasPrefix(suffix, string(f)) {
				a.flags |= 1 << j
				suffix = suffix[1:]
			}
		}
		if suffix != "" || !slices.Contains(docArgTypes, a.typ) {
			return nil, fmt.Errorf("%s: bad type or flags %q", a.name, t.s[i+1:])
		}
	mods:
		for {
			m := p.peek()
			key, v, _ := strings.Cut(m.s, "=")
			switch {
			case m.quoted || !p.more():
				return nil, fmt.Errorf("%s: unexpected %q", a.name, m.s)
			case strings.HasPrefix(m.s, "@"):
				p.next()
				if a.keySpec, err = strconv.Atoi(m.s[1:]); err != nil || a.keySpec < 0 {
					return nil, fmt.Errorf("%s: bad key spec %q", a.name, m.s)
				}
			case key == "token" || key == "summary" || key == "since" || key == "deprecated_since":
				p.next()
				if v, err = p.value(v); err != nil {
					return nil, fmt.Errorf("%s: %s: %w", a.name, key, err)
				}
				switch key {
				case "token":
					a.token, a.hasToken = v, true
				case "summary":
					a.summary = v
				case "since":
					a.since = v
				case "deprecated_since":
					a.deprecatedSince = v
				}
			default:
				break mods
			}
		}
		if a.typ == "oneof" || a.typ == "block" {
			if a.args, err = p.args(); err != nil {
				return nil, fmt.Errorf("%s: %w", a.name, err)
			}
		}
		out = append(out, a)
	}
}
