package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"sessiond/keyspace"
)

// Keyspace is what snapshots need from the keyspace; *keyspace.Keyspace
// implements it.
type Keyspace interface {
	Walk(db int, fn func(items []keyspace.Item) error) error
	Size(db int) (keys, expires int)
	RestoreString(db int, key, val []byte, deadline int64)
	RestoreSet(db int, key []byte, members [][]byte, deadline int64)
	RestoreHash(db int, key []byte, pairs [][]byte, deadline int64)
	RestoreZSet(db int, key []byte, members [][]byte, scores []float64, deadline int64)
	RestoreList(db int, key []byte, elems [][]byte, deadline int64)
	RestoreStream(db int, key []byte, s *keyspace.StreamData, deadline int64) error
	Dirty() int64
	NowMs() int64
}

var _ Keyspace = (*keyspace.Keyspace)(nil)

// Save writes every database of ks to w as an RDB file and returns the
// number of keys written. It walks the keyspace stripe by stripe (see
// keyspace.Walk): each stripe's lock is held only while references are
// taken, so the file is consistent per key, not across keys. A MULTI/EXEC
// that lands while a save is running may be half in the file: its writes to
// stripes already visited are missing, those to stripes not yet visited are
// present.
func Save(w io.Writer, ks Keyspace, aux map[string]string) (int64, error) {
	return save(w, ks, aux, nil, true)
}

// SaveWithFunctions is Save with the function libraries' code written
// before the databases, as Redis writes them.
func SaveWithFunctions(w io.Writer, ks Keyspace, aux map[string]string, libs [][]byte) (int64, error) {
	return save(w, ks, aux, libs, true)
}

// save is Save; yieldP says whether it yields its P (runtime.Gosched) as
// well as the CPU every yieldEvery keys. A background save, which has a P
// of its own on a locked thread (inBackground), does not: there a Gosched
// hands the P to another thread and back, about 8 µs each, and dropping it
// sped the save from 246 to 368 MB/s (medians of 6 rounds) with fewer
// requests over 1 ms during it (4,350 against 6,050) and the same p99
// within the noise (4.7 against 4.1 ms).
func save(w io.Writer, ks Keyspace, aux map[string]string, libs [][]byte, yieldP bool) (int64, error) {
	enc := NewEncoder(w)
	if err := enc.WriteHeader(aux); err != nil {
		return 0, err
	}
	for _, code := range libs {
		if err := enc.WriteFunction(code); err != nil {
			return 0, err
		}
	}
	var n int64
	var rec Record
	var rb recordBuf
	var sink byte
	defer func() { warmSink.Store(uint32(sink)) }()
	for db := range keyspace.NumDBs {
		keys, expires := ks.Size(db)
		if keys == 0 {
			continue
		}
		if err := enc.SelectDB(db, uint64(keys), uint64(expires)); err != nil {
			return n, err
		}
		err := ks.Walk(db, func(items []keyspace.Item) error {
			for i := range items {
				if i%yieldEvery == 0 {
					// Let request goroutines queued behind the save run
					// first: this keeps a save from holding a P for a whole
					// 10 ms scheduler slice (2 Ps on a 2-core box), and
					// restarts the slice before Walk takes the next stripe
					// lock, so the save is not preempted holding it (not
					// in the background, on a P of its own: see save).
					// Then let other threads have the CPU (no lock is held
					// here).
					if yieldP {
						runtime.Gosched()
					}
					osYield()
				}
				if i%warmAhead == 0 {
					if i == 0 {
						sink ^= warm(items[:min(warmAhead, len(items))])
					}
					sink ^= warm(items[min(i+warmAhead, len(items)):min(i+2*warmAhead, len(items))])
				}
				it := &items[i]
				if it.Kind == keyspace.KindString {
					// The key's bytes are read, never written or kept, by
					// the encoder, so no copy is needed.
					rec = Record{DB: db, Key: unsafe.Slice(unsafe.StringData(it.Key), len(it.Key)), Str: it.Str, ExpireMs: it.Deadline}
					if err := enc.WriteRecord(&rec); err != nil {
						return err
					}
					n++
					continue
				}
				if err := rb.record(db, it, &rec); err != nil {
					return err
				}
				if err := enc.WriteRecord(&rec); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, enc.Close()
}

// recordBuf holds the copies a Record of a set, hash, sorted set or list
// is made of. Keys and members are copied into buf, reused for every
// record, so a save makes no garbage per key (the encoder does not keep
// the record).
type recordBuf struct {
	buf     []byte
	members [][]byte
	scores  []float64
	ends    []int
}

// record sets rec to it, a key of db that is not a string, in b's memory
// (valid until the next call).
func (b *recordBuf) record(db int, it *keyspace.Item, rec *Record) error {
	buf := append(b.buf[:0], it.Key...)
	ends := b.ends[:0]
	for _, m := range it.Members {
		buf = append(buf, m...)
		ends = append(ends, len(buf))
	}
	members, scores := b.members, b.scores
	*rec = Record{DB: db, ExpireMs: it.Deadline}
	switch it.Kind {
	case keyspace.KindHash:
		rec.Kind = KindHash
		buf, members, ends = hashRecord(it, buf, members, ends)
		rec.Fields = members
	case keyspace.KindZSet:
		rec.Kind = KindZSet
		buf, members, scores, ends = zsetRecord(it, buf, members, scores, ends)
		rec.Members = members
		rec.Scores = scores
	case keyspace.KindList:
		rec.Kind = KindList
		buf, members, ends = listRecord(it, buf, members, ends)
		rec.Members = members
	case keyspace.KindStream:
		rec.Kind = KindStream
		rec.Stream = it.Stream()
	case keyspace.KindSet:
		rec.Kind = KindSet
		members = members[:0]
		start := len(it.Key)
		for _, end := range ends {
			members = append(members, buf[start:end:end])
			start = end
		}
		rec.Members = members
	default: // a kind added to the keyspace but not here: fail, not an empty string
		return fmt.Errorf("snapshot: no encoding for key %q of type %v", it.Key, it.Kind)
	}
	rec.Key = buf[:len(it.Key)]
	b.buf, b.members, b.scores, b.ends = buf, members, scores, ends
	return nil
}

// DumpItem returns the DUMP payload of it's value (Dump).
func DumpItem(it *keyspace.Item) ([]byte, error) {
	if it.Kind == keyspace.KindString {
		return Dump(&Record{Kind: KindString, Str: it.Str})
	}
	var rb recordBuf
	var rec Record
	if err := rb.record(0, it, &rec); err != nil {
		return nil, err
	}
	return Dump(&rec)
}

// yieldEvery is how many keys a save encodes between yields
// (runtime.Gosched and osYield): about 150 µs of work for session-sized
// values.
const yieldEvery = 256

// warmAhead is how many items ahead of the encoder warm loads keys and
// values, and how many it loads at a time.
const warmAhead = 32

// warmSink keeps warm's loads from being optimised away.
var warmSink atomic.Uint32

// warm reads one byte of every cache line of the first warmSpan bytes of
// each item's key and string value. Keys and values are scattered over the
// heap, and copying them one after the other into the encoder's buffer
// took a cache (and TLB) miss each, in series: most of a save's CPU time
// (pprof: runtime.memmove under writeString). Loading a group of them in
// one short loop lets those misses overlap, so the copies that follow hit
// the cache.
func warm(items []keyspace.Item) byte {
	const warmSpan = 512
	var x byte
	for i := range items {
		it := &items[i]
		if k := it.Key; len(k) > 0 {
			x ^= k[0] ^ k[len(k)-1]
		}
		s := it.Str
		if len(s) > warmSpan {
			s = s[:warmSpan]
		}
		for j := 0; j < len(s); j += 64 {
			x ^= s[j]
		}
		if len(s) > 0 {
			x ^= s[len(s)-1]
		}
	}
	return x
}

// reserver is implemented by a keyspace that can size its databases
// before a load (*keyspace.Keyspace).
type reserver interface{ Reserve(db, keys int) }

// presizeBytes is the fewest file bytes Load assumes per key when it sizes
// a database from RESIZEDB. A session takes a few hundred; a file that
// claims more keys than its size allows at this rate gets only that many
// reserved, so a lying count makes a load hold at most about as much
// memory in empty map slots (some 50 bytes a key) as the file's size, and
// a real file of smaller records merely grows its maps for the rest.
const presizeBytes = 64

// LoadStats describes a completed load.
type LoadStats struct {
	Keys    int64 // keys restored
	Expired int64 // keys skipped because their deadline had passed
	Skipped int64 // values of unsupported types skipped (with SkipUnsupported)
	// Functions is the number of function libraries given to OnFunction.
	Functions int64
	Bytes     int64
}

// LoadOptions configures Load.
type LoadOptions struct {
	SkipUnsupported bool
	Logger          *slog.Logger
	// Progress is how often a progress line is logged; 0 means every 2s.
	Progress time.Duration
	// OnFunction, if non-nil, loads a function library's code; without
	// it libraries are unsupported (or skipped). See DecoderOptions.
	OnFunction func(code []byte) error
}

// Load reads an RDB file from r into ks. Keys whose deadline has already
// passed are skipped. On a damaged file it returns an error naming the
// offset and reason; what was loaded before the damage stays loaded, so the
// caller must refuse to serve.
func Load(r io.Reader, ks Keyspace, o LoadOptions) (LoadStats, error) {
	var st LoadStats
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	every := o.Progress
	if every == 0 {
		every = 2 * time.Second
	}
	var dec *Decoder
	reserve, _ := ks.(reserver)
	var onFunction func([]byte) error
	if o.OnFunction != nil {
		onFunction = func(code []byte) error {
			st.Functions++
			return o.OnFunction(code)
		}
	}
	dec, err := NewDecoder(r, DecoderOptions{
		SkipUnsupported: o.SkipUnsupported,
		ConcurrentCRC:   true,
		OnFunction:      onFunction,
		OnResizeDB: func(db int, keys, _ uint64) {
			// RESIZEDB is unchecked: believe it only as far as the rest of
			// the file could back it (see presizeBytes).
			if rem := dec.Remaining(); reserve != nil && rem > 0 {
				reserve.Reserve(db, int(min(keys, uint64(rem)/presizeBytes)))
			}
		},
		OnSkip: func(db int, key []byte, typ string) {
			if strings.HasPrefix(typ, "empty ") { // an empty set, hash, zset or list: Redis drops these on load too
				return
			}
			st.Skipped++
			log.Warn("skipped key of unsupported type", "db", db, "key", string(key), "type", typ)
		},
	})
	if err != nil {
		return st, err
	}
	defer dec.Close()
	now := ks.NowMs()
	last := time.Now()
	for {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			st.Bytes = dec.Offset()
			return st, nil
		}
		if err != nil {
			return st, err
		}
		if rec.ExpireMs != 0 && rec.ExpireMs < now {
			st.Expired++
			continue
		}
		switch rec.Kind {
		case KindString:
			ks.RestoreString(rec.DB, rec.Key, rec.Str, rec.ExpireMs)
		case KindSet:
			ks.RestoreSet(rec.DB, rec.Key, rec.Members, rec.ExpireMs)
		case KindHash:
			ks.RestoreHash(rec.DB, rec.Key, rec.Fields, rec.ExpireMs)
		case KindZSet:
			ks.RestoreZSet(rec.DB, rec.Key, rec.Members, rec.Scores, rec.ExpireMs)
		case KindList:
			ks.RestoreList(rec.DB, rec.Key, rec.Members, rec.ExpireMs)
		case KindStream:
			if err := ks.RestoreStream(rec.DB, rec.Key, rec.Stream, rec.ExpireMs); err != nil {
				return st, err // the decoder checked it: not expected
			}
		}
		st.Keys++
		if st.Keys%4096 == 0 && time.Since(last) >= every {
			last = time.Now()
			log.Info("loading snapshot", "keys", st.Keys, "offset", dec.Offset())
		}
	}
}

// ErrInProgress is returned by Manager.Save and BGSave while a save is
// running. Its text is Redis's reply text.
var ErrInProgress = errors.New("Background save already in progress")

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	Keyspace Keyspace
	// Dir and File return the current directory and file name (they can
	// change with CONFIG SET).
	Dir, File func() string
	Logger    *slog.Logger
	// Functions, if non-nil, returns the function libraries' code to
	// write in every snapshot.
	Functions func() [][]byte
}

// Manager runs snapshots: periodic ones, SAVE, BGSAVE and the final one at
// shutdown. At most one runs at a time.
type Manager struct {
	o       ManagerOptions
	log     *slog.Logger
	running atomic.Bool
	wg      sync.WaitGroup

	lastSave    atomic.Int64 // Unix seconds of the last successful save
	lastOK      atomic.Bool
	lastSecs    atomic.Int64
	lastNanos   atomic.Int64 // duration of the last successful save
	dirtyAtSave atomic.Int64
}

// NewManager returns a manager; nothing runs until Run, Save or BGSave.
func NewManager(o ManagerOptions) *Manager {
	m := &Manager{o: o, log: o.Logger}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.lastSave.Store(time.Now().Unix())
	m.lastOK.Store(true)
	m.dirtyAtSave.Store(o.Keyspace.Dirty())
	return m
}

// Path is the snapshot file's current path.
func (m *Manager) Path() string { return filepath.Join(m.o.Dir(), m.o.File()) }

// Save writes a snapshot now and waits for it.
func (m *Manager) Save() error {
	if !m.running.CompareAndSwap(false, true) {
		return ErrInProgress
	}
	defer m.running.Store(false)
	return m.save(false)
}

// Exclusive runs fn while no snapshot is being written: it waits for a
// save under way to end, and until fn returns a BGSAVE answers
// ErrInProgress and the periodic save waits for its next turn. With save
// set it writes a snapshot first (an error stops it before fn). DEBUG
// RELOAD runs in it: a background save walking the keyspace while the
// reload empties and refills it would write a partial file, and one that
// started before would not be the file the reload loads.
func (m *Manager) Exclusive(save bool, fn func() error) error {
	for !m.running.CompareAndSwap(false, true) {
		m.wg.Wait() // a background save; a foreground one ends on its own
		time.Sleep(time.Millisecond)
	}
	defer m.running.Store(false)
	if save {
		if err := m.save(false); err != nil {
			return err
		}
	}
	return fn()
}

// BGSave starts a snapshot in the background.
func (m *Manager) BGSave() error {
	if !m.running.CompareAndSwap(false, true) {
		return ErrInProgress
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer m.running.Store(false)
		inBackground(func() { m.save(true) }) // logged and recorded in the status
	}()
	return nil
}

// Wait waits for a background save to finish.
func (m *Manager) Wait() { m.wg.Wait() }

// save writes a snapshot; background: on inBackground's locked thread.
func (m *Manager) save(background bool) error {
	start := time.Now()
	dirty := m.o.Keyspace.Dirty()
	dir, file := m.o.Dir(), m.o.File()
	m.log.Info("snapshot started", "path", filepath.Join(dir, file))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		m.fail(err)
		return err
	}
	var keys int64
	var size int64
	err := WriteFileAtomic(dir, file, func(w io.Writer) error {
		cw := &countingWriter{w: w}
		aux := map[string]string{
			"redis-ver": "7.2.4", "redis-bits": "64", "ctime": strconv.FormatInt(time.Now().Unix(), 10),
			"used-mem": "0", "aof-base": "0",
		}
		var libs [][]byte
		if m.o.Functions != nil {
			libs = m.o.Functions()
		}
		n, err := save(cw, m.o.Keyspace, aux, libs, !background)
		keys, size = n, cw.n
		return err
	})
	if err != nil {
		m.fail(err)
		return err
	}
	d := time.Since(start)
	m.lastSave.Store(time.Now().Unix())
	m.lastOK.Store(true)
	m.lastSecs.Store(int64(d.Seconds()))
	m.lastNanos.Store(int64(d))
	m.dirtyAtSave.Store(dirty)
	m.log.Info("snapshot written", "keys", keys, "bytes", size, "duration", d.Round(time.Millisecond),
		"mb_per_s", fmt.Sprintf("%.0f", float64(size)/(1<<20)/max(d.Seconds(), 1e-9)))
	return nil
}

func (m *Manager) fail(err error) {
	m.lastOK.Store(false)
	m.log.Error("snapshot failed", "err", err)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// LastSave is the Unix time of the last successful save (start time if none).
func (m *Manager) LastSave() int64 { return m.lastSave.Load() }

// Status is the state INFO's persistence section reports.
type Status struct {
	ChangesSinceSave int64
	InProgress       bool
	LastSaveTime     int64
	LastOK           bool
	LastSeconds      int64
	LastDuration     time.Duration
}

// Status returns the current state.
func (m *Manager) Status() Status {
	return Status{
		ChangesSinceSave: m.o.Keyspace.Dirty() - m.dirtyAtSave.Load(),
		InProgress:       m.running.Load(),
		LastSaveTime:     m.lastSave.Load(),
		LastOK:           m.lastOK.Load(),
		LastSeconds:      m.lastSecs.Load(),
		LastDuration:     time.Duration(m.lastNanos.Load()),
	}
}

// Run saves every interval() while there were changes, until ctx is done.
// interval is read each time so that CONFIG SET save-interval applies; 0
// disables periodic saves.
func (m *Manager) Run(ctx context.Context, interval func() time.Duration) {
	const poll = time.Second
	next := time.Now().Add(interval())
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			iv := interval()
			if iv <= 0 {
				next = now.Add(poll)
				continue
			}
			if now.Before(next) && now.Before(time.Unix(m.lastSave.Load(), 0).Add(iv)) {
				continue
			}
			next = now.Add(iv)
			if m.Status().ChangesSinceSave > 0 {
				_ = m.BGSave()
			}
		}
	}
}

// LoadFile loads path into the keyspace if it exists. A missing file is
// not an error (a fresh server). Errors name the file.
func LoadFile(path string, ks Keyspace, o LoadOptions) (LoadStats, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return LoadStats{}, nil
	}
	if err != nil {
		return LoadStats{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer f.Close()
	st, err := Load(f, ks, o) // the decoder buffers, and learns the size from *os.File
	if err != nil {
		return st, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return st, nil
}
