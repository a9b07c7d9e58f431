package cti_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
)

// hotDeskModel is the demo configuration with carol, who has no fixed seat
// and takes seat 1 (alice's fixed seat, SIP/201) by its MAC.
func hotDeskModel(t *testing.T) *config.Model {
	m := config.Demo()
	carol := config.Operator{Username: "carol", FullName: "Carol", Enabled: true}
	require.NoError(t, carol.SetPassword("carol"))
	m.Operators = append(m.Operators, carol)
	for i := range m.Services {
		m.Services[i].Members = append(m.Services[i].Members, config.Member{Operator: "carol", Penalty: 3})
	}
	return m
}

// TestFixedSeatInUse: carol holds seat 1 by its MAC; alice, whose fixed
// seat it is, logs in. The phone is in use by the operator sitting at it:
// alice's PASS is answered "101 KO seat in use" and her connection closed
// (her client stops and says why), while carol keeps her session, her
// seat and her membership, and is never told she logged in elsewhere.
func TestFixedSeatInUse(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{Model: hotDeskModel(t), AMI: pbx.Config()})
	carol := srv.Dial()
	carol.Login("carol", "carol", "00:11:22:33:44:01")
	carol.Expect(`^200 astcti-queue$`)

	alice := srv.Dial()
	alice.Expect(`^100 WELCOME$`)
	alice.Send("USER alice")
	alice.Expect(`^100 OK$`)
	alice.Send("PASS " + config.MD5Hex("alice"))
	alice.Expect(`^101 KO seat in use$`)
	rest := alice.ExpectClosed()
	assert.NotContains(t, rest, "102 OK", "alice is not logged in")

	carol.Send("NOOP")
	carol.Expect(`^100 OK$`)
	carol.Sync()
	assert.Zero(t, countLines(carol, `^9\d\d `), "carol's session goes on")
	m, ok := pbx.Member("astcti-queue", "SIP/201")
	require.True(t, ok, "SIP/201 is still in the queue")
	assert.Equal(t, "Carol", m.Name, "as carol's member")

	// Once carol leaves, alice gets her seat.
	carol.Quit()
	alice = srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)
}
