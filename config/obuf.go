package config

import (
	"errors"
	"strconv"
	"strings"
)

// OutputBufferLimit is one client class's client-output-buffer-limit.
type OutputBufferLimit struct {
	Hard, Soft  int64 // bytes; 0: no limit
	SoftSeconds int64
}

// obufClasses are the classes in Redis's CONFIG GET order and names.
var obufClasses = []string{"normal", "slave", "pubsub"}

const defaultOutputBufferLimits = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"

// ParseOutputBufferLimits parses "<class> <hard> <soft> <seconds>..." as
// Redis's updateClientOutputBufferLimit does, with its error texts. Classes
// are normal, replica (or slave) and pubsub; the map holds the classes
// given, keyed "normal", "replica" and "pubsub".
func ParseOutputBufferLimits(v string) (map[string]OutputBufferLimit, error) {
	f := strings.Fields(v)
	if len(f)%4 != 0 {
		return nil, errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	out := map[string]OutputBufferLimit{}
	for i := 0; i < len(f); i += 4 {
		class := strings.ToLower(f[i])
		switch class {
		case "normal", "pubsub":
		case "replica", "slave":
			class = "replica"
		default:
			return nil, errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, err1 := ParseSize(f[i+1])
		soft, err2 := ParseSize(f[i+2])
		secs, err3 := strconv.ParseInt(f[i+3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || secs < 0 {
			return nil, errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		out[class] = OutputBufferLimit{Hard: hard, Soft: soft, SoftSeconds: secs}
	}
	return out, nil
}

func checkOutputBufferLimits(v string) (string, error) {
	if _, err := ParseOutputBufferLimits(v); err != nil {
		return "", err
	}
	return v, nil
}

// mergeOutputBufferLimits applies the classes given in v to old, as CONFIG
// SET does (classes not named keep their limits), in CONFIG GET's form.
func mergeOutputBufferLimits(old, v string) string {
	all, err := ParseOutputBufferLimits(old)
	if err != nil {
		all, _ = ParseOutputBufferLimits(defaultOutputBufferLimits)
	}
	set, _ := ParseOutputBufferLimits(v)
	for k, l := range set {
		all[k] = l
	}
	var b strings.Builder
	for i, name := range obufClasses {
		key := name
		if key == "slave" {
			key = "replica"
		}
		l := all[key]
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name + " " + strconv.FormatInt(l.Hard, 10) + " " + strconv.FormatInt(l.Soft, 10) + " " + strconv.FormatInt(l.SoftSeconds, 10))
	}
	return b.String()
}

// checkSizeMin is checkSize with Redis's lower bound and its error text.
func checkSizeMin(lo int64) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := ParseSize(v)
		if err != nil || n < lo {
			return "", errors.New("argument must be between " + strconv.FormatInt(lo, 10) + " and 9223372036854775807 inclusive")
		}
		return strconv.FormatInt(n, 10), nil
	}
}
