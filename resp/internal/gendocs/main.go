// Command gendocs writes resp/commanddocs.txt: what a redis-server 7.0.15
// answers to COMMAND DOCS, and the tips of its COMMAND INFO, for the
// commands and subcommands sessiond has, in the compact format
// resp/docs.go describes. Run it from resp:
//
//	go generate ./resp                   # starts redis-server from PATH
//	go run ./internal/gendocs -redis 127.0.0.1:6379   # a running one
//
// It asks an in-process sessiond (COMMAND LIST) which commands to keep, and
// skips those commanddocs72.txt documents by hand. It exits with an error,
// listing each, where the table has a command Redis does not know and
// commanddocs72.txt does not document; where the table's summary, since or
// group disagree with Redis's (those are not in the file: COMMAND DOCS
// takes them from the table); where sessiond's COMMAND INFO disagrees with
// Redis's beyond the tips (arity, flags and key positions are the table's,
// categories and key specs the ACL catalog's, acl/commands_redis.go); and
// where Redis answers something the format cannot hold. It is a separate
// program so that none of it is in the server.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"sessiond/config"
	"sessiond/keyspace"
	"sessiond/resp"
)

const wantVersion = "7.0.15"

func main() {
	redisAddr := flag.String("redis", "", "address of a running redis-server "+wantVersion+" (default: start one from PATH)")
	dir := flag.String("dir", ".", "the resp package directory")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gendocs: ")
	if err := run(*redisAddr, *dir); err != nil {
		log.Fatal(err)
	}
}

func run(redisAddr, dir string) error {
	if redisAddr == "" {
		addr, stop, err := startRedis()
		if err != nil {
			return err
		}
		defer stop()
		redisAddr = addr
	}
	red, err := dial(redisAddr)
	if err != nil {
		return err
	}
	info, err := red.do("INFO", "server")
	if err != nil {
		return err
	}
	if !strings.Contains(info.s, "\r\nredis_version:"+wantVersion+"\r\n") {
		return fmt.Errorf("%s is not redis-server %s", redisAddr, wantVersion)
	}
	redisDocs, err := red.do("COMMAND", "DOCS")
	if err != nil {
		return err
	}
	redisCmds, err := red.do("COMMAND")
	if err != nil {
		return err
	}
	redisInfo := infoByName(redisCmds)

	sd, err := startSessiond()
	if err != nil {
		return err
	}
	list, err := sd.do("COMMAND", "LIST")
	if err != nil {
		return err
	}
	ours := map[string]bool{}
	for _, e := range list.elems {
		ours[e.s] = true
	}
	sdDocs, err := sd.do("COMMAND", "DOCS")
	if err != nil {
		return err
	}
	sdCmds, err := sd.do("COMMAND")
	if err != nil {
		return err
	}
	sdInfo := infoByName(sdCmds)
	table := map[string]value{} // sessiond's summary, since and group
	walk(sdDocs, func(name string, d value) { table[name] = d })

	byHand, err := handNames(filepath.Join(dir, "commanddocs72.txt"))
	if err != nil {
		return err
	}

	lines := map[string]string{}
	var problems []string
	walk(redisDocs, func(name string, d value) {
		if !ours[name] || byHand[name] {
			return
		}
		line, err := encodeCommand(name, d, redisInfo[name])
		if err != nil {
			problems = append(problems, err.Error())
			return
		}
		lines[name] = line
		for _, f := range []string{"summary", "since", "group"} {
			if r, s := d.get(f).s, table[name].get(f).s; r != s {
				problems = append(problems, fmt.Sprintf("%s: the table's %s is %q, Redis's %q", name, f, s, r))
			}
		}
		problems = append(problems, compareInfo(name, sdInfo[name], redisInfo[name])...)
	})
	for name := range ours {
		if lines[name] == "" && !byHand[name] {
			problems = append(problems, fmt.Sprintf("%s: not in Redis %s nor in commanddocs72.txt (its docs and tips, by hand)", name, wantVersion))
		}
	}

	var b strings.Builder
	b.WriteString("# COMMAND DOCS and COMMAND INFO's tips of redis-server " + wantVersion + " for the commands sessiond has.\n")
	b.WriteString("# Written by `go generate ./resp` (internal/gendocs): do not edit. The format: docs.go.\n")
	for _, name := range slices.Sorted(maps.Keys(lines)) {
		b.WriteString(lines[name])
		b.WriteByte('\n')
	}
	out := filepath.Join(dir, "commanddocs.txt")
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s: %d commands, %d bytes", out, len(lines), b.Len())
	if len(problems) > 0 {
		slices.Sort(problems)
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// walk calls f for each command of a COMMAND DOCS reply and each of its
// subcommands.
func walk(docs value, f func(name string, d value)) {
	for i := 0; i+1 < len(docs.elems); i += 2 {
		name, d := docs.elems[i].s, docs.elems[i+1]
		f(name, d)
		walk(d.get("subcommands"), f)
	}
}

// infoByName maps each command and subcommand of a COMMAND reply to its
// entry.
func infoByName(cmds value) map[string]value {
	m := map[string]value{}
	var walk func(list value)
	walk = func(list value) {
		for _, e := range list.elems {
			if len(e.elems) == 10 {
				m[e.elems[0].s] = e
				walk(e.elems[9])
			}
		}
	}
	walk(cmds)
	return m
}

// infoFields names COMMAND INFO's fields, those compareInfo compares; the
// tips (8) come from the file being written and the subcommands (10) are
// compared one by one.
var infoFields = []string{"name", "arity", "flags", "first key", "last key", "step", "ACL categories", "", "key specs"}

// compareInfo reports where sessiond's COMMAND INFO entry for a command
// differs from Redis's.
func compareInfo(name string, sd, red value) []string {
	if len(sd.elems) != 10 || len(red.elems) != 10 {
		return []string{fmt.Sprintf("%s: COMMAND INFO has no ten-field entry (sessiond %d, Redis %d fields)", name, len(sd.elems), len(red.elems))}
	}
	var out []string
	for i, f := range infoFields {
		if f == "" {
			continue
		}
		if s, r := sd.elems[i].String(), red.elems[i].String(); s != r {
			out = append(out, fmt.Sprintf("%s: COMMAND INFO's %s is %s, Redis's %s", name, f, s, r))
		}
	}
	return out
}

// handNames are the commands commanddocs72.txt documents.
func handNames(path string) (map[string]bool, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(text), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			names[f[0]] = true
		}
	}
	return names, nil
}

// The keys of a command's docs, in the order Redis writes them; summary,
// since, group and subcommands are not written to the file.
var commandKeys = []string{"summary", "since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by", "history", "arguments", "subcommands"}

var argKeys = []string{"name", "type", "key_spec_index", "token", "summary", "since", "deprecated_since", "flags", "arguments"}

// checkKeys fails unless m's keys are some of want, in want's order, and
// include the required ones.
func checkKeys(what string, m value, want []string, required ...string) error {
	if m.kind != '%' {
		return fmt.Errorf("%s: not a map", what)
	}
	j := 0
	for i := 0; i < len(m.elems); i += 2 {
		k := m.elems[i].s
		for j < len(want) && want[j] != k {
			j++
		}
		if j == len(want) {
			return fmt.Errorf("%s: key %q unknown or out of order", what, k)
		}
	}
	for _, k := range required {
		if m.get(k).kind == 0 {
			return fmt.Errorf("%s: no %s", what, k)
		}
	}
	return nil
}

// encodeCommand writes one line of the file from a command's COMMAND DOCS
// entry and its COMMAND INFO entry (for the tips).
func encodeCommand(name string, d, info value) (string, error) {
	if err := checkKeys(name, d, commandKeys, "summary", "since", "group"); err != nil {
		return "", err
	}
	if !bare(name) {
		return "", fmt.Errorf("%s: the name needs quoting", name)
	}
	b := []string{name}
	for _, k := range []string{"complexity", "deprecated_since", "replaced_by"} {
		if v := d.get(k); v.kind != 0 {
			if v.kind != '$' || v.s == "" {
				return "", fmt.Errorf("%s: %s: not a non-empty string", name, k)
			}
			b = append(b, k+"="+str(v.s))
		}
	}
	if v := d.get("doc_flags"); v.kind != 0 {
		var flags []string
		for _, f := range v.elems {
			if f.kind != '+' || !bare(f.s) || strings.Contains(f.s, ",") {
				return "", fmt.Errorf("%s: doc flag %q", name, f.s)
			}
			flags = append(flags, f.s)
		}
		if v.kind != '~' || len(flags) == 0 {
			return "", fmt.Errorf("%s: doc_flags: not a non-empty set", name)
		}
		b = append(b, "doc_flags="+strings.Join(flags, ","))
	}
	if v := d.get("history"); v.kind != 0 {
		if v.kind != '~' || len(v.elems) == 0 {
			return "", fmt.Errorf("%s: history: not a non-empty set", name)
		}
		h := "history=("
		for i, e := range v.elems {
			if e.kind != '*' || len(e.elems) != 2 || e.elems[0].kind != '$' || e.elems[1].kind != '$' {
				return "", fmt.Errorf("%s: history entry %d", name, i)
			}
			if i > 0 {
				h += " "
			}
			h += str(e.elems[0].s) + " " + str(e.elems[1].s)
		}
		b = append(b, h+")")
	}
	if v := d.get("arguments"); v.kind != 0 {
		a, err := encodeArgs(name, v)
		if err != nil {
			return "", err
		}
		b = append(b, "args="+a)
	}
	if len(info.elems) != 10 {
		return "", fmt.Errorf("%s: not in COMMAND", name)
	}
	if v := info.elems[7]; v.kind != '~' {
		return "", fmt.Errorf("%s: tips: not a set", name)
	} else if len(v.elems) > 0 {
		t := "tips=("
		for i, e := range v.elems {
			if e.kind != '$' || e.s == "" {
				return "", fmt.Errorf("%s: tip %d: not a non-empty string", name, i)
			}
			if i > 0 {
				t += " "
			}
			t += str(e.s)
		}
		b = append(b, t+")")
	}
	return strings.Join(b, " "), nil
}

var argTypes = []string{"string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block"}

// Argument flags in Redis's order, and their spelling in the file.
var argFlags = []string{"optional", "multiple", "multiple_token"}

const argFlagSuffix = "?*+"

func encodeArgs(where string, list value) (string, error) {
	if list.kind != '*' || len(list.elems) == 0 {
		return "", fmt.Errorf("%s: arguments: not a non-empty array", where)
	}
	var parts []string
	for _, a := range list.elems {
		name, typ := a.get("name"), a.get("type")
		what := where + " " + name.s
		if err := checkKeys(what, a, argKeys, "name", "type"); err != nil {
			return "", err
		}
		if name.kind != '$' || !bare(name.s) || strings.ContainsAny(name.s, "=") || strings.HasPrefix(name.s, "@") {
			return "", fmt.Errorf("%s: the name cannot be written", what)
		}
		if typ.kind != '$' || !slices.Contains(argTypes, typ.s) {
			return "", fmt.Errorf("%s: type %q", what, typ.s)
		}
		p := name.s + ":" + typ.s
		if f := a.get("flags"); f.kind != 0 {
			j := 0
			for _, e := range f.elems {
				for j < len(argFlags) && argFlags[j] != e.s {
					j++
				}
				if j == len(argFlags) || e.kind != '+' {
					return "", fmt.Errorf("%s: flag %q unknown or out of order", what, e.s)
				}
				p += argFlagSuffix[j : j+1]
			}
			if f.kind != '~' || len(f.elems) == 0 {
				return "", fmt.Errorf("%s: flags: not a non-empty set", what)
			}
		}
		if k := a.get("key_spec_index"); k.kind != 0 {
			if k.kind != ':' || k.n < 0 {
				return "", fmt.Errorf("%s: key_spec_index", what)
			}
			p += " @" + strconv.FormatInt(k.n, 10)
		}
		for _, k := range []string{"token", "summary", "since", "deprecated_since"} {
			if v := a.get(k); v.kind != 0 {
				if v.kind != '$' || v.s == "" && k != "token" {
					return "", fmt.Errorf("%s: %s", what, k)
				}
				p += " " + k + "=" + str(v.s)
			}
		}
		sub := a.get("arguments")
		if nested := typ.s == "oneof" || typ.s == "block"; nested != (sub.kind != 0) {
			return "", fmt.Errorf("%s: arguments for a %s", what, typ.s)
		}
		if sub.kind != 0 {
			s, err := encodeArgs(what, sub)
			if err != nil {
				return "", err
			}
			p += " " + s
		}
		parts = append(parts, p)
	}
	return "(" + strings.Join(parts, " ") + ")", nil
}

// bare reports whether s can be written unquoted.
func bare(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func str(s string) string {
	if bare(s) {
		return s
	}
	return strconv.Quote(s)
}

// ---------------------------------------------------------------------------
// Servers and a small RESP3 client.

// value is one RESP3 reply; maps have their keys and values alternating in
// elems. kind 0 is "absent" (value.get's answer for a missing key).
type value struct {
	kind  byte
	s     string
	n     int64
	elems []value
}

// String writes v for gendocs's messages (and compareInfo's comparisons):
// a simple string as +s, a bulk string quoted, an integer as is, an array
// as [a b], a set as ~[a b], a map as {k: v, k: v}.
func (v value) String() string {
	switch v.kind {
	case '+', '-':
		return string(v.kind) + v.s
	case '$':
		return strconv.Quote(v.s)
	case ':':
		return strconv.FormatInt(v.n, 10)
	case '*', '~', '%':
		var b strings.Builder
		open, end := "[", "]"
		if v.kind == '~' {
			open = "~["
		} else if v.kind == '%' {
			open, end = "{", "}"
		}
		b.WriteString(open)
		for i, e := range v.elems {
			switch {
			case i == 0:
			case v.kind == '%' && i%2 == 1:
				b.WriteString(": ")
			case v.kind == '%':
				b.WriteString(", ")
			default:
				b.WriteString(" ")
			}
			b.WriteString(e.String())
		}
		b.WriteString(end)
		return b.String()
	}
	return "(none)"
}

func (v value) get(key string) value {
	if v.kind != '%' {
		return value{}
	}
	for i := 0; i+1 < len(v.elems); i += 2 {
		if v.elems[i].s == key {
			return v.elems[i+1]
		}
	}
	return value{}
}

type conn struct {
	c  net.Conn
	br *bufio.Reader
}

// dial connects and switches to RESP3, so that maps and sets are told
// apart from arrays.
func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	cn := &conn{c: c, br: bufio.NewReader(c)}
	if _, err := cn.do("HELLO", "3"); err != nil {
		return nil, err
	}
	return cn, nil
}

func (c *conn) do(args ...string) (value, error) {
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.c.Write(b); err != nil {
		return value{}, err
	}
	v, err := c.read()
	if err == nil && v.kind == '-' {
		err = fmt.Errorf("%s: %s", strings.Join(args, " "), v.s)
	}
	return v, err
}

func (c *conn) read() (value, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return value{}, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return value{}, fmt.Errorf("bad reply line %q", line)
	}
	v := value{kind: line[0]}
	body := line[1 : len(line)-2]
	switch v.kind {
	case '+', '-':
		v.s = body
	case ':':
		v.n, err = strconv.ParseInt(body, 10, 64)
	case '$', '=':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return value{}, fmt.Errorf("bad bulk length %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.br, buf); err != nil {
			return value{}, err
		}
		v.kind, v.s = '$', string(buf[:n])
	case '*', '~', '%':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return value{}, fmt.Errorf("bad length %q", line)
		}
		if v.kind == '%' {
			n *= 2
		}
		for range n {
			e, err := c.read()
			if err != nil {
				return value{}, err
			}
			v.elems = append(v.elems, e)
		}
	default:
		return value{}, fmt.Errorf("unexpected reply %q", line)
	}
	return v, err
}

// startRedis runs redis-server from PATH on a free loopback port, without
// persistence.
func startRedis() (string, func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, fmt.Errorf("redis-server %s is needed (or -redis ADDR): %w", wantVersion, err)
	}
	dir, err := os.MkdirTemp("", "gendocs")
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server did not start on %s: %w", addr, err)
		}
	}
}

// startSessiond serves an in-process sessiond (its command table is the
// one being documented) on a loopback port and connects to it.
func startSessiond() (*conn, error) {
	cfg := config.New()
	ks, err := keyspace.New(keyspace.Options{})
	if err != nil {
		return nil, err
	}
	srv := resp.NewServer(resp.Options{Keyspace: ks, Config: cfg})
	if err := srv.LoadACLFile(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln)
	return dial(ln.Addr().String())
}
