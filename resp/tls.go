package resp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"sessiond/config"
)

// TLSConfig builds the server's TLS configuration from the tls-*
// parameters. With a CA file, tls-auth-clients decides whether clients
// must present a certificate that chains to it (yes, Redis's default), may
// (optional: verified when given) or are not asked (no). Without a CA file
// clients are not asked for certificates.
func TLSConfig(cfg *config.Config) (*tls.Config, error) {
	certFile, keyFile := cfg.Get("tls-cert-file"), cfg.Get("tls-key-file")
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls-port needs tls-cert-file and tls-key-file")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if ca := cfg.Get("tls-ca-cert-file"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA: no certificate found in %s", ca)
		}
		tc.ClientCAs = pool
		switch cfg.Get("tls-auth-clients") {
		case "yes":
			tc.ClientAuth = tls.RequireAndVerifyClientCert
		case "optional":
			tc.ClientAuth = tls.VerifyClientCertIfGiven
		default:
			tc.ClientAuth = tls.NoClientCert
		}
	}
	return tc, nil
}

// ListenTLS adds the TLS port to plain, if tls-port is set: it listens on
// plain's host and tls-port and returns one listener accepting from both
// (Serve takes one listener). With tls-port 0 it returns plain.
func ListenTLS(cfg *config.Config, plain net.Listener, log *slog.Logger) (net.Listener, error) {
	port := cfg.Int("tls-port")
	if port == 0 {
		return plain, nil
	}
	tc, err := TLSConfig(cfg)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(plain.Addr().String())
	if err != nil {
		return nil, err
	}
	tln, err := tls.Listen("tcp", net.JoinHostPort(host, strconv.FormatInt(port, 10)), tc)
	if err != nil {
		return nil, fmt.Errorf("TLS listen: %w", err)
	}
	if log != nil {
		log.Info("TLS listening", "addr", tln.Addr().String())
	}
	return MergeListeners(log, plain, tln), nil
}

// handshakeTimeout bounds a TLS handshake: a client that never completes
// one holds only its own goroutine, never the accept loop.
const handshakeTimeout = 10 * time.Second

// MergeListeners returns a listener that accepts from all of lns. TLS
// connections are handed over only after a successful handshake, done on
// their own goroutine, so that the server reads commands (and protected
// mode writes its error) on an established session. Addr is lns[0]'s.
func MergeListeners(log *slog.Logger, lns ...net.Listener) net.Listener {
	m := &mergedListener{lns: lns, conns: make(chan net.Conn), errc: make(chan error, len(lns)), done: make(chan struct{})}
	for _, ln := range lns {
		go m.acceptLoop(ln, log)
	}
	return m
}

type mergedListener struct {
	lns   []net.Listener
	conns chan net.Conn
	errc  chan error
	done  chan struct{}
	once  sync.Once
}

func (m *mergedListener) acceptLoop(ln net.Listener, log *slog.Logger) {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.errc <- err
			return
		}
		if tc, ok := c.(*tls.Conn); ok {
			go m.handshake(tc, log)
			continue
		}
		m.deliver(c)
	}
}

func (m *mergedListener) handshake(tc *tls.Conn, log *slog.Logger) {
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		if log != nil {
			log.Debug("TLS handshake failed", "addr", tc.RemoteAddr().String(), "err", err)
		}
		tc.Close()
		return
	}
	tc.SetDeadline(time.Time{})
	m.deliver(tc)
}

func (m *mergedListener) deliver(c net.Conn) {
	select {
	case m.conns <- c:
	case <-m.done:
		c.Close()
	}
}

func (m *mergedListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case err := <-m.errc:
		return nil, err
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *mergedListener) Close() error {
	var err error
	m.once.Do(func() {
		close(m.done)
		for _, ln := range m.lns {
			if e := ln.Close(); e != nil && err == nil {
				err = e
			}
		}
	})
	return err
}

func (m *mergedListener) Addr() net.Addr { return m.lns[0].Addr() }
