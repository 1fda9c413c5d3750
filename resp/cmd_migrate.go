package resp

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tidwall/redcon"

	"sessiond/keyspace"
	"sessiond/snapshot"
)

// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS key...]
// sends keys to another server (Redis or sessiond) as RESTORE commands
// and, unless COPY, deletes those the target took, as Redis 7.0's
// migrateCommand does. Like Redis's, it holds every other command off
// while it runs (the whole gate, as EXEC does): a key cannot change
// between being sent and being deleted. Each call opens its own
// connection, where Redis keeps one per target for 10 s; the target sees
// a connection, an AUTH and a SELECT per call.

func migrateCommands() []*command {
	return []*command{
		{name: "migrate", arity: -6, flags: flagWrite | flagMovableKeys | flagOwnGate | flagOffLoop, firstKey: 3, lastKey: 3, step: 1, group: "generic", since: "2.6.0", summary: "Atomically transfer a key from a Redis instance to another one.", run: cmdMigrate},
	}
}

// migrateArgs are MIGRATE's parsed arguments.
type migrateArgs struct {
	addr           string
	db             int64
	timeout        time.Duration
	copy, replace  bool
	user, password []byte
	auth           bool
	keys           [][]byte
}

// parseMigrate parses as Redis does, in its order: the options, then the
// timeout and the database.
func (x *call) parseMigrate() (migrateArgs, bool) {
	a := migrateArgs{addr: net.JoinHostPort(string(x.args[1]), string(x.args[2])), keys: x.args[3:4]}
	for j := 6; j < len(x.args); j++ {
		more := len(x.args) - 1 - j
		switch strings.ToLower(string(x.args[j])) {
		case "copy":
			a.copy = true
		case "replace":
			a.replace = true
		case "auth":
			if more < 1 {
				x.r.error(msgSyntax)
				return a, false
			}
			j++
			a.auth, a.password = true, x.args[j]
		case "auth2":
			if more < 2 {
				x.r.error(msgSyntax)
				return a, false
			}
			a.auth, a.user, a.password = true, x.args[j+1], x.args[j+2]
			j += 2
		case "keys":
			if len(x.args[3]) != 0 {
				x.r.error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
				return a, false
			}
			a.keys = x.args[j+1:]
			j = len(x.args)
		default:
			x.r.error(msgSyntax)
			return a, false
		}
	}
	ms, ok := keyspace.ParseInt(x.args[5])
	if !ok {
		x.r.error(msgNotInteger)
		return a, false
	}
	if a.db, ok = keyspace.ParseInt(x.args[4]); !ok {
		x.r.error(msgNotInteger)
		return a, false
	}
	if ms <= 0 {
		ms = 1000
	}
	a.timeout = time.Duration(min(ms, int64(time.Hour/time.Millisecond))) * time.Millisecond
	return a, true
}

// migrateKey is one key to send: its name, RESTORE's TTL and its payload.
type migrateKey struct {
	key     []byte
	ttl     int64
	payload []byte
}

func cmdMigrate(x *call) {
	a, ok := x.parseMigrate()
	if !ok {
		return
	}
	if !x.inExec && !x.inScript {
		if !x.s.lockExclusive(x) {
			return
		}
		defer x.s.gate.unlock()
	}
	now := x.s.ks.NowMs()
	var keys []migrateKey
	for _, k := range a.keys {
		it, ok := x.s.ks.Dump(x.c.db, k)
		if !ok {
			continue
		}
		var ttl int64
		if it.Deadline != 0 {
			ttl = max(it.Deadline-now, 1)
		}
		p, err := snapshot.DumpItem(&it)
		if err != nil {
			x.r.error("ERR " + err.Error())
			return
		}
		keys = append(keys, migrateKey{key: k, ttl: ttl, payload: p})
	}
	if len(keys) == 0 {
		x.r.status("NOKEY")
		return
	}
	req := a.request(keys)
	for retry := true; ; retry = false {
		done, err := a.send(req, keys, func(i int) {
			if !a.copy {
				x.s.ks.Del(x.c.db, [][]byte{keys[i].key})
			}
		})
		var te *migrateTargetError
		switch {
		case err == nil:
			x.r.ok()
			return
		case errors.As(err, &te):
			x.r.error("ERR Target instance replied with error: " + te.msg)
			return
		case errors.Is(err, errMigrateConnect):
			x.r.error("IOERR error or timeout connecting to the client")
			return
		}
		// Redis retries once, on a new connection, when nothing was
		// acknowledged and the error was not a timeout.
		if retry && done == 0 && !errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if errors.Is(err, errMigrateWrite) {
			x.r.error("IOERR error or timeout writing to target instance")
		} else {
			x.r.error("IOERR error or timeout reading to target instance")
		}
		return
	}
}

// migrateLineMax bounds a reply line MIGRATE reads (Redis reads 1024
// bytes at most, its buffer).
const migrateLineMax = 1024

var (
	errMigrateConnect = errors.New("connect")
	errMigrateWrite   = errors.New("write")
)

// migrateTargetError is the first error the target replied.
type migrateTargetError struct{ msg string }

func (e *migrateTargetError) Error() string { return e.msg }

// request is the commands MIGRATE sends: AUTH if asked, SELECT, and a
// RESTORE per key.
func (a *migrateArgs) request(keys []migrateKey) []byte {
	var b []byte
	if a.auth {
		if a.user != nil {
			b = appendCommand(b, []byte("AUTH"), a.user, a.password)
		} else {
			b = appendCommand(b, []byte("AUTH"), a.password)
		}
	}
	b = appendCommand(b, []byte("SELECT"), strconv.AppendInt(nil, a.db, 10))
	for _, k := range keys {
		args := [][]byte{[]byte("RESTORE"), k.key, strconv.AppendInt(nil, k.ttl, 10), k.payload}
		if a.replace {
			args = append(args, []byte("REPLACE"))
		}
		b = appendCommand(b, args...)
	}
	return b
}

// send connects, writes req and reads the replies, calling acked(i) for
// each key the target took. It returns how many replies to RESTOREs it
// read.
func (a *migrateArgs) send(req []byte, keys []migrateKey, acked func(i int)) (int, error) {
	conn, err := net.DialTimeout("tcp", a.addr, a.timeout)
	if err != nil {
		// Redis's non-blocking connect returns once the socket is
		// writable, which a refused one is too: a refusal fails the first
		// write (and is retried); a bad address or a timeout the connect.
		if errors.Is(err, syscall.ECONNREFUSED) {
			return 0, errors.Join(errMigrateWrite, err)
		}
		return 0, errMigrateConnect
	}
	defer conn.Close()
	for off := 0; off < len(req); off += 64 << 10 { // in 64 KB writes, each with its timeout
		conn.SetWriteDeadline(time.Now().Add(a.timeout))
		if _, err := conn.Write(req[off:min(len(req), off+64<<10)]); err != nil {
			return 0, errors.Join(errMigrateWrite, err)
		}
	}
	// A reply line is read as Redis's syncReadLine reads it, to at most
	// 1023 bytes (the rest of a longer one is skipped): a target cannot
	// make MIGRATE hold more.
	rd := bufio.NewReaderSize(conn, migrateLineMax)
	line := func() (string, error) {
		conn.SetReadDeadline(time.Now().Add(a.timeout))
		b, err := rd.ReadSlice('\n')
		s := string(b[:min(len(b), migrateLineMax-1)])
		for err == bufio.ErrBufferFull {
			_, err = rd.ReadSlice('\n')
		}
		return strings.TrimRight(s, "\r\n"), err
	}
	var first string // the first error: AUTH's, SELECT's or a RESTORE's
	for range 1 + btoi(a.auth) {
		s, err := line()
		if err != nil {
			return 0, err
		}
		if first == "" && strings.HasPrefix(s, "-") {
			first = s[1:]
		}
	}
	refused := first != "" // AUTH or SELECT failed: no key counts as taken
	fromTarget := false    // a RESTORE's reply was read after an error
	for i := range keys {
		s, err := line()
		if err != nil {
			if fromTarget {
				return i, &migrateTargetError{first}
			}
			return i, err
		}
		switch {
		case strings.HasPrefix(s, "-") || refused:
			if first == "" {
				first = s[1:]
			}
			fromTarget = true
		default:
			acked(i)
		}
	}
	if first != "" {
		return len(keys), &migrateTargetError{first}
	}
	return len(keys), nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendCommand appends args as a RESP array of bulk strings (a request:
// MIGRATE's, and an inline request as the framer passes it on).
func appendCommand(b []byte, args ...[]byte) []byte {
	b = redcon.AppendArray(b, len(args))
	for _, a := range args {
		b = redcon.AppendBulk(b, a)
	}
	return b
}
