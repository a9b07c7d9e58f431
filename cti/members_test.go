package cti_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
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

// TestStaleMembersRemoved: a server killed with its seats logged in left
// their members in the PBX's queues. The new server lists them at start
// and, after the grace, removes those of configured seats that no session
// holds (bob's SIP/202, whose operator never comes back); alice's SIP/201,
// taken again within the grace, is kept; a member the configuration does
// not know (SIP/299) and a member of a queue it does not configure
// (astcti-queue-riu) are left alone. In both dialects (Location is the
// member's interface in QueueStatus's QueueMember items of both).
func TestStaleMembersRemoved(t *testing.T) {
	for _, dialect := range []fakeami.Dialect{fakeami.DialectModern, fakeami.Dialect14} {
		t.Run(dialect.String(), func(t *testing.T) {
			pbx := ctitest.StartPBX(t, fakeami.Options{Dialect: dialect, Scenario: scenarios.Demo(), Seed: 1})
			for _, m := range []struct{ queue, iface string }{
				{"astcti-queue", "SIP/201"}, {"astcti-queue", "SIP/202"},
				{"astcti-queue", "SIP/299"}, {"astcti-queue-riu", "SIP/202"},
			} {
				pbx.PBX.Do(nil, ami.NewAction("QueueAdd", "Queue", m.queue, "Interface", m.iface, "MemberName", "left over"))
			}
			pbx.WaitMembers("astcti-queue", "SIP/201", "SIP/202", "SIP/299")

			srv := ctitest.Start(t, ctitest.Options{AMI: pbx.Config(), StaleMemberGrace: 3 * time.Second})
			alice := srv.Dial()
			alice.Login("alice", "alice", "")
			alice.Expect(`^200 astcti-queue$`)

			pbx.WaitMembers("astcti-queue", "SIP/201", "SIP/299")
			assert.Equal(t, []string{"SIP/202"}, pbx.Members("astcti-queue-riu"), "a queue not configured is left alone")
			assert.Equal(t, 1, srv.Logs.Count("removing a stale queue member"), "bob's member only")
			alice.Sync()
			assert.Zero(t, countLines(alice, `^201 `), "alice's membership was never removed")

			// Removed once: bob logging in now is an ordinary login.
			bob := srv.Dial()
			bob.Login("bob", "bob", "")
			bob.Expect(`^200 astcti-queue$`)
			pbx.WaitMembers("astcti-queue", "SIP/201", "SIP/202", "SIP/299")
		})
	}
}

// TestQueueAddRetried: a QueueAdd the PBX refuses, or does not answer, is
// told to the seat once ("202 queue reason": it is not in that queue) and
// sent again with a growing pause while the session lives; the seat gets
// "200 queue" when the PBX takes it.
func TestQueueAddRetried(t *testing.T) {
	tests := []struct {
		name   string
		fault  fakeami.Fault
		times  int
		reason string // of the 202 line
	}{
		{"refused twice", fakeami.FaultRefuse, 2, "Unable to add interface to queue: Out of memory"},
		{"not answered", fakeami.FaultIgnore, 1, "pbx did not confirm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pbx := startDemoPBX(t)
			pbx.Faults.Add("QueueAdd", tc.fault, tc.times, tc.reason)
			cfg := pbx.Config()
			cfg.ActionTimeout = time.Second // the unanswered QueueAdd
			srv := ctitest.Start(t, ctitest.Options{AMI: cfg})
			st := srv.Dial()
			st.Login("alice", "alice", "")
			st.Expect(`^202 astcti-queue ` + regexp.QuoteMeta(tc.reason) + `$`)
			st.Expect(`^200 astcti-queue$`)
			st.Sync()
			assert.Equal(t, 1, countLines(st, `^202 `), "the seat is told once, not at every retry")
			_, ok := pbx.Member("astcti-queue", "SIP/201")
			assert.True(t, ok, "SIP/201 is in the queue")
		})
	}
}

// TestSessionLogsNameSeat: once a session has its seat, its log lines name
// the seat by MAC and interface, and the operator.
func TestSessionLogsNameSeat(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{Model: hotDeskModel(t), AMI: pbx.Config()})
	st := srv.Dial()
	st.Login("carol", "carol", "00:11:22:33:44:01")
	st.Expect(`^200 astcti-queue$`)
	st.Quit()
	ctitest.WaitFor(t, "the end of carol's session in the log", func() error {
		return ctitest.Check(len(srv.Logs.Lines("seat session ended")) == 1, "not yet")
	})
	line := srv.Logs.Lines("seat session ended")[0]
	for _, attr := range []string{"mac=00:11:22:33:44:01", "interface=SIP/201", "operator=carol", "conn="} {
		assert.Contains(t, line, attr)
	}
}
