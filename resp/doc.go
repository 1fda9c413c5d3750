// Package resp is sessiond's network front end: connections (a read loop
// over github.com/tidwall/redcon's request parser and reply writer:
// loop.go), per-connection state, the command table, dispatch and replies
// in RESP2 and RESP3.
//
// # Requests: the framer in front of the parser
//
// No client, however broken or hostile, may crash the server, hang it,
// exhaust its memory or disturb other clients. redcon v1.6.2's parser
// cannot promise that on its own: it rejects "*0" and "*-1" (Redis ignores
// them) and bulks not followed by CRLF (Redis skips those two bytes
// unread); it loops over a request's announced argument count each time it
// looks at an incomplete request (so "*2147483647" costs seconds of CPU
// per read); it buffers an incomplete request without limit; its integer
// parser overflows; and it grows its read buffer whenever a read ends in
// the middle of a request, until one ends on a boundary.
//
// So every connection is a frameConn (conn.go) and every byte read goes
// through the framer (framer.go), a streaming parser that applies Redis's
// rules (networking.c processMultibulkBuffer and processInlineBuffer) as
// the bytes arrive, before anything is buffered for them:
//
//   - a count over INT_MAX, or not a number as string2ll reads it:
//     "Protocol error: invalid multibulk length"; a bulk length below 0,
//     over proto-max-bulk-len or malformed: "invalid bulk length"; a bulk
//     header not starting with '$': "expected '$', got 'x'"; an inline
//     line, count or bulk header over 64 KB without its end: "too big
//     inline request", "too big mbulk count string", "too big bulk count
//     string"; unbalanced quotes in an inline line; before AUTH (when a
//     password is set), more than 10 arguments or a bulk over 16 KB:
//     "unauthenticated multibulk length" / "unauthenticated bulk length".
//     The requests before the bad one run and are answered, then the error
//     is sent and the connection closed, as Redis does. Other connections
//     never notice.
//   - a request larger than client-query-buffer-limit (its bytes plus 40
//     per argument, what redcon spends on each) closes the connection
//     without a reply, as Redis does, before the rest is read.
//
// The framer hands the read loop canonical RESP only: inline requests are split
// with sdssplitargs's rules (inline.go) and turned into RESP, "*0"/"*-1"
// are dropped, the two bytes after a bulk become CRLF. It hands over whole
// requests: a trailing incomplete request is kept aside until complete,
// unless it does not fit in the loop's free space, in which case a piece is
// handed over so that the loop grows its buffer (this is how a large value
// arrives, with no extra copy). A request announcing more than 1024
// arguments is kept until complete even then, so the parser never loops over a
// huge announced count. Before AUTH, requests are handed over one at a
// time, so that AUTH in a pipeline lifts the unauthenticated limits for
// the requests after it, as in Redis.
//
// The cost on the hot path: the bytes are read straight into the loop's
// buffer and checked there in place; header lines are scanned with
// bytes.IndexByte and bulk payloads skipped by length, so a GET costs a
// few dozen byte comparisons more, and no allocation: the loop slices the
// arguments out of its reused buffer with redcon.ReadNextCommand, where
// redcon's own server copied every request (loop.go says why that
// mattered; TestServerGetDoesNotAllocate covers a GET end to end). Only inline requests,
// requests split across reads, and connections before AUTH take the slow
// path, which copies.
//
// # Replies: backpressure and output buffer limits
//
// Replies go into a per-connection redcon.Writer, flushed once per batch
// of pipelined requests, blocking while the client does not
// read. A batch whose replies are large (GET of big values, pipelined)
// would be buffered whole, so replies are also flushed once 64 KB are
// pending (afterCommand; outWriter counts them). A client that sends
// without reading thus stops being read from, with at most 64 KB plus one
// reply held for it, instead of growing.
//
// client-output-buffer-limit (Redis's syntax; the normal class applies to
// every client) is enforced on the bytes of each flush (frameConn.Write):
// at or over the hard limit the client is disconnected at once; over the
// soft limit, the client must read enough to bring it under within
// soft-seconds (plus one: Redis counts whole seconds), or it is
// disconnected. With a limit set, replies accumulate up to it before the
// flush, so a client that pipelines and never reads is disconnected as in
// Redis. The pubsub class is applied by package pubsub to each subscriber's queue.
//
// # Event loops
//
// On Linux a plain TCP connection is served by an epoll event loop
// (eventloop_linux.go; event-loops, one per GOMAXPROCS by default), as
// Redis serves its clients: one read when epoll reports it readable, every
// whole request in it run, one write, back to epoll. A goroutine per
// connection costs a read that finds nothing, a park and a wake-up per
// request, about 2 µs of CPU at pipeline 1. The framer and the loop above
// are the same in both modes: a read that would block returns
// errWouldBlock, an incomplete request read so far is handed over marked
// partial (the loop does not rescan it until more arrives), and the loop
// drains what the framer holds (buffered) before waiting on epoll, which
// is level-triggered and will not report bytes already read.
//
// An idle loop parks on Go's netpoller, which watches the epoll descriptor
// itself, instead of blocking in epoll_wait: a thread blocked in a system
// call keeps its P, and with every P so held the runtime's sysmon took the
// Ps back every 20 µs. A loop yields its P before each wait, so that a
// loop that always finds work does not keep another, just woken, from
// running. Sockets are read and written with raw system calls (they never
// block), 256 KiB at most per call; race builds use syscall.Read/Write,
// whose ordering of I/O the race detector relies on.
//
// A loop must never wait, so a connection leaves it, for good, for a
// goroutine of its own before anything that can: a script (SCRIPT KILL
// must be able to reach it), MONITOR and subscriptions (they own the
// socket's writes), SAVE, SHUTDOWN and DEBUG, a command that must wait for
// CLIENT PAUSE, a blocking command (BLPOP...) that finds nothing to pop,
// an RDB transfer (SYNC or PSYNC after REPLCONF rdb-only 1: cmd_sync.go),
// a reply the socket does not take at once (the rest is
// written by the goroutine, under the output limits). The idle timeout
// needs no move: a sweep closes idle clients in every mode (idle.go).
// dispatch decides, once it has resolved the command: it leaves the
// command unrun and unanswered (client.deferred), and the loop hands the
// connection over with that command as its first. Only the
// loop's goroutine reads, writes and closes a loop connection's
// descriptor; other goroutines shut the socket down and the loop cleans
// up on the end of file that follows.
//
// # Blocking commands
//
// BLPOP and the other blocking commands (cmd_block.go) wait on a
// goroutine without holding the gate, so EXEC and scripts run meanwhile;
// in MULTI and in scripts they do not block, as in Redis. Before waiting
// a blocked client's earlier replies are flushed, and its socket is
// watched (hangup_unix.go): a client that disconnects stops waiting, so an
// element pushed later is not popped for nobody.
//
// # Commands that hold others off, or talk to other servers
//
// DEBUG (cmd_debug.go) takes the whole gate, as EXEC does, so that DEBUG
// SLEEP stops every other command as Redis's stops its one thread.
// MIGRATE (cmd_migrate.go) takes the whole gate, as EXEC does, while it
// sends keys to its target and reads the replies: as in Redis, no key can
// change between being sent and being deleted, and everything else waits
// up to its timeout. SORT (cmd_sort.go) with BY or GET patterns, which
// read keys named by the data, or with STORE trades its gate shard for
// the whole gate while it runs, with the time frozen, as Redis runs it on
// its one thread; a SORT of one key without them reads that key in one
// step and sorts holding only its shard. SYNC and PSYNC (cmd_sync.go) take
// no gate: the snapshot they stream is consistent per key, as BGSAVE's is.
//
// # Client-side caching
//
// A tracking client's read-only commands remember their keys before they
// read; writes announce theirs after they run; a message to a client that
// is running a command follows that command's reply (tracking.go). So a
// client that read a value before a write always learns of the write.
//
// # COMMAND DOCS
//
// COMMAND DOCS is Redis 7.0.15's reply for each command sessiond has
// (docs.go): the table's summary, since and group must be 7.0.15's text,
// and the rest comes from commanddocs.txt, which only `go generate ./resp`
// writes, from a real redis-server; what sessiond has of Redis 7.2 is
// documented by hand in commanddocs72.txt. TestCommandDocsRedis holds all
// of it to a redis-server, and TestCommandDocsData the files to the table.
//
// # Replies and CLIENT REPLY
//
// Every command dispatched writes exactly one reply (FuzzDispatch holds
// the dispatcher to it), except while CLIENT REPLY OFF or SKIP holds: then
// dispatch wraps the writer (mute.go), which drops what is written unless
// the mode is lifted meanwhile (CLIENT REPLY ON, RESET) or it is an
// (un)subscribe confirmation, a push in Redis. The mode belongs to the
// connection's own goroutine or loop; inside EXEC it changes only after
// the EXEC, so EXEC's array stays whole.
//
// # Output limits
//
// A batch of replies over client-output-buffer-limit's soft limit must be
// taken whole within soft-seconds; a smaller one that waits that long
// closes the client if its socket holds more requests (conn.go
// writeUnderSoft): the connection reads nothing more while it writes, and
// Redis would by then hold those requests' replies over the limit.
//
// # Idle connections
//
// An idle connection holds its goroutine (none on an event loop), a 4 KB
// read buffer (loop.go),
// the client record, and nothing in the framer (its buffers are freed when
// empty if large). TestIdleConnectionMemory measures it. A read buffer
// grown past 64 KB for a large request is freed once it is empty again.
// The buffer grows only for a request larger than its free space: the
// framer hands over whole requests, so deep pipelines of small requests
// need no more than 4 KB.
package resp
