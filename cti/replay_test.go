package cti_test

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/ctitest"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/fakeami"
)

// traceSet is a folder of recorded traces and the seats its phones need.
type traceSet struct {
	dir    string
	phones []string                  // the operator phones of the recorded PBX
	iface  func(phone string) string // the seat interface of a phone
}

var (
	localPhones = []string{"201", "202", "203", "204", "205", "206", "207", "208", "209", "211", "212", "213"}
	sipPhones   = []string{"201", "202", "203", "204", "205", "206", "209"}

	// Queue members are Local/2XX@phones/n in the Local-channel sets: the
	// usual form. One set uses the form without options, which names the
	// same interface.
	localN = func(p string) string { return "Local/" + p + "@phones/n" }
	local  = func(p string) string { return "Local/" + p + "@phones" }
	sip    = func(p string) string { return "SIP/" + p }
)

var traceSets = []traceSet{
	{"asterisk-1.4.44", localPhones, localN},
	{"asterisk-1.8.32.3", localPhones, local},
	{"asterisk-1.8.32.3-sip", sipPhones, sip},
	{"asterisk-20.20.1-sip", sipPhones, sip},
	{"asterisk-22.10.1", localPhones, localN},
}

// The sentinel seat: its phone is in no recording; the frame withSentinel
// appends to a trace makes the server send it "200 astcti-sentinel", which
// proves every frame before it was handled.
const (
	sentinelPhone = "299"
	sentinelQueue = "astcti-sentinel"
)

// traceVars are the variables of the queue services: the dialplans set
// customer_id, and j_userevent_vars also ordernum and order.
var traceVars = []string{"customer_id", "ordernum", "order"}

// traceServices are the services of the recorded dialplans (the READMEs of
// testdata/ami-traces), named unlike their contexts and queues, so that a
// test can tell a service from its context. Every queue is a service; the
// three bench queues share one context.
var traceServices = []config.Service{
	{Name: "Service", Context: "astcti-service", Variables: []string{"calldata"},
		Trigger: config.TriggerBrowser, Application: "http://crm.example/?data=${calldata}"},
	{Name: "Busy service", Context: "astcti-service-busy", Variables: []string{"calldata"}},
	{Name: "Queue", Context: "astcti-queue-service", IsQueue: true, Queue: "astcti-queue", Variables: traceVars,
		Trigger: config.TriggerApplication, Application: "crm", Parameters: "--customer ${customer_id} --order ${order}"},
	{Name: "Queue 2", Context: "astcti-queue-service", IsQueue: true, Queue: "astcti-queue-2", Variables: traceVars},
	{Name: "Queue RIU", Context: "astcti-queue-service-riu", IsQueue: true, Queue: "astcti-queue-riu", Variables: traceVars},
	{Name: "Bench 1", Context: "astcti-bench-service", IsQueue: true, Queue: "astcti-bench-1", Variables: traceVars},
	{Name: "Bench 2", Context: "astcti-bench-service", IsQueue: true, Queue: "astcti-bench-2", Variables: traceVars},
	{Name: "Bench 3", Context: "astcti-bench-service", IsQueue: true, Queue: "astcti-bench-3", Variables: traceVars},
	// Where f_originate sends an operator's originated call: an outbound
	// service, whose calls are never notified.
	{Name: "Outbound", Type: config.Outbound, Context: "phones-out"},
}

// serviceName maps EXPECTED.md's service column (the queue of a queue
// call, the context of another) to the configured service.
func serviceName(col string) string {
	for _, s := range traceServices {
		if s.Type != config.Outbound && (s.IsQueue && s.Queue == col || !s.IsQueue && s.Context == col) {
			return s.Name
		}
	}
	return ""
}

func operatorOf(phone string) string { return "op" + phone }

func macOf(phone string) string {
	n, _ := strconv.Atoi(phone)
	return fmt.Sprintf("02:00:00:00:%02x:%02x", n/100, n%100)
}

// fixedSeat says which operators have a fixed seat (they log in without
// MAC) and which take their seat with MAC: both ways are used.
func fixedSeat(phone string) bool {
	n, _ := strconv.Atoi(phone)
	return n%2 == 0
}

// model is the configuration for a trace set: a seat per phone, an
// operator per seat (password = username) in every service, and the
// sentinel, alone in its queue.
func (ts traceSet) model(t *testing.T) *config.Model {
	m := &config.Model{}
	var members []config.Member
	for _, p := range ts.phones {
		members = append(members, config.Member{Operator: operatorOf(p)})
	}
	for _, p := range append(slices.Clone(ts.phones), sentinelPhone) {
		op := config.Operator{Username: operatorOf(p), FullName: "Operator " + p, Enabled: true}
		if fixedSeat(p) {
			op.Seat = macOf(p)
		}
		require.NoError(t, op.SetPassword(op.Username))
		m.Seats = append(m.Seats, config.Seat{MAC: macOf(p), Interface: ts.iface(p)})
		m.Operators = append(m.Operators, op)
	}
	for _, s := range traceServices {
		s.Enabled = true
		if s.Type == "" {
			s.Type = config.Inbound
		}
		if s.Trigger == "" {
			s.Trigger = config.TriggerNone
		}
		s.Members = slices.Clone(members)
		m.Services = append(m.Services, s)
	}
	m.Services = append(m.Services, config.Service{
		Name: "Sentinel", Type: config.Inbound, Context: "astcti-sentinel", IsQueue: true, Queue: sentinelQueue,
		Trigger: config.TriggerNone, Enabled: true, Members: []config.Member{{Operator: operatorOf(sentinelPhone)}},
	})
	require.NoError(t, m.Validate())
	return m
}

// withSentinel returns tr with one more event at its end (before the
// recorded Goodbye, if any): QueueMemberAdded of the sentinel's interface
// to the sentinel queue. The recorded frames are not changed.
func withSentinel(t *testing.T, tr *amitrace.Trace, iface string) *amitrace.Trace {
	f := &ami.Frame{}
	f.Add("Event", "QueueMemberAdded").Add("Privilege", "agent,all").
		Add("Queue", sentinelQueue).Add("Location", iface).Add("Interface", iface).
		Add("MemberName", "Sentinel").Add("Membership", "dynamic").Add("Penalty", "0").
		Add("CallsTaken", "0").Add("LastCall", "0").Add("Status", "1").Add("Paused", "0")
	frame, err := ami.AppendFrame(nil, f)
	require.NoError(t, err)
	recv := tr.Received
	at := len(recv)
	if i := bytes.LastIndex(recv, []byte("Response: Goodbye\r\n")); i >= 0 &&
		bytes.HasSuffix(recv[:i], []byte("\r\n\r\n")) && bytes.Index(recv[i:], []byte("\r\n\r\n")) == len(recv)-i-4 {
		at = i
	}
	out := *tr
	out.Received = slices.Concat(recv[:at], frame, recv[at:])
	return &out
}

// expectedLine is one Ring or Link line of EXPECTED.md, or of a seat's
// events written the same way.
type expectedLine struct {
	kind, iface, callerID, service string
	vars                           map[string]string
}

// String writes the line as EXPECTED.md does, variables sorted by name.
func (l expectedLine) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s callerid=%s service=%s", l.kind, l.iface, l.callerID, l.service)
	for _, k := range slices.Sorted(maps.Keys(l.vars)) {
		fmt.Fprintf(&b, " %s=%s", k, l.vars[k])
	}
	return b.String()
}

func parseExpectedLine(line string) (expectedLine, error) {
	f := strings.Fields(line)
	if len(f) < 4 || (f[0] != "Ring" && f[0] != "Link") {
		return expectedLine{}, fmt.Errorf("not a Ring or Link line")
	}
	l := expectedLine{kind: f[0], iface: f[1], vars: map[string]string{}}
	for _, kv := range f[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return expectedLine{}, fmt.Errorf("%q is not key=value", kv)
		}
		switch k {
		case "callerid":
			l.callerID = v
		case "service":
			l.service = v
		default:
			l.vars[k] = v
		}
	}
	return l, nil
}

// parseExpected reads testdata/ami-traces/EXPECTED.md: a "## set/name.ami"
// heading per trace, then its Ring and Link lines or "(no Ring, no Link)".
func parseExpected(t *testing.T) map[string][]expectedLine {
	f, err := os.Open(filepath.Join(amitrace.Root(), "EXPECTED.md"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]expectedLine{}
	cur := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			cur = strings.TrimSuffix(strings.TrimPrefix(line, "## "), ".ami")
			require.NotContains(t, out, cur, "EXPECTED.md:%d: %s twice", n, cur)
			out[cur] = []expectedLine{}
		case cur == "" || line == "" || line == "(no Ring, no Link)":
		default:
			l, err := parseExpectedLine(line)
			require.NoError(t, err, "EXPECTED.md:%d: %q", n, line)
			out[cur] = append(out[cur], l)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestReplayTraces plays every recorded trace (testdata/ami-traces) through
// a real server to seats on every phone of the recorded PBX, and holds the
// CallerId and Link events each seat gets, in order, to EXPECTED.md: the
// phone, the caller, the service or queue, every variable. A phone that
// EXPECTED.md does not name for a trace gets no CallerId or Link. The
// replay answers the server's own actions (QueueAdd, CoreStatus,
// CoreShowChannels…) with errors, and the server must go on regardless.
func TestReplayTraces(t *testing.T) {
	expected := parseExpected(t)
	paths, err := amitrace.All()
	require.NoError(t, err)
	seen := map[string]bool{}
	models := map[string]*config.Model{}
	for _, ts := range traceSets {
		models[ts.dir] = ts.model(t)
	}
	for _, path := range paths {
		set := filepath.Base(filepath.Dir(path))
		name := set + "/" + strings.TrimSuffix(filepath.Base(path), ".ami")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, ok := expected[name]
			require.True(t, ok, "EXPECTED.md has no section for %s", name)
			i := slices.IndexFunc(traceSets, func(ts traceSet) bool { return ts.dir == set })
			require.GreaterOrEqual(t, i, 0, "no seats for the trace set %s", set)
			replayTrace(t, traceSets[i], models[set], path, want)
		})
	}
	for name := range expected {
		assert.True(t, seen[name], "EXPECTED.md names %s, which is not a trace", name)
	}
}

func replayTrace(t *testing.T, ts traceSet, model *config.Model, path string, want []expectedLine) {
	tr, err := amitrace.Load(path)
	require.NoError(t, err)
	rp, err := fakeami.NewReplay(withSentinel(t, tr, ts.iface(sentinelPhone)), 0)
	require.NoError(t, err)
	rp.WaitCall = true
	fake := ctitest.StartReplay(t, rp)
	srv := ctitest.Start(t, ctitest.Options{Model: model, AMI: fake.Config()})

	byIface := map[string]bool{}
	for _, l := range want {
		byIface[l.iface] = true
	}
	seats := map[string]*ctitest.Seat{} // by normalised interface
	for _, p := range append(slices.Clone(ts.phones), sentinelPhone) {
		st := srv.Dial()
		if fixedSeat(p) {
			st.Login(operatorOf(p), operatorOf(p), "")
		} else {
			st.Login(operatorOf(p), operatorOf(p), macOf(p))
		}
		key := calls.NormalizeInterface(ts.iface(p))
		seats[key] = st
		delete(byIface, key)
	}
	require.Empty(t, byIface, "EXPECTED.md names phones that have no seat")

	// The replay answers every QueueAdd with an error. Wait until the hub
	// has had every answer: a seat whose memberships are still being added
	// waits for them before it is told of its calls (the re-pop).
	queueAdds := 0
	for _, op := range model.Operators {
		for _, s := range model.Services {
			if s.IsQueue && slices.ContainsFunc(s.Members, func(m config.Member) bool { return m.Operator == op.Username }) {
				queueAdds++
			}
		}
	}
	ctitest.WaitFor(t, "the answers to the server's QueueAdds", func() error {
		n := srv.Logs.Count("QueueAdd failed")
		return ctitest.Check(n >= queueAdds, "%d of %d QueueAdds answered", n, queueAdds)
	})
	for _, st := range seats {
		st.Sync()
	}

	// The server is now the one manager session; the seats are known to
	// the hub (it answered MAC or PASS after taking the seat).
	fake.Start(t)
	sentinel := seats[calls.NormalizeInterface(ts.iface(sentinelPhone))]
	sentinel.Expect(`^200 ` + sentinelQueue + `$`)

	total := 0
	for key, st := range seats {
		st.Sync() // every event the hub sent before the sentinel is in
		var got, wantHere []string
		for _, ev := range st.Events() {
			if ev.ID != seatproto.EventCallerID && ev.ID != seatproto.EventLink {
				continue
			}
			got = append(got, seatLine(t, key, ev).String())
		}
		for _, l := range want {
			if l.iface == key {
				wantHere = append(wantHere, l.String())
			}
		}
		assert.Equal(t, wantHere, got, "CallerId and Link events of the seat on %s", key)
		total += len(got)
	}
	t.Logf("%d CallerId and Link events on %d seats, as EXPECTED.md says %d", total, len(seats), len(want))
	assert.Zero(t, srv.Logs.Count("panic"), "panics logged")
}

// seatLine writes a seat's CallerId or Link event as EXPECTED.md would,
// and checks what the line does not show: the event's service is the one
// its queue or context belongs to, its channel is on the seat's phone,
// and a Link carries the service's action with the call's values.
func seatLine(t *testing.T, iface string, ev *seatproto.Event) expectedLine {
	kind := "Ring"
	if ev.ID == seatproto.EventLink {
		kind = "Link"
	}
	c := ev.Call
	svc := c.Queue
	if svc == "" {
		svc = c.Context
	}
	l := expectedLine{kind: kind, iface: iface, callerID: c.CallerIDNum, service: svc, vars: map[string]string{}}
	for _, d := range c.AppData {
		if d.Value != "" { // a variable the dialplan did not set is sent empty
			l.vars[d.Key] = d.Value
		}
	}
	assert.Equal(t, serviceName(svc), c.Service, "the service of %s", l)
	assert.Equal(t, iface, calls.InterfaceOf(c.Channel), "the channel of %s", l)
	assert.NotEmpty(t, c.UniqueID, "the uniqueid of %s", l)
	switch {
	case kind == "Ring":
		assert.Nil(t, ev.Action, "a CallerId carries no action: %s", l)
	case c.Service == "Queue":
		if assert.NotNil(t, ev.Action, "the action of %s", l) {
			args, err := seatproto.SplitArgs(ev.Action.Parameters)
			require.NoError(t, err)
			assert.Equal(t, []string{"--customer", l.vars["customer_id"], "--order", l.vars["order"]}, args, "the action of %s", l)
			assert.Equal(t, "crm", ev.Action.Application)
		}
	case c.Service == "Service":
		if assert.NotNil(t, ev.Action, "the action of %s", l) {
			assert.Equal(t, "http://crm.example/?data="+l.vars["calldata"], ev.Action.Application, "the action of %s", l)
		}
	}
	return l
}
