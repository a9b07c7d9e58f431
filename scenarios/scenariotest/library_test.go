package scenariotest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// The barrier seat: an operator of its own service on a queue no scenario
// calls, with a phone no scenario rings. Its PAUSE IN/OUT is confirmed by
// the PBX's QueueMemberPause event, which comes after every event the PBX
// sent before it, so once the barrier seat has its "300 OK" the hub has
// handled everything the PBX did so far.
const (
	barrierName  = "barrier"
	barrierPhone = "SIP/298"
	barrierQueue = "astcti-queue-2"
	barrierMAC   = "00:11:22:33:46:01"
)

// start is the fake clock's time when a scenario starts playing.
var start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// maxIdleWait bounds, in the scenario's time, how long a run without "run"
// waits for the PBX to have no channel left.
const maxIdleWait = time.Hour

// TestLibrary runs every scenario of the library in both dialects and holds
// each seat to the events its expect file lists.
func TestLibrary(t *testing.T) {
	names := scenarios.Names()
	require.NotEmpty(t, names)
	for _, name := range names {
		for _, d := range []fakeami.Dialect{fakeami.Dialect14, fakeami.DialectModern} {
			t.Run(name+"/"+d.String(), func(t *testing.T) {
				t.Parallel()
				runScenario(t, name, d)
			})
		}
	}
}

// armClock is a manual clock that counts the timers armed on it: the PBX
// arms its first one when Run starts playing the scenario.
type armClock struct {
	*fakeami.ManualClock
	armed atomic.Int64
}

func (c *armClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.armed.Add(1)
	return c.ManualClock.AfterFunc(d, f)
}

// run is one scenario played in one dialect.
type run struct {
	t       *testing.T
	dialect string
	exp     *Expect
	model   *config.Model
	clock   *armClock
	pbx     *ctitest.PBX
	srv     *ctitest.Server
	now     time.Duration // the scenario's time
	seats   map[string]*ctitest.Seat
	barrier *ctitest.Seat
	paused  bool            // the barrier seat's state
	replies map[string]bool // KO answers the expect file asks for, by seat and line
}

func runScenario(t *testing.T, name string, d fakeami.Dialect) {
	sc, err := scenarios.Load(name)
	require.NoError(t, err)
	require.NotEmpty(t, strings.TrimSpace(sc.Expect), "%s has no expect file", name)
	exp, err := ParseExpect(sc.Expect)
	require.NoError(t, err)
	pbxScenario, err := scenarios.Merge(scenarios.Demo(), sc)
	require.NoError(t, err)

	r := &run{
		t: t, dialect: d.String(), exp: exp,
		clock:   &armClock{ManualClock: fakeami.NewManualClock(start)},
		seats:   map[string]*ctitest.Seat{},
		replies: map[string]bool{},
	}
	r.model = buildModel(t, exp)
	r.pbx = ctitest.StartPBX(t, fakeami.Options{Dialect: d, Scenario: pbxScenario, Seed: 1, Clock: r.clock})
	r.srv = ctitest.Start(t, ctitest.Options{Model: r.model, AMI: r.pbx.Config()})

	r.barrier = r.login(barrierName)
	for _, op := range exp.Login {
		r.seats[op] = r.login(op)
	}
	if len(pbxScenario.Calls) > 0 || pbxScenario.Traffic != nil {
		// Calls are scheduled when Run starts, relative to the clock, which
		// has not moved: wait for that before moving it.
		ctitest.WaitFor(t, "the PBX to start playing", func() error {
			return ctitest.Check(r.clock.armed.Load() > 0, "no timer armed")
		})
	}

	steps := slices.Clone(exp.Steps)
	slices.SortStableFunc(steps, func(a, b Step) int { return int(a.At - b.At) })
	for _, s := range steps {
		r.advanceTo(s.At)
		r.sync()
		r.do(s)
	}
	r.finish(pbxScenario)
	r.sync()
	r.check()
}

// buildModel is the demo configuration plus the seats and services the
// expect file declares, and the barrier seat.
func buildModel(t *testing.T, exp *Expect) *config.Model {
	m := config.Demo()
	for _, sd := range exp.Services {
		svc := config.Service{
			Name: sd.Name, Type: config.Inbound, Context: sd.Context,
			Trigger: config.TriggerNone, Enabled: true, Variables: sd.Vars,
		}
		if sd.Queue != "" {
			svc.IsQueue, svc.Queue = true, sd.Queue
		}
		m.Services = append(m.Services, svc)
	}
	seat := func(name, iface, mac string, paused bool) {
		m.Seats = append(m.Seats, config.Seat{MAC: mac, Interface: iface, Description: "scenario seat " + name})
		op := config.Operator{Username: name, FullName: name, Seat: mac, Enabled: true, BeginPaused: paused}
		require.NoError(t, op.SetPassword(name))
		m.Operators = append(m.Operators, op)
	}
	for i, sd := range exp.Seats {
		for _, name := range sd.Services {
			require.True(t, slices.ContainsFunc(m.Services, func(s config.Service) bool { return s.Name == name }),
				"expect:%d: seat %s: no service %q", sd.Line, sd.Name, name)
		}
		seat(sd.Name, sd.Interface, fmt.Sprintf("00:11:22:33:45:%02x", i+1), sd.Paused)
		for j := range m.Services {
			if len(sd.Services) == 0 || slices.Contains(sd.Services, m.Services[j].Name) {
				m.Services[j].Members = append(m.Services[j].Members, config.Member{Operator: sd.Name, Penalty: sd.Penalty})
			}
		}
	}
	for op, pen := range exp.Penalty {
		found := false
		for i := range m.Services {
			for j := range m.Services[i].Members {
				if m.Services[i].Members[j].Operator == op {
					m.Services[i].Members[j].Penalty, found = pen, true
				}
			}
		}
		require.True(t, found, "penalty %s: no such operator in any service", op)
	}
	seat(barrierName, barrierPhone, barrierMAC, false)
	m.Services = append(m.Services, config.Service{
		Name: barrierName, Type: config.Inbound, Context: "astcti-barrier",
		IsQueue: true, Queue: barrierQueue, Trigger: config.TriggerNone, Enabled: true,
		Members: []config.Member{{Operator: barrierName}},
	})
	require.NoError(t, m.Validate())
	return m
}

// queuesOf returns the queues an operator's seat joins.
func (r *run) queuesOf(op string) []string {
	var qs []string
	for _, s := range r.model.Services {
		if !s.IsQueue || !s.Enabled {
			continue
		}
		for _, mb := range s.Members {
			if mb.Operator == op {
				qs = append(qs, s.Queue)
			}
		}
	}
	slices.Sort(qs)
	return qs
}

// login logs an operator in on its fixed seat and waits until the PBX has
// confirmed every queue membership ("200 queue").
func (r *run) login(op string) *ctitest.Seat {
	r.t.Helper()
	found := false
	for _, o := range r.model.Operators {
		found = found || o.Username == op
	}
	require.True(r.t, found, "no operator %q (the demo's alice and bob, or a seat line)", op)
	st := r.srv.Dial()
	st.Login(op, op, "")
	want := r.queuesOf(op)
	var got []string
	for range want {
		got = append(got, st.Expect(`^200 (\S+)$`)[1])
	}
	slices.Sort(got)
	require.Equal(r.t, want, got, "%s: queue memberships", op)
	return st
}

// advanceTo moves the scenario's time to d, a second at a time so that the
// PBX's manager queue never holds more than a second of events.
func (r *run) advanceTo(d time.Duration) {
	for r.now < d {
		step := min(time.Second, d-r.now)
		r.now += step
		r.clock.AdvanceTo(start.Add(r.now))
	}
}

// sync waits until the hub has handled every event the PBX sent so far,
// and every seat has received the lines the hub sent it.
func (r *run) sync() {
	r.t.Helper()
	if r.paused {
		r.barrier.Send("PAUSE OUT")
	} else {
		r.barrier.Send("PAUSE IN")
	}
	r.paused = !r.paused
	r.barrier.Expect(`^300 OK$`)
	for _, st := range r.seats {
		st.Sync()
	}
}

// finalReply matches the last answer to a seat command.
var finalReply = regexp.MustCompile(`^(100 OK|101 .*|300 OK|302 .*|9\d\d .*)$`)

// do performs one step of the expect file.
func (r *run) do(s Step) {
	r.t.Helper()
	switch s.Kind {
	case StepLogin:
		for _, op := range s.Seats {
			require.NotContains(r.t, r.seats, op, "expect:%d: %s is logged in already", s.Line, op)
			r.seats[op] = r.login(op)
		}
	case StepCommand:
		st := r.seats[s.Seat]
		require.NotNil(r.t, st, "expect:%d: %s is not logged in", s.Line, s.Seat)
		want := s.Reply
		if want == "" {
			want = "100 OK"
			switch {
			case strings.HasPrefix(strings.ToUpper(s.Command), "PAUSE"):
				want = "300 OK"
			case strings.EqualFold(s.Command, "QUIT"):
				want = "900 OK"
			}
		}
		if strings.Contains(want, "KO") {
			r.replies[s.Seat+" "+want] = true
		}
		st.Send(s.Command)
		got := st.Expect(finalReply.String())[0]
		require.Equal(r.t, want, got, "expect:%d: %s %s", s.Line, s.Seat, s.Command)
		if strings.HasPrefix(got, "9") {
			delete(r.seats, s.Seat)
		}
	case StepTransfer:
		ch := r.bridgedChannel(s.Interface)
		require.NotEmpty(r.t, ch, "expect:%d: no bridged channel of %s to transfer at %v", s.Line, s.Interface, s.At)
		require.NoError(r.t, r.pbx.PBX.Transfer(ch, s.Context, s.Exten), "expect:%d", s.Line)
	default:
		r.t.Fatalf("expect:%d: step %v", s.Line, s.Kind)
	}
}

// bridgedChannel returns the name of the channel of a phone that talks to
// someone, "" if there is none.
func (r *run) bridgedChannel(iface string) string {
	for _, c := range r.pbx.PBX.State().Channels {
		if strings.HasPrefix(c.Name, iface+"-") && c.BridgedWith != "" {
			return c.Name
		}
	}
	return ""
}

// finish plays the scenario to its end: until "run", or until every call
// has come and gone.
func (r *run) finish(sc *scenarios.Scenario) {
	r.t.Helper()
	if r.exp.Run > 0 {
		r.advanceTo(r.exp.Run)
		return
	}
	last := r.now
	for _, c := range sc.Calls {
		last = max(last, c.At)
	}
	r.advanceTo(last)
	for len(r.pbx.PBX.State().Channels) > 0 {
		if r.now > last+maxIdleWait {
			r.t.Fatalf("the PBX still has channels %v after the scenario's time %v", r.pbx.PBX.State().Channels, r.now)
		}
		r.advanceTo(r.now + time.Second)
	}
}

// check compares what each seat received with the expect file.
func (r *run) check() {
	r.t.Helper()
	want := r.exp.For(r.dialect)
	for name := range want {
		assert.Contains(r.t, r.seats, name, "the expect file lists events for %s, who is not logged in at the end", name)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range r.seats {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		lines := r.seats[name].Lines()
		var got []string
		announced := map[string]bool{}
		for _, ev := range ctitest.ParseEvents(r.t, lines) {
			got = append(got, Render(ev))
			switch ev.ID {
			case seatproto.EventCallerID, seatproto.EventLink:
				announced[ev.Call.UniqueID] = true
			case seatproto.EventHangup:
				assert.True(r.t, announced[ev.Call.UniqueID], "%s: Hangup of call %s, which was never announced: %s", name, ev.Call.UniqueID, Render(ev))
			}
		}
		if !slices.Equal(want[name], got) {
			r.t.Errorf("%s (%s dialect) received other events than the expect file says\nwant:\n%s\ngot:\n%s",
				name, r.dialect, indent(want[name], name), indent(got, name))
		}
		for _, l := range lines {
			if seatproto.IsEvent([]byte(l)) {
				continue
			}
			if strings.Contains(l, " KO") && !r.replies[name+" "+l] || l[0] == '9' {
				r.t.Errorf("%s: unexpected status line %q", name, l)
			}
		}
	}
}

func indent(lines []string, seat string) string {
	if len(lines) == 0 {
		return "\t(none)"
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\t" + seat + " " + l + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
