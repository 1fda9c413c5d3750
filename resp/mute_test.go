package resp_test

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// replyStream sends cmds (one per line, split on spaces) pipelined in one
// write, then ECHO <end>, and returns every byte received up to and
// including the end marker's reply: a muted command has no reply to wait
// for, so the stream, not reply by reply, is what is compared.
func replyStream(t *testing.T, addr string, cmds []string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	var req []byte
	for _, line := range append(cmds, "CLIENT REPLY ON", "ECHO the-end") {
		req = append(req, encodeCommand(strings.Fields(line))...)
	}
	_, err = nc.Write(req)
	require.NoError(t, err)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.HasSuffix(got, []byte("+OK\r\n$7\r\nthe-end\r\n")) {
		n, err := nc.Read(buf)
		require.NoError(t, err, "read so far: %q", got)
		got = append(got, buf[:n]...)
	}
	return string(got)
}

// TestClientReplyMatchesRedis: CLIENT REPLY OFF, ON and SKIP mute and
// unmute replies as Redis 7.0 does, byte for byte over whole pipelines:
// OFF and SKIP have no reply, ON has, errors are muted too, SKIP inside
// OFF does nothing, two SKIPs skip one command each, RESET lifts OFF and
// answers, a MULTI/EXEC while muted, and SUBSCRIBE's confirmations and
// the messages that follow arrive while muted (they are pushes). RESP2
// and RESP3.
func TestClientReplyMatchesRedis(t *testing.T) {
	s, r := testserver.Start(t).Addr, testserver.StartRedis(t).Addr
	cases := [][]string{
		{"CLIENT REPLY SKIP", "PING", "PING", "CLIENT REPLY OFF", "PING", "CLIENT REPLY SKIP", "CLIENT REPLY ON", "GET nokey",
			"CLIENT REPLY SKIP", "CLIENT REPLY SKIP", "ECHO a", "ECHO b", "CLIENT REPLY foo", "CLIENT REPLY", "CLIENT REPLY on x"},
		{"DEL k", "CLIENT REPLY OFF", "SET k v", "INCR k", "CLIENT REPLY foo", "NOSUCH", "GET k", "CLIENT REPLY ON", "GET k", "DEL k"},
		{"CLIENT REPLY OFF", "RESET", "PING", "CLIENT REPLY SKIP", "RESET", "PING", "CLIENT REPLY SKIP", "CLIENT REPLY ON", "PING"},
		{"CLIENT REPLY OFF", "MULTI", "SET a 1", "INCR a", "EXEC", "CLIENT REPLY ON", "GET a", "CLIENT REPLY SKIP", "MULTI", "SET a 2", "EXEC", "GET a"},
		{"CLIENT REPLY SKIP", "CLIENT REPLY ON", "PING"},
	}
	for _, proto := range []string{"2", "3"} {
		for i, cmds := range cases {
			if proto == "3" {
				cmds = append([]string{"CLIENT REPLY SKIP", "HELLO 3"}, cmds...) // HELLO's reply names the server
			}
			require.Equal(t, replyStream(t, r, cmds), replyStream(t, s, cmds), "RESP%s case %d", proto, i)
		}
	}
	// Confirmations get through a mute; the (un)subscribe command's other
	// replies do not (helper-57's review: they all did). RESP3, where a
	// subscribed client may still run commands.
	for i, cmds := range [][]string{
		{"CLIENT REPLY OFF", "UNSUBSCRIBE", "PUNSUBSCRIBE a b"},
		{"CLIENT REPLY OFF", "MULTI", "UNSUBSCRIBE", "DISCARD"},
		{"CLIENT REPLY SKIP", "SUBSCRIBE", "PING"},
		{"CLIENT REPLY OFF", "XSUBSCRIBE a"},
		{"CLIENT REPLY SKIP", "HELLO 3", "CLIENT REPLY OFF", "SUBSCRIBE ch", "PUBLISH ch hi", "PING", "UNSUBSCRIBE ch"},
		{"CLIENT REPLY SKIP", "HELLO 3", "CLIENT REPLY SKIP", "CLIENT TRACKING ON", "PING"},
		{"CLIENT REPLY SKIP", "HELLO 3", "CLIENT TRACKING ON", "CLIENT REPLY OFF", "HELLO 3"},
		{"CLIENT REPLY SKIP", "HELLO 3", "CLIENT REPLY OFF", "MULTI", "SUBSCRIBE ch", "PING", "EXEC"},
		{"CLIENT REPLY SKIP", "HELLO 3", "CLIENT REPLY OFF", "MULTI", "CLIENT TRACKING ON", "PING", "EXEC"},
	} {
		require.Equal(t, replyStream(t, r, cmds), replyStream(t, s, cmds), "case %d: %q", i, cmds)
	}
}

// TestClientReplyInsideExec: inside EXEC, CLIENT REPLY answers +OK in
// EXEC's array and its mode applies after the EXEC, so the array stays
// whole (Redis changes the mode there and then and leaves the array short
// or long, so a client parser loses its place).
func TestClientReplyInsideExec(t *testing.T) {
	addr := testserver.Start(t).Addr
	got := replyStream(t, addr, []string{"MULTI", "CLIENT REPLY OFF", "SET a 1", "EXEC", "PING", "GET a"})
	require.Equal(t, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n+OK\r\n+OK\r\n$7\r\nthe-end\r\n", got)
	got = replyStream(t, addr, []string{"MULTI", "CLIENT REPLY SKIP", "EXEC", "PING", "ECHO x"})
	require.Equal(t, "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n$1\r\nx\r\n+OK\r\n$7\r\nthe-end\r\n", got)
	got = replyStream(t, addr, []string{"CLIENT REPLY OFF", "MULTI", "CLIENT REPLY ON", "ECHO y", "EXEC", "ECHO z"})
	require.Equal(t, "$1\r\nz\r\n+OK\r\n$7\r\nthe-end\r\n", got, "muted EXEC, unmuted after it")
}
