package resp

import (
	"strings"

	"sessiond/keyspace"
)

// The bitmap commands work on string values (keyspace/bitmap.go). Argument
// checks come in Redis's order (bitops.c), which differs per command: GETBIT
// checks the offset before the key, BITCOUNT the key before its range.
func bitmapCommands() []*command {
	const g = "bitmap"
	return []*command{
		{name: "setbit", arity: 4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Sets or clears the bit at offset in the string value stored at key", run: cmdSetbit},
		{name: "getbit", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Returns the bit value at offset in the string value stored at key", run: cmdGetbit},
		{name: "bitcount", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Count set bits in a string", run: cmdBitcount},
		{name: "bitpos", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.8.7", summary: "Find first bit set or clear in a string", run: cmdBitpos},
		{name: "bitop", arity: -4, flags: flagWrite | flagDenyOOM, firstKey: 2, lastKey: -1, step: 1, group: g, since: "2.6.0", summary: "Perform bitwise operations between strings", run: cmdBitop},
		{name: "bitfield", arity: -2, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1, group: g, since: "3.2.0", summary: "Perform arbitrary bitfield integer operations on strings", run: cmdBitfield},
		{name: "bitfield_ro", arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.0.0", summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", run: cmdBitfield},
	}
}

const (
	msgBitOffset = "ERR bit offset is not an integer or out of range"
	msgBitValue  = "ERR bit is not an integer or out of range"
	msgBitType   = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
)

// bitOffsetArg parses a bit offset as getBitOffsetFromArgument does: a
// non-negative integer whose byte is within the string size limit; with
// width > 0 (BITFIELD) "#n" means n*width. The product wraps as in Redis.
func (x *call) bitOffsetArg(i, width int) (uint64, bool) {
	a := x.args[i]
	hash := width > 0 && len(a) > 0 && a[0] == '#'
	if hash {
		a = a[1:]
	}
	n, ok := keyspace.ParseInt(a)
	if ok && hash {
		n *= int64(width)
	}
	if !ok || n < 0 || n > keyspace.MaxBitOffset {
		x.r.error(msgBitOffset)
		return 0, false
	}
	return uint64(n), true
}

func cmdSetbit(x *call) {
	off, ok := x.bitOffsetArg(2, 0)
	if !ok {
		return
	}
	on, ok := keyspace.ParseInt(x.args[3])
	if !ok || on&^1 != 0 {
		x.r.error(msgBitValue)
		return
	}
	old, err := x.s.ks.SetBit(x.c.db, x.args[1], off, on == 1)
	x.intReply(old, err)
}

func cmdGetbit(x *call) {
	off, ok := x.bitOffsetArg(2, 0)
	if !ok {
		return
	}
	bit, err := x.s.ks.GetBit(x.c.db, x.args[1], off)
	x.intReply(bit, err)
}

// bitUnit parses BIT|BYTE.
func (x *call) bitUnit(i int) (isBit, ok bool) {
	switch strings.ToLower(string(x.args[i])) {
	case "bit":
		return true, true
	case "byte":
		return false, true
	}
	x.r.error(msgSyntax)
	return false, false
}

func cmdBitcount(x *call) {
	// A missing key is 0 whatever the other arguments are, as in Redis.
	v, found, err := x.s.ks.Get(x.c.db, x.args[1])
	if err != nil || !found {
		x.intReply(0, err)
		return
	}
	start, end, isBit, ok := int64(0), int64(-1), false, false
	switch len(x.args) {
	case 2:
	case 4, 5:
		if start, ok = x.intArg(2); !ok {
			return
		}
		if end, ok = x.intArg(3); !ok {
			return
		}
		if start < 0 && end < 0 && start > end { // before BIT|BYTE is looked at
			x.r.int(0)
			return
		}
		if len(x.args) == 5 {
			if isBit, ok = x.bitUnit(4); !ok {
				return
			}
		}
	default:
		x.r.error(msgSyntax)
		return
	}
	x.r.int(keyspace.BitCount(v, start, end, isBit))
}

func cmdBitpos(x *call) {
	bit, ok := x.intArg(2)
	if !ok {
		return
	}
	if bit != 0 && bit != 1 {
		x.r.error("ERR The bit argument must be 1 or 0.")
		return
	}
	v, found, err := x.s.ks.Get(x.c.db, x.args[1])
	switch {
	case err != nil:
		x.ksError(err)
		return
	case !found: // an endless run of zeros
		x.r.int(-bit)
		return
	}
	start, end, endGiven, isBit := int64(0), int64(-1), false, false
	switch len(x.args) {
	case 3:
	case 4, 5, 6:
		if start, ok = x.intArg(3); !ok {
			return
		}
		if len(x.args) == 6 {
			if isBit, ok = x.bitUnit(5); !ok {
				return
			}
		}
		if len(x.args) >= 5 {
			if end, ok = x.intArg(4); !ok {
				return
			}
			endGiven = true
		}
	default:
		x.r.error(msgSyntax)
		return
	}
	x.r.int(keyspace.BitPos(v, int(bit), start, end, endGiven, isBit))
}

func cmdBitop(x *call) {
	var op keyspace.BitOpKind
	switch strings.ToLower(string(x.args[1])) {
	case "and":
		op = keyspace.BitAnd
	case "or":
		op = keyspace.BitOr
	case "xor":
		op = keyspace.BitXor
	case "not":
		op = keyspace.BitNot
	default:
		x.r.error(msgSyntax)
		return
	}
	if op == keyspace.BitNot && len(x.args) != 4 {
		x.r.error("ERR BITOP NOT must be called with a single source key.")
		return
	}
	n, err := x.s.ks.BitOp(x.c.db, op, x.args[2], x.args[3:])
	x.intReply(n, err)
}

// bitfieldType parses i1..i64 or u1..u63.
func (x *call) bitfieldType(i int) (signed bool, width int, ok bool) {
	a := x.args[i]
	if len(a) > 0 && (a[0] == 'i' || a[0] == 'u') {
		signed = a[0] == 'i'
		n, good := keyspace.ParseInt(a[1:])
		if good && n >= 1 && (n <= 63 || signed && n == 64) {
			return signed, int(n), true
		}
	}
	x.r.error(msgBitType)
	return false, 0, false
}

// cmdBitfield is BITFIELD and BITFIELD_RO: every subcommand is parsed
// before the key is looked at, as in Redis.
func cmdBitfield(x *call) {
	var ops []keyspace.BitFieldOp
	ow := keyspace.OverflowWrap
	write := false
	for j := 2; j < len(x.args); j++ {
		left := len(x.args) - j - 1
		var o keyspace.BitFieldOp
		switch sub := strings.ToLower(string(x.args[j])); {
		case sub == "get" && left >= 2:
			o.Op = keyspace.BitFieldGet
		case sub == "set" && left >= 3:
			o.Op = keyspace.BitFieldSet
		case sub == "incrby" && left >= 3:
			o.Op = keyspace.BitFieldIncrBy
		case sub == "overflow" && left >= 1:
			j++
			switch strings.ToLower(string(x.args[j])) {
			case "wrap":
				ow = keyspace.OverflowWrap
			case "sat":
				ow = keyspace.OverflowSat
			case "fail":
				ow = keyspace.OverflowFail
			default:
				x.r.error("ERR Invalid OVERFLOW type specified")
				return
			}
			continue
		default:
			x.r.error(msgSyntax)
			return
		}
		var ok bool
		if o.Signed, o.Bits, ok = x.bitfieldType(j + 1); !ok {
			return
		}
		if o.Offset, ok = x.bitOffsetArg(j+2, o.Bits); !ok {
			return
		}
		if o.Op != keyspace.BitFieldGet {
			write = true
			if o.Value, ok = x.intArg(j + 3); !ok {
				return
			}
			j++
		}
		o.Overflow = ow
		ops = append(ops, o)
		j += 2
	}
	if write && x.cmd.name == "bitfield_ro" {
		x.r.error("ERR BITFIELD_RO only supports the GET subcommand")
		return
	}
	res, err := x.s.ks.BitField(x.c.db, x.args[1], ops)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.array(len(res))
	for _, v := range res {
		if v.Nil {
			x.r.null()
		} else {
			x.r.int(v.Val)
		}
	}
}
