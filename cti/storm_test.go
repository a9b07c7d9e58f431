package cti_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
)

// stormModel is n operators s000…, each with the fixed seat SIP/5NNN, in
// two queue services of the demo PBX (astcti-queue and
// astcti-queue-riu); refused, when set, adds a service on a queue the PBX
// does not have, with the first operator as its member.
func stormModel(t *testing.T, n int, refused bool) *config.Model {
	m := &config.Model{}
	op0 := config.Operator{Enabled: true}
	require.NoError(t, op0.SetPassword("storm"))
	var members []config.Member
	for i := range n {
		op := op0
		op.Username = fmt.Sprintf("s%03d", i)
		op.Seat = fmt.Sprintf("02:00:00:00:%02x:%02x", i/256, i%256)
		m.Operators = append(m.Operators, op)
		m.Seats = append(m.Seats, config.Seat{MAC: op.Seat, Interface: fmt.Sprintf("SIP/5%03d", i)})
		members = append(members, config.Member{Operator: op.Username})
	}
	m.Services = []config.Service{
		{Name: "support", Type: config.Inbound, Context: "astcti-queue-service", IsQueue: true, Queue: "astcti-queue",
			Trigger: config.TriggerNone, Enabled: true, Members: members},
		{Name: "riu", Type: config.Inbound, Context: "astcti-queue-service-riu", IsQueue: true, Queue: "astcti-queue-riu",
			Trigger: config.TriggerNone, Enabled: true, Members: members},
	}
	if refused {
		m.Services = append(m.Services, config.Service{Name: "ghost", Type: config.Inbound, Context: "astcti-service",
			IsQueue: true, Queue: "astcti-no-such-queue", Trigger: config.TriggerNone, Enabled: true,
			Members: members[:1]})
	}
	return m
}

// TestLoginStorm logs hundreds of seats in at once: every one is confirmed
// in both its queues (the hub paces its QueueAdds rather than overflow the
// AMI client's send queue, which refused them), the PBX has every member,
// and once the server stops it has none of them left (the QueueRemoves of
// the shutdown are paced too).
func TestLoginStorm(t *testing.T) {
	const seats = 400
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{Model: stormModel(t, seats, false), AMI: pbx.Config()})

	// Every seat sends its login before any answer is read: the server
	// checks the passwords side by side and adds 800 members at once.
	all := make([]*ctitest.Seat, seats)
	for i := range seats {
		all[i] = srv.Dial()
		all[i].Send("USER " + fmt.Sprintf("s%03d", i))
		all[i].Send("PASS " + config.MD5Hex("storm"))
	}
	for _, st := range all {
		assert.ElementsMatch(t, []string{"astcti-queue", "astcti-queue-riu"}, confirmedQueues(t, st, 2))
	}
	assert.Len(t, pbx.Members("astcti-queue"), seats)
	assert.Len(t, pbx.Members("astcti-queue-riu"), seats)
	assert.Zero(t, srv.Logs.Count("QueueAdd failed"), "no QueueAdd may fail")
	assert.Zero(t, srv.Logs.Count("send queue full"))
	peak, window := srv.ActionsPeak()
	assert.LessOrEqual(t, peak, window, "actions in flight stay within the window")
	assert.Greater(t, peak, 1, "actions are pipelined, not sent one at a time")

	require.NoError(t, srv.Stop())
	assert.Empty(t, pbx.Members("astcti-queue"), "every member removed at shutdown")
	assert.Empty(t, pbx.Members("astcti-queue-riu"), "every member removed at shutdown")
}

// TestQueueRefused: a seat whose membership the PBX refuses is told so
// with a 202 line carrying Asterisk's words, and its other queues are
// confirmed as usual.
func TestQueueRefused(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{Model: stormModel(t, 2, true), AMI: pbx.Config()})
	st := srv.Dial()
	st.Login("s000", "storm", "")
	st.Expect(`^202 astcti-no-such-queue \S`)
	assert.ElementsMatch(t, []string{"astcti-queue", "astcti-queue-riu"}, confirmedQueues(t, st, 2),
		"the other memberships are confirmed")
	ctitest.WaitFor(t, "a retry of the refused QueueAdd", func() error {
		n := srv.Logs.Count("QueueAdd failed")
		return ctitest.Check(n >= 2, "%d QueueAdds refused", n)
	})
	st.Sync()
	assert.Equal(t, 1, countLines(st, `^202 `), "the seat is told once, not at every retry")

	// A pause waits for the memberships the PBX has, not the refused one.
	st.Send("PAUSE IN lunch")
	st.Expect(`^301 PAUSE PENDING`)
	st.Expect(`^300 OK`)

	// The refused membership was never in the PBX: its QueueRemove at
	// shutdown answers "No such queue", which is a removal done, not one
	// to retry until the shutdown gives up.
	require.NoError(t, srv.Stop())
	assert.Zero(t, srv.Logs.Count("QueueRemove failed"))
	assert.Zero(t, srv.Logs.Count("queue members left"))
}

// confirmedQueues waits for n "200 queue" lines at st, from the start of
// the session, and returns their queues.
func confirmedQueues(t *testing.T, st *ctitest.Seat, n int) []string {
	var queues []string
	ctitest.WaitFor(t, "the 200 lines", func() error {
		queues = queues[:0]
		for _, l := range st.Lines() {
			if q, ok := strings.CutPrefix(l, "200 "); ok {
				queues = append(queues, q)
			}
		}
		return ctitest.Check(len(queues) >= n, "%d of %d", len(queues), n)
	})
	return queues
}

func countLines(st *ctitest.Seat, re string) int {
	n, rx := 0, regexp.MustCompile(re)
	for _, l := range st.Lines() {
		if rx.MatchString(l) {
			n++
		}
	}
	return n
}

// TestPauseWhileJoining: a PAUSE sent with the login, before the PBX has
// confirmed any membership, waits for the memberships being added (their
// QueueAdds carry the pause) instead of answering "not in any queue"; one
// the PBX refuses is not waited for.
func TestPauseWhileJoining(t *testing.T) {
	for _, refused := range []bool{false, true} {
		t.Run(fmt.Sprintf("refused=%v", refused), func(t *testing.T) {
			pbx := startDemoPBX(t)
			srv := ctitest.Start(t, ctitest.Options{Model: stormModel(t, 1, refused), AMI: pbx.Config()})
			st := srv.Dial()
			st.Send("USER s000")
			st.Send("PASS " + config.MD5Hex("storm"))
			st.Send("MAC 02:00:00:00:00:00")
			st.Send("PAUSE IN lunch")
			st.Expect(`^300 OK`)
			st.Sync()
			assert.Zero(t, countLines(st, `^302 `), "no pause refused")
			for _, q := range []string{"astcti-queue", "astcti-queue-riu"} {
				m, ok := pbx.Member(q, "SIP/5000")
				require.True(t, ok, q)
				assert.True(t, m.Paused, "%s: the member is paused", q)
			}
		})
	}
}
