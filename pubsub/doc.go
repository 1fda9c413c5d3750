// Package pubsub is sessiond's publish/subscribe hub: the channel and
// pattern registry behind SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and PUBLISH,
// the per-subscriber outbound queue, and the keyspace Notifier that turns
// keyspace events into __keyspace@<db>__ and __keyevent@<db>__ messages.
//
// # Delivery
//
// PUBLISH runs on the publisher's goroutine, and keyspace events on the
// goroutine of the command (or of the expiry wheel) that caused them.
// redcon's connection writer is not safe for use from another goroutine,
// and a write to a slow subscriber's socket would block the publisher, so
// a subscribed connection gets a Sub: an outbound byte queue guarded by a
// mutex, drained by one writer goroutine of its own that is the only
// writer to the socket from then on.
//
//   - A publisher encodes the message straight into each subscriber's
//     queue under that subscriber's mutex and wakes its writer. It never
//     touches a socket and never waits for one.
//   - The connection's own replies go through the same queue (resp writes
//     them into a redcon.Writer whose Flush appends to the Sub), so replies
//     and messages reach the client in the order they were produced. When
//     a connection first subscribes, the replies redcon still buffers for
//     it are moved into the queue first.
//   - The writer goroutine swaps the queue out under the mutex and writes
//     it with the mutex released, in chunks, counting what is still
//     unwritten.
//
// # Ordering
//
// Subscribing and unsubscribing hold the registry lock while they change
// the registry and queue their confirmations; publishing holds it for
// reading while it queues messages. So a message is queued after the
// confirmation of the subscription that receives it, as in Redis. Lock
// order is registry, then a Sub's mutex; neither is held while taking a
// keyspace stripe lock, and the Notifier takes no keyspace lock.
//
// # Limits
//
// A subscribed connection is Redis's "pubsub" client class. Its unwritten
// bytes (queued plus in flight) are bounded by client-output-buffer-limit
// pubsub <hard> <soft> <seconds> (default 32mb 8mb 60): past the hard
// limit, or past the soft limit for longer than the given seconds, the
// connection is closed and its queue dropped, so a subscriber that does not
// read costs at most the hard limit. The connection's own replies are not
// limited but apply backpressure instead: the connection's goroutine waits
// while more than ownBacklog bytes are unwritten, as it would on a socket.
//
// # Notifications
//
// Hub implements keyspace.Notifier. notify-keyspace-events is parsed by
// ParseEvents; with no subscriber at all, or with the event's class off, a
// notification costs two atomic loads.
package pubsub
