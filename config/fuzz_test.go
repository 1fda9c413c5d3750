package config

import (
	"strings"
	"testing"
)

// FuzzLoadFile feeds arbitrary text to the config-file parser. It must
// never panic, and whatever it accepts must be a fixed point: every value
// it stored is canonical, so setting it again keeps it unchanged.
func FuzzLoadFile(f *testing.F) {
	f.Add("addr 127.0.0.1:7000\nmaxmemory 100mb\n")
	f.Add("# comment\nsave 900 1 300 10\nsave \"\"\n")
	f.Add("requirepass \"a b\\x41\"\nnotify-keyspace-events Egx\n")
	f.Add("client-output-buffer-limit normal 1mb 512kb 10 pubsub 0 0 0\n")
	f.Add("maxmemory-policy allkeys-lru\ntimeout 5\n'unbalanced")
	f.Add("gc-percent -1\nsave-interval 1h30m\nloglevel warning\n")
	f.Add("save 900 1\nsave 0300 10 18446744074 1\nsave \"\"\nsave 60 99999999999999999999\n")
	f.Fuzz(func(t *testing.T, text string) {
		c := New()
		if err := c.LoadFile("fuzz.conf", strings.NewReader(text)); err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		for _, p := range buildParams() {
			v := c.Get(p.Name)
			if p.Name == "save" || p.Name == "save-interval" {
				// Setting either rewrites the other, so each is checked alone.
				if got, err := p.Check(v); err != nil || got != v {
					t.Fatalf("%s: stored value %q is not canonical: %q, %v", p.Name, v, got, err)
				}
				continue
			}
			if err := c.Set(p.Name, v); err != nil {
				t.Fatalf("%s: stored value %q is refused when set again: %v", p.Name, v, err)
			}
			if got := c.Get(p.Name); got != v {
				t.Fatalf("%s: %q is not canonical: setting it gives %q", p.Name, v, got)
			}
		}
	})
}
