// Package luascript runs Redis's EVAL scripts and Redis 7.0 functions on
// gopher-lua (Lua 5.1): the script cache keyed by SHA1, the function
// libraries (functions.go), Redis's sandbox, the redis.* API, and the
// conversions between RESP replies and Lua values.
//
// Invariants:
//   - A script sees Redis 5.1+'s sandbox: base (without dofile, loadfile,
//     print, require, module, getfenv, setfenv, newproxy), table, string,
//     math, coroutine, bit, cjson, cmsgpack and struct (the last three in
//     Go, as Redis 7.0.15's C versions behave on x86-64). The globals
//     table, the library tables and the strings' metatable are read-only
//     (rawset, table.insert and setmetatable refuse them too); reading a
//     global that does not exist and assigning any global are errors
//     worded as Redis words them. KEYS and ARGV are fresh tables for every
//     run. The global cjson's settings outlive a discarded state, as
//     Redis's never discarded one keeps them.
//   - Compiled scripts are kept until Flush, as Redis keeps them until
//     SCRIPT FLUSH. Compiling needs no Lua state, so Load runs concurrently
//     with a script.
//   - One Lua state serves every script, another every function. Run is
//     not safe for concurrent use: the caller (resp) runs one script or
//     function at a time. A state whose script was killed is discarded,
//     not reused; the functions' is rebuilt from the libraries' code.
//   - Commands called from Lua go through the Host, which applies Redis's
//     rules (unknown command, arity, no-script, read-only scripts) and
//     returns the reply as a Value; the conversion both ways follows
//     Redis 7's script_lua.c.
//
// Atomicity is resp's job (resp/cmd_script.go): EVAL takes resp's gate
// exclusively, as EXEC does, so no other client's command runs while a
// script runs, and the commands the script calls run without taking the
// gate again. Past busy-reply-threshold the script sets resp's busy flag
// and only then releases the gate; every command checks the flag after
// taking the gate and replies -BUSY (only SCRIPT KILL, SHUTDOWN NOSAVE and
// the connection/transaction commands Redis marks allow_busy run), so the
// script stays atomic until it ends or SCRIPT KILL cancels its context.
// Plain commands pay one atomic load of the busy flag.
package luascript
