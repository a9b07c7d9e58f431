package calls

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

// The outage tests cut a call's event stream, as the fake PBX makes it, at
// every pair of points: the AMI link goes down before event a and comes
// back up before event b (the events between are lost), the channel list
// of the resync is taken at a later step of the PBX's clock, and the
// Getvar answers of the calls it rebuilds come one or more steps later,
// while the call's events go on. Whatever the cut, the operator's seat is
// told a Link once when the call was linked where the tracker saw it, or
// linked during the outage and still up at the list, never twice, always
// with the call's data; and nothing stays behind once the call ended.

// outageDialplan has a queue service and a non-queue service whose
// variable is set between two waits, so that an outage can begin or end
// on either side of the Set.
const outageDialplan = `-- extensions.conf --
[svc-queue]
exten => 102,1,Answer()
 same => n,Wait(0.5)
 same => n,Set(customer_id=98765)
 same => n,Wait(0.5)
 same => n,Queue(q1,t,,,60)
 same => n,Hangup()

[svc-dial]
exten => 101,1,Answer()
 same => n,Wait(0.5)
 same => n,Set(customer_id=4711)
 same => n,Wait(0.5)
 same => n,Dial(SIP/201,30)
 same => n,Hangup()

[svc-direct]
exten => 103,1,Set(customer_id=555)
 same => n,Dial(SIP/201,20)
 same => n,Hangup()

-- queues.conf --
[q1]
strategy = ringall
timeout = 15
retry = 2
ringinuse = no

-- phones --
SIP/201 answers after 2s talks 3s
`

func outageCatalog() *fakeCatalog {
	return newCatalog(
		Service{Name: "queued", Context: "svc-queue", Queue: "q1", Variables: []string{"customer_id"}},
		Service{Name: "dialled", Context: "svc-dial", Variables: []string{"customer_id"}},
		Service{Name: "direct", Context: "svc-direct", Variables: []string{"customer_id"}},
	)
}

// outageStep is what the PBX said during one step of its clock, and what a
// resync would have read at the end of it.
type outageStep struct {
	events  []*ami.Frame
	listing Listing
	vars    map[string]string // Getvar customer_id by channel name
}

// armedClock is a ManualClock that tells when the PBX has armed its first
// timer, that is when Run has started it.
type armedClock struct {
	*fakeami.ManualClock
	once  sync.Once
	armed chan struct{}
}

func (c *armedClock) AfterFunc(d time.Duration, f func()) func() bool {
	stop := c.ManualClock.AfterFunc(d, f)
	c.once.Do(func() { close(c.armed) })
	return stop
}

// frameSink keeps clones of the frames it is sent.
type frameSink struct {
	mu     sync.Mutex
	frames []*ami.Frame
}

func (s *frameSink) Send(f *ami.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames = append(s.frames, f.Clone())
}

func (s *frameSink) take() []*ami.Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.frames
	s.frames = nil
	return out
}

// recordOutageCall plays one call on a fake PBX of the dialect, in steps
// of 100 ms of its clock, and returns the steps in which something
// happened, each with the channel list and the variable's values at its
// end.
func recordOutageCall(t *testing.T, d fakeami.Dialect, call string) []outageStep {
	t.Helper()
	sc, err := scenarios.ParseFragment("outage.txtar", []byte(outageDialplan+"-- calls --\n"+call+"\n"))
	require.NoError(t, err)
	clock := &armedClock{ManualClock: fakeami.NewManualClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)), armed: make(chan struct{})}
	pbx, err := fakeami.NewPBX(fakeami.Options{Dialect: d, Scenario: sc, Seed: 1, Clock: clock})
	require.NoError(t, err)
	pbx.Do(&frameSink{}, ami.NewAction("QueueAdd", "Queue", "q1", "Interface", "SIP/201"))
	events := &frameSink{}
	pbx.Attach(events)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pbx.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-clock.armed

	var steps []outageStep
	for range 200 { // 20 s: the call is over in 10
		clock.Advance(100 * time.Millisecond)
		evs := events.take()
		if len(evs) == 0 {
			continue
		}
		steps = append(steps, outageStep{events: evs, listing: listPBX(pbx, d), vars: map[string]string{}})
		st := &steps[len(steps)-1]
		for _, f := range st.listing.Channels {
			name := f.Get("Channel")
			got := &frameSink{}
			pbx.Do(got, ami.NewAction("Getvar", "Channel", name, "Variable", "customer_id"))
			for _, r := range got.take() {
				if r.Response() == "Success" {
					st.vars[name] = r.Get("Value")
				}
			}
		}
	}
	require.NotEmpty(t, steps)
	require.Empty(t, steps[len(steps)-1].listing.Channels, "the call is still up after 20 s")
	return steps
}

// listPBX lists the PBX's channels as the server's resync does:
// CoreShowChannels, or on 1.4 Status and QueueStatus.
func listPBX(pbx *fakeami.PBX, d fakeami.Dialect) Listing {
	items := func(action, event string) []*ami.Frame {
		got := &frameSink{}
		pbx.Do(got, ami.NewAction(action))
		var out []*ami.Frame
		for _, f := range got.take() {
			if e := f.Event(); e == event || (event == "" && e != "" && !strings.HasSuffix(e, "Complete")) {
				out = append(out, f)
			}
		}
		return out
	}
	if d == fakeami.Dialect14 {
		return Listing{Channels: items("Status", "Status"), Queues: items("QueueStatus", "")}
	}
	return Listing{Channels: items("CoreShowChannels", "CoreShowChannel")}
}

// outageCut is one way the link fails around a call: events [lost,
// back) are lost; the channel list is read at the end of step listAt and
// reaches the tracker at the end of step applyAt, after the events of the
// steps between (the list's answer and the events come to the hub by two
// ways, and 1.4's list takes two actions, Status then QueueStatus); a
// Getvar asked in step i is answered at the end of step i+delay with the
// value the PBX had at the end of step i (events of the steps between are
// seen before the answer), or never when the link is down then.
type outageCut struct {
	lost, back      int
	listAt, applyAt int
	delay           int
}

func (c outageCut) String() string {
	return fmt.Sprintf("lost events [%d,%d), list at step %d applied at step %d, Getvar answers %d steps later",
		c.lost, c.back, c.listAt, c.applyAt, c.delay)
}

// playOutage runs the recorded steps through a tracker as the server's
// hub does around an outage, and returns what the seat SIP/201 was told,
// and whether some Getvar was answered only once the seat's phone hung up
// (or never), or the list came only then: the call then ended before its
// data was known, and its seat need not hear of it.
func playOutage(steps []outageStep, cut outageCut) (told []Change, tr *Tracker, late bool) {
	tr = NewTracker(outageCatalog())
	var seen []Change
	type asked struct {
		req  VarRequest
		step int
	}
	var waiting []asked
	ask := func(step int, reqs []VarRequest) {
		for _, r := range reqs {
			waiting = append(waiting, asked{r, step})
		}
	}
	outage := cut.back > cut.lost
	hungUp := len(steps)
	for i := len(steps) - 1; i >= 0; i-- {
		for _, f := range steps[i].events {
			if f.Event() == "Hangup" && strings.HasPrefix(f.Get("Channel"), "SIP/201-") {
				hungUp = i
			}
		}
	}
	// A phone that hung up after the list was read and before it came
	// ended its call before the tracker knew of it.
	late = outage && cut.listAt < hungUp && hungUp <= cut.applyAt
	n := 0 // the event's index over every step
	var mark uint64
	for i, st := range steps {
		for _, f := range st.events {
			switch {
			case outage && n == cut.lost:
				tr.LostEvents() // the link is down
			case outage && n == cut.back:
				tr.ForgetHungUp() // the link is up again, the list is asked for
				mark = tr.Mark()
			}
			if n < cut.lost || n >= cut.back {
				seen = append(seen, tr.Apply(f)...)
				ask(i, tr.TakeVarRequests())
			}
			n++
		}
		if outage && n == cut.back && i == len(steps)-1 {
			tr.ForgetHungUp() // the link is up again after the last event
			mark = tr.Mark()
		}
		down := outage && n > cut.lost && n <= cut.back // at the end of the step
		if outage && i == cut.applyAt {
			listing := steps[cut.listAt].listing
			alive := map[string]bool{}
			for _, f := range listing.Channels {
				alive[f.Get("Uniqueid")] = true
			}
			seen = append(seen, tr.Retain(alive, mark)...)
			reqs, rebuilt := tr.Resync(listing)
			seen = append(seen, Coalesce(rebuilt)...)
			ask(i, reqs)
		}
		rest := waiting[:0]
		for _, w := range waiting {
			switch {
			case w.step+cut.delay > i:
				rest = append(rest, w)
			case !down:
				late = late || i >= hungUp
				seen = append(seen, tr.GotVar(w.req, steps[w.step].vars[w.req.Channel])...)
			} // else lost with the link: the call waits for the next resync
		}
		waiting = rest
		ask(i, tr.TakeVarRequests())
	}
	for _, ch := range seen {
		if ch.Interface == "SIP/201" {
			told = append(told, ch)
		}
	}
	return told, tr, late || len(waiting) > 0
}

// linkIndex returns the index of the event that links the member leg
// with the caller (Link, Bridge or the second BridgeEnter of the bridge),
// and the step it is in.
func linkIndex(t *testing.T, steps []outageStep) (index, step int) {
	n := 0
	entered := map[string]int{}
	for i, st := range steps {
		for _, f := range st.events {
			switch f.Event() {
			case "Link":
				return n, i
			case "Bridge":
				if f.Get("Bridgestate") != "Unlink" {
					return n, i
				}
			case "BridgeEnter":
				if entered[f.Get("BridgeUniqueid")]++; entered[f.Get("BridgeUniqueid")] == 2 {
					return n, i
				}
			}
			n++
		}
	}
	t.Fatal("the call was never linked")
	return 0, 0
}

// upAtList reports whether the member's phone is listed talking to the
// caller: in a bridge (CoreShowChannel BridgeId), or linked (1.4 Status).
func upAtList(st outageStep) bool {
	for _, f := range st.listing.Channels {
		if strings.HasPrefix(f.Get("Channel"), "SIP/201-") && (f.Get("BridgeId") != "" || f.Get("Link") != "") {
			return true
		}
	}
	return false
}

func TestOutageAtEveryPoint(t *testing.T) {
	calls := []struct{ name, call, data string }{
		{"queue", `at 1s from "Caller" <200> to 102@svc-queue`, "98765"},
		{"dial", `at 1s from "Caller" <200> to 101@svc-dial`, "4711"},
		{"direct", `at 1s from "Caller" <200> to 103@svc-direct`, "555"},
	}
	for _, d := range []fakeami.Dialect{fakeami.DialectModern, fakeami.Dialect14} {
		for _, c := range calls {
			t.Run(d.String()+"/"+c.name, func(t *testing.T) {
				steps := recordOutageCall(t, d, c.call)
				total := 0
				for _, st := range steps {
					total += len(st.events)
				}
				linkAt, linkStep := linkIndex(t, steps)
				stepOf := make([]int, 0, total)
				for i, st := range steps {
					for range st.events {
						stepOf = append(stepOf, i)
					}
				}
				runs := 0
				for lost := 0; lost <= total; lost++ {
					for back := lost; back <= total; back++ {
						first := len(steps) - 1
						if back < total {
							first = stepOf[back]
						}
						for listAt := first; listAt < len(steps); listAt++ {
							for applyAt := listAt; applyAt < min(listAt+3, len(steps)); applyAt++ {
								for delay := range 3 {
									cut := outageCut{lost: lost, back: back, listAt: listAt, applyAt: applyAt, delay: delay}
									checkOutage(t, steps, cut, linkAt, linkStep, c.data)
									runs++
									if t.Failed() {
										break
									}
								}
								if t.Failed() {
									break
								}
							}
							if back == lost || t.Failed() {
								break
							}
						}
						if t.Failed() {
							return
						}
					}
				}
				t.Logf("%d events, %d steps, %d cuts played", total, len(steps), runs)
			})
		}
	}
}

func checkOutage(t *testing.T, steps []outageStep, cut outageCut, linkAt, linkStep int, data string) {
	t.Helper()
	told, tr, late := playOutage(steps, cut)
	var links []Change
	rings := 0
	for _, ch := range told {
		switch ch.Kind {
		case Link:
			links = append(links, ch)
		case Ring:
			if rings++; rings > 1 || len(links) > 0 {
				t.Errorf("%v: a second Ring, or a Ring after the Link: %v", cut, told)
			}
		}
	}
	// The seat must hear the Link when the tracker saw it with what it
	// needs to know: before the outage, or after the list (which tells the
	// channels and the service the lost events told); or when the list
	// shows the phone talking to the caller.
	seenLink := cut.back == cut.lost || linkAt < cut.lost || linkStep > cut.listAt
	upListed := cut.listAt >= linkStep && upAtList(steps[cut.listAt])
	switch {
	case len(links) > 1:
		t.Errorf("%v: %d Links: %v", cut, len(links), told)
	case len(links) == 0 && (seenLink || upListed) && !late:
		t.Errorf("%v: no Link (link at event %d, step %d): %v", cut, linkAt, linkStep, told)
	case len(links) == 1 && (len(links[0].Call.Data) != 1 || links[0].Call.Data[0].Value != data):
		t.Errorf("%v: Link with data %v, want customer_id=%s", cut, links[0].Call.Data, data)
	}
	if len(told) > 0 && told[len(told)-1].Kind != Hangup {
		t.Errorf("%v: the seat's last word is %v, not Hangup: %v", cut, told[len(told)-1].Kind, told)
	}
	if tr.Len() != 0 {
		t.Errorf("%v: %d channels left once the call ended", cut, tr.Len())
	}
}
