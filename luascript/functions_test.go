package luascript

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// echoHost answers every command with its first argument as a status.
type echoHost struct{ logs []string }

func (h *echoHost) Call(args [][]byte, _ bool) Value {
	return Value{Kind: Status, Str: string(args[0])}
}
func (h *echoHost) Log(_ int, msg string) { h.logs = append(h.logs, msg) }

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		"#!lua name=a":          {"#!lua", "name=a"},
		"  #!lua   name=a  ":    {"#!lua", "name=a"},
		`#!lua "name=a b"`:      {"#!lua", "name=a b"},
		`#!lua 'name=x'`:        {"#!lua", "name=x"},
		`#!lua "a\x41\n\xZ"`:    {"#!lua", "aA\nxZ"},
		"":                      nil,
		`#!lua "unterminated`:   nil,
		`#!lua "closed"glued`:   nil,
		`#!lua 'it\'s' another`: {"#!lua", "it's", "another"},
	} {
		got, ok := splitArgs(in)
		if want == nil && in != "" {
			require.False(t, ok, "%q", in)
			continue
		}
		require.True(t, ok, "%q", in)
		require.Equal(t, want, got, "%q", in)
	}
}

func TestFuncFlagsNames(t *testing.T) {
	require.Nil(t, FuncFlags(0).Names())
	require.Equal(t, []string{"no-writes", "allow-cross-slot-keys"}, (FlagNoWrites | FlagAllowCrossSlot).Names())
	require.True(t, validName("a_Z9"))
	require.False(t, validName(""))
	require.False(t, validName("a-b"))
}

func TestFunctionsLoadCallRestore(t *testing.T) {
	var fs Functions
	host := &echoHost{}
	fs.Log = host.Log
	name, err := fs.Load([]byte("#!lua name=lib\nlocal n = 0\nredis.log(redis.LOG_NOTICE, 'loaded')\n"+
		"redis.register_function('Count', function(keys, args) n = n + 1 return {n, keys[1], args[1], redis.call('ping')} end)"), false, time.Second)
	require.NoError(t, err)
	require.Equal(t, "lib", name)
	require.Equal(t, []string{"loaded"}, host.logs)
	f := fs.Lookup("count") // any case
	require.NotNil(t, f)
	for i := int64(1); i <= 2; i++ {
		v := fs.Call(context.Background(), f, [][]byte{[]byte("k")}, [][]byte{[]byte("a")}, host)
		require.Equal(t, Value{Kind: Array, Elems: []Value{{Kind: Int, Int: i}, {Kind: Bulk, Str: "k"}, {Kind: Bulk, Str: "a"}, {Kind: Status, Str: "ping"}}}, v)
	}
	libs, funcs, _ := fs.Count()
	require.Equal(t, [2]int{1, 1}, [2]int{libs, funcs})

	// A colliding library is refused whole; REPLACE swaps it.
	_, err = fs.Load([]byte("#!lua name=other\nredis.register_function('COUNT', function() end)"), false, 0)
	require.EqualError(t, err, "ERR Function COUNT already exists")
	_, err = fs.Load([]byte("#!lua name=lib\nredis.register_function('g', function() return 'g' end)"), false, 0)
	require.EqualError(t, err, "ERR Library 'lib' already exists")
	_, err = fs.Load([]byte("#!lua name=lib\nredis.register_function('g', function() return 'g' end)"), true, 0)
	require.NoError(t, err)
	require.Nil(t, fs.Lookup("count"))

	// Restore: all or nothing.
	codes := []string{"#!lua name=r1\nredis.register_function('r1', function() return 1 end)",
		"#!lua name=r2\nredis.register_function('g', function() return 2 end)"}
	require.EqualError(t, fs.Restore(codes, RestoreAppend), "ERR Function g already exists")
	require.Nil(t, fs.Lookup("r1"))
	require.NoError(t, fs.Restore(codes[:1], RestoreAppend))
	require.NotNil(t, fs.Lookup("r1"))
	require.EqualError(t, fs.Restore(codes[:1], RestoreAppend), "ERR Library r1 already exists")
	require.NoError(t, fs.Restore(codes[:1], RestoreReplace))
	require.NoError(t, fs.Restore(codes[:1], RestoreFlush))
	require.Nil(t, fs.Lookup("g"))
	require.NotNil(t, fs.Lookup("r1"))
}

func TestFunctionsKillKeepsState(t *testing.T) {
	var fs Functions
	_, err := fs.Load([]byte("#!lua name=k\nlocal n = 0\n"+
		"redis.register_function('inc', function() n = n + 1 return n end)\n"+
		"redis.register_function('spin', function() while true do end end)"), false, 0)
	require.NoError(t, err)
	host := &echoHost{}
	require.Equal(t, Value{Kind: Int, Int: 1}, fs.Call(context.Background(), fs.Lookup("inc"), nil, nil, host))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	v := fs.Call(ctx, fs.Lookup("spin"), nil, nil, host)
	wg.Wait()
	require.Equal(t, "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:4.", v.Str)
	require.Equal(t, Value{Kind: Int, Int: 2}, fs.Call(context.Background(), fs.Lookup("inc"), nil, nil, host))

	// A flush forgets the state; a library loaded after starts afresh.
	fs.Flush()
	require.Nil(t, fs.Lookup("inc"))
}
