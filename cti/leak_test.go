package cti_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// noLeaks waits until the goroutines are back to those base saw (a
// goleak.IgnoreCurrent taken earlier), and fails the test with the
// goroutines left over if they are not within ctitest.Wait.
func noLeaks(t *testing.T, base goleak.Option, more ...goleak.Option) {
	t.Helper()
	opts := append([]goleak.Option{base}, more...)
	if err := ctitest.Poll(ctitest.Wait, func() error { return goleak.Find(opts...) }); err != nil {
		t.Fatalf("goroutines left over: %v", err)
	}
}

// startDemoPBX starts the demo PBX (scenarios.Demo) in the modern dialect.
func startDemoPBX(t *testing.T) *ctitest.PBX {
	return ctitest.StartPBX(t, fakeami.Options{Dialect: fakeami.DialectModern, Scenario: scenarios.Demo(), Seed: 1})
}

// crowdModel is a configuration of n operators u00…, each with a seat
// SIP/3NN that it takes with MAC, all in the demo's queue service.
func crowdModel(t *testing.T, n int) *config.Model {
	m := &config.Model{}
	var members []config.Member
	for i := range n {
		op := config.Operator{Username: fmt.Sprintf("u%02d", i), Enabled: true}
		require.NoError(t, op.SetPassword(op.Username))
		m.Operators = append(m.Operators, op)
		m.Seats = append(m.Seats, config.Seat{MAC: crowdMAC(i), Interface: crowdIface(i)})
		members = append(members, config.Member{Operator: op.Username, Penalty: i % 3})
	}
	m.Services = []config.Service{{
		Name: "support", Type: config.Inbound, Context: "astcti-queue-service", IsQueue: true, Queue: "astcti-queue",
		Trigger: config.TriggerNone, Enabled: true, Variables: []string{"customer_id"}, Members: members,
	}}
	return m
}

func crowdMAC(i int) string   { return fmt.Sprintf("02:00:00:00:01:%02x", i) }
func crowdIface(i int) string { return fmt.Sprintf("SIP/3%02d", i) }

// TestSeatsComeAndGo connects and disconnects many seats in every way a
// session can end: before the welcome is read, after QUIT before login,
// halfway through the login, after a refused password, logged in with and
// without a seat, by QUIT and by an abrupt close. Afterwards no session is
// left on the hub, the PBX has no member left from them, and the
// goroutines are back to what they were before the first seat.
func TestSeatsComeAndGo(t *testing.T) {
	const ops = 24
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{Model: crowdModel(t, ops), AMI: pbx.Config()})
	base := goleak.IgnoreCurrent()
	// The server's own goroutines that may start just after it said it
	// was ready are not the seats': they are checked when it stops.
	serverOwn := []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/astcti/astcti/cti.(*Server).accept"),
		goleak.IgnoreAnyFunction("github.com/fsnotify/fsnotify.(*inotify).readEvents"),
	}

	kinds := []struct {
		name string
		open func(st *ctitest.Seat, op int) // op: an operator of its own, or -1
		end  func(st *ctitest.Seat)
		ops  bool // needs an operator
	}{
		{name: "welcome only, closed", end: (*ctitest.Seat).Close},
		{name: "quit before login", end: (*ctitest.Seat).Quit,
			open: func(st *ctitest.Seat, _ int) { st.Expect(`^100 WELCOME$`) }},
		{name: "user only, closed", end: (*ctitest.Seat).Close,
			open: func(st *ctitest.Seat, _ int) {
				st.Expect(`^100 WELCOME$`)
				st.Send("USER u00")
				st.Expect(`^100 OK$`)
			}},
		{name: "wrong password, closed", end: (*ctitest.Seat).Close,
			open: func(st *ctitest.Seat, _ int) {
				st.Expect(`^100 WELCOME$`)
				st.Send("USER nobody")
				st.Expect(`^100 OK$`)
				st.Send("PASS " + config.MD5Hex("wrong"))
				st.Expect(`^101 KO`)
			}},
		{name: "logged in with a seat, quit", end: (*ctitest.Seat).Quit, ops: true,
			open: func(st *ctitest.Seat, op int) { loginCrowd(st, op, true) }},
		{name: "logged in with a seat, closed", end: (*ctitest.Seat).Close, ops: true,
			open: func(st *ctitest.Seat, op int) { loginCrowd(st, op, true) }},
		{name: "logged in without a seat, closed", end: (*ctitest.Seat).Close, ops: true,
			open: func(st *ctitest.Seat, op int) { loginCrowd(st, op, false) }},
		{name: "logged in without a seat, quit", end: (*ctitest.Seat).Quit, ops: true,
			open: func(st *ctitest.Seat, op int) { loginCrowd(st, op, false) }},
	}
	const perKind = 6 // 4 kinds with operators × 6 = 24 operators
	for round := range 2 {
		type open struct {
			st   *ctitest.Seat
			kind int
		}
		var seats []open
		var withSeat []string
		op := 0
		// All connected at once, then each one opened as its kind says.
		for k := range kinds {
			for range perKind {
				seats = append(seats, open{st: srv.Dial(), kind: k})
			}
		}
		for i, s := range seats {
			kind := kinds[s.kind]
			n := -1
			if kind.ops {
				n = op
				op++
				if strings.Contains(kind.name, "with a seat") {
					withSeat = append(withSeat, crowdIface(n))
				}
			}
			if kind.open != nil {
				kind.open(seats[i].st, n)
			}
		}
		require.Equal(t, ops, op)
		pbx.WaitMembers("astcti-queue", withSeat...)
		ctitest.WaitFor(t, "every operator to have a session", func() error {
			got, _ := srv.Sessions()
			return ctitest.Check(len(got) == ops, "%d sessions", len(got))
		})
		for _, s := range seats {
			kinds[s.kind].end(s.st)
		}
		ctitest.WaitFor(t, "no session on the hub", func() error {
			got, _ := srv.Sessions()
			return ctitest.Check(len(got) == 0, "sessions of %v", got)
		})
		pbx.WaitMembers("astcti-queue")
		noLeaks(t, base, serverOwn...)
		t.Logf("round %d: %d seats came and went", round, len(seats))
	}
}

// loginCrowd logs operator i of crowdModel in, with its seat or without.
func loginCrowd(st *ctitest.Seat, i int, seat bool) {
	user := fmt.Sprintf("u%02d", i)
	if !seat {
		st.Login(user, user, "")
		return
	}
	st.Login(user, user, crowdMAC(i))
	st.Expect(`^200 astcti-queue$`)
}

// TestAMIReconnect drops the AMI link twice while two operators are logged
// in: the PBX restarts (its manager hangs up, its dynamic members are
// gone), then the manager port closes and reopens on the same address
// after another restart. Each time the server reconnects, adds the
// memberships again and tells the seats, which stay connected and keep
// getting calls. At the end Run returns nil and every goroutine is gone.
func TestAMIReconnect(t *testing.T) {
	pbx := startDemoPBX(t)
	base := goleak.IgnoreCurrent()
	srv := ctitest.Start(t, ctitest.Options{Model: config.Demo(), AMI: pbx.Config()})
	alice, bob := srv.Dial(), srv.Dial()
	alice.Login("alice", "alice", "") // the demo operators have fixed seats
	bob.Login("bob", "bob", "")
	for _, st := range []*ctitest.Seat{alice, bob} {
		st.Expect(`^200 astcti-queue$`)
	}
	pbx.WaitMembers("astcti-queue", "SIP/201", "SIP/202")

	ringBoth := func(caller string) {
		t.Helper()
		sc, err := scenarios.ParseFragment("call.txtar", []byte(
			"-- calls --\nat 0s from \"Caller\" <"+caller+"> to 101@from-trunk hangs up after 100ms\n"))
		require.NoError(t, err)
		require.NoError(t, pbx.PBX.Play(sc))
		for _, st := range []*ctitest.Seat{alice, bob} {
			st.Expect(`^<event id="CallerId">.*<calleridnum>` + caller + `</calleridnum>.*<data key="calldata">12345</data>`)
			st.Expect(`^<event id="Hangup">.*<calleridnum>` + caller + `</calleridnum>`)
		}
	}
	ringBoth("5001")

	// 1. `core restart now`: the manager session drops, the listener stays.
	pbx.Restart()
	pbx.WaitMembers("astcti-queue", "SIP/201", "SIP/202")
	for _, st := range []*ctitest.Seat{alice, bob} {
		st.Expect(`^200 astcti-queue$`)
		st.Sync()
	}
	ringBoth("5002")

	// 2. The manager goes away (connections refused), the PBX restarts
	// meanwhile, and the manager comes back on the same port.
	failed := srv.Logs.Count("connection attempt failed")
	pbx.StopManager()
	ctitest.WaitFor(t, "a refused connection attempt", func() error {
		n := srv.Logs.Count("connection attempt failed")
		return ctitest.Check(n > failed, "%d failed attempts", n-failed)
	})
	pbx.PBX.Shutdown()
	require.Empty(t, pbx.Members("astcti-queue"))
	alice.Sync() // the seats stay connected while the PBX is away
	pbx.StartManager()
	pbx.WaitMembers("astcti-queue", "SIP/201", "SIP/202")
	for _, st := range []*ctitest.Seat{alice, bob} {
		st.Expect(`^200 astcti-queue$`)
		st.Sync()
	}
	ringBoth("5003")
	// Added again as the configuration says (config.Demo).
	for iface, want := range map[string]fakeami.MemberSnapshot{
		"SIP/201": {Name: "Alice", Penalty: 1},
		"SIP/202": {Name: "Bob", Penalty: 2},
	} {
		m, ok := pbx.Member("astcti-queue", iface)
		require.True(t, ok, iface)
		assert.Equal(t, want.Name, m.Name, "the member name of %s", iface)
		assert.Equal(t, want.Penalty, m.Penalty, "the penalty of %s", iface)
		assert.False(t, m.Paused, "%s is paused", iface)
	}

	require.NoError(t, srv.Stop())
	pbx.WaitMembers("astcti-queue") // removed at shutdown
	for _, st := range []*ctitest.Seat{alice, bob} {
		st.Expect(`^900 OK server shutdown$`)
		st.ExpectClosed()
	}
	pbx.StopManager() // the test's own: the manager started after base
	noLeaks(t, base)
}

// TestShutdownRemovesMemberships: when Run's context ends, the server
// removes the queue memberships of the seats before it lets go of the PBX
// (docs/seat-protocol.md: no membership outlives its session).
func TestShutdownRemovesMemberships(t *testing.T) {
	pbx := startDemoPBX(t)
	srv := ctitest.Start(t, ctitest.Options{Model: config.Demo(), AMI: pbx.Config()})
	alice := srv.Dial()
	alice.Login("alice", "alice", "")
	alice.Expect(`^200 astcti-queue$`)
	pbx.WaitMembers("astcti-queue", "SIP/201")
	require.NoError(t, srv.Stop())
	alice.Expect(`^900 OK server shutdown$`)
	assert.Empty(t, pbx.Members("astcti-queue"), "members left in the PBX after the server stopped")
}

// TestRunStopsWhileConnecting cancels Run while it is still trying to
// reach Asterisk for the first time: it must return nil at once, whether
// nothing listens or the PBX accepted the connection and never speaks.
func TestRunStopsWhileConnecting(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var conns []net.Conn
	var mu sync.Mutex
	wg.Go(func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never written to
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		silent.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})

	tests := []struct {
		name  string
		addr  string
		until func(srv *ctitest.Server) error
	}{
		{name: "nothing listens", addr: ctitest.FreeAddr(t), until: func(srv *ctitest.Server) error {
			n := srv.Logs.Count("connection attempt failed")
			return ctitest.Check(n >= 2, "%d failed attempts", n)
		}},
		{name: "no banner", addr: silent.Addr().String(), until: func(*ctitest.Server) error {
			mu.Lock()
			defer mu.Unlock()
			return ctitest.Check(len(conns) > 0, "no connection yet")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := goleak.IgnoreCurrent()
			srv := ctitest.New(t, ctitest.Options{AMI: ctitest.AMIConfig(tc.addr)})
			ctitest.WaitFor(t, "the server to try", func() error { return tc.until(srv) })
			start := time.Now()
			err := srv.Stop()
			took := time.Since(start)
			assert.NoError(t, err)
			assert.Less(t, took, 2*time.Second, "Run returned %v after the cancel", took)
			assert.Empty(t, srv.Addr(), "the server accepted seats without a PBX")
			noLeaks(t, base)
		})
	}
}

// TestRunGivesUp: when every allowed connection attempt fails, Run returns
// an error that says so, and never accepts seats.
func TestRunGivesUp(t *testing.T) {
	base := goleak.IgnoreCurrent()
	cfg := ctitest.AMIConfig(ctitest.FreeAddr(t))
	cfg.Retries = 2
	cfg.RetryPause = 10 * time.Millisecond
	srv := ctitest.New(t, ctitest.Options{AMI: cfg})
	err := srv.Result(ctitest.Wait)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ami.ErrRetriesExhausted), "Run = %v, want an error wrapping ami.ErrRetriesExhausted", err)
	assert.Contains(t, err.Error(), "2 connection attempts failed")
	assert.Contains(t, err.Error(), cfg.Addr, "the error names the PBX it could not reach")
	assert.Equal(t, 2, srv.Logs.Count("connection attempt failed"), "attempts: 2 in all, the first one counts")
	assert.Empty(t, srv.Addr())
	noLeaks(t, base)
}
