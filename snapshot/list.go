package snapshot

import (
	"encoding/binary"
	"fmt"

	"sessiond/keyspace"
)

// Lists. The Encoder writes RDB_TYPE_LIST_QUICKLIST_2 (18), as Redis 7.0
// does: the number of nodes, then per node a container kind and the node as
// an RDB string. A PACKED node (2) is a listpack of elements; a PLAIN node
// (1) is one element's bytes, used by Redis for an element of 1 GiB or more
// (quicklist.c's packed_threshold). Nodes are filled as quicklistPushTail
// fills them under the default list-max-listpack-size -2: an element joins
// the last node while that node's listpack size, plus the element's length,
// plus 8 stays within 8 KiB, so the file holds the nodes Redis would hold
// after RPUSHing the same elements, and Redis loads it node for node.
// Type 18 exists from RDB version 10, the version the Encoder writes.
//
// The Decoder reads that and the older forms: RDB_TYPE_LIST (1, a count and
// that many strings), RDB_TYPE_LIST_ZIPLIST (10, one ziplist) and
// RDB_TYPE_LIST_QUICKLIST (14, nodes that are ziplists). As Redis's loader
// does, it skips a node whose listpack or ziplist is empty, refuses a node
// that is an empty string or has an unknown container, and drops a list
// with no elements at all ("empty list").

// Quicklist node containers (QUICKLIST_NODE_CONTAINER_*).
const (
	quicklistPlain  = 1
	quicklistPacked = 2
)

// listNodeLimit and listNodeOverhead are quicklist.c's fill rule for
// list-max-listpack-size -2 (optimization_level[1], SIZE_ESTIMATE_OVERHEAD).
const (
	listNodeLimit    = 8192
	listNodeOverhead = 8
)

// lpHeaderSize is a listpack's header: total bytes and element count.
const lpHeaderSize = 6

// packedThreshold is the element size from which the Encoder writes a
// PLAIN node, Redis's default. Tests lower it, as Redis's DEBUG
// QUICKLIST-PACKED-THRESHOLD does.
var packedThreshold = 1 << 30

// listNode is one node the Encoder writes: the index after its last
// element, and its listpack's size in bytes, or 0 for a PLAIN node.
type listNode struct {
	end, size int
}

// listLayout lays a list out in quicklist nodes, one element at a time
// (add), as quicklistPushTail fills them.
type listLayout struct {
	nodes []listNode
	i     int // elements added
	size  int // of the open PACKED node's listpack; 0: none open
}

func (l *listLayout) add(v []byte) {
	i := l.i
	l.i++
	if len(v) >= packedThreshold {
		if l.size > 0 {
			l.nodes = append(l.nodes, listNode{end: i, size: l.size})
			l.size = 0
		}
		l.nodes = append(l.nodes, listNode{end: i + 1})
		return
	}
	if l.size > 0 && l.size+len(v)+listNodeOverhead > listNodeLimit {
		l.nodes = append(l.nodes, listNode{end: i, size: l.size})
		l.size = 0
	}
	if l.size == 0 {
		l.size = lpHeaderSize + 1
	}
	n, _, _ := lpEntryLen(v)
	l.size += n + backlenSize(uint64(n))
}

// done closes the open node and returns the nodes.
func (l *listLayout) done() []listNode {
	if l.size > 0 {
		l.nodes = append(l.nodes, listNode{end: l.i, size: l.size})
		l.size = 0
	}
	return l.nodes
}

// ListNodes describes the quicklist Redis would hold for it (a KindList
// item) had RPUSH built the list: the nodes the Encoder writes, how many
// and their total size (a PACKED node's listpack bytes, a PLAIN node's
// element bytes), which are DEBUG OBJECT's ql_nodes and
// ql_uncompressed_size. Redis's own nodes differ for a list that LPUSH,
// LINSERT or deletions shaped.
func ListNodes(it *keyspace.Item) (nodes int, size int64) {
	var l listLayout
	var plain int64
	it.EachElem(func(v []byte) {
		l.add(v)
		if len(v) >= packedThreshold {
			plain += int64(len(v))
		}
	})
	for _, n := range l.done() {
		size += int64(n.size)
	}
	return len(l.nodes), size + plain
}

// writeList writes the value of r, a non-empty KindList record, as
// RDB_TYPE_LIST_QUICKLIST_2.
func (e *Encoder) writeList(r *Record) {
	// The node count comes first, so the nodes are laid out before any is
	// written.
	l := listLayout{nodes: e.nodes[:0]}
	for _, v := range r.Members {
		l.add(v)
	}
	nodes := l.done()
	e.nodes = nodes

	e.buf = appendLen(e.buf, uint64(len(nodes)))
	start := 0
	for _, n := range nodes {
		elems := r.Members[start:n.end]
		start = n.end
		if n.size == 0 {
			e.buf = append(e.buf, quicklistPlain)
			e.writeString(elems[0]) // what rdbSaveRawString does with it
			continue
		}
		// A node of several elements is at most 8 KiB: make room for all
		// of it. A bigger one holds one element, which writeBytes passes
		// straight through.
		if need := min(n.size, cap(e.buf)/2) + 16; cap(e.buf)-len(e.buf) < need && e.flush() != nil {
			return
		}
		e.buf = append(e.buf, quicklistPacked)
		e.buf = appendLen(e.buf, uint64(n.size))
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(n.size))
		e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(min(len(elems), 0xFFFF))) // 0xFFFF: "unknown"
		for _, v := range elems {
			e.appendLPEntry(v)
		}
		e.buf = append(e.buf, lpEOF)
	}
}

// appendLPEntry writes v as a listpack entry, as lpAppend encodes it: an
// integer when v is the canonical decimal form of an int64 (Redis reads it
// back as that same text), otherwise a string, then the backlen.
func (e *Encoder) appendLPEntry(v []byte) {
	n, ival, isInt := lpEntryLen(v)
	if isInt {
		switch n {
		case 1:
			e.buf = append(e.buf, byte(ival))
		case 2:
			u := uint64(ival) & (1<<13 - 1)
			e.buf = append(e.buf, 0xC0|byte(u>>8), byte(u))
		default:
			e.buf = append(e.buf, [...]byte{0xF1, 0xF2, 0xF3, 0, 0, 0, 0xF4}[n-3])
			for i := range n - 1 {
				e.buf = append(e.buf, byte(uint64(ival)>>(8*i)))
			}
		}
	} else {
		switch l := len(v); {
		case l < 64:
			e.buf = append(e.buf, 0x80|byte(l))
		case l < 4096:
			e.buf = append(e.buf, 0xE0|byte(l>>8), byte(l))
		default:
			e.buf = append(e.buf, 0xF0)
			e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(l))
		}
		e.writeBytes(v)
	}
	e.buf = appendBacklen(e.buf, uint64(n))
}

// lpEntryLen returns the size of v's listpack entry without its backlen,
// and v's value when the entry is an integer (lpEncodeGetType).
func lpEntryLen(v []byte) (size int, ival int64, isInt bool) {
	if i, ok := canonicalInt64(v); ok {
		switch {
		case i >= 0 && i <= 127:
			return 1, i, true
		case i >= -4096 && i <= 4095:
			return 2, i, true
		case i >= -1<<15 && i < 1<<15:
			return 3, i, true
		case i >= -1<<23 && i < 1<<23:
			return 4, i, true
		case i >= -1<<31 && i < 1<<31:
			return 5, i, true
		}
		return 9, i, true
	}
	switch l := len(v); {
	case l < 64:
		return 1 + l, 0, false
	case l < 4096:
		return 2 + l, 0, false
	default:
		return 5 + l, 0, false
	}
}

// readList reads the value of a list of RDB type t into d.members and
// returns the record, or nil if the list was empty.
func (d *Decoder) readList(rec *Record, t byte) (*Record, error) {
	vOff := d.rd.offset()
	switch t {
	case typeList:
		n, err := d.readLen("list size")
		if err != nil {
			return nil, err
		}
		// No allocation by n: members grow only as elements actually arrive.
		for i := uint64(0); i < n; i++ {
			v, err := d.readString("list element")
			if err != nil {
				return nil, err
			}
			d.members = append(d.members, v)
		}
	case typeListZiplist:
		blob, err := d.readBlob("list encoding")
		if err != nil {
			return nil, err
		}
		if err := d.parseZiplist(blob); err != nil {
			return nil, d.corrupt(vOff, fmt.Sprintf("key %s: %v", quoteKey(rec.Key), err))
		}
	default: // quicklist: nodes of ziplists (14), of listpacks or plain (18)
		n, err := d.readLen("quicklist node count")
		if err != nil {
			return nil, err
		}
		for i := uint64(0); i < n; i++ {
			nOff := d.rd.offset()
			container := uint64(quicklistPacked)
			if t == typeListQuicklist2 {
				if container, err = d.readLen("quicklist container"); err != nil {
					return nil, err
				}
				if container != quicklistPlain && container != quicklistPacked {
					return nil, d.corrupt(nOff, fmt.Sprintf("key %s: quicklist node %d: unknown container %d", quoteKey(rec.Key), i, container))
				}
			}
			bOff := d.rd.offset()
			var blob []byte
			if container == quicklistPlain {
				blob, err = d.readString("quicklist node") // the element itself
			} else {
				blob, err = d.readBlob("quicklist node")
			}
			if err != nil {
				return nil, err
			}
			// Redis refuses an empty node string, even a plain one (an
			// empty element belongs in a listpack), but skips an empty
			// listpack or ziplist.
			if len(blob) == 0 {
				return nil, d.corrupt(bOff, fmt.Sprintf("key %s: quicklist node %d is an empty string", quoteKey(rec.Key), i))
			}
			switch {
			case container == quicklistPlain:
				d.members = append(d.members, blob)
			case t == typeListQuicklist2:
				err = d.parseListpack(blob)
			default:
				err = d.parseZiplist(blob)
			}
			if err != nil {
				return nil, d.corrupt(bOff, fmt.Sprintf("key %s: quicklist node %d: %v", quoteKey(rec.Key), i, err))
			}
		}
	}
	if len(d.members) == 0 {
		d.skipped(rec.Key, "empty list")
		return nil, nil
	}
	rec.Kind = KindList
	rec.Members = d.members
	return rec, nil
}

// readBlob reads an RDB string holding a listpack or ziplist into d.blob
// rather than the arena. Its elements are copied into the arena as they
// are parsed, so a list of many nodes does not hold each element twice.
func (d *Decoder) readBlob(what string) ([]byte, error) {
	arena := d.arena
	d.arena = d.blob[:0]
	b, err := d.readString(what)
	d.blob, d.arena = d.arena, arena
	return b, err
}

// listRecord copies the elements of a KindList item into buf (which
// already holds the key) and returns buf and elems slicing it, in order;
// both are reused from record to record, so a save makes no garbage per
// key.
func listRecord(it *keyspace.Item, buf []byte, elems [][]byte, ends []int) ([]byte, [][]byte, []int) {
	ends = ends[:0]
	it.EachElem(func(v []byte) {
		buf = append(buf, v...)
		ends = append(ends, len(buf))
	})
	elems = elems[:0]
	start := len(it.Key)
	for _, end := range ends {
		elems = append(elems, buf[start:end:end])
		start = end
	}
	return buf, elems, ends
}
