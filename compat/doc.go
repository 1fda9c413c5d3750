// Package compat proves that real, unmodified Redis client libraries and
// session stores work against sessiond.
//
// The package has no production code: its tests start an in-process
// sessiond (internal/testserver) on a loopback port and drive it over TCP
// with
//
//   - Go clients: github.com/redis/go-redis/v9 (RESP2 and RESP3, with and
//     without a password), github.com/gomodule/redigo, and
//     github.com/redis/rueidis and github.com/valkey-io/valkey-go with
//     their client-side caching (CLIENT TRACKING);
//   - Go session stores through their public APIs: alexedwards/scs
//     (goredisstore and redisstore) and gorilla/sessions with
//     boj/redistore;
//   - external clients run as subprocesses: Node (ioredis v5/v6, node-redis
//     v5/v6, connect-redis with express-session; see node/), PHP's phpredis
//     session handler (see php/) and redis-cli.
//
// A recording TCP proxy between client and server captures the exact
// commands each client sends, so the tests can assert on handshakes
// (HELLO, AUTH, SELECT, CLIENT SETINFO...) as well as on results.
//
// External clients are skipped, loudly, when node/npm, php or redis-cli is
// not installed, and fail the test instead when CI=true. See README.md for
// what is and is not covered.
package compat
