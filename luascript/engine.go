package luascript

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Host runs the commands a script calls. The engine calls it only from
// Run's goroutine.
type Host interface {
	// Call runs one command and returns its reply, in RESP3 when resp3 is
	// set (redis.setresp(3)). Rejections (unknown command, arity, not
	// allowed from scripts, writes from a read-only script) are error
	// Values with Redis's text.
	Call(args [][]byte, resp3 bool) Value
	// Log is redis.log: level 0 (debug) to 3 (warning).
	Log(level int, msg string)
}

// Script is a compiled script, cached by the SHA1 of its body.
type Script struct {
	SHA  string // lower-case hex
	Body string
	// Shebang is set when the body starts with a "#!lua" line: the script
	// declared its flags and is not run in EVAL compatibility mode.
	Shebang bool
	// NoWrites and AllowOOM are the shebang flags no-writes and allow-oom.
	NoWrites bool
	AllowOOM bool
	proto    *lua.FunctionProto
}

// Engine holds the script cache and the Lua state. Load, Lookup, Exists,
// Flush and Stats are safe for concurrent use; Run is not: its callers run
// one script at a time (resp takes its gate exclusively).
type Engine struct {
	// Version is redis.REDIS_VERSION ("7.2.4").
	Version string

	mu      sync.Mutex
	scripts map[string]*Script
	bytes   int64       // bodies and SHAs of the cached scripts
	idle    *state      // the Lua state between runs (nil: make one)
	gen     uint64      // incremented by Flush: a state checked out before is dropped
	json    *jsonConfig // the global cjson's settings, until Flush (nil: defaults)
}

// jsonConfig returns the settings the scripts' cjson has: what
// cjson.encode_max_depth and the others set stays, in a state made after
// one was discarded too, until SCRIPT FLUSH, as Redis's Lua state keeps it.
func (e *Engine) jsonConfig() *jsonConfig {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.json == nil {
		e.json = newJSONConfig()
	}
	return e.json
}

// Stats returns the number of cached scripts and the bytes of their bodies.
func (e *Engine) Stats() (n int, bytes int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.scripts), e.bytes
}

// SHA1Hex is the lower-case hex SHA1 of b, as scripts are named.
func SHA1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// Lookup returns the cached script named sha (any case), or nil.
func (e *Engine) Lookup(sha string) *Script {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.scripts[strings.ToLower(sha)]
}

// Exists reports whether a script named sha (any case) is cached.
func (e *Engine) Exists(sha string) bool { return e.Lookup(sha) != nil }

// Flush forgets every script and resets the Lua state (SCRIPT FLUSH).
func (e *Engine) Flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.scripts = nil
	e.bytes = 0
	e.json = nil
	if e.idle != nil {
		e.idle.L.Close()
		e.idle = nil
	}
	e.gen++
}

// Load compiles body and caches it, or returns the cached script. The
// error's text is Redis's reply ("ERR Error compiling script ...").
func (e *Engine) Load(body []byte) (*Script, error) {
	sha := SHA1Hex(body)
	if s := e.Lookup(sha); s != nil {
		return s, nil
	}
	s := &Script{SHA: sha, Body: string(body)}
	code := s.Body
	if strings.HasPrefix(code, "#!") {
		n, err := s.parseShebang()
		if err != nil {
			return nil, err
		}
		code = code[n:] // keep the newline: line numbers stay right
	}
	chunk, err := parse.Parse(strings.NewReader(code), chunkName)
	if err == nil {
		s.proto, err = lua.Compile(chunk, chunkName)
	}
	if err != nil {
		return nil, errors.New("ERR Error compiling script (new function): " + compileError(err, chunkName, code))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.scripts[sha]; old != nil {
		return old, nil
	}
	if e.scripts == nil {
		e.scripts = map[string]*Script{}
	}
	e.scripts[sha] = s
	e.bytes += int64(len(sha) + len(body))
	return s, nil
}

// chunkName is what Redis names every script; Lua reports positions as
// "user_script:<line>:".
const chunkName = "user_script"

// compileError words a gopher-lua parse error as Lua 5.1 does
// ("user_script:1: <message> near '<token>'"). The messages themselves are
// gopher-lua's.
func compileError(err error, chunk, code string) string {
	var pe *parse.Error
	if errors.As(err, &pe) {
		tok := pe.Token
		if pe.Pos.Line == parse.EOF || tok == "" {
			tok = "<eof>"
		}
		line := pe.Pos.Line
		if line == parse.EOF { // Lua names the last line
			line = strings.Count(code, "\n") + 1
		}
		msg := pe.Message
		switch msg { // gopher-lua's yacc words these differently from Lua 5.1
		case "syntax error", "parse error":
			msg = "unexpected symbol"
		case "unterminated string":
			msg = "unfinished string"
		}
		return chunk + ":" + strconv.Itoa(line) + ": " + msg + " near '" + tok + "'"
	}
	return strings.TrimSpace(err.Error())
}

var shebangFlags = map[string]bool{"no-writes": true, "allow-oom": true, "allow-stale": true, "no-cluster": true, "allow-cross-slot-keys": true}

// parseShebang reads a "#!lua flags=..." first line, as Redis's
// evalExtractShebangFlags does, and returns its length.
func (s *Script) parseShebang() (int, error) {
	end := strings.IndexByte(s.Body, '\n')
	if end < 0 {
		return 0, errors.New("ERR Invalid script shebang")
	}
	parts := strings.Fields(s.Body[:end])
	if len(parts) == 0 {
		return 0, errors.New("ERR Invalid engine in script shebang")
	}
	if parts[0] != "#!lua" {
		return 0, errors.New("ERR Unexpected engine in script shebang: " + parts[0])
	}
	s.Shebang = true
	for _, p := range parts[1:] {
		fl, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return 0, errors.New("ERR Unknown lua shebang option: " + p)
		}
		if fl == "" {
			continue
		}
		for _, f := range strings.Split(fl, ",") {
			if !shebangFlags[f] {
				return 0, errors.New("ERR Unexpected flag in script shebang: " + f)
			}
			switch f {
			case "no-writes":
				s.NoWrites = true
			case "allow-oom":
				s.AllowOOM = true
			}
		}
	}
	return end, nil
}

// Declared reads the flags of body's "#!lua" line without compiling the
// script: ok is false for a script without a valid one (EVAL
// compatibility mode). CLIENT PAUSE WRITE and maxmemory judge an EVAL by
// its declared flags, as Redis's evalGetCommandFlags does.
func Declared(body []byte) (s *Script, ok bool) {
	if !bytes.HasPrefix(body, []byte("#!")) {
		return nil, false
	}
	line, _, _ := bytes.Cut(body, []byte("\n"))
	s = &Script{Body: string(line) + "\n"}
	if _, err := s.parseShebang(); err != nil {
		return nil, false
	}
	return s, true
}

// Run runs s with KEYS and ARGV and returns its reply. Cancelling ctx
// stops the script (SCRIPT KILL) at its next Lua instruction; the reply is
// then Redis's "Script killed by user" error.
func (e *Engine) Run(ctx context.Context, s *Script, keys, argv [][]byte, host Host) Value {
	e.mu.Lock()
	st, gen := e.idle, e.gen
	e.idle = nil
	e.mu.Unlock()
	if st == nil {
		st = e.newState()
	}
	v, reuse := st.run(ctx, s, keys, argv, host)
	e.mu.Lock()
	if reuse && e.gen == gen && e.idle == nil {
		e.idle = st
	} else {
		st.L.Close()
	}
	e.mu.Unlock()
	return v
}
