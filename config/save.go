package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// errSaveParams is Redis's text for a bad save value (setConfigSaveOption).
var errSaveParams = errors.New("Invalid save parameters") //nolint:staticcheck // Redis's text

// maxIntervalSeconds is the longest interval a time.Duration holds; a
// longer one would wrap (18446744074 seconds became 290ms).
const maxIntervalSeconds = math.MaxInt64 / int64(time.Second)

// parseSave validates a save value as Redis 7.0 does: pairs of <seconds>
// (at least 1) and <changes> (at least 0), one space apart, or "" for
// none, which turns snapshots off. It returns the canonical form (numbers
// in decimal) and the shortest seconds (0 when there are none). As with
// Redis's strtoll, a number too large for int64 saturates. One
// difference: Redis keeps changes in an int, so CONFIG GET shows a larger
// one wrapped (which CONFIG SET then refuses); sessiond keeps it whole.
func parseSave(v string) (canon string, shortest int64, err error) {
	if v == "" {
		return "", 0, nil
	}
	f := strings.Split(v, " ") // an empty word ("1  2") is refused, as in Redis
	if len(f)%2 != 0 {
		return "", 0, errSaveParams
	}
	var b strings.Builder
	for i, s := range f {
		n, err := strconv.ParseInt(s, 10, 64)
		if errors.Is(err, strconv.ErrRange) && n > 0 {
			err = nil // n is math.MaxInt64
		}
		if err != nil || (i%2 == 0 && n < 1) || n < 0 {
			return "", 0, errSaveParams
		}
		if i%2 == 0 && (shortest == 0 || n < shortest) {
			shortest = n
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(n, 10))
	}
	return b.String(), shortest, nil
}

func checkSave(v string) (string, error) {
	canon, _, err := parseSave(v)
	return canon, err
}

// saveToInterval turns a checked save value, "3600 1 300 100", into the
// shortest interval, "5m0s"; "" disables snapshots ("0s").
func saveToInterval(v string) string {
	_, shortest, _ := parseSave(v)
	return secondsToInterval(shortest)
}

// secondsToInterval is n seconds as a canonical save-interval. An
// interval too long for a Duration is the longest one (Redis keeps such a
// rule, which never fires).
func secondsToInterval(n int64) string {
	if n > maxIntervalSeconds {
		return time.Duration(math.MaxInt64).String()
	}
	return (time.Duration(n) * time.Second).String()
}

// saveLines adds up a config file's save lines, as redis.conf's repeated
// "save" lines do, in time linear in their length: each line appends to
// one buffer and lowers a running minimum, where joining and re-parsing
// every earlier line each time was quadratic (64 KB of "save 1 1" lines
// took 3 s).
type saveLines struct {
	b        strings.Builder
	shortest int64 // 0: no pairs yet
}

// load applies one file line's save value to c.
func (s *saveLines) load(c *Config, val string) error {
	canon, shortest, err := parseSave(val)
	if err != nil {
		return fmt.Errorf("invalid save %q: %w", val, err) // Set's form
	}
	if canon == "" { // save "" disables snapshots
		s.b.Reset()
		s.shortest = 0
	} else {
		if s.b.Len() > 0 {
			s.b.WriteByte(' ')
		}
		s.b.WriteString(canon)
		if s.shortest == 0 || shortest < s.shortest {
			s.shortest = shortest
		}
	}
	c.storeSave(s.b.String(), secondsToInterval(s.shortest)) // String shares the buffer: no copy
	return nil
}

// storeSave stores a checked save value and the save-interval it implies,
// then tells both parameters' watchers, as Set does.
func (c *Config) storeSave(v, interval string) {
	c.mu.Lock()
	c.values["save"] = v
	c.values["save-interval"] = interval
	c.mu.Unlock()
	c.notify("save", v)
	c.notify("save-interval", interval)
}
