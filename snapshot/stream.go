package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"sessiond/keyspace"
)

// Streams. The Encoder writes RDB_TYPE_STREAM_LISTPACKS_2 (19), as Redis
// 7.0 does at RDB version 10:
//
//	<length nodes> then per node <string: master ID, 16 bytes big-endian>
//	  <string: the node's listpack>
//	<length entries> <length last ms> <length last seq>
//	<length first ms> <length first seq> <length max-deleted ms> <length seq>
//	<length entries-added>
//	<length groups> then per group <string name> <length last ms> <length seq>
//	  <length entries-read, 2^64-1 for unknown> <length PEL size>
//	  per pending entry: <16 raw bytes ID> <8 bytes LE delivery time> <length count>
//	  <length consumers> then per consumer <string name> <8 bytes LE seen time>
//	  [<8 bytes LE active time>: type 21] <length PEL size> <16 raw bytes ID>...
//
// A node's listpack is t_stream.c's: the master entry (live count,
// deleted count, number of master fields, the fields, 0), then per entry
// its flags, ms and seq differences from the master ID, the number of
// fields and the fields unless the entry has the master's (flag 2), the
// values, and the number of listpack elements the entry took before this
// one. The nodes are keyspace's chunks, which are Redis's nodes, so the
// listpacks are the ones Redis would write.
//
// The Decoder reads types 15 (Redis 5 and 6: no first ID, max deleted ID,
// entries-added or entries-read, which are derived as Redis derives them),
// 19 and 21 (Redis 7.4: consumers' active time, dropped). What it reads is
// checked (keyspace.ValidateStream) and a listpack fully parsed: damage
// is an error, never a panic.

const streamIDLen = 16

func appendStreamID(b []byte, id keyspace.StreamID) []byte {
	b = binary.BigEndian.AppendUint64(b, id.Ms)
	return binary.BigEndian.AppendUint64(b, id.Seq)
}

// lpAppendInt appends a listpack integer entry (lpAppendInteger).
func lpAppendInt(b []byte, i int64) []byte {
	var tmp [20]byte
	return lpAppendStr(b, strconv.AppendInt(tmp[:0], i, 10))
}

// lpAppendStr appends v as lpAppend does: an integer entry when v is the
// canonical decimal form of one.
func lpAppendStr(b, v []byte) []byte {
	n, ival, isInt := lpEntryLen(v)
	if isInt {
		switch n {
		case 1:
			b = append(b, byte(ival))
		case 2:
			u := uint64(ival) & (1<<13 - 1)
			b = append(b, 0xC0|byte(u>>8), byte(u))
		default:
			b = append(b, [...]byte{0xF1, 0xF2, 0xF3, 0, 0, 0, 0xF4}[n-3])
			for i := range n - 1 {
				b = append(b, byte(uint64(ival)>>(8*i)))
			}
		}
	} else {
		switch l := len(v); {
		case l < 64:
			b = append(b, 0x80|byte(l))
		case l < 4096:
			b = append(b, 0xE0|byte(l>>8), byte(l))
		default:
			b = append(b, 0xF0)
			b = binary.LittleEndian.AppendUint32(b, uint32(l))
		}
		b = append(b, v...)
	}
	return appendBacklen(b, uint64(n))
}

// streamListpack builds node n's listpack into b.
func streamListpack(b []byte, n *keyspace.StreamNode) []byte {
	b = append(b[:0], 0, 0, 0, 0, 0, 0)
	live, dead := 0, 0
	for _, e := range n.Entries {
		if e.Flags&keyspace.StreamFlagDeleted != 0 {
			dead++
		} else {
			live++
		}
	}
	count := 0
	add := func(v []byte) { b = lpAppendStr(b, v); count++ }
	addInt := func(i int64) { b = lpAppendInt(b, i); count++ }
	addInt(int64(live))
	addInt(int64(dead))
	addInt(int64(len(n.MasterFields)))
	for _, f := range n.MasterFields {
		add(f)
	}
	addInt(0)
	for _, e := range n.Entries {
		same := e.Flags&keyspace.StreamFlagSame != 0
		nf := len(e.Fields) / 2
		addInt(int64(e.Flags))
		addInt(int64(e.ID.Ms - n.Master.Ms))
		addInt(int64(e.ID.Seq - n.Master.Seq))
		lpCount := int64(nf + 3)
		if !same {
			addInt(int64(nf))
			lpCount += int64(nf + 1)
		}
		for i := 0; i < len(e.Fields); i += 2 {
			if !same {
				add(e.Fields[i])
			}
			add(e.Fields[i+1])
		}
		addInt(lpCount)
	}
	b = append(b, lpEOF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], uint16(min(count, 0xFFFF)))
	return b
}

// writeStream writes r's stream as RDB_TYPE_STREAM_LISTPACKS_2.
func (e *Encoder) writeStream(r *Record) {
	s := r.Stream
	e.buf = appendLen(e.buf, uint64(s.NodeCount()))
	var key [streamIDLen]byte
	s.Each(func(_ int, n *keyspace.StreamNode) bool {
		e.writeString(appendStreamID(key[:0], n.Master))
		e.lp = streamListpack(e.lp, n)
		e.writeString(e.lp)
		if cap(e.lp) > 1<<20 {
			e.lp = nil
		}
		return e.err == nil
	})
	for _, v := range []uint64{s.Length, s.LastID.Ms, s.LastID.Seq, s.FirstID.Ms, s.FirstID.Seq, s.MaxDeleted.Ms, s.MaxDeleted.Seq, s.EntriesAdded} {
		e.buf = appendLen(e.buf, v)
	}
	e.buf = appendLen(e.buf, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		e.writeString(g.Name)
		e.buf = appendLen(e.buf, g.LastID.Ms)
		e.buf = appendLen(e.buf, g.LastID.Seq)
		e.buf = appendLen(e.buf, uint64(g.EntriesRead))
		e.buf = appendLen(e.buf, uint64(len(g.PEL)))
		for _, n := range g.PEL {
			e.ensure(40)
			e.buf = appendStreamID(e.buf, n.ID)
			e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(n.Time))
			e.buf = appendLen(e.buf, n.Count)
		}
		e.buf = appendLen(e.buf, uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			e.writeString(c.Name)
			e.ensure(32)
			e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(c.SeenTime))
			e.buf = appendLen(e.buf, uint64(len(c.PEL)))
			for _, id := range c.PEL {
				e.ensure(streamIDLen)
				e.buf = appendStreamID(e.buf, id)
			}
		}
	}
}

// ensure flushes when fewer than n bytes are free in the buffer.
func (e *Encoder) ensure(n int) {
	if cap(e.buf)-len(e.buf) < n {
		e.flush()
	}
}

// lpVal is a listpack element: a string, or an integer.
type lpVal struct {
	str   []byte
	ival  int64
	isInt bool
}

// lpValues parses a listpack's elements into vals (reused).
func lpValues(lp []byte, vals []lpVal) ([]lpVal, error) {
	vals = vals[:0]
	if len(lp) < 7 {
		return nil, fmt.Errorf("listpack of %d bytes is shorter than header and end mark", len(lp))
	}
	if total := binary.LittleEndian.Uint32(lp); uint64(total) != uint64(len(lp)) {
		return nil, fmt.Errorf("listpack header says %d bytes, blob has %d", total, len(lp))
	}
	want := int(binary.LittleEndian.Uint16(lp[4:]))
	p := 6
	for {
		if p >= len(lp) {
			return nil, errors.New("listpack has no end mark")
		}
		if lp[p] == lpEOF {
			break
		}
		str, ival, isInt, size, err := lpEntry(lp[p : len(lp)-1])
		if err != nil {
			return nil, fmt.Errorf("listpack entry %d at byte %d: %v", len(vals), p, err)
		}
		bl := backlenSize(uint64(size))
		if p+size+bl > len(lp)-1 {
			return nil, fmt.Errorf("listpack entry %d at byte %d overruns the listpack", len(vals), p)
		}
		if got, ok := decodeBacklen(lp[p+size : p+size+bl]); !ok || got != uint64(size) {
			return nil, fmt.Errorf("listpack entry %d at byte %d: back length does not match size %d", len(vals), p, size)
		}
		vals = append(vals, lpVal{str, ival, isInt})
		p += size + bl
	}
	if p != len(lp)-1 {
		return nil, fmt.Errorf("listpack end mark at byte %d of %d", p, len(lp))
	}
	if want != 0xFFFF && want != len(vals) {
		return nil, fmt.Errorf("listpack header says %d elements, found %d", want, len(vals))
	}
	return vals, nil
}

// bytesOf copies v's value (an integer as its decimal form) into the arena.
func (d *Decoder) bytesOf(v lpVal) []byte {
	start := len(d.arena)
	if v.isInt {
		d.arena = strconv.AppendInt(d.arena, v.ival, 10)
	} else {
		d.arena = append(d.arena, v.str...)
	}
	return d.arena[start:len(d.arena):len(d.arena)]
}

// parseStreamNode decodes a node's listpack.
func (d *Decoder) parseStreamNode(master keyspace.StreamID, lp []byte) (keyspace.StreamNode, error) {
	n := keyspace.StreamNode{Master: master}
	vals, err := lpValues(lp, d.lpvals)
	if err != nil {
		return n, err
	}
	d.lpvals = vals
	i := 0
	next := func() (lpVal, bool) {
		if i >= len(vals) {
			return lpVal{}, false
		}
		i++
		return vals[i-1], true
	}
	nextInt := func(what string) (int64, error) {
		v, ok := next()
		switch {
		case !ok:
			return 0, fmt.Errorf("stream listpack ends before its %s", what)
		case !v.isInt:
			return 0, fmt.Errorf("stream listpack: %s is not an integer", what)
		}
		return v.ival, nil
	}
	live, err := nextInt("live count")
	if err != nil {
		return n, err
	}
	dead, err := nextInt("deleted count")
	if err != nil {
		return n, err
	}
	nmf, err := nextInt("master field count")
	if err != nil {
		return n, err
	}
	if nmf < 0 || nmf > int64(len(vals)) {
		return n, fmt.Errorf("stream listpack: %d master fields", nmf)
	}
	for range nmf {
		v, ok := next()
		if !ok {
			return n, errors.New("stream listpack ends in its master fields")
		}
		n.MasterFields = append(n.MasterFields, d.bytesOf(v))
	}
	if z, err := nextInt("master terminator"); err != nil || z != 0 {
		return n, errors.New("stream listpack: master entry not terminated by 0")
	}
	var gotLive, gotDead int64
	for i < len(vals) {
		flags, err := nextInt("entry flags")
		if err != nil {
			return n, err
		}
		if flags&^int64(keyspace.StreamFlagDeleted|keyspace.StreamFlagSame) != 0 {
			return n, fmt.Errorf("stream listpack: entry flags %d", flags)
		}
		msd, err := nextInt("entry ms")
		if err != nil {
			return n, err
		}
		seqd, err := nextInt("entry seq")
		if err != nil {
			return n, err
		}
		e := keyspace.StreamNodeEntry{Flags: byte(flags), ID: keyspace.StreamID{Ms: master.Ms + uint64(msd), Seq: master.Seq + uint64(seqd)}}
		same := flags&keyspace.StreamFlagSame != 0
		nf := nmf
		lpCount := nmf + 3
		if !same {
			if nf, err = nextInt("entry field count"); err != nil {
				return n, err
			}
			if nf < 0 || nf > int64(len(vals)) {
				return n, fmt.Errorf("stream listpack: entry of %d fields", nf)
			}
			lpCount = 2*nf + 4
		}
		for k := int64(0); k < nf; k++ {
			var f []byte
			if same {
				f = n.MasterFields[k]
			} else {
				v, ok := next()
				if !ok {
					return n, errors.New("stream listpack ends in an entry")
				}
				f = d.bytesOf(v)
			}
			v, ok := next()
			if !ok {
				return n, errors.New("stream listpack ends in an entry")
			}
			e.Fields = append(e.Fields, f, d.bytesOf(v))
		}
		if c, err := nextInt("entry element count"); err != nil || c != lpCount {
			return n, errors.New("stream listpack: entry element count does not match")
		}
		if e.Flags&keyspace.StreamFlagDeleted != 0 {
			gotDead++
		} else {
			gotLive++
		}
		n.Entries = append(n.Entries, e)
		d.streamElems += 1 + len(e.Fields)
		if d.maxElems > 0 && d.streamElems > d.maxElems {
			d.overBudget = true
			return n, errors.New("too many elements for the payload's size")
		}
	}
	if gotLive != live || gotDead != dead {
		return n, fmt.Errorf("stream listpack: counts %d live, %d deleted, found %d and %d", live, dead, gotLive, gotDead)
	}
	return n, nil
}

// readStreamID reads 16 raw bytes, a big-endian ID.
func (d *Decoder) readStreamID(what string) (keyspace.StreamID, error) {
	off := d.rd.offset()
	p, err := d.rd.next(streamIDLen)
	if err != nil {
		return keyspace.StreamID{}, d.readErr(off, what, err)
	}
	return keyspace.StreamID{Ms: binary.BigEndian.Uint64(p), Seq: binary.BigEndian.Uint64(p[8:])}, nil
}

func (d *Decoder) readMs(what string) (int64, error) {
	off := d.rd.offset()
	p, err := d.rd.next(8)
	if err != nil {
		return 0, d.readErr(off, what, err)
	}
	return int64(binary.LittleEndian.Uint64(p)), nil
}

func (d *Decoder) readLenID(what string) (keyspace.StreamID, error) {
	ms, err := d.readLen(what)
	if err != nil {
		return keyspace.StreamID{}, err
	}
	seq, err := d.readLen(what)
	return keyspace.StreamID{Ms: ms, Seq: seq}, err
}

// readStream reads a stream of RDB type t.
func (d *Decoder) readStream(rec *Record, t byte) (*Record, error) {
	vOff := d.rd.offset()
	corrupt := func(err error) error {
		return d.corrupt(vOff, fmt.Sprintf("key %s: %v", quoteKey(rec.Key), err))
	}
	d.streamElems = 0
	s := &keyspace.StreamData{}
	nodes, err := d.readLen("stream node count")
	if err != nil {
		return nil, err
	}
	for i := uint64(0); i < nodes; i++ {
		k, err := d.readBlob("stream node key")
		if err != nil {
			return nil, err
		}
		if len(k) != streamIDLen {
			return nil, corrupt(fmt.Errorf("stream node key of %d bytes", len(k)))
		}
		master := keyspace.StreamID{Ms: binary.BigEndian.Uint64(k), Seq: binary.BigEndian.Uint64(k[8:])}
		lp, err := d.readBlob("stream listpack")
		if err != nil {
			return nil, err
		}
		n, err := d.parseStreamNode(master, lp)
		if d.overBudget {
			return nil, err
		}
		if err != nil {
			return nil, corrupt(fmt.Errorf("stream node %d: %v", i, err))
		}
		s.Nodes = append(s.Nodes, n)
	}
	if s.Length, err = d.readLen("stream length"); err != nil {
		return nil, err
	}
	if s.LastID, err = d.readLenID("stream last ID"); err != nil {
		return nil, err
	}
	if t != typeStreamListpacks {
		if s.FirstID, err = d.readLenID("stream first ID"); err != nil {
			return nil, err
		}
		if s.MaxDeleted, err = d.readLenID("stream max deleted ID"); err != nil {
			return nil, err
		}
		if s.EntriesAdded, err = d.readLen("stream entries added"); err != nil {
			return nil, err
		}
	} else {
		s.EntriesAdded = s.Length
		s.FirstID = keyspace.MaxStreamID // streamGetEdgeID's answer for no entry
	found:
		for _, n := range s.Nodes {
			for _, e := range n.Entries {
				if e.Flags&keyspace.StreamFlagDeleted == 0 {
					s.FirstID = e.ID
					break found
				}
			}
		}
	}
	ngroups, err := d.readLen("stream group count")
	if err != nil {
		return nil, err
	}
	for range ngroups {
		name, err := d.readString("stream group name")
		if err != nil {
			return nil, err
		}
		g := keyspace.StreamGroup{Name: name}
		if g.LastID, err = d.readLenID("stream group last ID"); err != nil {
			return nil, err
		}
		if t != typeStreamListpacks {
			er, err := d.readLen("stream group entries read")
			if err != nil {
				return nil, err
			}
			g.EntriesRead = int64(er)
		} else {
			g.EntriesRead = s.EstimateEntriesRead(g.LastID)
		}
		npel, err := d.readLen("stream PEL size")
		if err != nil {
			return nil, err
		}
		for range npel {
			var n keyspace.StreamNACK
			if n.ID, err = d.readStreamID("stream PEL ID"); err != nil {
				return nil, err
			}
			if n.Time, err = d.readMs("stream PEL delivery time"); err != nil {
				return nil, err
			}
			if n.Count, err = d.readLen("stream PEL delivery count"); err != nil {
				return nil, err
			}
			g.PEL = append(g.PEL, n)
		}
		ncons, err := d.readLen("stream consumer count")
		if err != nil {
			return nil, err
		}
		for range ncons {
			name, err := d.readString("stream consumer name")
			if err != nil {
				return nil, err
			}
			c := keyspace.StreamConsumer{Name: name}
			if c.SeenTime, err = d.readMs("stream consumer seen time"); err != nil {
				return nil, err
			}
			if t == typeStream3 {
				if _, err = d.readMs("stream consumer active time"); err != nil {
					return nil, err
				}
			}
			np, err := d.readLen("stream consumer PEL size")
			if err != nil {
				return nil, err
			}
			for range np {
				id, err := d.readStreamID("stream consumer PEL ID")
				if err != nil {
					return nil, err
				}
				c.PEL = append(c.PEL, id)
			}
			g.Consumers = append(g.Consumers, c)
		}
		s.Groups = append(s.Groups, g)
	}
	if err := keyspace.ValidateStream(s); err != nil {
		return nil, corrupt(err)
	}
	rec.Kind = KindStream
	rec.Stream = s
	return rec, nil
}
