package acl

import (
	"slices"
	"strings"
	"sync"
)

// Category is one ACL command category, a bit in a command's category mask.
type Category uint64

// Categories in Redis's order (acl.c ACLCommandCategories): ACL CAT lists
// them in this order and ACL LIST's best-fit description tries them in it.
var categoryNames = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
	"geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
	"transaction", "scripting",
}

// CategoryNames returns the category names in Redis's order.
func CategoryNames() []string { return slices.Clone(categoryNames) }

// CategoryByName returns the category named name (case-insensitive), without
// its '@'.
func CategoryByName(name string) (Category, bool) {
	for i, n := range categoryNames {
		if strings.EqualFold(n, name) {
			return 1 << i, true
		}
	}
	return 0, false
}

// ParseCategories turns "@read @string @fast" (or without the @) into a mask.
// Unknown names are ignored.
func ParseCategories(s string) Category {
	var m Category
	for _, f := range strings.Fields(s) {
		if c, ok := CategoryByName(strings.TrimPrefix(f, "@")); ok {
			m |= c
		}
	}
	return m
}

// Names returns the mask's categories as "@name", in Redis's order.
func (m Category) Names() []string {
	var out []string
	for i, n := range categoryNames {
		if m&(1<<i) != 0 {
			out = append(out, "@"+n)
		}
	}
	return out
}

// Key spec flags (Redis's CMD_KEY_*), as COMMAND INFO names them.
const (
	KeyRO KeyFlags = 1 << iota
	KeyRW
	KeyOW
	KeyRM
	KeyAccess
	KeyUpdate
	KeyInsert
	KeyDelete
	KeyNotKey
	KeyIncomplete
	KeyVariableFlags
)

// KeyFlags describe how a command uses the keys of one key spec.
type KeyFlags uint16

// Names returns the flags as COMMAND names them, in Redis's order.
func (f KeyFlags) Names() []string {
	var out []string
	for i, n := range keyFlagOrder {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// keyFlagOrder names the flags bit by bit.
var keyFlagOrder = [...]string{"RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete", "variable_flags"}

// perm is the ACL permission a key use needs (acl.c ACLSelectorCheckKey).
func (f KeyFlags) perm() keyPerm {
	var p keyPerm
	if f&KeyAccess != 0 {
		p |= permRead
	}
	if f&(KeyInsert|KeyDelete|KeyUpdate) != 0 {
		p |= permWrite
	}
	return p
}

// KeySpec is one of Redis 7's key specifications: where the search for
// keys begins (an index, or the argument after a keyword) and how the keys
// are found from there (a range, or a count argument).
type KeySpec struct {
	Flags KeyFlags
	// Begin search: Index > 0, or Keyword searched from StartFrom
	// (negative: from the end, backwards).
	Index     int
	Keyword   string
	StartFrom int
	// Find keys: a range (LastKey relative to the first key, negative from
	// the end; Step; Limit), or KeyNum: the argument at KeyNumIdx (relative
	// to the first key) counts the keys, which start at FirstKey.
	KeyNum    bool
	LastKey   int
	Step      int
	Limit     int
	KeyNumIdx int
	FirstKey  int
	// Notes is Redis's remark on the spec, which COMMAND INFO shows.
	Notes string
}

// Command is a command as the ACL system knows it.
type Command struct {
	Name     string // lower case; subcommands "container|sub"
	Cats     Category
	Keys     []KeySpec
	NoAuth   bool // runs before authentication: never denied (CMD_NO_AUTH)
	ID       int  // bit in a user's command bitmap
	Parent   *Command
	Subs     []*Command
	varFlags bool // a key spec has variable flags or unknown positions: keys found by varFlagKeys
}

// maxCommands is the size of a user's command bitmap. The last bit is
// reserved: it is set only by +@all and marks "future commands allowed".
const maxCommands = 1024

const futureBit = maxCommands - 1

// catalog is every command the ACL rules can name: Redis 7.0's whole
// command table (so that rules written for Redis load unchanged, and the
// best-fit description of ACL LIST matches Redis's), plus the commands
// sessiond implements beyond it.
var catalog = struct {
	sync.RWMutex
	byName map[string]*Command
	top    []*Command // top-level commands, sorted by name
	all    []*Command // every command and subcommand, by ID
}{byName: map[string]*Command{}}

func init() {
	for _, d := range redisCommands {
		Register(d.Name, d.Cats, d.Keys, d.NoAuth)
	}
	for _, d := range extraCommands {
		Register(d.Name, d.Cats, d.Keys, d.NoAuth)
	}
}

// CommandDef describes a command to Register.
type CommandDef struct {
	Name   string
	Cats   Category
	Keys   []KeySpec
	NoAuth bool
}

// extraCommands are those Redis 7.2 added that sessiond implements
// (categories from Redis 7.2's commands/*.json, plus the @slow that
// server.c setImplicitACLCategories gives a command without the FAST flag).
var extraCommands = []CommandDef{
	{Name: "client|setinfo", Cats: ParseCategories("@slow @connection")},
	{Name: "client|no-touch", Cats: ParseCategories("@slow @connection")},
}

// Register adds a command to the catalog (idempotent: a known name returns
// the existing entry). A container must be registered before its
// subcommands. Users created before a command is registered can run it
// only if they were given +@all ("future commands"), as in Redis.
func Register(name string, cats Category, keys []KeySpec, noAuth bool) *Command {
	name = strings.ToLower(name)
	catalog.Lock()
	defer catalog.Unlock()
	if c := catalog.byName[name]; c != nil {
		return c
	}
	if len(catalog.all) >= futureBit {
		return nil
	}
	c := &Command{Name: name, Cats: cats, Keys: keys, NoAuth: noAuth, ID: len(catalog.all)}
	for _, k := range keys {
		// Index < 0: an "unknown" begin search (SORT's BY, GET and STORE),
		// whose keys only the command's own key finder knows, as in Redis.
		if k.Flags&(KeyVariableFlags|KeyIncomplete) != 0 || k.Index < 0 {
			c.varFlags = true
		}
	}
	if i := strings.IndexByte(name, '|'); i >= 0 {
		p := catalog.byName[name[:i]]
		if p == nil {
			panic("acl: subcommand before its container: " + name)
		}
		c.Parent = p
		p.Subs = append(p.Subs, c)
		slices.SortFunc(p.Subs, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	} else {
		i, _ := slices.BinarySearchFunc(catalog.top, name, func(a *Command, n string) int { return strings.Compare(a.Name, n) })
		catalog.top = slices.Insert(catalog.top, i, c)
	}
	catalog.byName[name] = c
	catalog.all = append(catalog.all, c)
	return c
}

// Lookup returns the command named name ("get", "config|set"), or nil.
func Lookup(name string) *Command {
	catalog.RLock()
	defer catalog.RUnlock()
	return catalog.byName[strings.ToLower(name)]
}

// Commands returns every command and subcommand in name order (a
// container before its subcommands).
func Commands() []*Command {
	catalog.RLock()
	defer catalog.RUnlock()
	var out []*Command
	for _, c := range catalog.top {
		out = append(out, c)
		out = append(out, c.Subs...)
	}
	return out
}
