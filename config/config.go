package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"sessiond/pubsub"
)

// Param is one configuration parameter. Its value is always held as the
// canonical string CONFIG GET returns; typed accessors parse it.
type Param struct {
	Name    string
	Default string
	Usage   string
	// Mutable parameters can be changed with CONFIG SET at run time.
	Mutable bool
	// Check validates a value and returns its canonical form.
	Check func(string) (string, error)
	// Inert parameters are accepted and reported for Redis compatibility
	// but change nothing in sessiond.
	Inert bool
	// Protected parameters, as Redis 7's PROTECTED_CONFIG (dir and
	// dbfilename: together they let a client write the snapshot file
	// anywhere), are refused by CONFIG SET unless enable-protected-configs
	// allows it.
	Protected bool
}

// Config is the server's configuration: defaults, then the config file,
// then flags, then CONFIG SET. It is safe for concurrent use.
type Config struct {
	mu     sync.RWMutex
	values map[string]string
	onSet  map[string][]func(string)
	file   string
}

// Params is the table of every parameter, sorted by name.
var Params = buildParams()

func buildParams() []Param {
	p := []Param{
		{Name: "addr", Default: "127.0.0.1:6379", Usage: "listen address (host:port)", Check: checkAddr},
		{Name: "dir", Default: "./data", Usage: "directory for the snapshot file", Mutable: true, Protected: true, Check: checkNonEmpty},
		{Name: "dbfilename", Default: "dump.rdb", Usage: "snapshot file name inside dir", Mutable: true, Protected: true, Check: checkFileName},
		{Name: "enable-protected-configs", Default: "no", Usage: "whether CONFIG SET may change dir and dbfilename: no, yes, or local (loopback clients only)", Check: checkEnum("no", "yes", "local")},
		{Name: "enable-debug-command", Default: "no", Usage: "whether DEBUG may run: no, yes, or local (loopback and Unix-socket clients only); sessiond has a subset of Redis's DEBUG subcommands (DEBUG HELP lists them)", Check: checkEnum("no", "yes", "local")},
		{Name: "enable-module-command", Default: "no", Usage: "whether MODULE LOAD, LOADEX and UNLOAD may run: no, yes, or local (loopback and Unix-socket clients only); sessiond cannot load modules, so an allowed MODULE LOAD fails", Check: checkEnum("no", "yes", "local")},
		{Name: "save-interval", Default: "1m0s", Usage: "time between periodic snapshots (0 disables)", Mutable: true, Check: checkDuration},
		{Name: "rdb-skip-unsupported", Default: "no", Usage: "skip keys of types sessiond does not hold when loading a snapshot", Mutable: true, Check: checkBool},
		{Name: "requirepass", Default: "", Usage: "password of the default user (empty: no password)", Mutable: true, Check: checkAny},
		{Name: "maxclients", Default: "10000", Usage: "maximum number of connected clients", Mutable: true, Check: checkIntRange(1, 1<<20)},
		{Name: "maxmemory", Default: "0", Usage: "memory limit in bytes (0: none); also sets the Go memory limit", Mutable: true, Check: checkSize},
		{Name: "maxmemory-policy", Default: "noeviction", Usage: "what to do at maxmemory", Mutable: true, Check: checkEnum("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")},
		{Name: "maxmemory-samples", Default: "5", Usage: "keys sampled per eviction", Mutable: true, Check: checkIntRange(1, 1<<31-1)},
		{Name: "lfu-log-factor", Default: "10", Usage: "LFU counter growth: higher needs more accesses per step", Mutable: true, Check: checkIntRange(0, 1<<31-1)},
		{Name: "lfu-decay-time", Default: "1", Usage: "minutes per LFU counter decrement (0: never decay)", Mutable: true, Check: checkIntRange(0, 1<<31-1)},
		{Name: "timeout", Default: "0", Usage: "close a client after this many idle seconds (0: never)", Mutable: true, Check: checkIntRange(0, 1<<31-1)},
		{Name: "log-format", Default: "text", Usage: "log format: text or json", Check: checkEnum("text", "json")},
		{Name: "loglevel", Default: "notice", Usage: "debug, verbose, notice or warning", Mutable: true, Check: checkEnum("debug", "verbose", "notice", "warning", "nothing")},
		{Name: "gc-percent", Default: "30", Usage: "Go GC target percent: heap growth allowed over live data between collections (Go's default is 100; a cache keeps it low to stay small)", Mutable: true, Check: checkIntRange(-1, 1000)},
		{Name: "gc-headroom-min", Default: "67108864", Usage: "heap growth the Go GC always allows over live data, when gc-percent gives less (a small dataset under a write-heavy load would otherwise be collected several times a second)", Mutable: true, Check: checkSize},
		{Name: "event-loops", Default: "0", Usage: "epoll event loops serving plain TCP clients on Linux (0: one per GOMAXPROCS; -1: none, a goroutine per connection)", Check: checkIntRange(-1, 1024)},
		{Name: "pprof-addr", Default: "", Usage: "serve net/http/pprof on this address (empty: off)", Check: checkAny},
		{Name: "databases", Default: "16", Usage: "number of databases (fixed at 16)", Check: checkEnum("16")},
		{Name: "save", Default: "60 1", Usage: "redis.conf form (\"<seconds> <changes> ...\"); sessiond uses the shortest interval as save-interval, and reports save-interval here", Mutable: true, Check: checkSave},
		{Name: "appendonly", Default: "no", Usage: "accepted for compatibility; sessiond has no AOF", Mutable: true, Check: checkEnum("no"), Inert: true},
		{Name: "notify-keyspace-events", Default: "", Usage: "keyspace event classes published on __keyspace@<db>__ and __keyevent@<db>__ channels (Redis's letters K E g $ s h x e n m A...; empty: off)", Mutable: true, Check: pubsub.CanonicalEvents},
		{Name: "hz", Default: "10", Usage: "accepted for compatibility", Mutable: true, Check: checkIntRange(1, 500), Inert: true},
		{Name: "slowlog-log-slower-than", Default: "10000", Usage: "log commands slower than this many microseconds in SLOWLOG (-1: off, 0: every command)", Mutable: true, Check: checkIntRange(-1, 1<<62)},
		{Name: "slowlog-max-len", Default: "128", Usage: "number of entries SLOWLOG keeps", Mutable: true, Check: checkIntRange(0, 1<<31-1)},
		{Name: "latency-monitor-threshold", Default: "0", Usage: "record LATENCY events for commands taking at least this many milliseconds (0: off)", Mutable: true, Check: checkIntRange(0, 1<<62)},
		{Name: "metrics-addr", Default: "", Usage: "serve Prometheus /metrics, /healthz and /readyz on this address (empty: off)", Check: checkAny},
		{Name: "proto-max-bulk-len", Default: "536870912", Usage: "maximum bulk length of a request argument", Mutable: true, Check: checkSizeMin(1 << 20)},
		{Name: "client-query-buffer-limit", Default: "1073741824", Usage: "maximum size of one request (its arguments, plus 40 bytes each); a client over it is closed", Mutable: true, Check: checkSizeMin(1 << 20)},
		{Name: "client-output-buffer-limit", Default: defaultOutputBufferLimits, Usage: "<class> <hard> <soft> <seconds>...: disconnect a client whose pending replies reach hard, or stay over soft for seconds (normal applies to every client; pubsub to subscribers)", Mutable: true, Check: checkOutputBufferLimits},
		{Name: "protected-mode", Default: "yes", Usage: "refuse clients not on the loopback interface while the default user has no password", Mutable: true, Check: checkBool},
		{Name: "acllog-max-len", Default: "128", Usage: "number of entries ACL LOG keeps", Mutable: true, Check: checkIntRange(0, 1<<63-1)},
		{Name: "aclfile", Default: "", Usage: "ACL file of users (Redis's format: one \"user NAME rules...\" per line)", Check: checkAny},
		{Name: "tls-port", Default: "0", Usage: "also serve TLS on this port, on addr's host (0: no TLS)", Check: checkIntRange(0, 65535)},
		{Name: "tls-cert-file", Default: "", Usage: "TLS server certificate (PEM)", Check: checkAny},
		{Name: "tls-key-file", Default: "", Usage: "TLS server private key (PEM)", Check: checkAny},
		{Name: "tls-ca-cert-file", Default: "", Usage: "CA certificates (PEM) that client certificates must chain to", Check: checkAny},
		{Name: "tls-auth-clients", Default: "yes", Usage: "require client certificates: yes, no or optional (verified when given)", Check: checkEnum("yes", "no", "optional")},
		{Name: "tcp-keepalive", Default: "300", Usage: "accepted for compatibility", Mutable: true, Check: checkIntRange(0, 1<<31-1), Inert: true},
		{Name: "rdbcompression", Default: "yes", Usage: "accepted for compatibility (snapshots are not compressed)", Mutable: true, Check: checkBool, Inert: true},
		{Name: "rdbchecksum", Default: "yes", Usage: "accepted for compatibility (snapshots always carry a checksum)", Mutable: true, Check: checkBool, Inert: true},
		{Name: "stop-writes-on-bgsave-error", Default: "yes", Usage: "accepted for compatibility", Mutable: true, Check: checkBool, Inert: true},
		{Name: "lua-time-limit", Default: "5000", Usage: "alias of busy-reply-threshold", Mutable: true, Check: checkIntRange(0, 1<<62)},
		{Name: "busy-reply-threshold", Default: "5000", Usage: "milliseconds a script runs before other clients get -BUSY and SCRIPT KILL may stop it (0: never)", Mutable: true, Check: checkIntRange(0, 1<<62)},
		{Name: "io-threads", Default: "1", Usage: "accepted for compatibility (sessiond uses all cores)", Check: checkIntRange(1, 128), Inert: true},
		{Name: "tracking-table-max-keys", Default: "1000000", Usage: "keys remembered for client-side caching (CLIENT TRACKING); past it the clients caching some are told to drop them (0: no limit)", Mutable: true, Check: checkIntRange(0, 1<<62)},
		{Name: "hll-sparse-max-bytes", Default: "3000", Usage: "largest sparse HyperLogLog, in bytes; an update that would make one longer converts it to the dense encoding (12304 bytes)", Mutable: true, Check: checkSize},
		{Name: "stream-node-max-bytes", Default: "4096", Usage: "a stream node (XINFO's radix-tree-keys) takes entries until its listpack, as Redis encodes it, would reach this size (0: 1 GiB)", Mutable: true, Check: checkSize},
		{Name: "stream-node-max-entries", Default: "100", Usage: "and until it holds this many entries, deleted ones included (0: no limit); '~' trims remove whole nodes", Mutable: true, Check: checkIntRange(0, 1<<63-1)},
		{Name: "latency-tracking", Default: "yes", Usage: "keep per-command latency histograms (INFO latencystats)", Mutable: true, Check: checkBool},
		{Name: "daemonize", Default: "no", Usage: "accepted for compatibility (run sessiond under a supervisor)", Check: checkEnum("no"), Inert: true},
	}
	slices.SortFunc(p, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	return p
}

// Lookup returns the parameter named name (case-insensitive).
func Lookup(name string) (Param, bool) {
	name = strings.ToLower(name)
	i, ok := slices.BinarySearchFunc(Params, name, func(p Param, n string) int { return strings.Compare(p.Name, n) })
	if !ok {
		return Param{}, false
	}
	return Params[i], true
}

// New returns a configuration holding the defaults.
func New() *Config {
	c := &Config{values: make(map[string]string, len(Params)), onSet: make(map[string][]func(string))}
	for _, p := range Params {
		c.values[p.Name] = p.Default
	}
	return c
}

// Get returns name's canonical value ("" if unknown).
func (c *Config) Get(name string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.values[name]
}

// Set validates and stores a value. Only the command line, the file and
// the test harness call Set directly; CONFIG SET uses SetRuntime.
func (c *Config) Set(name, value string) error {
	p, ok := Lookup(name)
	if !ok {
		return fmt.Errorf("unknown parameter %q", name)
	}
	v, err := p.Check(value)
	if err != nil {
		return fmt.Errorf("invalid %s %q: %w", p.Name, value, err)
	}
	if p.Name == "save" { // redis.conf's "save <seconds> <changes> ..." drives save-interval
		c.storeSave(v, saveToInterval(v))
		return nil
	}
	twin := aliases[p.Name]
	c.mu.Lock()
	if p.Name == "client-output-buffer-limit" { // classes not named keep their limits (read and write under one lock)
		v = mergeOutputBufferLimits(c.values[p.Name], v)
	}
	c.values[p.Name] = v
	if twin != "" {
		c.values[twin] = v
	}
	if p.Name == "save-interval" { // keep CONFIG GET save truthful
		c.values["save"] = intervalToSave(v)
	}
	c.mu.Unlock()
	c.notify(p.Name, v)
	if twin != "" {
		c.notify(twin, v)
	}
	return nil
}

// aliases are pairs of names for one parameter (Redis renamed
// lua-time-limit); setting either sets both.
var aliases = map[string]string{"lua-time-limit": "busy-reply-threshold", "busy-reply-threshold": "lua-time-limit"}

// intervalToSave is the redis.conf save line equivalent to a save-interval:
// "<seconds> 1", or "" when snapshots are off.
func intervalToSave(v string) string {
	d, _ := time.ParseDuration(v)
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + " 1"
}

// SetRuntime is CONFIG SET: like Set, but only for mutable parameters.
func (c *Config) SetRuntime(name, value string) error {
	p, ok := Lookup(name)
	if !ok || !p.Mutable {
		return ErrImmutable
	}
	return c.Set(name, value)
}

// ErrImmutable is returned by SetRuntime for an unknown or read-only parameter.
var ErrImmutable = errors.New("config: unknown or immutable parameter")

// OnSet registers fn to be called with the new value whenever name is set.
func (c *Config) OnSet(name string, fn func(string)) {
	c.mu.Lock()
	c.onSet[name] = append(c.onSet[name], fn)
	c.mu.Unlock()
}

func (c *Config) notify(name, v string) {
	c.mu.RLock()
	fns := c.onSet[name]
	c.mu.RUnlock()
	for _, fn := range fns {
		fn(v)
	}
}

// Int returns name's value as an integer.
func (c *Config) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.Get(name), 10, 64)
	return n
}

// Bool returns name's value as a boolean.
func (c *Config) Bool(name string) bool { return c.Get(name) == "yes" }

// Duration returns name's value as a duration.
func (c *Config) Duration(name string) time.Duration {
	d, _ := time.ParseDuration(c.Get(name))
	return d
}

// File is the config file that was loaded, if any.
func (c *Config) File() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.file
}

// LoadFile reads redis.conf-style lines: "name value...", '#' comments,
// values optionally quoted. Every bad line is reported, with its number.
func (c *Config) LoadFile(name string, r io.Reader) error {
	c.mu.Lock()
	c.file = name
	c.mu.Unlock()
	var errs []error
	sc := bufio.NewScanner(r)
	line := 0
	var saves saveLines
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		fields, err := splitArgs(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			continue
		}
		key := strings.ToLower(fields[0])
		val := strings.Join(fields[1:], " ")
		if key == "save" { // redis.conf repeats "save" lines; they add up
			err = saves.load(c, val)
		} else {
			err = c.Set(key, val)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	return errors.Join(errs...)
}

// splitArgs splits a config line into words, honouring double and single quotes.
func splitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				continue
			}
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case unicode.IsSpace(r):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unbalanced quotes")
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

func checkAny(v string) (string, error) { return v, nil }

func checkNonEmpty(v string) (string, error) {
	if v == "" {
		return "", errors.New("must not be empty")
	}
	return v, nil
}

func checkFileName(v string) (string, error) {
	if v == "" || strings.ContainsAny(v, "/\\") {
		return "", errors.New("must be a plain file name")
	}
	return v, nil
}

func checkAddr(v string) (string, error) {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return "", err
	}
	return v, nil
}

func checkDuration(v string) (string, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) { // bare seconds, as redis.conf writes them
		if n < 0 {
			return "", errors.New("must not be negative")
		}
		if n > maxIntervalSeconds { // the Duration would wrap (18446744074 became 290ms)
			return "", fmt.Errorf("must be at most %d seconds", maxIntervalSeconds)
		}
		v = (time.Duration(n) * time.Second).String()
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return "", err
	}
	if d < 0 {
		return "", errors.New("must not be negative")
	}
	return d.String(), nil
}

func checkBool(v string) (string, error) {
	switch strings.ToLower(v) {
	case "yes", "true", "on", "1":
		return "yes", nil
	case "no", "false", "off", "0":
		return "no", nil
	}
	return "", errors.New("argument must be 'yes' or 'no'")
}

func checkEnum(allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		lv := strings.ToLower(v)
		if slices.Contains(allowed, lv) {
			return lv, nil
		}
		return "", errors.New("argument(s) must be one of the following: " + strings.Join(allowed, ", "))
	}
}

func checkIntRange(lo, hi int64) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", errors.New("argument couldn't be parsed into an integer")
		}
		if n < lo || n > hi {
			return "", fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
		}
		return strconv.FormatInt(n, 10), nil
	}
}

// checkSize parses Redis memory sizes: 1024, 1k (1000), 1kb (1024), 1mb, 1gb.
func checkSize(v string) (string, error) {
	n, err := ParseSize(v)
	if err != nil {
		return "", errors.New("argument must be a memory value") // Redis's text
	}
	return strconv.FormatInt(n, 10), nil
}

// ParseSize parses a size as redis.conf writes it (memtoull).
func ParseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q", v)
	}
	return n * mult, nil
}
