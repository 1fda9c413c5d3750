package resp

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"

	"sessiond/acl"
	"sessiond/keyspace"
)

// OBJECT and MEMORY, maxmemory enforcement and CLIENT NO-TOUCH. The
// keyspace does the accounting and the eviction (keyspace/evict.go); this
// file connects it to the configuration and to dispatch.

func memoryCommands() []*command {
	const g = "generic"
	ro := flagReadonly
	return []*command{
		{name: "object", arity: -2, group: g, since: "2.2.3", summary: "A container for object introspection commands"},
		{name: "object|encoding", arity: 3, flags: ro, firstKey: 2, lastKey: 2, step: 1, group: g, since: "2.2.3", summary: "Inspect the internal encoding of a Redis object", run: cmdObject},
		{name: "object|freq", arity: 3, flags: ro, firstKey: 2, lastKey: 2, step: 1, group: g, since: "4.0.0", summary: "Get the logarithmic access frequency counter of a Redis object", run: cmdObject},
		{name: "object|idletime", arity: 3, flags: ro, firstKey: 2, lastKey: 2, step: 1, group: g, since: "2.2.3", summary: "Get the time since a Redis object was last accessed", run: cmdObject},
		{name: "object|refcount", arity: 3, flags: ro, firstKey: 2, lastKey: 2, step: 1, group: g, since: "2.2.3", summary: "Get the number of references to the value of the key", run: cmdObject},
		{name: "object|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "6.2.0", summary: "Show helpful text about the different subcommands", run: cmdObjectHelp},
		{name: "memory", arity: -2, group: "server", since: "4.0.0", summary: "A container for memory diagnostics commands"},
		{name: "memory|usage", arity: -3, flags: ro, firstKey: 2, lastKey: 2, step: 1, group: "server", since: "4.0.0", summary: "Estimate the memory usage of a key", run: cmdMemoryUsage},
		{name: "memory|stats", arity: 2, group: "server", since: "4.0.0", summary: "Show memory usage details", run: cmdMemoryStats},
		{name: "memory|doctor", arity: 2, group: "server", since: "4.0.0", summary: "Outputs memory problems report", run: cmdMemoryDoctor},
		{name: "memory|malloc-stats", arity: 2, group: "server", since: "4.0.0", summary: "Show allocator internal stats", run: cmdMemoryMallocStats},
		{name: "memory|purge", arity: 2, group: "server", since: "4.0.0", summary: "Ask the allocator to release memory", run: cmdMemoryPurge},
		{name: "memory|help", arity: 2, flags: flagLoading | flagStale, group: "server", since: "4.0.0", summary: "Show helpful text about the different subcommands", run: cmdMemoryHelp},
	}
}

const (
	msgOOM     = "OOM command not allowed when used memory > 'maxmemory'."
	msgNoLFU   = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	msgLFUIdle = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	// evictBatch bounds the keys one command evicts before it runs, as
	// Redis bounds performEvictions by time: the next command goes on.
	evictBatch = 256
)

// initMemory makes the maxmemory parameters live: the keyspace gets them
// now and on every CONFIG SET. Lowering maxmemory evicts at once (Redis
// starts its eviction timer instead; the effect is the same, sooner).
func (s *Server) initMemory() {
	if s.ks == nil {
		return
	}
	s.startHeap = heapObjectBytes()
	apply := func(string) {
		pol, err := keyspace.ParsePolicy(s.cfg.Get("maxmemory-policy"))
		if err != nil {
			pol = keyspace.NoEviction
		}
		s.ks.SetEvictParams(keyspace.EvictParams{
			MaxMemory: s.cfg.Int("maxmemory"), Policy: pol, Samples: int(s.cfg.Int("maxmemory-samples")),
			LFULogFactor: int(s.cfg.Int("lfu-log-factor")), LFUDecayTime: int(s.cfg.Int("lfu-decay-time")),
		})
	}
	apply("")
	for _, p := range []string{"maxmemory-policy", "maxmemory-samples", "lfu-log-factor", "lfu-decay-time"} {
		s.cfg.OnSet(p, apply)
	}
	s.cfg.OnSet("maxmemory", func(v string) {
		apply(v)
		s.ks.Evict(0)
	})
}

// memoryCheck is processCommand's maxmemory step: evict if over the limit,
// and refuse a command that may grow memory when nothing can be evicted.
// Inside MULTI every command but EXEC, DISCARD, QUIT and RESET is refused,
// as in Redis, since queuing itself takes memory. It returns the error to
// reply with, or "", whether it evicted (which may have waited for other
// clients' evictions), and whether memory stayed full (Redis's
// pre_command_oom_state, by which a script's first write is judged).
// Without maxmemory it costs one atomic load.
func (s *Server) memoryCheck(c *client, cmd *command, args [][]byte) (msg string, evicted, full bool) {
	if !s.ks.OverLimit() {
		return "", false, false
	}
	if s.ks.Evict(evictBatch) != keyspace.EvictFail {
		return "", true, false
	}
	reject := cmd.flags&flagDenyOOM != 0
	switch cmd.name {
	case "exec":
		for _, q := range c.queue {
			if qc := s.table.lookup(q[0]); qc != nil && qc.flags&flagDenyOOM != 0 {
				reject = true
			}
		}
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		// Declared flags decide (scriptFlagsToCmdFlags): denyoom unless
		// allow-oom or no-writes.
		if noWrites, allowOOM, ok := s.declaredFlags(cmd, args); ok {
			reject = !noWrites && !allowOOM
		}
		reject = reject || c.inMulti
	case "discard", "quit", "reset":
	default:
		reject = reject || c.inMulti
	}
	if !reject {
		return "", true, true
	}
	return msgOOM, true, true
}

// rejectOOM replies to a command memoryCheck refused. EXEC discards the
// transaction, as Redis's execCommandAbort.
func (s *Server) rejectOOM(c *client, cmd *command, r *reply, msg string) {
	if cmd.name == "exec" && c.inMulti {
		c.endMulti()
		s.ks.Unwatch(&c.watch)
		s.fail(r, "EXECABORT Transaction discarded because of: "+msg)
		return
	}
	if c.inMulti {
		c.multiErr = true
	}
	s.fail(r, msg)
}

// runNoTouch runs a read command for a CLIENT NO-TOUCH connection: its
// keys' access clocks are put back afterwards, so that the reads do not
// count for LRU/LFU. (The keyspace updates the clock inside the lookup;
// restoring it keeps that path free of a per-call flag.) TOUCH itself
// still touches, as in Redis. Writes touch as they do in Redis when they
// replace a value.
func (s *Server) runNoTouch(x *call) bool {
	if x.cmd.flags&flagReadonly == 0 || x.cmd.name == "touch" {
		return false
	}
	if x.cmd.acl == nil {
		return false
	}
	keys := acl.Keys(x.cmd.acl, x.args) // with movable keys (ZUNION's numkeys...)
	if len(keys) == 0 {
		return false
	}
	db := x.c.db
	saved := make([]uint32, len(keys))
	had := make([]bool, len(keys))
	for i, k := range keys {
		saved[i], had[i] = s.ks.AccessClock(db, x.args[k.Pos])
	}
	x.cmd.run(x)
	for i, k := range keys {
		if had[i] {
			s.ks.RestoreAccessClock(db, x.args[k.Pos], saved[i])
		}
	}
	return true
}

func cmdObject(x *call) {
	oi, ok := x.s.ks.Object(x.c.db, x.args[2])
	if !ok {
		x.r.null()
		return
	}
	lfu := x.s.ks.EvictParams().Policy.LFU()
	switch x.cmd.name {
	case "object|encoding":
		x.r.bulkString(oi.Encoding)
	case "object|freq":
		if !lfu {
			x.r.error(msgNoLFU)
			return
		}
		x.r.int(int64(oi.Freq))
	case "object|idletime":
		if lfu {
			x.r.error(msgLFUIdle)
			return
		}
		x.r.int(oi.IdleMs / 1000)
	case "object|refcount":
		if oi.Shared {
			x.r.int(2147483647) // OBJ_SHARED_REFCOUNT
			return
		}
		x.r.int(1)
	}
}

func cmdObjectHelp(x *call) {
	x.help("OBJECT",
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.")
}

func cmdMemoryHelp(x *call) {
	x.help("MEMORY",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).")
}

// cmdMemoryUsage reports the key's accounted bytes. SAMPLES is checked as
// Redis does but changes nothing: sizes are kept exactly, not sampled.
func cmdMemoryUsage(x *call) {
	for j := 3; j < len(x.args); j++ {
		if !strings.EqualFold(string(x.args[j]), "samples") || j+1 >= len(x.args) {
			x.r.error(msgSyntax)
			return
		}
		n, ok := parseInt64(x.args[j+1])
		if !ok {
			x.r.error(msgNotInteger)
			return
		}
		if n < 0 {
			x.r.error(msgSyntax)
			return
		}
		j++
	}
	oi, ok := x.s.ks.Object(x.c.db, x.args[2])
	if !ok {
		x.r.null()
		return
	}
	x.r.int(oi.Bytes)
}

// memOverhead is Redis's getMemoryOverheadData, from Go's view of the heap
// and the keyspace's accounting.
type memOverhead struct {
	peak, total, startup, dataset, overheadTotal, keys, bytesPerKey int64
	datasetPerc, peakPerc                                           float64
	allocated, active, resident, rss                                int64
	dbs                                                             []keyspace.DBStat
}

func (s *Server) memOverhead() memOverhead {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	ks := s.ks.MemoryStats()
	m := memOverhead{
		peak: int64(ms.HeapSys), total: int64(ms.HeapAlloc), startup: s.startHeap,
		keys: ks.Keys, dbs: ks.DBs, allocated: int64(ms.HeapAlloc), active: int64(ms.HeapInuse),
		resident: int64(ms.HeapSys - ms.HeapReleased), rss: readRSS(),
	}
	var dbOverhead int64
	for _, d := range ks.DBs {
		dbOverhead += d.Overhead
	}
	m.dataset = max(ks.Dataset-dbOverhead, 0)
	m.overheadTotal = max(m.total-m.dataset, 0)
	net := m.total - m.startup
	if m.keys > 0 {
		m.bytesPerKey = net / m.keys
	}
	if net > 0 {
		m.datasetPerc = float64(m.dataset) * 100 / float64(net)
	}
	if m.peak > 0 {
		m.peakPerc = float64(m.total) * 100 / float64(m.peak)
	}
	return m
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// cmdMemoryStats replies with Redis's MEMORY STATS fields. Replication,
// AOF, Lua, functions and cluster links do not exist here and are 0;
// expires live in the entries, so overhead.hashtable.expires is 0.
func cmdMemoryStats(x *call) {
	m := x.s.memOverhead()
	r := x.r
	r.mapLen(27 + len(m.dbs))
	kv := func(k string, v int64) { r.bulkString(k); r.int(v) }
	kd := func(k string, v float64) { r.bulkString(k); r.double(v) }
	kv("peak.allocated", m.peak)
	kv("total.allocated", m.total)
	kv("startup.allocated", m.startup)
	kv("replication.backlog", 0)
	kv("clients.slaves", 0)
	kv("clients.normal", 0)
	kv("cluster.links", 0)
	kv("aof.buffer", 0)
	kv("lua.caches", 0)
	kv("functions.caches", 0)
	for _, d := range m.dbs {
		r.bulkString("db." + strconv.Itoa(d.DB))
		r.mapLen(3)
		kv("overhead.hashtable.main", d.Overhead)
		kv("overhead.hashtable.expires", 0)
		kv("overhead.hashtable.slot-to-keys", 0)
	}
	kv("overhead.total", m.overheadTotal)
	kv("keys.count", m.keys)
	kv("keys.bytes-per-key", m.bytesPerKey)
	kv("dataset.bytes", m.dataset)
	kd("dataset.percentage", m.datasetPerc)
	kd("peak.percentage", m.peakPerc)
	kv("allocator.allocated", m.allocated)
	kv("allocator.active", m.active)
	kv("allocator.resident", m.resident)
	kd("allocator-fragmentation.ratio", ratio(m.active, m.allocated))
	kv("allocator-fragmentation.bytes", m.active-m.allocated)
	kd("allocator-rss.ratio", ratio(m.resident, m.active))
	kv("allocator-rss.bytes", m.resident-m.active)
	kd("rss-overhead.ratio", ratio(m.rss, m.resident))
	kv("rss-overhead.bytes", m.rss-m.resident)
	kd("fragmentation", ratio(m.rss, m.allocated))
	kv("fragmentation.bytes", m.rss-m.allocated)
}

// cmdMemoryDoctor is Redis's getMemoryDoctorReport for the checks that
// apply (no replicas, scripts or client buffers are tracked here).
func cmdMemoryDoctor(x *call) {
	m := x.s.memOverhead()
	// Redis tests its total allocation; the Go heap also holds garbage
	// and whatever else the process runs, so the dataset decides here.
	if m.dataset < 5<<20 {
		x.r.verbatim("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
		return
	}
	var b strings.Builder
	if ratio(m.peak, m.total) > 1.5 {
		b.WriteString(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
	}
	if ratio(m.rss, m.allocated) > 1.4 && m.rss-m.allocated > 10<<20 {
		b.WriteString(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"go\".\n\n")
	}
	if b.Len() == 0 {
		x.r.verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
		return
	}
	x.r.verbatim("Sam, I detected a few issues in this Redis instance memory implants:\n\n" + b.String() + "I'm here to keep you safe, Sam. I want to help you.\n")
}

// cmdMemoryMallocStats replies as a Redis built without jemalloc does:
// Go's allocator has no such report (INFO memory has its figures).
func cmdMemoryMallocStats(x *call) {
	x.r.bulkString("Stats not supported for the current allocator")
}

// cmdMemoryPurge returns freed heap pages to the operating system.
func cmdMemoryPurge(x *call) {
	debug.FreeOSMemory()
	x.r.ok()
}

// heapObjectBytes is the heap's allocated object bytes, read without
// stopping the world.
func heapObjectBytes() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// cmdTouch counts the existing keys and updates their access clocks.
func cmdTouch(x *call) {
	x.r.int(int64(x.s.ks.Touch(x.c.db, x.args[1:])))
}
