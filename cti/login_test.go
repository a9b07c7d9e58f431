package cti_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
)

// attacker is the second client address of the login tests: the server
// listens on 127.0.0.1, and Linux routes all of 127/8 to the loopback.
const attacker = "127.0.0.2"

// failLogins sends USER user and n wrong passwords from address from, three
// per connection, and returns every answer to PASS. It checks that the
// third failure, checked or refused by the throttle unchecked, closes the
// connection.
func failLogins(t *testing.T, srv *ctitest.Server, from, user string, n int) []string {
	t.Helper()
	var answers []string
	for n > 0 {
		st := ctitest.DialSeatFrom(t, srv.Addr(), from, nil)
		st.Expect(`^100 WELCOME`)
		st.Send("USER " + user)
		st.Expect(`^100 OK$`)
		i := 0
		for ; i < 3 && n > 0; i, n = i+1, n-1 {
			st.Send("PASS " + config.MD5Hex("wrong"))
			answers = append(answers, st.Expect(`^101 KO .*$`)[0])
		}
		if i == 3 {
			st.ExpectClosed()
		}
		st.Close()
	}
	return answers
}

// TestLoginLockout is the lock-out of issue 10: wrong passwords for alice
// from another address, however many, must not refuse alice's right
// password from hers. The guesser's own address is throttled for alice,
// even with her right password, and not for bob.
func TestLoginLockout(t *testing.T) {
	throttled := cti.ShrunkLoginThrottle(20)
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), LoginThrottle: throttled})

	answers := failLogins(t, srv, attacker, "alice", 9)
	assert.Equal(t, []string{
		"101 KO authentication failed", "101 KO authentication failed", "101 KO authentication failed",
	}, answers[:3], "three failures are checked")
	for _, a := range answers[3:] {
		assert.Equal(t, "101 KO too many failed logins, try later", a, "then the guesser waits")
	}

	guesser := ctitest.DialSeatFrom(t, srv.Addr(), attacker, nil)
	guesser.Expect(`^100 WELCOME`)
	guesser.Send("USER alice")
	guesser.Send("PASS " + config.MD5Hex("alice"))
	guesser.Expect(`^101 KO too many failed logins, try later$`)

	alice := srv.Dial() // from 127.0.0.1
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)

	bob := ctitest.DialSeatFrom(t, srv.Addr(), attacker, nil)
	bob.Login("bob", "bob", "00:11:22:33:44:02")
	bob.Expect(`^200 astcti-queue$`)
}

// TestLoginAddressBudget: many names tried from one address throttle that
// address for every name, the right password of a real operator included;
// other addresses log in as usual.
func TestLoginAddressBudget(t *testing.T) {
	throttled := cti.ShrunkLoginThrottle(4)
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), LoginThrottle: throttled})

	free := throttled.AddrFree
	for i := range free {
		answers := failLogins(t, srv, attacker, "guess"+string(rune('a'+i%26))+strings.Repeat("x", i/26), 1)
		require.Equal(t, []string{"101 KO authentication failed"}, answers, "failure %d of %d", i+1, free)
	}
	bob := ctitest.DialSeatFrom(t, srv.Addr(), attacker, nil)
	bob.Expect(`^100 WELCOME`)
	bob.Send("USER bob")
	bob.Send("PASS " + config.MD5Hex("bob"))
	bob.Expect(`^101 KO too many failed logins, try later$`)

	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)
}

// TestLoginEqualAnswers: an unknown name gets the answers of a known one
// with a wrong password, throttle included (no name can be probed); the
// log says why each was refused, and never writes the unknown name,
// which may be a password typed in the wrong field, nor any PASS, at any
// level.
func TestLoginEqualAnswers(t *testing.T) {
	throttled := cti.ShrunkLoginThrottle(20)
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), LoginThrottle: throttled})

	const typo = "Secr3t-Passw0rd" // typed as the name
	known := failLogins(t, srv, attacker, "alice", 5)
	unknown := failLogins(t, srv, attacker, typo, 5)
	assert.Equal(t, known, unknown)

	refused := srv.Logs.Lines("seat login refused")
	require.Len(t, refused, 10)
	for _, l := range refused {
		assert.NotContains(t, l, typo)
		assert.Contains(t, l, "reason=")
	}
	for _, l := range srv.Logs.Lines("") { // every record, at every level
		assert.NotContains(t, l, typo, "an unknown name is never logged")
		assert.NotContains(t, l, config.MD5Hex("wrong"), "a PASS is never logged")
		assert.NotContains(t, l, ctitest.AMISecret, "nor the AMI secret")
	}
	joined := strings.Join(refused, "\n")
	assert.Contains(t, joined, `reason="wrong password" user=alice`)
	assert.Contains(t, joined, `reason="unknown user" user_hash=`)
	assert.Contains(t, joined, `reason=throttled user=alice`)
	assert.Contains(t, joined, `reason=throttled user_hash=`)
}

// TestLoginCostsACheck: a PASS for a name that has no password to check
// (an unknown name, a disabled operator) is checked against a stand-in
// hash, so that its answer costs what a wrong password's does and timing
// tells no name apart; a PASS the throttle refuses is checked against
// nothing. (TestUnknownUserCostsACheck: the stand-in costs what a real
// hash does.)
func TestLoginCostsACheck(t *testing.T) {
	throttled := cti.ShrunkLoginThrottle(100)
	checks := cti.CountStandInChecks(t)
	m := config.Demo()
	m.Operators[1].Enabled = false // bob
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), LoginThrottle: throttled, Model: m})

	tests := []struct {
		name, user string
		want       int64 // stand-in checks of three PASS
	}{
		{"wrong password", "alice", 0},
		{"unknown name", "mallory", 3},
		{"disabled operator", "bob", 3},
		{"throttled", "mallory", 0}, // its three failures above
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := checks.Load()
			answers := failLogins(t, srv, attacker, tc.user, 3)
			require.Len(t, answers, 3)
			assert.Equal(t, tc.want, checks.Load()-before, "stand-in checks for %s", tc.user)
		})
	}
}
