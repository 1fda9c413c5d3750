package keyspace

import (
	"sync/atomic"
)

// ValueInfo describes a stored value for OBJECT ENCODING, MEMORY USAGE and
// the memory accounting.
type ValueInfo struct {
	Encoding string // Redis's name for the representation; "" unless asked for
	Bytes    int64  // heap bytes of the value, beyond its entry and key
}

// valueInfo describes e's value; the encoding only if wantEnc (it may cost
// a parse, and the accounting on every write needs only the size). A new
// kind adds one case here.
func valueInfo(e *entry, wantEnc bool) ValueInfo {
	var v ValueInfo
	switch e.kind() {
	case KindString:
		v.Bytes = entryBytesSize(*e)
		if wantEnc {
			v.Encoding = stringEncoding(e.bytes())
		}
	case KindSet:
		s := e.setPtr()
		if s.big != nil {
			v.Bytes = setStructBytes + bigSetStructBytes + setMapBase + int64(len(s.big.m))*setMapSlot + s.big.mbytes
			v.Encoding = "hashtable"
		} else {
			v.Bytes = setStructBytes + allocSize(cap(s.packed))
			if wantEnc {
				v.Encoding = packedSetEncoding(s)
			}
		}
	case KindHash:
		if hm := e.hashMapPtr(); hm != nil {
			v.Bytes = hashMapStructBytes + setMapBase + hashMapBytes(hm.m)
			v.Encoding = "hashtable"
		} else {
			v.Bytes = entryBytesSize(*e)
			v.Encoding = "listpack"
		}
	case KindZSet:
		z := e.zsetPtr()
		v.Bytes = z.bytes()
		v.Encoding = z.encoding()
	case KindList:
		l := e.listPtr()
		v.Bytes = l.bytes()
		v.Encoding = l.encoding()
	case KindStream:
		v.Bytes = e.streamPtr().bytes()
		v.Encoding = "stream"
	}
	return v
}

// entryBytesSize is the heap bytes of e's string or packed hash. Stored
// bytes are allocated at their length (bytes.Clone, make), so their
// allocation is len rounded up to a size class; a boxed huge value adds
// its 24-byte slice header (size class 24).
func entryBytesSize(e entry) int64 {
	n := allocSize(len(e.bytes()))
	if e.n == bigLen {
		n += 24
	}
	return n
}

// hashMapSlot is one map[string]string slot (two string headers and a
// control byte) at 7/8 load.
const hashMapSlot = (32+1)*8/7 + 1

// hashMapBytes estimates a large hash's map: its slots plus its strings,
// extrapolated from a sample of fields as Redis's MEMORY USAGE samples
// (a large hash has over 512 fields; summing all on every write would
// make each HSET linear). Go's map iteration starts at a random place.
func hashMapBytes(m map[string]string) int64 {
	const sample = 8
	var n, strs int64
	for f, v := range m {
		strs += allocSize(len(f)) + allocSize(len(v))
		if n++; n == sample {
			break
		}
	}
	if n == 0 {
		return 0
	}
	return int64(len(m))*hashMapSlot + strs*int64(len(m))/n
}

// stringEncoding is what Redis's tryObjectEncoding makes of a string
// value: "int" for a canonical 64-bit integer of at most 20 characters,
// "embstr" up to 44 bytes (OBJ_ENCODING_EMBSTR_SIZE_LIMIT), else "raw".
func stringEncoding(b []byte) string {
	if isRedisInt(b) {
		return "int"
	}
	if len(b) <= 44 {
		return "embstr"
	}
	return "raw"
}

// isRedisInt is Redis's string2l: the exact decimal form of an int64, no
// sign other than a leading '-', no leading zeros, no "-0".
func isRedisInt(b []byte) bool {
	_, ok := ParseInt(b) // the same rules, without allocating
	return ok
}

// packedSetEncoding names a packed set as Redis 7.2 would store the same
// members: an intset when every member is an integer, else a listpack
// (both hold at most 128 members here; see doc.go).
func packedSetEncoding(s *set) string {
	enc := "intset"
	s.each(func(m []byte) bool {
		if !isRedisInt(m) {
			enc = "listpack"
			return false
		}
		return true
	})
	return enc
}

// ObjectInfo is what OBJECT, MEMORY USAGE and DEBUG OBJECT report about a
// key.
type ObjectInfo struct {
	Kind     Kind
	Encoding string
	// LRU is the key's access clock as Redis's robj.lru holds it (24
	// bits): LRU seconds, or under an LFU policy the minutes and counter.
	LRU uint32
	// IdleMs is the LRU idle time, as Redis's estimateObjectIdleTime reads
	// LRU whatever the policy (meaningful when the policy is not LFU).
	IdleMs int64
	// Freq is the decayed LFU counter (meaningful when the policy is LFU).
	Freq int
	// Shared is true for an integer Redis would store as one of its shared
	// objects (0..9999, unless an LRU/LFU maxmemory policy is set): OBJECT
	// REFCOUNT reports INT_MAX for those.
	Shared bool
	// Bytes is MEMORY USAGE: the key, its value, its map slot and metadata.
	Bytes int64
}

// Object describes key without touching its access clock, as Redis's
// OBJECT and MEMORY USAGE look keys up (LOOKUP_NOTOUCH).
func (ks *Keyspace) Object(dbi int, key []byte) (ObjectInfo, bool) {
	s := ks.db(dbi).stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := ks.peekLocked(s, key, now)
	if !ok {
		s.mu.RUnlock()
		return ObjectInfo{}, false
	}
	oi := objectInfoLocked(s, key, &e)
	s.mu.RUnlock()
	ks.finishObjectInfo(&oi, &e, now)
	return oi, true
}

// Inspect returns key's value, as Dump does, and what Object says of it,
// finding the key as Redis's DEBUG OBJECT and DEBUG DIGEST-VALUE do:
// straight in the dictionary, so a key past its deadline that is not
// reclaimed yet is found. It counts no hit or miss, notifies nothing and
// does not touch the access clock.
func (ks *Keyspace) Inspect(dbi int, key []byte) (Item, ObjectInfo, bool) {
	s := ks.db(dbi).stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := s.m[string(key)]
	if !ok {
		s.mu.RUnlock()
		return Item{}, ObjectInfo{}, false
	}
	it := itemOf(string(key), e)
	oi := objectInfoLocked(s, key, &e)
	s.mu.RUnlock()
	ks.finishObjectInfo(&oi, &e, now)
	return it, oi, true
}

// objectInfoLocked is the part of e's ObjectInfo read under s's lock,
// held for reading.
func objectInfoLocked(s *stripe, key []byte, e *entry) ObjectInfo {
	meta := s.metaLoad(e.slot())
	vi := valueInfo(e, true)
	bytes := mapSlotBytes + metaSlotBytes + allocSize(len(key)) + vi.Bytes // entrySize, without a second valueInfo
	return ObjectInfo{Kind: e.kind(), Encoding: vi.Encoding, Bytes: bytes, LRU: uint32(meta & clockMask)}
}

// finishObjectInfo fills in the rest of oi, with no lock held (a stored
// value is never written in place).
func (ks *Keyspace) finishObjectInfo(oi *ObjectInfo, e *entry, now int64) {
	p := ks.EvictParams()
	oi.IdleMs = lruIdleMs(oi.LRU, now)
	if p.Policy.LFU() {
		oi.Freq = int(p.lfuDecr(oi.LRU, now))
	}
	if oi.Encoding == "int" && (p.MaxMemory == 0 || !(p.Policy.LRU() || p.Policy.LFU())) {
		n, _ := ParseInt(e.bytes())
		oi.Shared = n >= 0 && n < 10000
	}
}

// MemoryStats are the keyspace's figures for MEMORY STATS.
type MemoryStats struct {
	Keys    int64    // keys in every database (expired ones not yet reclaimed included)
	Dataset int64    // accounted bytes of every key (UsedMemory)
	DBs     []DBStat // databases holding keys
}

// DBStat is one database's overhead, as MEMORY STATS's db.<n> map.
type DBStat struct {
	DB       int
	Keys     int64
	Expires  int64
	Overhead int64 // map slots and metadata of its keys
}

// MemoryStats counts keys and accounted bytes, one stripe at a time.
func (ks *Keyspace) MemoryStats() MemoryStats {
	var st MemoryStats
	for dbi := range NumDBs {
		keys, exp := ks.Size(dbi)
		if keys == 0 {
			continue
		}
		st.Keys += int64(keys)
		st.DBs = append(st.DBs, DBStat{DB: dbi, Keys: int64(keys), Expires: int64(exp),
			Overhead: int64(keys) * (mapSlotBytes + metaSlotBytes)})
	}
	st.Dataset = ks.UsedMemory()
	return st
}

// AccessClock returns key's raw access metadata (LRU clock or LFU
// counter), without touching it; ok is false if the key is absent. With
// RestoreAccessClock it lets a CLIENT NO-TOUCH connection run a command
// without its reads counting as accesses.
func (ks *Keyspace) AccessClock(dbi int, key []byte) (clock uint32, ok bool) {
	s := ks.db(dbi).stripeFor(key)
	s.mu.RLock()
	if e, found := s.m[string(key)]; found {
		clock, ok = uint32(s.metaLoad(e.slot())&clockMask), true
	}
	s.mu.RUnlock()
	return clock, ok
}

// RestoreAccessClock sets key's access metadata back to clock, if the key
// still exists.
func (ks *Keyspace) RestoreAccessClock(dbi int, key []byte, clock uint32) {
	s := ks.db(dbi).stripeFor(key)
	s.mu.RLock()
	if e, found := s.m[string(key)]; found && e.slot() != 0 {
		p := &s.meta[e.slot()]
		for {
			v := atomic.LoadUint64(p)
			if atomic.CompareAndSwapUint64(p, v, v&^clockMask|uint64(clock)) {
				break
			}
		}
	}
	s.mu.RUnlock()
}

// Touch counts how many of keys exist, updating their access clocks
// (TOUCH; EXISTS does not touch).
func (ks *Keyspace) Touch(dbi int, keys [][]byte) int {
	db := ks.db(dbi)
	now := ks.NowMs()
	n := 0
	for _, k := range keys {
		s := db.stripeFor(k)
		s.mu.RLock()
		_, ok := ks.getLocked(s, k, now, false)
		s.mu.RUnlock()
		if ok {
			n++
		} else {
			ks.notifyMiss(dbi, k)
		}
	}
	return n
}
