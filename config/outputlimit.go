package config

import (
	"errors"
	"strconv"
	"strings"
)

// OutputLimitClass is one class of client-output-buffer-limit.
type OutputLimitClass struct {
	Hard, Soft, Seconds int64
}

var outputLimitClasses = []string{"normal", "slave", "pubsub"}

var defaultOutputLimits = map[string]OutputLimitClass{
	"normal": {}, "slave": {Hard: 256 << 20, Soft: 64 << 20, Seconds: 60}, "pubsub": {Hard: 32 << 20, Soft: 8 << 20, Seconds: 60},
}

// checkOutputLimit validates client-output-buffer-limit as Redis does
// ("<class> <hard> <soft> <seconds>" groups; replica is slave) and returns
// all three classes in bytes. Classes not given take their defaults
// (Redis keeps their current values instead).
func checkOutputLimit(v string) (string, error) {
	f := strings.Fields(v)
	if len(f)%4 != 0 {
		return "", errors.New("Wrong number of arguments in buffer limit configuration.") //nolint:staticcheck // Redis's text
	}
	out := map[string]OutputLimitClass{}
	for k, c := range defaultOutputLimits {
		out[k] = c
	}
	for i := 0; i < len(f); i += 4 {
		class := strings.ToLower(f[i])
		if class == "replica" {
			class = "slave"
		}
		if _, ok := defaultOutputLimits[class]; !ok {
			return "", errors.New("Invalid client class specified in buffer limit configuration.") //nolint:staticcheck
		}
		hard, err1 := ParseSize(f[i+1])
		soft, err2 := ParseSize(f[i+2])
		secs, err3 := strconv.ParseInt(f[i+3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || secs < 0 {
			return "", errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.") //nolint:staticcheck
		}
		out[class] = OutputLimitClass{Hard: hard, Soft: soft, Seconds: secs}
	}
	var b strings.Builder
	for i, k := range outputLimitClasses {
		if i > 0 {
			b.WriteByte(' ')
		}
		c := out[k]
		b.WriteString(k + " " + strconv.FormatInt(c.Hard, 10) + " " + strconv.FormatInt(c.Soft, 10) + " " + strconv.FormatInt(c.Seconds, 10))
	}
	return b.String(), nil
}

// OutputLimit returns one class of a canonical client-output-buffer-limit value.
func OutputLimit(v, class string) (OutputLimitClass, bool) {
	f := strings.Fields(v)
	for i := 0; i+3 < len(f); i += 4 {
		if f[i] == class {
			hard, err1 := strconv.ParseInt(f[i+1], 10, 64)
			soft, err2 := strconv.ParseInt(f[i+2], 10, 64)
			secs, err3 := strconv.ParseInt(f[i+3], 10, 64)
			return OutputLimitClass{hard, soft, secs}, err1 == nil && err2 == nil && err3 == nil
		}
	}
	return OutputLimitClass{}, false
}
