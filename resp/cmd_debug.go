package resp

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sessiond/internal/cnum"
	"sessiond/keyspace"
	"sessiond/snapshot"
)

// DEBUG, as Redis 7.0.15 has it, for the subcommands a user or a tool
// needs of a cache that is not being debugged in C: HELP, DIGEST,
// DIGEST-VALUE, ERROR, LOG, OBJECT, RELOAD, SET-ACTIVE-EXPIRE and SLEEP,
// with Redis's replies. The others (crashes, POPULATE, PROTOCOL, the
// allocator's and encodings' internals...) answer Redis's
// unknown-subcommand error, and DEBUG HELP lists only those sessiond has.
//
// DEBUG is a protected command: unless enable-debug-command allows it
// (yes, or local for a loopback or Unix-socket client) dispatch refuses it
// with Redis's error, after the arity check and before authentication and
// ACLs, as Redis's processCommand does. The parameter is set at start-up
// only, as in Redis.
//
// Every DEBUG takes the whole gate, as EXEC does, so that DEBUG SLEEP
// stops the server as Redis's does: every other command waits for it. It
// runs off the event loops (loop.go markOffLoop), which never wait.

func debugCommands() []*command {
	return []*command{
		{name: "debug", arity: -2, flags: flagAdmin | flagNoScript | flagLoading | flagStale | flagProtected | flagOwnGate, group: "server", since: "1.0.0", summary: "A container for debugging commands", run: cmdDebug},
	}
}

func cmdDebug(x *call) {
	if !x.inExec {
		if !x.s.lockExclusive(x) { // a busy script: -BUSY
			return
		}
		defer x.s.gate.unlock()
	}
	n := len(x.args)
	switch sub := strings.ToLower(cstr(x.args[1])); {
	case sub == "help" && n == 2:
		cmdDebugHelp(x)
	case sub == "digest" && n == 2:
		x.r.status(hex.EncodeToString(x.s.datasetDigest()))
	case sub == "digest-value":
		x.r.array(n - 2)
		for _, k := range x.args[2:] {
			var d [20]byte
			if it, _, ok := x.s.ks.Inspect(x.c.db, k); ok {
				objectDigest(&d, &it)
			}
			x.r.status(hex.EncodeToString(d[:]))
		}
	case sub == "error" && n == 3:
		// "-" and the string as it is, written raw as Redis writes it: not
		// an error reply to count (errorstats, failed_calls).
		x.r.w.WriteRaw([]byte("-" + sanitize(string(x.args[2])) + "\r\n"))
	case sub == "log" && n == 3:
		x.s.log.Warn("DEBUG LOG: " + cstr(x.args[2]))
		x.r.ok()
	case sub == "object" && n == 3:
		x.debugObject()
	case sub == "reload":
		x.debugReload()
	case sub == "set-active-expire" && n == 3:
		if x.s.active != nil {
			x.s.active.SetActive(cAtoi(x.args[2]) != 0)
		}
		x.r.ok()
	case sub == "sleep" && n == 3:
		x.debugSleep(cStrtodPrefix(x.args[2]))
		x.r.ok()
	default:
		x.subSyntaxError()
	}
}

// cmdDebugHelp is Redis's DEBUG HELP, with the lines of the subcommands
// sessiond has.
func cmdDebugHelp(x *call) {
	x.help("DEBUG",
		"DIGEST",
		"    Output a hex signature representing the current DB content.",
		"DIGEST-VALUE <key> [<key> ...]",
		"    Output a hex signature of the values of all the specified keys.",
		"ERROR <string>",
		"    Return a Redis protocol error with <string> as message. Useful for clients",
		"    unit tests to simulate Redis errors.",
		"LOG <message>",
		"    Write <message> to the server log.",
		"OBJECT <key>",
		"    Show low level info about `key` and associated value.",
		"RELOAD [option ...]",
		"    Save the RDB on disk and reload it back to memory. Valid <option> values:",
		"    * MERGE: conflicting keys will be loaded from RDB.",
		"    * NOFLUSH: the existing database will not be removed before load, but",
		"      conflicting keys will generate an exception and kill the server.",
		"    * NOSAVE: the database will be loaded from an existing RDB file.",
		"    Examples:",
		"    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
		"      the database.",
		"    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
		"      existing RDB file.",
		"    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
		"      file to the database.",
		"SET-ACTIVE-EXPIRE <0|1>",
		"    Setting it to 0 disables expiring keys in background when they are not",
		"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
		"    default.",
		"SLEEP <seconds>",
		"    Stop the server for <seconds>. Decimals allowed.",
	)
}

// debugReload is DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE], as Redis's: a
// snapshot (SAVE's, unless NOSAVE), the keys and function libraries
// dropped (unless NOFLUSH; WATCH and tracking clients learn of it as of a
// FLUSHALL), and the snapshot file loaded back. A library whose name is
// loaded already fails the load unless MERGE replaces it; a key is
// replaced (Redis, without MERGE, dies on one).
func (x *call) debugReload() {
	flush, save, merge := true, true, false
	for _, opt := range x.args[2:] {
		switch strings.ToLower(cstr(opt)) {
		case "merge":
			merge = true
		case "noflush":
			flush = false
		case "nosave":
			save = false
		default:
			x.r.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			return
		}
	}
	var loadErr error
	reload := func() error {
		if flush {
			x.s.ks.FlushAll()
			x.s.functions().Flush()
			x.s.trackFlush()
		}
		path := filepath.Join(x.s.cfg.Get("dir"), x.s.cfg.Get("dbfilename"))
		if _, err := os.Stat(path); err != nil { // LoadFile takes a missing file for an empty one
			loadErr = err
			return err
		}
		_, loadErr = snapshot.LoadFile(path, x.s.ks, snapshot.LoadOptions{
			SkipUnsupported: x.s.cfg.Bool("rdb-skip-unsupported"), Logger: x.s.log.With("component", "snapshot"),
			OnFunction: func(code []byte) error {
				_, err := x.s.functions().Load(code, merge, 0)
				return err
			},
		})
		return loadErr
	}
	// No save may run meanwhile: it would write what is half flushed or
	// half loaded (Redis's fork saves the state from before).
	var err error
	switch {
	case x.s.persist != nil:
		err = x.s.persist.Exclusive(save, reload)
	case save:
		x.r.error("ERR snapshots are not configured")
		return
	default:
		err = reload()
	}
	if loadErr != nil {
		x.s.log.Warn("DEBUG RELOAD", "err", loadErr)
		x.r.error("ERR Error trying to load the RDB dump")
		return
	}
	if err != nil { // the save failed, and the snapshot manager logged why
		x.r.error("ERR") // Redis's shared.err
		return
	}
	x.s.log.Warn("DB reloaded by DEBUG RELOAD")
	x.r.ok()
}

// debugSleep holds the gate (taken by cmdDebug, or by the EXEC running
// it) for secs seconds, as Redis's nanosleep of (long long)(secs*1e6)
// microseconds: a negative, NaN or out-of-range time does not sleep.
// Close ends it early.
func (x *call) debugSleep(secs float64) {
	us := secs * 1e6
	if !(us >= 1) || us >= math.MaxInt64 { // NaN, below a microsecond, or what C leaves undefined
		return
	}
	d := time.Duration(math.MaxInt64)
	if us < float64(math.MaxInt64/int64(time.Microsecond)) {
		d = time.Duration(us) * time.Microsecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-x.s.done:
	}
}

// debugObject is DEBUG OBJECT <key>, Redis's line: a made-up address
// (stable for the key), the refcount OBJECT REFCOUNT gives, OBJECT
// ENCODING's encoding, the value's size in an RDB as Redis writes that
// encoding (snapshot.SerializedLen: uncompressed, where Redis
// LZF-compresses a string or blob over 20 bytes that it can), the access
// clock and the idle seconds Redis derives from it; for a list, the ql_
// fields of the quicklist Redis would hold for it (snapshot.ListNodes).
func (x *call) debugObject() {
	key := x.args[2]
	it, oi, ok := x.s.ks.Inspect(x.c.db, key)
	if !ok {
		x.r.error("ERR no such key")
		return
	}
	size, err := snapshot.SerializedLen(&it, oi.Encoding)
	if err != nil {
		x.r.error("ERR " + err.Error())
		return
	}
	refcount := 1
	if oi.Shared {
		refcount = math.MaxInt32 // OBJ_SHARED_REFCOUNT
	}
	h := fnv.New64a()
	h.Write([]byte{byte(x.c.db)})
	h.Write(key)
	addr := 0x7f0000000000 | h.Sum64()&0xfffffffff0 // 16-byte aligned, where glibc's and jemalloc's heaps live
	b := make([]byte, 0, 160)
	b = append(b, "Value at:0x"...)
	b = strconv.AppendUint(b, addr, 16)
	b = append(b, " refcount:"...)
	b = strconv.AppendInt(b, int64(refcount), 10)
	b = append(b, " encoding:"...)
	b = append(b, oi.Encoding...)
	b = append(b, " serializedlength:"...)
	b = strconv.AppendInt(b, size, 10)
	b = append(b, " lru:"...)
	b = strconv.AppendUint(b, uint64(oi.LRU), 10)
	b = append(b, " lru_seconds_idle:"...)
	b = strconv.AppendInt(b, oi.IdleMs/1000, 10)
	if it.Kind == keyspace.KindList {
		nodes, size := snapshot.ListNodes(&it)
		b = append(b, " ql_nodes:"...)
		b = strconv.AppendInt(b, int64(nodes), 10)
		b = append(b, " ql_avg_node:"...)
		b = strconv.AppendFloat(b, float64(it.ListLen())/float64(nodes), 'f', 2, 64)
		b = append(b, " ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:"...) // list-max-listpack-size and list-compress-depth's defaults
		b = strconv.AppendInt(b, size, 10)
	}
	x.r.status(string(b))
}

// datasetDigest is Redis's computeDatasetDigest: for each database that
// holds keys, its number mixed into the digest, then every key's digest
// (its name mixed with objectDigest's) XORed in, so that the order of the
// keys does not matter. Keys past their deadline that are not reclaimed
// yet count, as in Redis.
func (s *Server) datasetDigest() []byte {
	var final [20]byte
	for dbi := range keyspace.NumDBs {
		first := true
		s.ks.WalkAll(dbi, func(items []keyspace.Item) error {
			if first {
				first = false
				var aux [4]byte
				binary.BigEndian.PutUint32(aux[:], uint32(dbi))
				mixDigest(&final, aux[:])
			}
			for i := range items {
				var d [20]byte
				mixDigest(&d, []byte(items[i].Key))
				objectDigest(&d, &items[i])
				xorDigest(&final, d[:])
			}
			return nil
		})
	}
	return final[:]
}

// Redis's object types (server.h OBJ_*), which the digest mixes in.
const (
	objString = 0
	objList   = 1
	objSet    = 2
	objZSet   = 3
	objHash   = 4
	objStream = 6
)

// objectDigest is Redis's xorObjectDigest: it mixes the value's type and
// contents into d, ordered where the value is (a list, a stream's
// entries) and XORed where it is not (a set's members, a hash's fields, a
// sorted set's members with their scores as %.17g), then the mark of an
// expiry if the key has one.
func objectDigest(d *[20]byte, it *keyspace.Item) {
	var typ uint32
	switch it.Kind {
	case keyspace.KindString:
		typ = objString
	case keyspace.KindList:
		typ = objList
	case keyspace.KindSet:
		typ = objSet
	case keyspace.KindZSet:
		typ = objZSet
	case keyspace.KindHash:
		typ = objHash
	case keyspace.KindStream:
		typ = objStream
	}
	var aux [4]byte
	binary.BigEndian.PutUint32(aux[:], typ)
	mixDigest(d, aux[:])
	switch it.Kind {
	case keyspace.KindString:
		mixDigest(d, it.Str)
	case keyspace.KindList:
		it.EachElem(func(v []byte) { mixDigest(d, v) })
	case keyspace.KindSet:
		for _, m := range it.Members {
			xorDigest(d, []byte(m))
		}
	case keyspace.KindZSet:
		it.EachScored(func(m []byte, score float64) {
			var e [20]byte
			mixDigest(&e, m)
			mixDigest(&e, []byte(formatScore(score)))
			xorDigest(d, e[:])
		})
	case keyspace.KindHash:
		it.EachField(func(f, v []byte) {
			var e [20]byte
			mixDigest(&e, f)
			mixDigest(&e, v)
			xorDigest(d, e[:])
		})
	case keyspace.KindStream:
		it.Stream().Each(func(_ int, n *keyspace.StreamNode) bool {
			for _, e := range n.Entries {
				if e.Flags&keyspace.StreamFlagDeleted != 0 {
					continue
				}
				id := strconv.AppendUint(nil, e.ID.Ms, 10)
				id = append(id, '.')
				id = strconv.AppendUint(id, e.ID.Seq, 10)
				mixDigest(d, id)
				for _, f := range e.Fields {
					mixDigest(d, f)
				}
			}
			return true
		})
	}
	if it.Deadline != 0 {
		xorDigest(d, []byte("!!expire!!"))
	}
}

// xorDigest is Redis's: d ^= SHA1(b), so that the order of the values
// XORed in does not matter.
func xorDigest(d *[20]byte, b []byte) {
	h := sha1.Sum(b)
	for i := range d {
		d[i] ^= h[i]
	}
}

// mixDigest is Redis's: d = SHA1(d ^ SHA1(b)), so that the order matters.
func mixDigest(d *[20]byte, b []byte) {
	xorDigest(d, b)
	*d = sha1.Sum(d[:])
}

// cAtoi is C's atoi as glibc has it: strtol of a leading integer (white
// space, a sign, digits; 0 if there is none), saturated to a long, then
// the int's low 32 bits.
func cAtoi(b []byte) int32 {
	b = cprefix(b)
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var n uint64
	over := false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if n > (math.MaxUint64-9)/10 {
			over = true
			continue
		}
		n = n*10 + uint64(b[i]-'0')
	}
	var v int64
	switch {
	case !neg && (over || n > math.MaxInt64):
		v = math.MaxInt64
	case neg && (over || n > 1<<63):
		v = math.MinInt64
	case neg:
		v = -int64(n)
	default:
		v = int64(n)
	}
	return int32(v)
}

// cStrtodPrefix is C's strtod with its end pointer ignored, as DEBUG
// SLEEP reads its argument: white space, then the longest leading number
// (cnum.StrtodPrefix), and 0 if there is none.
func cStrtodPrefix(b []byte) float64 {
	b = cprefix(b)
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	f, _ := cnum.StrtodPrefix(string(b[i:]))
	return f
}
