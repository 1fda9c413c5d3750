package acl

import (
	"errors"
	"strings"
	"testing"
)

// FuzzRules applies arbitrary rules to a user: no panic, and whatever was
// accepted must describe itself as rules that rebuild the same user (what
// ACL SAVE then ACL LOAD relies on).
func FuzzRules(f *testing.F) {
	for _, s := range []string{
		"on >pw ~sess:* +@read -get +select|0",
		"+@all -@dangerous %R~r:* %W~w:* &chan",
		"reset nopass allkeys allchannels allcommands",
		"+config|get -config +client|kill #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
		"%RW~x %R~x ~y <pw !abc (~x +get) clearselectors",
		"+@all -@all +@set -smove +debug|object skip-sanitize-payload",
		"%~x %r %W",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g := NewRegistry()
		if err := g.SetUser("u", strings.Split(s, " ")...); err != nil {
			return
		}
		u := g.Get("u")
		descr := u.Describe()
		g2 := NewRegistry()
		if err := g2.SetUser("u", strings.Split(descr, " ")...); err != nil {
			if errors.Is(err, ErrKeyAfterAll) && starBeforeOthers(u.rules()) {
				// As in Redis 7.0: "%RW~* ~x" is accepted and described
				// as "~* ~x", which ACL SETUSER (and ACL LOAD) refuse.
				return
			}
			t.Fatalf("description %q of %q does not parse: %v", descr, s, err)
		}
		r1, r2 := u.rules(), g2.Get("u").rules()
		// A "*" pattern with both permissions is described as ~*, which
		// reloads as allkeys: the same access, as in Redis.
		if r1.bits != r2.bits || allKeys(r1) != allKeys(r2) || r1.allChannels != r2.allChannels ||
			r1.enabled != r2.enabled || r1.nopass != r2.nopass {
			t.Fatalf("%q described as %q rebuilds a different user", s, descr)
		}
		// The description is stable, except that a "*" pattern with both
		// permissions after other patterns ("~a %RW~*" is described as
		// "~a ~*", as Redis describes it) reloads as allkeys, which drops
		// the others: then it is stable from the second description on.
		d2 := g2.Get("u").Describe()
		if d2 != descr && !fullStar(r1) {
			t.Fatalf("%q: description not stable: %q then %q", s, descr, d2)
		}
		g3 := NewRegistry()
		if err := g3.SetUser("u", strings.Split(d2, " ")...); err != nil {
			t.Fatalf("description %q of %q does not parse: %v", d2, descr, err)
		}
		if d3 := g3.Get("u").Describe(); d3 != d2 {
			t.Fatalf("%q: description not stable: %q then %q", s, d2, d3)
		}
		// Checking any command must not panic.
		for _, c := range []string{"get", "set", "mget", "sintercard", "georadius", "config|get", "select"} {
			u.Check(Lookup(c), [][]byte{[]byte(c), []byte("2"), []byte("k"), []byte("STORE"), []byte("x")})
		}
	})
}

// fullStar reports whether r holds a "*" pattern with both permissions,
// which its description spells "~*".
func fullStar(r *rules) bool {
	for _, p := range r.patterns {
		if p.pattern == "*" && p.perm == permAll {
			return true
		}
	}
	return false
}

// FuzzParseFile loads arbitrary ACL files: no panic; a file that loads
// lists users that load again to the same users.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("user default on nopass ~* &* +@all\nuser alice on >secret ~sess:* -@all +@read\n"))
	f.Add([]byte("user a\n\n# c\nuser a on\nuser\nuser b +nosuch bogus\n"))
	f.Add([]byte("user x on (~a +get)\r\nuser y  on\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ParseFile("f.acl", data)
		if err != nil {
			if !strings.HasSuffix(err.Error(), "WARNING: ACL errors detected, no change to the previously active ACL rules was performed") {
				t.Fatalf("error without Redis's trailer: %v", err)
			}
			return
		}
		var b strings.Builder
		for name, u := range users {
			b.WriteString("user " + name + " " + u.Describe() + "\n")
		}
		again, err := ParseFile("f.acl", []byte(b.String()))
		if err != nil {
			t.Fatalf("saved file does not load: %v\n%s", err, b.String())
		}
		if len(again) != len(users) {
			t.Fatalf("%d users, then %d", len(users), len(again))
		}
		for name, u := range users {
			if again[name] == nil || again[name].Describe() != u.Describe() {
				t.Fatalf("user %q changed on reload", name)
			}
		}
	})
}

func allKeys(r *rules) bool {
	if r.allKeys {
		return true
	}
	for _, p := range r.patterns {
		if p.pattern == "*" && p.perm == permAll {
			return true
		}
	}
	return false
}

// starBeforeOthers reports whether r holds a "*" pattern with both
// permissions followed by other patterns: its description, "~* ...",
// does not parse, in Redis as here.
func starBeforeOthers(r *rules) bool {
	for i, p := range r.patterns {
		if p.pattern == "*" && p.perm == permAll {
			return i < len(r.patterns)-1
		}
	}
	return false
}
