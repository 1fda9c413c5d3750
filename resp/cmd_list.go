package resp

import (
	"strings"

	"sessiond/keyspace"
)

func listCommands() []*command {
	const g = "list"
	rw := func(name string, arity int, flags cmdFlags, since, summary string, run func(*call)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: g, since: since, summary: summary, run: run}
	}
	two := func(name string, arity int, flags cmdFlags, since, summary string, run func(*call)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 2, step: 1, group: g, since: since, summary: summary, run: run}
	}
	return []*command{
		rw("lpush", -3, flagWrite|flagDenyOOM|flagFast, "1.0.0", "Prepend one or multiple elements to a list", cmdPush),
		rw("rpush", -3, flagWrite|flagDenyOOM|flagFast, "1.0.0", "Append one or multiple elements to a list", cmdPush),
		rw("lpushx", -3, flagWrite|flagDenyOOM|flagFast, "2.2.0", "Prepend an element to a list, only if the list exists", cmdPush),
		rw("rpushx", -3, flagWrite|flagDenyOOM|flagFast, "2.2.0", "Append an element to a list, only if the list exists", cmdPush),
		rw("lpop", -2, flagWrite|flagFast, "1.0.0", "Remove and get the first elements in a list", cmdPop),
		rw("rpop", -2, flagWrite|flagFast, "1.0.0", "Remove and get the last elements in a list", cmdPop),
		rw("llen", 2, flagReadonly|flagFast, "1.0.0", "Get the length of a list", cmdLlen),
		rw("lindex", 3, flagReadonly, "1.0.0", "Get an element from a list by its index", cmdLindex),
		rw("lset", 4, flagWrite|flagDenyOOM, "1.0.0", "Set the value of an element in a list by its index", cmdLset),
		rw("lrange", 4, flagReadonly, "1.0.0", "Get a range of elements from a list", cmdLrange),
		rw("ltrim", 4, flagWrite, "1.0.0", "Trim a list to the specified range", cmdLtrim),
		rw("lrem", 4, flagWrite, "1.0.0", "Remove elements from a list", cmdLrem),
		rw("linsert", 5, flagWrite|flagDenyOOM, "2.2.0", "Insert an element before or after another element in a list", cmdLinsert),
		rw("lpos", -3, flagReadonly, "6.0.6", "Return the index of matching elements on a list", cmdLpos),
		two("lmove", 5, flagWrite|flagDenyOOM, "6.2.0", "Pop an element from a list, push it to another list and return it", cmdLmove),
		two("rpoplpush", 3, flagWrite|flagDenyOOM, "1.2.0", "Remove the last element in a list, prepend it to another list and return it", cmdLmove),
		{name: "lmpop", arity: -4, flags: flagWrite | flagMovableKeys, group: g, since: "7.0.0", summary: "Pop elements from a list", run: cmdLmpop},
	}
}

func cmdPush(x *call) {
	name := x.cmd.name
	x.intReply(x.s.ks.LPush(x.c.db, x.args[1], name[0] == 'l', strings.HasSuffix(name, "x"), x.args[2:]))
}

func cmdPop(x *call) {
	if len(x.args) > 3 {
		x.r.error(msgArity(x.cmd.name))
		return
	}
	count, ok := x.popCount()
	if !ok {
		return
	}
	vs, exists, err := x.s.ks.LPop(x.c.db, x.args[1], x.cmd.name == "lpop", count)
	switch {
	case err != nil:
		x.ksError(err)
	case len(x.args) == 3 && !exists:
		x.r.nullArray()
	case len(x.args) == 3:
		x.r.bulks(vs)
	case !exists:
		x.r.null()
	default:
		x.r.bulk(vs[0])
	}
}

func cmdLlen(x *call) { x.intReply(x.s.ks.LLen(x.c.db, x.args[1])) }

func cmdLindex(x *call) {
	v, ok, err := x.s.ks.LIndex(x.c.db, x.args[1], x.args[2])
	x.valueReply(v, ok, err)
}

func cmdLset(x *call) { x.okReply(x.s.ks.LSet(x.c.db, x.args[1], x.args[2], x.args[3])) }

// startStop parses LRANGE's and LTRIM's start and stop, replying with
// Redis's error if either is not an integer.
func (x *call) startStop() (start, stop int64, ok bool) {
	if start, ok = x.intArg(2); ok {
		stop, ok = x.intArg(3)
	}
	return start, stop, ok
}

func cmdLrange(x *call) {
	start, stop, ok := x.startStop()
	if !ok {
		return
	}
	vs, err := x.s.ks.LRange(x.c.db, x.args[1], start, stop)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.bulks(vs)
}

func cmdLtrim(x *call) {
	if start, stop, ok := x.startStop(); ok {
		x.okReply(x.s.ks.LTrim(x.c.db, x.args[1], start, stop))
	}
}

func cmdLrem(x *call) {
	count, ok := x.intArg(2)
	if !ok {
		return
	}
	x.intReply(x.s.ks.LRem(x.c.db, x.args[1], count, x.args[3]))
}

func cmdLinsert(x *call) {
	var after bool
	switch strings.ToLower(string(x.args[2])) {
	case "after":
		after = true
	case "before":
	default:
		x.r.error(msgSyntax)
		return
	}
	x.intReply(x.s.ks.LInsert(x.c.db, x.args[1], after, x.args[3], x.args[4]))
}

func cmdLpos(x *call) {
	a := keyspace.LPosArgs{Rank: 1}
	withCount := false
	for j := 3; j < len(x.args); j++ {
		more := j+1 < len(x.args)
		switch opt := strings.ToLower(string(x.args[j])); {
		case opt == "rank" && more:
			j++
			n, ok := x.intArg(j)
			if !ok {
				return
			}
			if n == 0 {
				x.r.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			a.Rank = n
		case opt == "count" && more:
			j++
			n, ok := keyspace.ParseInt(x.args[j])
			if !ok || n < 0 {
				x.r.error("ERR COUNT can't be negative")
				return
			}
			a.Count, withCount = n, true
		case opt == "maxlen" && more:
			j++
			n, ok := keyspace.ParseInt(x.args[j])
			if !ok || n < 0 {
				x.r.error("ERR MAXLEN can't be negative")
				return
			}
			a.MaxLen = n
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if !withCount {
		a.Count = 1
	}
	idx, _, err := x.s.ks.LPos(x.c.db, x.args[1], x.args[2], a)
	switch {
	case err != nil:
		x.ksError(err)
	case withCount:
		x.r.array(len(idx))
		for _, i := range idx {
			x.r.int(int64(i))
		}
	case len(idx) == 0:
		x.r.null()
	default:
		x.r.int(int64(idx[0]))
	}
}

// listEnd parses LEFT or RIGHT: whether it is LEFT.
func (x *call) listEnd(b []byte) (left, ok bool) {
	switch strings.ToLower(string(b)) {
	case "left":
		return true, true
	case "right":
		return false, true
	}
	x.r.error(msgSyntax)
	return false, false
}

func cmdLmove(x *call) {
	from, to := false, true // RPOPLPUSH
	if x.cmd.name == "lmove" {
		var ok bool
		if from, ok = x.listEnd(x.args[3]); !ok {
			return
		}
		if to, ok = x.listEnd(x.args[4]); !ok {
			return
		}
	}
	v, ok, err := x.s.ks.LMove(x.c.db, x.args[1], x.args[2], from, to)
	x.valueReply(v, ok, err)
}

// mpopArgs parses the arguments of LMPOP and ZMPOP (and their blocking
// forms) from args[i], the key count, as Redis's lmpopGenericCommand and
// zmpopGenericCommand do: the keys, whether the word after them is first
// (LEFT, MIN) rather than second (RIGHT, MAX), and the count (1 unless
// given).
func (x *call) mpopArgs(i int, first, second string) (keys [][]byte, isFirst bool, count int, ok bool) {
	nk, valid := keyspace.ParseInt(x.args[i])
	if !valid || nk <= 0 {
		x.r.error("ERR numkeys should be greater than 0")
		return nil, false, 0, false
	}
	if nk >= int64(len(x.args)-i-1) { // no room for the word after the keys
		x.r.error(msgSyntax)
		return nil, false, 0, false
	}
	keys = x.args[i+1 : i+1+int(nk)]
	rest := x.args[i+1+int(nk):]
	switch strings.ToLower(string(rest[0])) {
	case first:
		isFirst = true
	case second:
	default:
		x.r.error(msgSyntax)
		return nil, false, 0, false
	}
	n := int64(-1)
	for j := 1; j < len(rest); j++ {
		if n != -1 || !strings.EqualFold(string(rest[j]), "count") || j+1 >= len(rest) {
			x.r.error(msgSyntax)
			return nil, false, 0, false
		}
		j++
		c, valid := keyspace.ParseInt(rest[j])
		if !valid || c <= 0 {
			x.r.error("ERR count should be greater than 0")
			return nil, false, 0, false
		}
		n = c
	}
	return keys, isFirst, int(min(max(n, 1), 1<<31)), true
}

func cmdLmpop(x *call) {
	keys, left, count, ok := x.mpopArgs(1, "left", "right")
	if !ok {
		return
	}
	key, err := x.lmpop(keys, left, count)
	switch {
	case err != nil:
		x.ksError(err)
	case key == nil:
		x.r.nullArray()
	}
}

// lmpop pops as LMPOP and BLMPOP do and, if it popped, replies with the
// key and the elements; it returns the key (nil if none had any).
func (x *call) lmpop(keys [][]byte, left bool, count int) ([]byte, error) {
	key, vs, err := x.s.ks.LMPop(x.c.db, keys, left, count)
	if key != nil {
		x.r.array(2)
		x.r.bulk(key)
		x.r.bulks(vs)
	}
	return key, err
}
