package acl

import (
	"bytes"
	"strconv"

	"sessiond/keyspace"
)

// Denial is why a command may not run.
type Denial uint8

const (
	Allowed       Denial = iota
	DeniedCommand        // the user may not run the command
	DeniedKey            // a key argument matches none of the user's patterns
	DeniedChannel        // a channel argument matches none of the user's channel patterns
)

// Check decides whether u may run cmd with args (args[0] is the command
// name; for a subcommand args[1] is its name). On a key or channel denial
// pos is the offending argument's index. It does not allocate.
func (u *User) Check(cmd *Command, args [][]byte) (d Denial, pos int) {
	r := u.r.Load()
	if r.unrestricted {
		return Allowed, 0
	}
	return r.check(cmd, args)
}

func (r *rules) check(cmd *Command, args [][]byte) (Denial, int) {
	if !r.allCommands && !cmd.NoAuth && !r.bit(cmd.ID) {
		// A first argument allowed on its own (+select|0)?
		allowed := r.firstArgs[cmd.ID]
		idx := 1
		if cmd.Parent != nil {
			idx = 2
		}
		ok := false
		if len(args) > idx {
			for _, a := range allowed {
				if equalFold(args[idx], a) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return DeniedCommand, 0
		}
	}
	if !r.allKeys && len(cmd.Keys) > 0 {
		denied, pos := false, 0
		forEachKey(cmd, args, func(i int, flags KeyFlags) bool {
			if !r.keyAllowed(args[i], flags.perm()) {
				denied, pos = true, i
				return false
			}
			return true
		})
		if denied {
			return DeniedKey, pos
		}
	}
	if !r.allChannels {
		if pos, ok := r.channelsAllowed(cmd, args); !ok {
			return DeniedChannel, pos
		}
	}
	return Allowed, 0
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (r *rules) keyAllowed(key []byte, perm keyPerm) bool {
	for _, p := range r.patterns {
		if p.perm&perm != perm {
			continue
		}
		if matchString(p.pattern, key) {
			return true
		}
	}
	return false
}

// matchString is keyspace.Match with a string pattern, without copying it.
func matchString(pattern string, key []byte) bool {
	if pattern == "*" {
		return true
	}
	return keyspace.Match([]byte(pattern), key) // the conversion does not escape: no copy
}

// KeyRef is a key argument of a command: its position in the arguments
// and how the command uses it.
type KeyRef struct {
	Pos   int
	Flags KeyFlags
}

// Keys returns the key arguments of args, a call of cmd (args[0] its
// name, args[1] a subcommand's), as COMMAND GETKEYS finds them: none if
// the arguments do not fit a key spec.
func Keys(cmd *Command, args [][]byte) []KeyRef {
	var out []KeyRef
	ok := forEachKey(cmd, args, func(pos int, flags KeyFlags) bool {
		out = append(out, KeyRef{pos, flags})
		return true
	})
	if !ok {
		return nil
	}
	return out
}

// ForEachKey is Keys without a slice to allocate: fn is called with the
// position and key-spec flags of each key argument, in order, and returns
// false to stop.
func ForEachKey(cmd *Command, args [][]byte, fn func(pos int, flags KeyFlags) bool) {
	forEachKey(cmd, args, fn)
}

// HasKeys reports whether cmd takes key arguments at all (a key spec not
// marked not_key; Redis's doesCommandHaveKeys).
func (c *Command) HasKeys() bool {
	for _, k := range c.Keys {
		if k.Flags&KeyNotKey == 0 {
			return true
		}
	}
	return false
}

// forEachKey calls fn with the position and key-spec flags of every key
// argument of args, found from cmd's key specs as Redis does (db.c
// getKeysUsingKeySpecs). fn returns false to stop. If any spec does not
// fit the arguments (a count out of range, zero included, or not a
// number), it calls fn for no key at all and returns false, as Redis then
// finds no keys: the command itself reports the error, and the ACL check
// has no key to check.
func forEachKey(cmd *Command, args [][]byte, fn func(pos int, flags KeyFlags) bool) bool {
	argc := len(args)
	if cmd.varFlags {
		if varFlagKeys(cmd, args, fn) {
			return true
		}
	}
	type keyRange struct {
		first, last, step int
		flags             KeyFlags
	}
	var buf [4]keyRange // commands have at most a few specs: no allocation
	ranges := buf[:0]
	for _, ks := range cmd.Keys {
		if ks.Flags&KeyNotKey != 0 || ks.Step < 0 || ks.Index < 0 {
			continue
		}
		first := 0
		if ks.Keyword == "" {
			first = ks.Index
		} else {
			start, end := ks.StartFrom, argc-1
			if start <= 0 {
				start, end = argc+ks.StartFrom, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if equalFold(args[i], ks.Keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue // no keyword, no keys from this spec
			}
		}
		var last int
		if !ks.KeyNum {
			switch {
			case ks.LastKey >= 0:
				last = first + ks.LastKey
			case ks.Limit == 0:
				last = argc + ks.LastKey
			default:
				last = first + ((argc-first)/ks.Limit + ks.LastKey)
			}
		} else {
			if first+ks.KeyNumIdx >= argc {
				return false
			}
			n, err := strconv.ParseInt(string(args[first+ks.KeyNumIdx]), 10, 32)
			if err != nil || n < 0 {
				return false
			}
			first += ks.FirstKey
			last = first + int(n) - 1
		}
		if last >= argc || last < first || first >= argc {
			return false
		}
		ranges = append(ranges, keyRange{first, last, max(ks.Step, 1), ks.Flags})
	}
	for _, r := range ranges {
		for i := r.first; i <= r.last; i += r.step {
			if !fn(i, r.flags) {
				return true
			}
		}
	}
	return true
}

// varFlagKeys handles the commands whose key use depends on their
// arguments and that sessiond implements: SET reads its key only with GET
// (db.c setGetKeys); MIGRATE's keys are its key argument or, after KEYS,
// the rest, found past its options as Redis's migrateGetKeys finds them
// (its key specs are incomplete); SORT's are its key and STORE's
// destination (sortGetKeys; its specs say "unknown"). It reports whether
// it handled cmd.
func varFlagKeys(cmd *Command, args [][]byte, fn func(int, KeyFlags) bool) bool {
	switch cmd.Name {
	case "migrate":
		migrateKeys(args, fn)
		return true
	case "sort", "sort_ro":
		sortKeys(cmd.Name == "sort", args, fn)
		return true
	}
	if cmd.Name != "set" || len(args) < 3 {
		return false
	}
	flags := KeyOW | KeyUpdate
	for _, a := range args[3:] {
		if equalFold(a, "get") {
			flags = KeyRW | KeyAccess | KeyUpdate
		}
	}
	fn(1, flags)
	return true
}

// migrateKeys calls fn with MIGRATE's keys: args[3], or every argument
// after the first KEYS that is not an AUTH or AUTH2 value (none if args[3]
// is not empty then: the command reports that error).
func migrateKeys(args [][]byte, fn func(int, KeyFlags) bool) {
	first, n := 3, 1
	for i := 6; i < len(args); i++ {
		switch {
		case equalFold(args[i], "keys"):
			if len(args[3]) > 0 {
				return
			}
			first, n = i+1, len(args)-i-1
			i = len(args)
		case equalFold(args[i], "auth"):
			i++
		case equalFold(args[i], "auth2"):
			i += 2
		}
	}
	if len(args) <= 3 {
		return
	}
	for i := range n {
		if !fn(first+i, KeyRW|KeyAccess|KeyDelete) {
			return
		}
	}
}

// sortKeys calls fn with SORT's keys as Redis's sortGetKeys finds them:
// the sorted key, then for SORT the argument after the last STORE that
// has one, skipping LIMIT's two arguments and BY's and GET's one. SORT_RO
// has only its key (sortROGetKeys). The keys BY and GET patterns name
// come from the data; no key spec describes them.
func sortKeys(store bool, args [][]byte, fn func(int, KeyFlags) bool) {
	if len(args) < 2 || !fn(1, KeyRO|KeyAccess) || !store {
		return
	}
	is := func(b []byte, name string) bool { // strcasecmp: up to a NUL
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return equalFold(b, name)
	}
	dst := 0
	for i := 2; i < len(args); i++ {
		switch {
		case is(args[i], "limit"):
			i += 2
		case is(args[i], "get"), is(args[i], "by"):
			i++
		case is(args[i], "store") && i+1 < len(args):
			dst = i + 1 // not skipped, as in Redis
		}
	}
	if dst > 0 {
		fn(dst, KeyOW|KeyUpdate)
	}
}

// channelsAllowed checks the channel arguments of the Pub/Sub commands
// (db.c getChannelsFromCommand): PUBLISH's channel, SUBSCRIBE's channels,
// PSUBSCRIBE's patterns (matched literally against the user's patterns).
func (r *rules) channelsAllowed(cmd *Command, args [][]byte) (int, bool) {
	var from, to int
	pattern := false
	switch cmd.Name {
	case "publish", "spublish":
		from, to = 1, 2
	case "subscribe", "ssubscribe":
		from, to = 1, len(args)
	case "psubscribe":
		from, to, pattern = 1, len(args), true
	default:
		return 0, true
	}
	for i := from; i < to && i < len(args); i++ {
		ok := false
		for _, p := range r.channels {
			if (pattern && p == string(args[i])) || (!pattern && matchString(p, args[i])) {
				ok = true
				break
			}
		}
		if !ok {
			return i, false
		}
	}
	return 0, true
}
