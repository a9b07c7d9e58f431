package cti_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/scenarios"
)

// bulkVars is how many variables of bulkValueLen bytes the bulk service's
// dialplan sets, so that each event of its calls is large (about 16 KiB)
// and a seat that does not read fills its socket buffers and its queue
// with few calls.
const (
	bulkVars     = 16
	bulkValueLen = 1000
)

// bulkScenario is a non-queue service, astcti-bulk, that sets the bulk
// variables and rings SIP/201 (answers after 2 s) and SIP/202 (never
// answers).
func bulkScenario(t *testing.T) *scenarios.Scenario {
	var b strings.Builder
	b.WriteString("-- extensions.conf --\n[astcti-bulk]\nexten => 100,1,Answer()\n")
	for i := range bulkVars {
		fmt.Fprintf(&b, " same => n,Set(v%02d=%s)\n", i, strings.Repeat(string(rune('a'+i)), bulkValueLen))
	}
	b.WriteString(" same => n,Dial(SIP/201&SIP/202,30)\n same => n,Hangup()\n")
	sc, err := scenarios.ParseFragment("bulk.txtar", []byte(b.String()))
	require.NoError(t, err)
	return sc
}

// bulkCalls are n calls into astcti-bulk from callers first, first+1, …,
// each hanging up after 300 ms, before SIP/201 answers.
func bulkCalls(t *testing.T, first, n int) *scenarios.Scenario {
	var b strings.Builder
	b.WriteString("-- calls --\n")
	for i := range n {
		fmt.Fprintf(&b, "at 0s from \"Bulk\" <%d> to 100@astcti-bulk hangs up after 300ms\n", first+i)
	}
	sc, err := scenarios.ParseFragment("bulkcalls.txtar", []byte(b.String()))
	require.NoError(t, err)
	return sc
}

// slowSeat is TestSlowSeat's setup: alice (SIP/201) and bob (SIP/202)
// logged in, both in the bulk service, bob's socket buffer small.
type slowSeat struct {
	srv        *ctitest.Server
	pbx        *ctitest.PBX
	alice, bob *ctitest.Seat
}

func newSlowSeat(t *testing.T) *slowSeat {
	pbx := startDemoPBX(t)
	require.NoError(t, pbx.PBX.Play(bulkScenario(t)))
	m := config.Demo()
	vars := make([]string, bulkVars)
	for i := range vars {
		vars[i] = fmt.Sprintf("v%02d", i)
	}
	m.Services = append(m.Services, config.Service{
		Name: "bulk", Type: config.Inbound, Context: "astcti-bulk", Trigger: config.TriggerNone, Enabled: true,
		Variables: vars, Members: []config.Member{{Operator: "alice"}, {Operator: "bob"}},
	})
	srv := ctitest.Start(t, ctitest.Options{Model: m, AMI: pbx.Config()})
	alice, bob := srv.Dial(), srv.Dial()
	// Small enough to fill soon, not so small that TCP crawls over
	// loopback's 64 KiB segments.
	bob.SetReadBuffer(128 << 10)
	alice.Login("alice", "alice", "")
	bob.Login("bob", "bob", "")
	alice.Expect(`^200 astcti-queue$`)
	bob.Expect(`^200 astcti-queue$`)
	pbx.WaitMembers("astcti-queue", "SIP/201", "SIP/202")
	return &slowSeat{srv: srv, pbx: pbx, alice: alice, bob: bob}
}

// flood posts calls calls in batches of ten while bob does not read, and
// returns the longest time alice waited for the CallerId of one of them.
// Every call rings both phones: bob is sent a CallerId and a Hangup of
// about 17 KiB each per call.
func (s *slowSeat) flood(t *testing.T, calls int) (maxLatency time.Duration) {
	const batch = 10
	s.bob.StopReading()
	for posted := 0; posted < calls; posted += batch {
		at := time.Now()
		require.NoError(t, s.pbx.PBX.Play(bulkCalls(t, slowFirst+posted, batch)))
		for i := range batch {
			caller := strconv.Itoa(slowFirst + posted + i)
			// Anchored up to the caller, so that the match stops early in
			// these 17 KiB lines.
			s.alice.Expect(`^<event id="CallerId"><call><uniqueid>[^<]*</uniqueid><channel>[^<]*</channel><calleridnum>` + caller + `<`)
			maxLatency = max(maxLatency, time.Since(at))
		}
	}
	return maxLatency
}

// bobGone reports whether the hub has ended bob's session.
func (s *slowSeat) bobGone() error {
	ops, _ := s.srv.Sessions()
	return ctitest.Check(!slices.Contains(ops, "bob"), "bob's session is still there")
}

// slowFirst is the caller number of TestSlowSeat's first call.
const slowFirst = 8000

// slowCalls is how many calls TestSlowSeat posts: enough that bob is sent
// twice what his socket buffers (the server's send buffer grows up to
// tcp_wmem's maximum on Linux, 4 MiB by default; his receive buffer is
// 256 KiB) and his queue in the server (1 MiB) hold together. Each call
// sends him two events of about 17 KiB.
func slowCalls() int {
	sndbuf := 4 << 20
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				sndbuf = max(sndbuf, n)
			}
		}
	}
	const perCall = 2 * (bulkVars*bulkValueLen + 1000)
	n := 2 * (sndbuf + 256<<10 + 1<<20) / perCall
	return (n + 9) / 10 * 10
}

// TestSlowSeat: bob's seat stops reading while large events keep coming
// for his phone (the seat queue bounds are the defaults, so a burst of a
// batch of calls does not cut a seat that reads). The server disconnects
// him and removes his queue membership; alice, whose phone rings for the
// same calls, gets every event in time and stays connected. What bob did
// get before the end is whole and in order: nothing was dropped silently.
func TestSlowSeat(t *testing.T) {
	calls := slowCalls()
	s := newSlowSeat(t)
	maxLatency := s.flood(t, calls)
	end := time.Now()
	ctitest.WaitFor(t, "the server to cut bob", s.bobGone)
	t.Logf("bob's session ended %v after the last call; alice's slowest CallerId came %v after its call",
		time.Since(end), maxLatency)
	assert.Less(t, maxLatency, 5*time.Second, "alice waited for her events")

	s.pbx.WaitMembers("astcti-queue", "SIP/201")
	// alice got every call, whole, and is still there.
	s.alice.Sync()
	evs := s.alice.Events()
	assert.Len(t, callers(t, evs, seatproto.EventCallerID), calls, "alice's CallerId events")
	for _, ev := range evs {
		if ev.ID == seatproto.EventCallerID {
			require.Len(t, ev.Call.AppData, bulkVars)
			assert.Len(t, ev.Call.AppData[bulkVars-1].Value, bulkValueLen)
		}
	}

	// bob reads again: what was on its way before the cut, then the end
	// of the connection. His events are the first calls, in order, with no
	// gap.
	s.bob.ResumeReading()
	s.bob.ExpectClosed()
	bobCallers := callers(t, s.bob.Events(), seatproto.EventCallerID)
	require.NotEmpty(t, bobCallers)
	for i, c := range bobCallers {
		if !assert.Equal(t, slowFirst+i, c, "bob's CallerId events skip a call") {
			break
		}
	}
	assert.Less(t, len(bobCallers), calls, "bob got every call: he was not slow")
	lines := s.bob.Lines()
	t.Logf("bob got %d of %d CallerId events; his last whole line: %.60s", len(bobCallers), calls, lines[len(lines)-1])
}

// TestSlowSeatCutAtOnce: a seat whose queue overflowed is cut at once, not
// when its blocked write times out: until then it stays a queue member and
// is offered calls it will never show.
func TestSlowSeatCutAtOnce(t *testing.T) {
	s := newSlowSeat(t)
	s.flood(t, slowCalls())
	if err := ctitest.Poll(2*time.Second, s.bobGone); err != nil {
		t.Fatalf("2 s after the last call: %v", err)
	}
}

// callers returns the caller numbers of the events with id, in order.
func callers(t *testing.T, evs []*seatproto.Event, id string) []int {
	var out []int
	for _, ev := range evs {
		if ev.ID == id {
			n, err := strconv.Atoi(ev.Call.CallerIDNum)
			require.NoError(t, err)
			out = append(out, n)
		}
	}
	return out
}
