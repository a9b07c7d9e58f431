package direct

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

const testUser, testSecret = "direct", "s3cret"

// startPBX runs a fake PBX of the dialect on 127.0.0.1 with the load
// scenario's queue of members phones, SIP/10000 on, answering after 50 ms
// and talking 200 ms.
func startPBX(t testing.TB, d fakeami.Dialect, members int) *fakeami.Running {
	t.Helper()
	sc, err := scenarios.Parse("load.txtar", fakeami.LoadScenario(members, "rrmemory", 50*time.Millisecond, 200*time.Millisecond))
	require.NoError(t, err)
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: d, Scenario: sc, Seed: 1})
	require.NoError(t, err)
	srv, err := fakeami.NewServer(fakeami.Config{Dialect: d, Username: testUser, Secret: testSecret, Engine: pbx, StartTime: pbx.StartTime})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := fakeami.Start(pbx, srv, ln)
	t.Cleanup(r.Close)
	return r
}

func loadPhones(n int) []string {
	phones := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("SIP/%d", 10000+i)
	}
	return phones
}

// recorder collects the links a fleet reports.
type recorder struct {
	mu    sync.Mutex
	links []Link
}

func (r *recorder) add(l Link) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.links = append(r.links, l)
}

func (r *recorder) all() []Link {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Link(nil), r.links...)
}

// waitFor polls cond every few milliseconds until it holds, or fails the
// test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFleetLinksEveryAnsweredCall logs 50 clients in, sends 30 calls
// through the queue, lets every call end, and checks that each answered
// call gave exactly one Link, at the phone that answered it, with the
// caller's uniqueid that the PBX records for GET /links, and nothing at
// any other phone.
func TestFleetLinksEveryAnsweredCall(t *testing.T) {
	const clients, calls = 50, 30
	for _, d := range []fakeami.Dialect{fakeami.DialectModern, fakeami.Dialect14} {
		t.Run(d.String(), func(t *testing.T) {
			r := startPBX(t, d, clients)
			var rec recorder
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			fleet, err := Start(ctx, Options{Addr: r.Addr, Username: testUser, Secret: testSecret, Phones: loadPhones(clients), LoginParallel: 8}, rec.add)
			require.NoError(t, err)
			defer fleet.Close()
			require.Equal(t, clients, fleet.Stats().Clients)

			sc := &scenarios.Scenario{}
			for i := range calls {
				sc.Calls = append(sc.Calls, scenarios.Call{At: time.Duration(i) * 10 * time.Millisecond,
					CallerNum: fmt.Sprint(70000 + i), CallerName: "Caller", Exten: "600", Context: "from-trunk"})
			}
			require.NoError(t, r.PBX.Play(sc))
			waitFor(t, 20*time.Second, "every call answered and ended", func() bool {
				links, _ := r.PBX.Links(0, 2*calls)
				return len(links) == calls && len(r.PBX.State().Channels) == 0
			})
			require.NoError(t, fleet.Close(), "Close reads up to the Goodbye: every event is in")

			want, lost := r.PBX.Links(0, 2*calls)
			require.Zero(t, lost)
			got := map[string]Link{}
			for _, l := range rec.all() {
				_, dup := got[l.Uniqueid]
				assert.False(t, dup, "caller %s linked twice", l.Uniqueid)
				got[l.Uniqueid] = l
			}
			assert.Len(t, got, calls)
			for _, w := range want {
				l, ok := got[w.Uniqueid]
				if assert.True(t, ok, "no Link for caller %s answered at %s", w.Uniqueid, w.Member) {
					assert.Equal(t, w.Member, l.Phone, "caller %s", w.Uniqueid)
					assert.False(t, l.ReadAt.IsZero(), "caller %s", w.Uniqueid)
				}
			}
			st := fleet.Stats()
			assert.Equal(t, int64(calls), st.Links)
			assert.Zero(t, st.Lost)
			assert.Zero(t, st.Clients, "every client logged off")
			assert.Greater(t, st.EventsRead, int64(clients*calls), "every client reads every call's events")
			assert.Greater(t, st.BytesRead, st.EventsRead)
		})
	}
}

// TestFleetCountsLostClients drops every manager session: each client
// is counted lost once, none reconnects, and Close still returns.
func TestFleetCountsLostClients(t *testing.T) {
	r := startPBX(t, fakeami.DialectModern, 5)
	fleet, err := Start(context.Background(), Options{Addr: r.Addr, Username: testUser, Secret: testSecret, Phones: loadPhones(5)}, nil)
	require.NoError(t, err)
	r.Server.DropSessions()
	waitFor(t, 10*time.Second, "every client lost", func() bool {
		st := fleet.Stats()
		return st.Lost == 5 && st.Clients == 0
	})
	assert.Zero(t, r.Server.Stats().Sessions, "no client came back")
	assert.NoError(t, fleet.Close())
	assert.Equal(t, 5, fleet.Stats().Lost)
}

func TestStartFails(t *testing.T) {
	r := startPBX(t, fakeami.DialectModern, 3)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts Options
		want error  // matched with errors.Is, if set
		text string // in the message
	}{
		{name: "wrong secret", ctx: context.Background(), opts: Options{Addr: r.Addr, Username: testUser, Secret: "wrong", Phones: loadPhones(3)}, want: errBadLogin},
		{name: "cancelled", ctx: cancelled, opts: Options{Addr: r.Addr, Username: testUser, Secret: testSecret, Phones: loadPhones(3)}, want: context.Canceled},
		{name: "no address", ctx: context.Background(), opts: Options{Phones: loadPhones(1)}, text: "no manager address"},
		{name: "no phones", ctx: context.Background(), opts: Options{Addr: r.Addr}, text: "no phones"},
		{name: "phone twice", ctx: context.Background(), opts: Options{Addr: r.Addr, Phones: []string{"SIP/1", "sip/1"}}, text: "SIP/1 given twice"},
		{name: "empty phone", ctx: context.Background(), opts: Options{Addr: r.Addr, Phones: []string{" "}}, text: "phone 1 is empty"},
		{name: "negative parallelism", ctx: context.Background(), opts: Options{Addr: r.Addr, Phones: loadPhones(1), LoginParallel: -1}, text: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fleet, err := Start(tc.ctx, tc.opts, nil)
			require.Error(t, err)
			assert.Nil(t, fleet)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			assert.Contains(t, err.Error(), tc.text)
		})
	}
	assert.Zero(t, r.Server.Stats().Sessions, "a failed Start leaves no session")
}

// TestLoginParallelBound counts, at a manager that answers each Login
// only after a while, how many logins are in progress at once.
func TestLoginParallelBound(t *testing.T) {
	const phones, parallel = 12, 3
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m := &slowManager{ln: ln}
	m.wg.Go(m.serve)
	t.Cleanup(func() { ln.Close(); m.closeAll(); m.wg.Wait() })

	fleet, err := Start(context.Background(), Options{Addr: ln.Addr().String(), Phones: loadPhones(phones), LoginParallel: parallel}, nil)
	require.NoError(t, err)
	assert.Equal(t, phones, fleet.Stats().Clients)
	require.NoError(t, fleet.Close())
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.LessOrEqual(t, m.peak, parallel)
	assert.Equal(t, phones, m.logins)
}

// TestStartLogsOffAfterAFailedLogin refuses the fourth login: Start
// fails, and the three clients already in log off.
func TestStartLogsOffAfterAFailedLogin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m := &slowManager{ln: ln, refuseFrom: 4}
	m.wg.Go(m.serve)
	t.Cleanup(func() { ln.Close(); m.closeAll(); m.wg.Wait() })

	fleet, err := Start(context.Background(), Options{Addr: ln.Addr().String(), Phones: loadPhones(6), LoginParallel: 1}, nil)
	require.ErrorIs(t, err, errBadLogin)
	assert.Nil(t, fleet)
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.Equal(t, 3, m.logoffs)
	assert.Equal(t, 4, m.logins, "no login after the refused one")
}

// slowManager greets, holds each Login 20 ms before it answers (Success,
// or from the refuseFrom-th login on, Error), and answers Logoff with
// Goodbye.
type slowManager struct {
	ln         net.Listener
	refuseFrom int // 0: never
	wg         sync.WaitGroup
	mu         sync.Mutex
	conns      []net.Conn

	inFlight, peak, logins, logoffs int
}

func (m *slowManager) serve() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		m.mu.Lock()
		m.conns = append(m.conns, c)
		m.mu.Unlock()
		m.wg.Go(func() { m.session(c) })
	}
}

func (m *slowManager) closeAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.conns {
		c.Close()
	}
}

func (m *slowManager) session(c net.Conn) {
	defer c.Close()
	m.track(+1)
	fmt.Fprint(c, "Asterisk Call Manager/11.0.0\r\n")
	br := bufio.NewReader(c)
	var id string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "ActionID: "):
			id = strings.TrimPrefix(line, "ActionID: ")
		case line == "Action: Logoff":
			m.mu.Lock()
			m.logoffs++
			m.mu.Unlock()
			fmt.Fprint(c, "Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n")
			return
		case line == "" && id != "":
			time.Sleep(20 * time.Millisecond) // the slow part being measured, not a wait
			if n := m.track(-1); m.refuseFrom > 0 && n >= m.refuseFrom {
				fmt.Fprintf(c, "Response: Error\r\nActionID: %s\r\nMessage: Authentication failed\r\n\r\n", id)
				return
			}
			fmt.Fprintf(c, "Response: Success\r\nActionID: %s\r\nMessage: Authentication accepted\r\n\r\n", id)
			id = ""
		}
	}
}

// track counts a login starting (+1) or answered (-1) and returns how
// many were answered.
func (m *slowManager) track(delta int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight += delta
	m.peak = max(m.peak, m.inFlight)
	if delta < 0 {
		m.logins++
	}
	return m.logins
}

func TestCloseIsIdempotent(t *testing.T) {
	r := startPBX(t, fakeami.Dialect14, 2)
	fleet, err := Start(context.Background(), Options{Addr: r.Addr, Username: testUser, Secret: testSecret, Phones: loadPhones(2)}, nil)
	require.NoError(t, err)
	require.NoError(t, fleet.Close())
	require.NoError(t, fleet.Close())
	assert.Zero(t, fleet.Stats().Lost)
	waitFor(t, 5*time.Second, "the PBX saw both log off", func() bool { return r.Server.Stats().Sessions == 0 })
}
