package cti_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/scenarios"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// serverFiles writes a server certificate for 127.0.0.1 and localhost,
// signed by ca, and its key, as PEM files; it returns their paths.
func (ca *testCA) serverFiles(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	return ca.serverFilesSerial(t, 2)
}

// serverFilesSerial is serverFiles with the certificate's serial number.
func (ca *testCA) serverFilesSerial(t *testing.T, serial int64) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "astcti test server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

// startTLS starts a server with a plain and a TLS seat listener, whose
// certificate ca signed.
func startTLS(t *testing.T, ca *testCA) (*ctitest.Server, *ctitest.PBX) {
	t.Helper()
	certFile, keyFile := ca.serverFiles(t)
	tc, err := cti.LoadTLS(certFile, keyFile, nil)
	require.NoError(t, err)
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), TLS: tc})
	require.NotEmpty(t, srv.TLSAddr())
	return srv, pbx
}

// TestTLSSeat: a seat logs in over TLS and gets the screen pop of a call it
// answers; a seat on the plain listener shares the same sessions (alice
// logging in there replaces her TLS session).
func TestTLSSeat(t *testing.T) {
	ca := newTestCA(t, "astcti test CA")
	srv, pbx := startTLS(t, ca)

	alice := ctitest.DialSeatFrom(t, srv.TLSAddr(), "127.0.0.1", &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12})
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)
	pbx.WaitMembers("astcti-queue", "SIP/201")
	sc, err := scenarios.ParseFragment("call.txtar", []byte("-- calls --\nat 0s from \"Demo 1\" <200> to 102@from-trunk\n"))
	require.NoError(t, err)
	require.NoError(t, pbx.PBX.Play(sc))
	alice.Expect(`^<event id="CallerId">`)
	m := alice.Expect(`^<event id="Link">.*<parameters>(.*)</parameters>`)
	assert.Equal(t, "--customer 98765 --caller 200", m[1])

	again := srv.Dial() // plain
	again.Login("alice", "alice", "")
	alice.Expect(`^999 KO replaced by a new login$`)
}

// TestTLSRefusals: a client that trusts another CA refuses the server's
// certificate; a client that speaks plain TCP to the TLS port never gets a
// line in clear and is hung up on; each failed handshake is logged, and
// none hurts the server, which goes on serving both listeners.
func TestTLSRefusals(t *testing.T) {
	ca := newTestCA(t, "astcti test CA")
	srv, _ := startTLS(t, ca)

	other := newTestCA(t, "another CA")
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: ctitest.Wait}, Config: &tls.Config{RootCAs: other.pool}}
	_, err := d.DialContext(t.Context(), "tcp", srv.TLSAddr())
	var uae x509.UnknownAuthorityError
	require.ErrorAs(t, err, &uae, "%v", err)

	old := &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	d = &tls.Dialer{NetDialer: &net.Dialer{Timeout: ctitest.Wait}, Config: old}
	_, err = d.DialContext(t.Context(), "tcp", srv.TLSAddr())
	require.Error(t, err, "TLS 1.1 is refused")

	plain, err := net.DialTimeout("tcp", srv.TLSAddr(), ctitest.Wait)
	require.NoError(t, err)
	defer plain.Close()
	_, err = plain.Write([]byte("USER alice\nPASS 6384e2b2184bcbf58eccf10ca7a6563c\n"))
	require.NoError(t, err)
	require.NoError(t, plain.SetReadDeadline(time.Now().Add(ctitest.Wait)))
	br := bufio.NewReader(plain)
	for {
		line, err := br.ReadString('\n')
		assert.NotContains(t, line, "100 WELCOME", "no line in clear on the TLS port")
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("the server did not hang up on a plain client within %v", ctitest.Wait)
			}
			break
		}
	}

	require.NoError(t, ctitest.Poll(ctitest.Wait, func() error { // the other CA, TLS 1.1 and plain TCP
		n := srv.Logs.Count("seat TLS handshake failed")
		return ctitest.Check(n == 3, "%d handshake failures logged, want 3", n)
	}))

	good := ctitest.DialSeatFrom(t, srv.TLSAddr(), "127.0.0.1", &tls.Config{RootCAs: ca.pool})
	good.Login("alice", "alice", "")
	good.Expect(`^200 astcti-queue$`)
	bob := srv.Dial()
	bob.Login("bob", "bob", "00:11:22:33:44:02")
	bob.Expect(`^200 astcti-queue$`)
}

// TestLoadTLSReload: a renewed certificate is used without a restart; a
// broken pair keeps the previous one (logged once); a bad pair at start
// is an error.
func TestLoadTLSReload(t *testing.T) {
	cti.NoTLSReloadWait(t)
	ca := newTestCA(t, "astcti test CA")
	certFile, keyFile := ca.serverFiles(t)
	logs := ctitest.NewLogs(t)
	tc, err := cti.LoadTLS(certFile, keyFile, logs.Logger())
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS12), tc.MinVersion)
	serial := func() int64 {
		t.Helper()
		c, err := tc.GetCertificate(&tls.ClientHelloInfo{})
		require.NoError(t, err)
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		require.NoError(t, err)
		return leaf.SerialNumber.Int64()
	}
	first := serial()

	// A renewal: another certificate and key written over the files.
	newCert, newKey := ca.serverFilesSerial(t, 7)
	for _, f := range [][2]string{{newCert, certFile}, {newKey, keyFile}} {
		b, err := os.ReadFile(f[0])
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(f[1], b, 0o600))
		later := time.Now().Add(time.Minute)
		require.NoError(t, os.Chtimes(f[1], later, later))
	}
	assert.Equal(t, int64(7), serial(), "renewed (was %d)", first)

	require.NoError(t, os.WriteFile(keyFile, []byte("not a key"), 0o600))
	later := time.Now().Add(2 * time.Minute)
	require.NoError(t, os.Chtimes(keyFile, later, later))
	assert.Equal(t, int64(7), serial(), "a broken pair keeps the previous one")
	assert.Equal(t, int64(7), serial())
	assert.Equal(t, 1, logs.Count("seat TLS certificate not reloaded"), "logged once")

	_, err = cti.LoadTLS(certFile, keyFile, nil)
	assert.ErrorContains(t, err, "cti: TLS certificate")
}
