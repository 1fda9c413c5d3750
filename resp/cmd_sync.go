package resp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sessiond/keyspace"
	"sessiond/snapshot"
)

// REPLCONF, SYNC and PSYNC, as far as `redis-cli --rdb <file>` (and
// --functions-rdb) needs them: a backup of the dataset over the
// replication handshake. sessiond does not replicate, so only "rdb-only"
// transfers are served (REPLCONF rdb-only 1, then SYNC or PSYNC): the
// client gets one RDB snapshot of every database and the connection is
// closed, as Redis closes an rdb-only replica once its RDB is sent. A
// client that asks for a replication stream (a real replica, or
// redis-cli --replica) gets an error instead of an RDB after which it
// would silently diverge.
//
// The transfer is Redis's diskless one when the client declared
// "REPLCONF capa eof" (redis-cli always does): "$EOF:<mark>\r\n", the RDB
// as snapshot.Save writes it, then the same 40-byte mark. Without it the
// length must come first ("$<len>\r\n"), so the RDB is written to a
// temporary file in the snapshot directory first and then sent, as Redis
// sends its disk-based RDB: holding it in memory would put a second copy
// of the dataset (in RDB form) on the heap, and make the collector trace
// it, for as long as the slowest client takes to read it. The file is
// unlinked as soon as it is opened where the system allows (Unix), so
// nothing is left behind even by a crash.
//
// It runs on the connection's own goroutine, never on an event loop (the
// loop hands the connection over, as for a blocking command), and takes
// no gate: snapshot.Save walks the keyspace one stripe at a time, holding
// a stripe's lock only while it takes references, and encodes and writes
// with no lock held. A slow reader therefore only slows its own transfer;
// one that stops reading for syncWriteTimeout (Redis's repl-timeout
// default) is disconnected, and one that disconnects or is killed makes
// the next write fail, which ends the transfer and its goroutine.
// Server.Close waits for the transfers in progress, which stop at their
// next write.

func syncCommands() []*command {
	const g = "server"
	const fl = flagAdmin | flagNoScript | flagNoAsyncLoading | flagNoMulti | flagOwnGate
	return []*command{
		{name: "sync", arity: 1, flags: fl, group: g, since: "1.0.0", summary: "Internal command used for replication", run: cmdSync},
		{name: "psync", arity: -3, flags: fl, group: g, since: "2.8.0", summary: "Internal command used for replication", run: cmdSync},
		{name: "replconf", arity: -1, flags: flagAdmin | flagNoScript | flagLoading | flagStale | flagAllowBusy, group: g, since: "3.0.0", summary: "An internal command for configuring the replication stream", run: cmdReplconf},
	}
}

// replicationCommands are REPLICAOF (and SLAVEOF, its old name) and
// FAILOVER as a Redis master without replicas answers them, since
// sessiond is always one: REPLICAOF NO ONE is +OK (the server is a master
// already), FAILOVER finds no replica to fail over to, FAILOVER ABORT no
// failover in progress, each after Redis's argument checks, with Redis's
// errors. REPLICAOF <host> <port>, which would make the server a replica,
// answers msgNoReplicaof: sessiond cannot be one.
func replicationCommands() []*command {
	const g = "server"
	const fl = flagNoAsyncLoading | flagAdmin | flagNoScript | flagStale
	return []*command{
		{name: "replicaof", arity: 3, flags: fl, group: g, since: "5.0.0", summary: "Make the server a replica of another instance, or promote it as master.", run: cmdReplicaof},
		{name: "slaveof", arity: 3, flags: fl, group: g, since: "1.0.0", summary: "Make the server a replica of another instance, or promote it as master.", run: cmdReplicaof},
		{name: "failover", arity: -1, flags: flagAdmin | flagNoScript | flagStale, group: g, since: "6.2.0", summary: "Start a coordinated failover between this server and one of its replicas.", run: cmdFailover},
	}
}

// msgNoReplicaof answers REPLICAOF <host> <port>.
const msgNoReplicaof = "ERR sessiond does not support replication: it cannot become a replica (REPLICAOF NO ONE is accepted, as on a master)"

// cmdReplicaof is REPLICAOF (SLAVEOF) <host> <port> | NO ONE.
func cmdReplicaof(x *call) {
	if strings.EqualFold(cstr(x.args[1]), "no") && strings.EqualFold(cstr(x.args[2]), "one") {
		x.r.ok() // a master already
		return
	}
	if port, ok := keyspace.ParseInt(x.args[2]); !ok || port < 0 || port > 65535 {
		x.r.error("ERR Invalid master port")
		return
	}
	x.r.error(msgNoReplicaof)
}

// cmdFailover is FAILOVER [TO <host> <port> [FORCE]] [ABORT] [TIMEOUT
// <milliseconds>], parsed as Redis parses it, on a master with no
// replicas and no failover in progress.
func cmdFailover(x *call) {
	if len(x.args) == 2 && strings.EqualFold(cstr(x.args[1]), "abort") {
		x.r.error("ERR No failover in progress.")
		return
	}
	var timeout int64
	to, force := false, false
	for j := 1; j < len(x.args); j++ {
		switch opt := strings.ToLower(cstr(x.args[j])); {
		case opt == "timeout" && j+1 < len(x.args) && timeout == 0:
			n, ok := x.intArg(j + 1)
			if !ok {
				return
			}
			if n <= 0 {
				x.r.error("ERR FAILOVER timeout must be greater than 0")
				return
			}
			timeout = n
			j++
		case opt == "to" && j+2 < len(x.args) && !to:
			if _, ok := x.intArg(j + 2); !ok {
				return
			}
			to = true
			j += 2
		case opt == "force" && !force:
			force = true
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	x.r.error("ERR FAILOVER requires connected replicas.")
}

// msgNoReplication answers SYNC and PSYNC without REPLCONF rdb-only 1.
const msgNoReplication = "ERR sessiond does not support replication: only REPLCONF rdb-only 1 transfers (redis-cli --rdb) are served"

// syncWriteTimeout is how long a transfer waits for the client to take
// more of the RDB before giving up on it (Redis's repl-timeout default),
// in ns; tests change it.
var syncWriteTimeout = func() *atomic.Int64 {
	var d atomic.Int64
	d.Store(int64(60 * time.Second))
	return &d
}()

// eofMarkLen is the length of the mark that ends a diskless transfer
// (Redis's RDB_EOF_MARK_SIZE, CONFIG_RUN_ID_SIZE).
const eofMarkLen = 40

// replConf is what a connection declared with REPLCONF (Redis keeps it in
// the client: slave_capa, CLIENT_REPL_RDBONLY, slave_req). Only the
// connection's own goroutine touches it.
type replConf struct {
	capaEOF  bool // "capa eof": the RDB may come with an EOF mark instead of a length
	rdbOnly  bool // "rdb-only 1": an RDB, then the connection is closed
	filtered bool // "rdb-filter-only": the RDB holds no keys
	noFuncs  bool // "rdb-filter-only" without "functions": nor function libraries
}

// syncState is the server's side of the transfers.
type syncState struct {
	full   atomic.Int64   // INFO sync_full: full synchronizations served
	active atomic.Int32   // transfers in progress
	wg     sync.WaitGroup // the same, for Close to wait for (Add under Server.mu)
}

// cmdReplconf is REPLCONF <option> <value> ..., with the options Redis
// 7.0 accepts from a replica, applied in order as Redis applies them (an
// error leaves the options before it applied) and answered as Redis
// answers a client that is not (yet) a replica: +OK, Redis's error texts,
// and no reply at all to ACK and GETACK.
func cmdReplconf(x *call) {
	if len(x.args)%2 == 0 { // every option has its value
		x.r.error(msgSyntax)
		return
	}
	rc := &x.c.repl
	for j := 1; j < len(x.args); j += 2 {
		opt, val := x.args[j], x.args[j+1]
		switch strings.ToLower(string(opt)) {
		case "listening-port":
			if _, ok := keyspace.ParseInt(val); !ok {
				x.r.error(msgNotInteger)
				return
			}
		case "ip-address":
			if len(val) >= 256 { // NET_HOST_STR_LEN
				x.r.error("ERR REPLCONF ip-address provided by replica instance is too long: " + strconv.Itoa(len(val)) + " bytes")
				return
			}
		case "capa":
			if strings.EqualFold(string(val), "eof") {
				rc.capaEOF = true
			} // psync2 and capabilities Redis does not know are ignored
		case "ack", "getack":
			// ACK is a replica's report of its offset, GETACK a master's
			// request for one: Redis answers neither (and ignores ACK from
			// a client that is not its replica). Inside EXEC, where Redis
			// would leave the transaction's reply one element short, +OK
			// keeps it well formed.
			if x.inExec {
				x.r.ok()
			}
			return
		case "rdb-only":
			n, ok := keyspace.ParseInt(val)
			if !ok {
				x.r.error(msgNotInteger)
				return
			}
			if n < 0 || n > 1 {
				x.r.error("ERR value is out of range, value must between 0 and 1")
				return
			}
			rc.rdbOnly = n == 1
		case "rdb-filter-only":
			filters, ok := splitArgs(val)
			if !ok {
				x.r.error("ERR Missing rdb-filter-only values")
				return
			}
			rc.filtered, rc.noFuncs = true, true // no keys; functions only if asked for
			for _, f := range filters {
				if !strings.EqualFold(string(f), "functions") {
					x.r.error(formatErr("ERR Unsupported rdb-filter-only option: " + cstr(f)))
					return
				}
				rc.noFuncs = false
			}
		default:
			x.r.error(formatErr("ERR Unrecognized REPLCONF option: " + cstr(opt)))
			return
		}
	}
	x.r.ok()
}

// cmdSync is SYNC and PSYNC <replid> <offset>: an RDB transfer to a client
// that sent REPLCONF rdb-only 1 (see the top of this file), refused
// otherwise. PSYNC is always a full resynchronization: +FULLRESYNC with
// the replication id INFO reports and offset 0, then the RDB.
func cmdSync(x *call) {
	c, rc := x.c, &x.c.repl
	psync := x.cmd.name == "psync"
	if rc.filtered && !rc.capaEOF { // Redis checks this first (syncCommand)
		x.r.error("ERR Filtered replica requires EOF capability")
		return
	}
	if psync {
		if _, ok := keyspace.ParseInt(x.args[2]); !ok {
			x.r.error(msgNotInteger)
			return
		}
	}
	if !rc.rdbOnly {
		x.r.error(msgNoReplication)
		return
	}
	if c.ow.fc == nil || x.r.w != rawWriter(&c.ow) {
		// Not the connection's own reply path (a MONITOR client's reader,
		// which Redis ignores SYNC from, or no connection at all).
		x.r.error("ERR SYNC and PSYNC are not allowed for this client")
		return
	}
	if c.onLoop {
		c.deferred = true // the loop hands the connection over; it runs again
		return
	}
	x.flushBefore() // replies pipelined before it go first
	if c.closing.Load() {
		return
	}
	start := time.Now()
	if err := x.s.transfer(c, psync); err != nil {
		x.s.log.Warn("RDB transfer to rdb-only replica failed", "client", c.addr, "err", err)
	} else {
		x.s.log.Info("RDB transfer to rdb-only replica completed", "client", c.addr, "duration", time.Since(start).Round(time.Millisecond))
	}
	// The transfer took the client's time, not the server's: it is not a
	// slow command (SLOWLOG, latency monitor), as in Redis, where SYNC
	// only starts it.
	x.waited = time.Since(start)
	// As Redis does with an rdb-only replica once its RDB is sent: close
	// (handle closes it, there being nothing more to flush).
	c.closing.Store(true)
}

// transfer sends c the RDB: +FULLRESYNC first for PSYNC, then the
// payload in the form c declared it can read.
func (s *Server) transfer(c *client, psync bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.syncs.wg.Add(1)
	s.syncs.active.Add(1)
	s.mu.Unlock()
	defer func() {
		s.syncs.active.Add(-1)
		s.syncs.wg.Done()
	}()
	s.syncs.full.Add(1)
	// Straight to the socket, past the framer and the normal class's
	// output limits: Redis does not count an RDB transfer against them.
	w := &syncWriter{s: s, nc: c.ow.fc.Conn}
	if psync {
		if _, err := io.WriteString(w, "+FULLRESYNC "+runID+" 0\r\n"); err != nil {
			return err
		}
	}
	rc := c.repl
	if !rc.capaEOF {
		return s.transferSized(w, !rc.filtered, !rc.noFuncs)
	}
	mark := eofMark()
	if _, err := io.WriteString(w, "$EOF:"+mark+"\r\n"); err != nil {
		return err
	}
	if err := s.writeRDB(w, !rc.filtered, !rc.noFuncs); err != nil {
		return err
	}
	_, err := io.WriteString(w, mark)
	return err
}

// transferSized sends "$<len>\r\n" and the RDB, which it first writes to
// a temporary file in the snapshot directory to learn its size. If that
// fails, the client gets an error line where the length would be (both
// redis-cli and a Redis replica report it) and the connection is closed.
func (s *Server) transferSized(w io.Writer, keys, funcs bool) (err error) {
	f, err := s.syncTempFile()
	if err == nil {
		defer f.close()
		err = s.writeRDB(&abortWriter{s: s, w: f.File}, keys, funcs)
	}
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		if !errors.Is(err, ErrServerClosed) {
			io.WriteString(w, "-ERR "+formatErr("RDB transfer failed: "+err.Error())+"\r\n")
		}
		return err
	}
	if _, err := io.WriteString(w, "$"+strconv.FormatInt(size, 10)+"\r\n"); err != nil {
		return err
	}
	n, err := io.CopyBuffer(w, io.LimitReader(f, size), make([]byte, 256<<10))
	if err == nil && n != size {
		err = fmt.Errorf("temporary RDB file shrank from %d to %d bytes", size, n)
	}
	return err
}

// syncTemp is the temporary file of a sized transfer.
type syncTemp struct {
	*os.File
	unlinked bool
}

// syncTempFile creates temp-sync-<random>.rdb in the snapshot directory
// (not the temp-<pid>.rdb of a save), unlinked at once where the system
// allows an open file to be.
func (s *Server) syncTempFile() (*syncTemp, error) {
	dir := s.cfg.Get("dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "temp-sync-*.rdb")
	if err != nil {
		return nil, err
	}
	return &syncTemp{File: f, unlinked: os.Remove(f.Name()) == nil}, nil
}

func (t *syncTemp) close() {
	t.File.Close()
	if !t.unlinked {
		os.Remove(t.Name())
	}
}

// writeRDB writes an RDB of every database, or with no keys at all (a
// filtered transfer), with the function libraries unless funcs is false
// (a filter without "functions") and the AUX fields Redis writes for a
// replica.
func (s *Server) writeRDB(w io.Writer, keys, funcs bool) error {
	aux := map[string]string{
		"redis-ver": Version, "redis-bits": "64", "ctime": strconv.FormatInt(time.Now().Unix(), 10),
		"used-mem": "0", "repl-stream-db": "0", "repl-id": runID, "repl-offset": "0", "aof-base": "0",
	}
	var libs [][]byte
	if funcs {
		libs = s.functionCodes()
	}
	if keys {
		_, err := snapshot.SaveWithFunctions(w, s.ks, aux, libs)
		return err
	}
	enc := snapshot.NewEncoder(w)
	if err := enc.WriteHeader(aux); err != nil {
		return err
	}
	for _, code := range libs {
		if err := enc.WriteFunction(code); err != nil {
			return err
		}
	}
	return enc.Close()
}

// eofMark returns a random mark of 40 hexadecimal digits, as Redis's
// getRandomHexChars makes one: the end of a diskless transfer.
func eofMark() string {
	const hex = "0123456789abcdef"
	var b [eofMarkLen]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	for i := range b {
		b[i] = hex[b[i]&15]
	}
	return string(b[:])
}

// syncWriter writes a transfer to the client's socket in pieces of
// syncChunk bytes, each of which must be taken within syncWriteTimeout
// (so a slow reader that keeps reading is served, as Redis times out a
// replica only when nothing could be written for repl-timeout), and none
// starts once the server is closing.
type syncWriter struct {
	s  *Server
	nc net.Conn
}

const syncChunk = 256 << 10

func (w *syncWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if w.s.isClosed() {
			return n, ErrServerClosed
		}
		w.nc.SetWriteDeadline(time.Now().Add(time.Duration(syncWriteTimeout.Load())))
		m, err := w.nc.Write(p[n:min(len(p), n+syncChunk)])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// abortWriter stops writing the temporary file once the server is
// closing, so that Close does not wait for a whole dump nobody will read.
type abortWriter struct {
	s *Server
	w io.Writer
}

func (w *abortWriter) Write(p []byte) (int, error) {
	if w.s.isClosed() {
		return 0, ErrServerClosed
	}
	return w.w.Write(p)
}
