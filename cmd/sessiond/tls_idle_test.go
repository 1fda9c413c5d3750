package main

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTLSIdleTimeout: CONFIG SET timeout closes a TLS client that was
// already idle (TLS clients have a goroutine each, and the idle sweep
// closes them as it closes the others), and timeout 0 leaves the next
// one alone.
func TestTLSIdleTimeout(t *testing.T) {
	p := newTestPKI(t)
	plain, tlsAddr := startTLS(t, p)
	dialTLS := func() *tls.Conn {
		c, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "127.0.0.1"})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Write([]byte("PING\r\n"))
		require.NoError(t, err)
		buf := make([]byte, 7)
		_, err = io.ReadFull(c, buf)
		require.NoError(t, err)
		require.Equal(t, "+PONG\r\n", string(buf))
		return c
	}
	readErr := func(c *tls.Conn, d time.Duration) error {
		c.SetReadDeadline(time.Now().Add(d))
		_, err := c.Read(make([]byte, 1))
		return err
	}
	idle := dialTLS()
	require.Equal(t, "+OK", dial(t, plain).do(t, "CONFIG", "SET", "timeout", "1"))
	require.ErrorIs(t, readErr(idle, 3500*time.Millisecond), io.EOF)

	require.Equal(t, "+OK", dial(t, plain).do(t, "CONFIG", "SET", "timeout", "0"))
	kept := dialTLS()
	var ne net.Error
	require.True(t, errors.As(readErr(kept, 2500*time.Millisecond), &ne) && ne.Timeout(), "a TLS client was closed under timeout 0")
}
