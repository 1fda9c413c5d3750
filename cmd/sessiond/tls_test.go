package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type testPKI struct {
	dir                                        string
	caFile, certFile, keyFile, cliCert, cliKey string
	pool                                       *x509.CertPool
	client                                     tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	dir := t.TempDir()
	p := &testPKI{dir: dir}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sessiond test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(ca)
	p.caFile = writePEM(t, dir, "ca.crt", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string, tls.Certificate) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		kder, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		cf := writePEM(t, dir, name+".crt", "CERTIFICATE", der)
		kf := writePEM(t, dir, name+".key", "EC PRIVATE KEY", kder)
		pair, err := tls.LoadX509KeyPair(cf, kf)
		require.NoError(t, err)
		return cf, kf, pair
	}
	p.certFile, p.keyFile, _ = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	p.cliCert, p.cliKey, p.client = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// startTLS runs sessiond with a plain and a TLS port; it returns both addresses.
func startTLS(t *testing.T, p *testPKI, extra ...string) (string, string) {
	tlsPort := testserver.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	args := append([]string{"--addr", "127.0.0.1:0", "--dir", t.TempDir(), "--save-interval", "0",
		"--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", p.certFile, "--tls-key-file", p.keyFile,
		"--tls-ca-cert-file", p.caFile}, extra...)
	var stderr bytes.Buffer
	go func() { done <- run(ctx, args, &bytes.Buffer{}, &stderr, ready) }()
	var addr string
	select {
	case a := <-ready:
		addr = a.String()
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("run did not return")
		}
	})
	require.NoError(t, testserver.WaitReady(addr, 5*time.Second))
	return addr, "127.0.0.1:" + strconv.Itoa(tlsPort)
}

func TestTLS(t *testing.T) {
	p := newTestPKI(t)
	plain, tlsAddr := startTLS(t, p)
	ctx := context.Background()
	require.Equal(t, "+OK", dial(t, plain).do(t, "CONFIG", "SET", "requirepass", "pw"))

	c := goredis.NewClient(&goredis.Options{Addr: tlsAddr, Password: "pw", TLSConfig: &tls.Config{
		RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, ServerName: "127.0.0.1"}})
	defer c.Close()
	require.NoError(t, c.Set(ctx, "k", "over tls", 0).Err())
	assert.Equal(t, "over tls", c.Get(ctx, "k").Val())

	// The plain port serves the same data.
	pc := goredis.NewClient(&goredis.Options{Addr: plain, Password: "pw"})
	defer pc.Close()
	assert.Equal(t, "over tls", pc.Get(ctx, "k").Val())

	// tls-auth-clients defaults to yes with a CA: no client certificate, no session.
	nc := goredis.NewClient(&goredis.Options{Addr: tlsAddr, Password: "pw", MaxRetries: -1,
		TLSConfig: &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}})
	defer nc.Close()
	assert.Error(t, nc.Ping(ctx).Err())
	// A client that does not trust the server's CA refuses it.
	uc := goredis.NewClient(&goredis.Options{Addr: tlsAddr, Password: "pw", MaxRetries: -1,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{p.client}, ServerName: "127.0.0.1"}})
	defer uc.Close()
	assert.Error(t, uc.Ping(ctx).Err())

	// redis-cli over TLS, if it was built with TLS.
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Log("SKIPPING redis-cli over TLS: redis-cli is not installed")
		return
	}
	help, _ := exec.Command(cli, "--help").CombinedOutput()
	if !strings.Contains(string(help), "--tls") {
		t.Log("SKIPPING redis-cli over TLS: this redis-cli has no --tls support")
		return
	}
	host, port, _ := net.SplitHostPort(tlsAddr)
	out, err := exec.Command(cli, "--tls", "--cacert", p.caFile, "--cert", p.cliCert, "--key", p.cliKey,
		"-h", host, "-p", port, "--user", "default", "--pass", "pw", "--no-auth-warning", "GET", "k").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "over tls\n", string(out))
}

func TestTLSOptionalClientCert(t *testing.T) {
	p := newTestPKI(t)
	_, tlsAddr := startTLS(t, p, "--tls-auth-clients", "optional")
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: tlsAddr, TLSConfig: &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}})
	defer c.Close()
	assert.NoError(t, c.Ping(ctx).Err())
}

func TestTLSBadConfig(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--dir", t.TempDir(), "--tls-port", "1"}, &bytes.Buffer{}, &stderr, nil)
	require.ErrorContains(t, err, "tls-port needs tls-cert-file and tls-key-file")
}
