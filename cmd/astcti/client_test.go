package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti/seatclient"
	"github.com/astcti/astcti/cti/seatproto"
)

func TestServerAddr(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"cti.example:5039", "cti.example:5039"},
		{"cti.example", "cti.example:5039"},
		{"10.0.0.5", "10.0.0.5:5039"},
		{"10.0.0.5:6000", "10.0.0.5:6000"},
		{"::1", "[::1]:5039"},
		{"[::1]", "[::1]:5039"},
		{"[::1]:6000", "[::1]:6000"},
		{"", ""},
		{":5039", ""},
		{"cti.example:", ""},
		{"[]", ""},
		{"cti example", ""},
		{"http://cti.example", ""},
		{"cti.example:0", ""},
		{"cti.example:99999", ""},
		{"cti.example:cti", ""},
	}
	for _, tc := range tests {
		got, err := serverAddr(tc.in)
		if tc.want == "" {
			assert.Error(t, err, "serverAddr(%q) = %q", tc.in, got)
			continue
		}
		if assert.NoError(t, err, "serverAddr(%q)", tc.in) {
			assert.Equal(t, tc.want, got, "serverAddr(%q)", tc.in)
		}
	}
}

func TestMACFlag(t *testing.T) {
	found := func() (string, string, error) { return "00:1a:2b:3c:4d:5e", "eth0", nil }
	none := func() (string, string, error) { return "", "", seatclient.ErrNoMAC }
	tests := []struct {
		in         string
		detect     func() (string, string, error)
		mac, iface string
		err        bool
	}{
		{"auto", found, "00:1a:2b:3c:4d:5e", "eth0", false},
		{"AUTO", found, "00:1a:2b:3c:4d:5e", "eth0", false},
		{"auto", none, "", "", false},
		{"none", found, "", "", false},
		{"", found, "", "", false},
		{"00:11:22:33:44:55", found, "00:11:22:33:44:55", "", false},
		{"00-11-22-AA-BB-CC", found, "00:11:22:aa:bb:cc", "", false},
		{"001122aabbcc", found, "00:11:22:aa:bb:cc", "", false},
		{"00:11:22", found, "", "", true},
		{"00:11:22:33:44:55 00:11:22:33:44:56", found, "", "", true},
		{"zz:11:22:33:44:55", found, "", "", true},
	}
	for _, tc := range tests {
		mac, iface, err := macFlag(tc.in, tc.detect)
		if tc.err {
			assert.Error(t, err, "macFlag(%q)", tc.in)
			continue
		}
		if assert.NoError(t, err, "macFlag(%q)", tc.in) {
			assert.Equal(t, tc.mac, mac, "macFlag(%q): MAC", tc.in)
			assert.Equal(t, tc.iface, iface, "macFlag(%q): interface", tc.in)
		}
	}
}

func TestTLSConfig(t *testing.T) {
	tc, err := tlsConfig(false, false, "", "")
	require.NoError(t, err)
	assert.Nil(t, tc, "no TLS")
	tc, err = tlsConfig(true, false, "", "")
	require.NoError(t, err)
	assert.False(t, tc.InsecureSkipVerify)
	assert.Nil(t, tc.RootCAs, "the system's roots")
	tc, err = tlsConfig(false, true, "", "")
	require.NoError(t, err)
	assert.True(t, tc.InsecureSkipVerify, "--tls-insecure implies --tls")
	_, err = tlsConfig(true, false, "/nonexistent/ca.pem", "")
	assert.Error(t, err)
	tc, err = tlsConfig(false, false, "", "cti.example")
	require.NoError(t, err)
	assert.Equal(t, "cti.example", tc.ServerName, "--tls-server-name implies --tls")
	assert.Equal(t, uint16(tls.VersionTLS12), tc.MinVersion)
}

func TestClientExit(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		iface string
		code  int
		msg   string
	}{
		{"stopped", nil, "", 0, ""},
		{"wrong password", &seatclient.RefusedError{Verb: seatproto.VerbPass, Reason: "authentication failed"}, "",
			exitLogin, "astcti: login refused: authentication failed"},
		{"locked out", &seatclient.RefusedError{Verb: seatproto.VerbPass, Reason: "too many failed logins, try later"}, "",
			exitLogin, "astcti: login refused: too many failed logins, try later"},
		{"unknown MAC", &seatclient.RefusedError{Verb: seatproto.VerbMAC, MAC: "00:00:00:00:00:99", Reason: "unknown seat"}, "",
			exitSeat, "astcti: this PC's MAC 00:00:00:00:00:99 is not a configured seat"},
		{"unknown detected MAC", &seatclient.RefusedError{Verb: seatproto.VerbMAC, MAC: "00:1a:2b:3c:4d:5e", Reason: "unknown seat"}, "eth0",
			exitSeat, "astcti: this PC's MAC 00:1a:2b:3c:4d:5e is not a configured seat (taken from interface eth0; choose another with --mac)"},
		{"seat in use", &seatclient.RefusedError{Verb: seatproto.VerbMAC, MAC: "00:11:22:33:44:01", Reason: "seat in use"}, "",
			exitSeat, "astcti: the seat of this PC's MAC 00:11:22:33:44:01 is in use by another operator"},
		{"other seat refusal", &seatclient.RefusedError{Verb: seatproto.VerbMAC, MAC: "00:11:22:33:44:01", Reason: "seat already set"}, "",
			exitSeat, "astcti: seat refused for this PC's MAC 00:11:22:33:44:01: seat already set"},
		{"unreachable", &seatclient.UnreachableError{Addr: "cti:5039", Attempts: 3, Err: errors.New("connection refused")}, "",
			exitUnreachable, "astcti: cannot reach the server at cti:5039 after 3 attempts: connection refused"},
		{"unreachable once", &seatclient.UnreachableError{Addr: "cti:5039", Attempts: 1, Err: errors.New("connection refused")}, "",
			exitUnreachable, "astcti: cannot reach the server at cti:5039 after 1 attempt: connection refused"},
		{"replaced", &seatclient.ClosedError{Status: seatproto.Replaced()}, "",
			exitReplaced, "astcti: alice logged in on another PC, which took over the session"},
		{"other", fmt.Errorf("boom"), "", exitError, "astcti: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := clientExit(tc.err, "alice", tc.iface)
			if tc.code == 0 {
				assert.NoError(t, err)
				return
			}
			var ec cli.ExitCoder
			require.ErrorAs(t, err, &ec)
			assert.Equal(t, tc.code, ec.ExitCode())
			assert.Equal(t, tc.msg, err.Error())
		})
	}
}
