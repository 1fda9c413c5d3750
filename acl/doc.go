// Package acl is sessiond's user model: Redis 7.0's ACL users, their
// rules, and the permission check run before every command.
//
// # Users
//
// A Registry holds the users by name. The default user always exists; a
// new connection runs as it, authenticated at once if it is "nopass" and
// "on". requirepass is the default user's password (resetpass then
// >password; empty: nopass), kept in step by CONFIG SET requirepass, as in
// Redis. AUTH [user] pass and HELLO ... AUTH user pass look the user up and
// compare the SHA-256 digest of the password with each stored digest in
// constant time; a missing user, a disabled one and a wrong password all
// give the same WRONGPASS error.
//
// A user's state (flags, password digests, key and channel patterns, the
// command bitmap) is an immutable value behind an atomic pointer. ACL
// SETUSER applies all its rules to a copy and publishes it, or changes
// nothing on the first bad rule; connections authenticated as the user
// see the new rules from their next command. ACL DELUSER and ACL LOAD
// revoke the old users (their rules become "nothing allowed") and the
// server closes their connections.
//
// # Commands and categories
//
// The catalog is Redis 7.0's whole command table, generated from
// redis-server's COMMAND output (commands_redis.go; TestRedisCommandData
// checks it, -update rewrites it): names, subcommands, ACL categories and
// key specs. Rules may therefore name any Redis command, as a Redis ACL
// file does, and ACL LIST's best-fit description (+@all or -@all, then the
// categories that fit the bitmap best, then single commands) counts the
// same commands Redis counts, so it prints the same rules. Commands
// sessiond has beyond Redis 7.0 are registered by the server at start.
//
// # The check
//
// User.Check is one atomic load and one branch for an unrestricted user
// (+@all ~* &*: the default user of a server without ACLs). Otherwise it
// tests the command's bit (or an allowed first argument, +select|0), then
// every key argument, found from the command's key specs as Redis finds
// them, against the patterns with the permission the key spec needs
// (%R~ for access, %W~ for insert, update and delete), then the channels of
// PUBLISH, SUBSCRIBE and PSUBSCRIBE. It does not allocate.
//
// # ACL files
//
// ParseFile reads Redis's format: "user NAME rules..." per line, blank lines
// allowed, nothing else. Every problem is reported with its line number,
// worded as Redis words it, and nothing is loaded if there is one.
//
// # Not implemented (limits)
//
//   - Selectors: "(rules)" and "clearselectors" other than as a no-op; ACL
//     GETUSER always reports an empty "selectors" list.
//   - The acl-pubsub-default parameter (new users start with
//     resetchannels, the Redis 7 default). ACL LOG is the resp package's
//     (resp/acllog.go).
//   - Users in the main config file ("user ..." lines): use aclfile.
//   - sanitize-payload and skip-sanitize-payload are accepted and listed
//     but change nothing (sessiond has no RESTORE).
//   - The order of the single-command rules in ACL LIST (after the
//     categories): Redis prints them in its hash table's order, which
//     changes from run to run; sessiond prints them in name order.
//   - Key specs with variable flags are handled for SET (GET makes it read
//     its key); other such commands use their key specs' declared flags.
//   - "%~pattern" (a pattern with no permission) is a syntax error here;
//     Redis 7.0 accepts it and then crashes describing the user.
package acl
