package keyspace

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// StreamData is a whole stream as a snapshot writes it and reads it back
// (Redis's RDB_TYPE_STREAM_LISTPACKS*): its nodes as Redis lays them out,
// its metadata and its consumer groups.
type StreamData struct {
	// Nodes are the nodes in order; or, when Nodes is nil and NumNodes is
	// not 0, EachNode produces them one at a time (a snapshot's stream:
	// Item.Stream), each valid only during its call. Each reads either.
	Nodes        []StreamNode
	NumNodes     int
	EachNode     func(fn func(n *StreamNode) bool)
	Length       uint64
	LastID       StreamID
	FirstID      StreamID
	MaxDeleted   StreamID
	EntriesAdded uint64
	Groups       []StreamGroup
}

// NodeCount is the number of nodes.
func (sd *StreamData) NodeCount() int {
	if sd.Nodes == nil {
		return sd.NumNodes
	}
	return len(sd.Nodes)
}

// Each calls fn with the nodes in order until it returns false.
func (sd *StreamData) Each(fn func(i int, n *StreamNode) bool) {
	if sd.Nodes == nil && sd.EachNode != nil {
		i := 0
		sd.EachNode(func(n *StreamNode) bool {
			ok := fn(i, n)
			i++
			return ok
		})
		return
	}
	for i := range sd.Nodes {
		if !fn(i, &sd.Nodes[i]) {
			return
		}
	}
}

// StreamNode is one node: its master ID and fields, and its entries.
type StreamNode struct {
	Master       StreamID
	MasterFields [][]byte
	Entries      []StreamNodeEntry
}

// Stream entry flags, as Redis's listpacks hold them.
const (
	StreamFlagDeleted = sflagDeleted
	StreamFlagSame    = sflagSame // the entry has the master entry's fields
)

// StreamNodeEntry is an entry of a node, deleted or not; Fields is
// field, value, ... even when the entry has the master's fields.
type StreamNodeEntry struct {
	ID     StreamID
	Flags  byte
	Fields [][]byte
}

// StreamGroup is a consumer group: its pending entries (in ID order) and
// its consumers (each pending entry belongs to one of them).
type StreamGroup struct {
	Name        []byte
	LastID      StreamID
	EntriesRead int64 // -1: unknown
	PEL         []StreamNACK
	Consumers   []StreamConsumer
}

// StreamNACK is a pending entry: its last delivery time (Unix ms) and count.
type StreamNACK struct {
	ID    StreamID
	Time  int64
	Count uint64
}

// StreamConsumer is a consumer: its seen time and its pending IDs.
type StreamConsumer struct {
	Name     []byte
	SeenTime int64
	PEL      []StreamID
}

// streamSnap is what itemOf takes of a stream under the stripe lock:
// copies of the chunk headers (their bytes are never written in place)
// and of the groups.
type streamSnap struct {
	chunks                      []schunk
	length                      uint64
	lastID, firstID, maxDeleted StreamID
	entriesAdded                uint64
	groups                      []StreamGroup
}

func snapStream(s *stream) *streamSnap {
	sn := &streamSnap{length: s.length, lastID: s.lastID, firstID: s.firstID, maxDeleted: s.maxDeleted, entriesAdded: s.entriesAdded}
	sn.chunks = make([]schunk, len(s.chunks))
	for i, c := range s.chunks {
		sn.chunks[i] = *c
	}
	sn.groups = s.exportGroups()
	return sn
}

func (s *stream) exportGroups() []StreamGroup {
	out := make([]StreamGroup, len(s.groups))
	for i, g := range s.groups {
		sg := StreamGroup{Name: []byte(g.name), LastID: g.last, EntriesRead: g.read, PEL: make([]StreamNACK, len(g.pel))}
		for j, n := range g.pel {
			sg.PEL[j] = StreamNACK{n.id, n.time, n.count}
		}
		for _, c := range g.conss {
			sc := StreamConsumer{Name: []byte(c.name), SeenTime: c.seen, PEL: make([]StreamID, len(c.pel))}
			for j, n := range c.pel {
				sc.PEL[j] = n.id
			}
			sg.Consumers = append(sg.Consumers, sc)
		}
		out[i] = sg
	}
	return out
}

// Stream is a KindStream item's value, from what the snapshot took (no
// lock held). Its nodes are produced one at a time (EachNode), in one
// reused buffer, so a save does not hold a large stream twice; their byte
// slices are shared with the keyspace and must not be modified.
func (it *Item) Stream() *StreamData {
	sn := it.stream
	if sn == nil {
		return nil
	}
	sd := &StreamData{Length: sn.length, LastID: sn.lastID, FirstID: sn.firstID, MaxDeleted: sn.maxDeleted,
		EntriesAdded: sn.entriesAdded, Groups: sn.groups, NumNodes: len(sn.chunks)}
	sd.EachNode = func(fn func(n *StreamNode) bool) {
		var n StreamNode
		var fields [][]byte
		for i := range sn.chunks {
			c := &sn.chunks[i]
			n.Master, n.MasterFields, n.Entries, fields = c.master, n.MasterFields[:0], n.Entries[:0], fields[:0]
			for off := 0; off < len(c.mfields); {
				var f []byte
				f, off = readStr(c.mfields, off)
				n.MasterFields = append(n.MasterFields, f)
			}
			c.each(func(e sentry) bool {
				start := len(fields)
				fields = c.appendFields(fields, e)
				n.Entries = append(n.Entries, StreamNodeEntry{ID: e.id, Flags: e.flags, Fields: fields[start:len(fields):len(fields)]})
				return true
			})
			if !fn(&n) {
				return
			}
		}
	}
	return sd
}

// ValidateStream reports why sd cannot be a stream: IDs out of order, a
// length that is not the count of live entries, a last ID below an
// entry's, pending entries that are duplicated, unowned or owned twice.
func ValidateStream(sd *StreamData) error {
	// Live entries are in ID order, and each node's master ID is above
	// the live entries before it; a tombstone may be out of order (XSETID
	// may lower the last ID below it, and XADD then adds below it).
	var prev, prevMaster StreamID
	var live uint64
	have := false
	var err error
	last := sd.NodeCount() - 1
	sd.Each(func(i int, n *StreamNode) bool {
		err = validateNode(i, n, i == last, &prev, &prevMaster, &live, &have)
		return err == nil
	})
	if err != nil {
		return err
	}
	if live != sd.Length {
		return fmt.Errorf("stream length %d, but %d live entries", sd.Length, live)
	}
	if have && sd.LastID.Cmp(prev) < 0 {
		return fmt.Errorf("stream last ID %v below entry %v", sd.LastID, prev)
	}
	names := map[string]bool{}
	for _, g := range sd.Groups {
		if names[string(g.Name)] {
			return fmt.Errorf("duplicate consumer group %q", g.Name)
		}
		names[string(g.Name)] = true
		owner := make(map[StreamID]int, len(g.PEL))
		for _, n := range g.PEL {
			if _, dup := owner[n.ID]; dup {
				return fmt.Errorf("group %q: duplicate pending entry %v", g.Name, n.ID)
			}
			owner[n.ID] = 0
		}
		cnames := map[string]bool{}
		for _, c := range g.Consumers {
			if cnames[string(c.Name)] {
				return fmt.Errorf("group %q: duplicate consumer %q", g.Name, c.Name)
			}
			cnames[string(c.Name)] = true
			for _, id := range c.PEL {
				k, ok := owner[id]
				switch {
				case !ok:
					return fmt.Errorf("group %q: consumer %q: entry %v not in the group's pending entries", g.Name, c.Name, id)
				case k != 0:
					return fmt.Errorf("group %q: pending entry %v owned twice", g.Name, id)
				}
				owner[id] = 1
			}
		}
		for id, k := range owner {
			if k == 0 {
				return fmt.Errorf("group %q: pending entry %v has no consumer", g.Name, id)
			}
		}
	}
	return nil
}

// EstimateEntriesRead is streamEstimateDistanceFromFirstEverEntry on sd
// (a group's entries_read, when a Redis 5 or 6 file has none); -1:
// unknown.
func (sd *StreamData) EstimateEntriesRead(id StreamID) int64 {
	s := stream{length: sd.Length, lastID: sd.LastID, firstID: sd.FirstID, maxDeleted: sd.MaxDeleted, entriesAdded: sd.EntriesAdded}
	return s.estimateDistance(id)
}

// validateNode is ValidateStream's check of node i, given what the nodes
// before it left in prev (the last live ID), prevMaster, live and have.
// Only the last node may hold entries below its master ID: Redis makes
// one when XSETID lowers the last ID of a stream whose live entries are
// all gone from a node it kept (a MINID trim keeps a node of tombstones)
// and XADD then appends below the master; sessiond drops such a node
// first (stream.append), but loads Redis's.
func validateNode(i int, n *StreamNode, last bool, prev, prevMaster *StreamID, live *uint64, have *bool) error {
	if len(n.Entries) == 0 {
		return fmt.Errorf("stream node %d has no entries", i)
	}
	if i > 0 && n.Master.Cmp(*prevMaster) <= 0 {
		return fmt.Errorf("stream node %d: master ID %v not above %v", i, n.Master, *prevMaster)
	}
	if *have && n.Master.Cmp(*prev) <= 0 {
		return fmt.Errorf("stream node %d: master ID %v not above entry %v", i, n.Master, *prev)
	}
	*prevMaster = n.Master
	for _, e := range n.Entries {
		if e.ID.Cmp(n.Master) < 0 && !last {
			return fmt.Errorf("stream node %d: entry %v below its master ID %v", i, e.ID, n.Master)
		}
		if len(e.Fields)%2 != 0 || e.Flags&^(sflagDeleted|sflagSame) != 0 {
			return fmt.Errorf("stream node %d: malformed entry %v", i, e.ID)
		}
		if e.Flags&sflagSame != 0 && len(e.Fields) != 2*len(n.MasterFields) {
			return fmt.Errorf("stream node %d: entry %v: master fields do not match", i, e.ID)
		}
		if e.Flags&sflagDeleted != 0 {
			continue
		}
		if *have && e.ID.Cmp(*prev) <= 0 {
			return fmt.Errorf("stream node %d: entry %v not above %v", i, e.ID, *prev)
		}
		*prev, *have = e.ID, true
		*live++
	}
	return nil
}

var errStreamInvalid = errors.New("keyspace: invalid stream")

// newStreamOf builds a stream of sd (checked by ValidateStream), copying
// its bytes.
func newStreamOf(sd *StreamData) (*stream, error) {
	if err := ValidateStream(sd); err != nil {
		return nil, fmt.Errorf("%w: %v", errStreamInvalid, err)
	}
	s := &stream{length: sd.Length, lastID: sd.LastID, firstID: sd.FirstID, maxDeleted: sd.MaxDeleted, entriesAdded: sd.EntriesAdded}
	sd.Each(func(_ int, n *StreamNode) bool {
		fv := make([][]byte, 0, 2*len(n.MasterFields))
		for _, f := range n.MasterFields {
			fv = append(fv, f, nil)
		}
		c := newSChunk(n.Master, fv)
		for _, e := range n.Entries {
			fl := e.Flags
			if fl&sflagSame != 0 && !c.sameFields(e.Fields) {
				fl &^= sflagSame
			}
			c.add(e.ID, e.Fields, fl)
		}
		c.seal()
		s.chunks = append(s.chunks, c)
		s.cmem += c.mem()
		return true
	})
	for _, sg := range sd.Groups {
		g := &cgroup{name: string(sg.Name), last: sg.LastID, read: sg.EntriesRead}
		byID := make(map[StreamID]*nack, len(sg.PEL))
		for _, n := range sg.PEL {
			nk := &nack{id: n.ID, time: n.Time, count: n.Count}
			byID[n.ID] = nk
			g.pel = append(g.pel, nk)
		}
		slices.SortFunc(g.pel, func(a, b *nack) int { return a.id.Cmp(b.id) })
		for _, sc := range sg.Consumers {
			c := &consumer{name: string(sc.Name), seen: sc.SeenTime}
			for _, id := range sc.PEL {
				nk := byID[id]
				nk.cons = c
				c.pel = append(c.pel, nk)
			}
			slices.SortFunc(c.pel, func(a, b *nack) int { return a.id.Cmp(b.id) })
			g.conss = append(g.conss, c)
		}
		slices.SortFunc(g.conss, func(a, b *consumer) int { return bytes.Compare([]byte(a.name), []byte(b.name)) })
		g.countConsumers()
		s.groups = append(s.groups, g)
	}
	slices.SortFunc(s.groups, func(a, b *cgroup) int { return bytes.Compare([]byte(a.name), []byte(b.name)) })
	s.countGroups()
	return s, nil
}

// RestoreStream stores a stream loaded from a snapshot, replacing any
// existing key. sd must pass ValidateStream.
func (ks *Keyspace) RestoreStream(dbi int, key []byte, sd *StreamData, deadline int64) error {
	st, err := newStreamOf(sd)
	if err != nil {
		return err
	}
	ks.restore(dbi, key, streamEntry(st, deadline))
	return nil
}
