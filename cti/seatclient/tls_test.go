package seatclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// selfSigned returns a server certificate for 127.0.0.1 and localhost,
// signed by itself, and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "astcti test server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

func TestClientTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	serverConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	t.Run("trusted", func(t *testing.T) {
		shrink(t)
		fs := newFakeServer(t, serverConfig)
		cl := startClient(t, Config{Addr: fs.addr(), TLS: &tls.Config{RootCAs: pool}})
		sc := fs.accept()
		sc.login("")
		cl.rec.wait(t, NoteConnected)
		state := sc.c.(*tls.Conn).ConnectionState()
		assert.True(t, state.HandshakeComplete)
		assert.Equal(t, "", state.ServerName, "no SNI for an IP address")
	})
	t.Run("by name", func(t *testing.T) {
		shrink(t)
		fs := newFakeServer(t, serverConfig)
		_, port, _ := net.SplitHostPort(fs.addr())
		cl := startClient(t, Config{Addr: net.JoinHostPort("localhost", port), TLS: &tls.Config{RootCAs: pool}})
		sc := fs.accept()
		sc.login("")
		cl.rec.wait(t, NoteConnected)
		assert.Equal(t, "localhost", sc.c.(*tls.Conn).ConnectionState().ServerName)
	})
	t.Run("untrusted", func(t *testing.T) {
		shrink(t)
		fs := newFakeServer(t, serverConfig)
		cl := startClient(t, Config{Addr: fs.addr(), TLS: &tls.Config{}, Retries: 1})
		sc := fs.accept()
		assert.Error(t, sc.c.(*tls.Conn).Handshake(), "the client refuses the certificate")
		err := cl.result(t)
		require.ErrorIs(t, err, ErrUnreachable)
		var uae x509.UnknownAuthorityError
		assert.ErrorAs(t, err, &uae, "%v", err)
	})
	t.Run("insecure", func(t *testing.T) {
		shrink(t)
		fs := newFakeServer(t, serverConfig)
		cl := startClient(t, Config{Addr: fs.addr(), TLS: &tls.Config{InsecureSkipVerify: true}})
		sc := fs.accept()
		sc.login("")
		cl.rec.wait(t, NoteConnected)
	})
	t.Run("plain client, TLS server", func(t *testing.T) {
		shrink(t)
		LoginTimeout = 100 * time.Millisecond
		fs := newFakeServer(t, serverConfig)
		cl := startClient(t, Config{Addr: fs.addr(), Retries: 1})
		err := cl.result(t)
		require.ErrorIs(t, err, ErrUnreachable)
	})
}
