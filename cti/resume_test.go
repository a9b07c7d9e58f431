package cti_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
)

// TestResumeToken: a seat logged in by password asks for a token (TOKEN,
// 103), and a new connection logs in with it (RESUME) instead of PASS. A
// token does not log in another operator, nor once it is changed, nor
// after the operator's password changed.
func TestResumeToken(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config()})
	first := srv.Dial()
	first.Login("alice", "alice", "00:11:22:33:44:01")
	first.Send("TOKEN")
	tok := regexp.MustCompile(`^103 TOKEN (\S+)$`).FindStringSubmatch(first.Expect(`^103 TOKEN \S+$`)[0])[1]

	again := srv.Dial()
	again.Expect(`^100 WELCOME`)
	again.Send("USER alice")
	again.Expect(`^100 OK`)
	again.Send("RESUME " + tok)
	again.Expect(`^102 OK`)
	first.Expect(`^999 `) // the same operator's new login replaces the first
	again.Send("MAC 00:11:22:33:44:01")
	again.Expect(`^100 OK`)
	again.Expect(`^200 astcti-queue$`)
	again.Send("RESUME " + tok)
	again.Expect(`^101 KO already authenticated`)

	// Change one character into another of the token alphabet, so the
	// token still parses and only its signature is wrong.
	changed := []byte(tok)
	if mid := len(changed) / 2; changed[mid] == 'A' {
		changed[mid] = 'B'
	} else {
		changed[mid] = 'A'
	}
	for _, tc := range []struct{ name, user, token string }{
		{"another operator", "bob", tok},
		{"a changed token", "alice", string(changed)},
		{"an unknown operator", "nobody", tok},
	} {
		st := srv.Dial()
		st.Expect(`^100 WELCOME`)
		st.Send("USER " + tc.user)
		st.Expect(`^100 OK`)
		st.Send("RESUME " + tc.token)
		st.Expect(`^101 KO authentication failed`)
		st.Close()
	}

	// A new password ends the tokens made before it.
	m := config.Demo()
	for i := range m.Operators {
		if m.Operators[i].Username == "alice" {
			require.NoError(t, m.Operators[i].SetPassword("new secret"))
		}
	}
	applied := srv.Logs.Count("configuration applied")
	_, err := config.WriteSnapshot(context.Background(), srv.Dir, m)
	require.NoError(t, err)
	ctitest.WaitFor(t, "the new configuration", func() error {
		return ctitest.Check(srv.Logs.Count("configuration applied") > applied, "not applied yet")
	})
	st := srv.Dial()
	st.Expect(`^100 WELCOME`)
	st.Send("USER alice")
	st.Expect(`^100 OK`)
	st.Send("RESUME " + tok)
	st.Expect(`^101 KO authentication failed`)
	assert.Positive(t, srv.Logs.Count("seat login refused"))
	for _, l := range srv.Logs.Lines("") { // docs/security.md, "Logs"
		assert.NotContains(t, l, tok, "a token is never logged")
	}
}

// TestTokenBeforeLogin: TOKEN is for a logged-in seat only.
func TestTokenBeforeLogin(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config()})
	st := srv.Dial()
	st.Expect(`^100 WELCOME`)
	st.Send("TOKEN")
	st.Expect(`^101 KO not authenticated`)
}
