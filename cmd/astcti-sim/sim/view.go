package sim

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/seatproto"
	"github.com/astcti/astcti/fakeami"
)

// View tunables.
var (
	// viewTick is how often the view reads the PBX's state (and, live,
	// redraws the screen).
	viewTick = 250 * time.Millisecond
	// viewRecent is how many event lines the live view keeps.
	viewRecent = 100
)

// trunkPrefix starts the name of the channel of every call from outside:
// the trunk the traffic arrives on (scenarios.DefaultChannel).
const trunkPrefix = "SIP/trunk-"

// seatState is what the view knows of one seat.
type seatState struct {
	name, iface string
	loggedIn    bool
	paused      bool
	reason      string
	calls       map[string]*seatCall // by the caller's uniqueid
	pops        int
	last        string // the last screen pop, summed up
}

// seatCall is a call of a seat: ringing, or linked (answered).
type seatCall struct {
	caller string
	linked bool
}

// callState is a call from outside, followed in the PBX's state.
type callState struct {
	caller   string
	service  string
	exten    string
	first    time.Time
	talkedTo string // who answered, once someone has
	status   string
}

// view shows the simulation, as a line per event (plain) or as a screen
// refreshed in place (live). Its goroutine, run, owns all of its state;
// seats hand it reports through reports.
type view struct {
	out      io.Writer
	live     bool
	state    func() fakeami.State // the PBX's, fakeami.PBX.State
	info     Info
	services map[string]string // dialplan context → service name
	phones   map[string]string // interface → operator
	termSize func() (w, h int)

	reports chan report
	done    chan struct{} // closed when run returns

	start  time.Time
	seats  []*seatState
	calls  map[string]*callState // by uniqueid
	order  []string              // uniqueids of calls, oldest first
	recent []string
	st     fakeami.State
	nCalls int
	nPops  int
}

func newView(out io.Writer, live bool, state func() fakeami.State, info Info, services map[string]string) *view {
	v := &view{
		out: out, live: live, state: state, info: info, services: services,
		phones:   map[string]string{info.Free.Interface: info.Free.Name},
		termSize: terminalSize,
		reports:  make(chan report, 256),
		done:     make(chan struct{}),
		start:    time.Now(),
		calls:    map[string]*callState{},
	}
	for _, op := range info.Simulated {
		v.seats = append(v.seats, &seatState{name: op.Name, iface: op.Interface, calls: map[string]*seatCall{}})
		v.phones[op.Interface] = op.Name
	}
	return v
}

// send hands r to the view. It blocks while the view is busy, and returns
// at once once the view has stopped. It is safe to call from any
// goroutine.
func (v *view) send(r report) {
	select {
	case v.reports <- r:
	case <-v.done:
	}
}

// run shows what happens until ctx is done, then takes the reports still
// queued, shows the last state and returns.
func (v *view) run(ctx context.Context) {
	defer close(v.done)
	if v.live {
		io.WriteString(v.out, "\x1b[?25l\x1b[2J\x1b[H") // hide the cursor, clear the screen
		defer io.WriteString(v.out, "\x1b[?25h")
	}
	tick := time.NewTicker(viewTick)
	defer tick.Stop()
	for {
		select {
		case r := <-v.reports:
			v.apply(r)
		case <-tick.C:
			v.poll(time.Now())
		case <-ctx.Done():
			for len(v.reports) > 0 { // run is the only receiver
				v.apply(<-v.reports)
			}
			v.poll(time.Now())
			return
		}
	}
}

// apply takes one report from a seat.
func (v *view) apply(r report) {
	s := v.seats[r.seat]
	var text string
	switch r.kind {
	case kindLoggedIn:
		s.loggedIn, s.paused, s.reason = true, false, ""
		text = "logged in"
	case kindLoggedOut:
		s.loggedIn, s.paused, s.reason = false, false, ""
		clear(s.calls)
		text = "logged out"
	case kindQueue:
		text = "joined queue " + r.text
	case kindPaused:
		s.paused, s.reason = true, r.text
		text = "paused (" + r.text + ")"
	case kindUnpaused:
		s.paused, s.reason = false, ""
		text = "back from pause"
	case kindPauseFailed:
		text = "pause failed: " + r.text
	case kindKO:
		text = "KO " + r.text
	case kindDisconnected:
		s.loggedIn, s.paused, s.reason = false, false, ""
		clear(s.calls)
		text = r.text
	case kindEvent:
		text = v.event(r.at, s, r.ev)
	}
	v.emit(r.at, s.name+" "+text)
}

// event takes an event of seat s and returns its line.
func (v *view) event(at time.Time, s *seatState, ev *seatproto.Event) string {
	c := ev.Call
	switch ev.ID {
	case seatproto.EventCallerID:
		s.calls[c.UniqueID] = &seatCall{caller: c.CallerIDNum}
	case seatproto.EventLink:
		s.calls[c.UniqueID] = &seatCall{caller: c.CallerIDNum, linked: true}
		s.pops++
		v.nPops++
	case seatproto.EventHangup:
		delete(s.calls, c.UniqueID)
	}
	if ev.ID == seatproto.EventLink {
		s.last = at.Format("15:04:05") + " " + strings.TrimSpace(c.CallerIDNum+" "+c.Service)
		for _, d := range c.AppData {
			s.last += " " + d.Key + "=" + quoteIfNeeded(d.Value)
		}
	}
	return eventLine(ev)
}

// eventLine sums an event up on one line:
//
//	Link caller=7123 service=support customer_id=98765 app="crm-lookup --customer 98765 --caller 7123"
func eventLine(ev *seatproto.Event) string {
	c := ev.Call
	var b strings.Builder
	b.WriteString(ev.ID)
	if c.CallerIDNum != "" {
		b.WriteString(" caller=" + quoteIfNeeded(c.CallerIDNum))
	}
	if c.Service != "" {
		b.WriteString(" service=" + quoteIfNeeded(c.Service))
	}
	if ev.ID == seatproto.EventLink {
		for _, d := range c.AppData {
			fmt.Fprintf(&b, " %s=%s", d.Key, quoteIfNeeded(d.Value))
		}
	}
	if a := ev.Action; a != nil {
		switch a.Type {
		case seatproto.ActionBrowser:
			b.WriteString(" url=" + quoteIfNeeded(a.Application))
		default:
			b.WriteString(" app=" + quoteIfNeeded(strings.TrimSpace(a.Application+" "+a.Parameters)))
		}
	}
	if o := ev.Originate; o != nil {
		fmt.Fprintf(&b, " response=%s reason=%s", o.Response, o.Reason)
	}
	return b.String()
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \"'\\") || strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// emit shows one line: printed at once (plain) or kept for the screen's
// list of recent events (live).
func (v *view) emit(at time.Time, text string) {
	line := at.Format("15:04:05") + " " + text
	if !v.live {
		fmt.Fprintln(v.out, line)
		return
	}
	v.recent = append(v.recent, line)
	if len(v.recent) > viewRecent {
		v.recent = slices.Delete(v.recent, 0, len(v.recent)-viewRecent)
	}
}

// poll reads the PBX's state, follows the calls from outside, and redraws
// the live screen.
func (v *view) poll(now time.Time) {
	v.st = v.state()
	seen := map[string]bool{}
	waiting := map[string]int{}
	for _, q := range v.st.Queues {
		for i, name := range q.Waiting {
			waiting[name] = i + 1
		}
	}
	for _, ch := range v.st.Channels {
		service := v.services[ch.Context]
		if !strings.HasPrefix(ch.Name, trunkPrefix) || service == "" {
			continue // not a call from outside into a service
		}
		seen[ch.Uniqueid] = true
		c := v.calls[ch.Uniqueid]
		if c == nil {
			c = &callState{caller: ch.CallerIDNum, service: service, exten: ch.Exten, first: now}
			v.calls[ch.Uniqueid] = c
			v.order = append(v.order, ch.Uniqueid)
			v.nCalls++
			v.emit(now, fmt.Sprintf("call %s in: %s (%s)", c.caller, c.service, c.exten))
		}
		switch {
		case ch.BridgedWith != "":
			c.talkedTo = v.who(ch.BridgedWith)
			c.status = "talking to " + c.talkedTo
		case waiting[ch.Name] > 0:
			c.status = fmt.Sprintf("queued (%s)", ordinal(waiting[ch.Name]))
		case ch.Application == "Dial":
			c.status = "ringing"
		default:
			c.status = strings.ToLower(ch.State)
		}
	}
	for i := 0; i < len(v.order); {
		uid := v.order[i]
		if seen[uid] {
			i++
			continue
		}
		c := v.calls[uid]
		end := "not answered"
		if c.talkedTo != "" {
			end = "talked to " + c.talkedTo
		}
		v.emit(now, fmt.Sprintf("call %s ended after %s: %s", c.caller, roundSecond(now.Sub(c.first)), end))
		delete(v.calls, uid)
		v.order = slices.Delete(v.order, i, i+1)
	}
	if v.live {
		w, h := v.termSize()
		v.draw(v.frame(now, w, h))
	}
}

// who names the operator of a phone's channel, or the channel's interface.
func (v *view) who(channel string) string {
	iface := channelInterface(channel)
	if name := v.phones[iface]; name != "" {
		return name
	}
	return iface
}

// channelInterface returns the interface of a channel: SIP/201 for
// SIP/201-0000000a.
func channelInterface(channel string) string {
	if i := strings.LastIndexByte(channel, '-'); i > 0 {
		return channel[:i]
	}
	return channel
}

func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return fmt.Sprintf("%dth", n)
	case n%10 == 1:
		return fmt.Sprintf("%dst", n)
	case n%10 == 2:
		return fmt.Sprintf("%dnd", n)
	case n%10 == 3:
		return fmt.Sprintf("%drd", n)
	}
	return fmt.Sprintf("%dth", n)
}

func roundSecond(d time.Duration) time.Duration { return d.Round(time.Second) }

// clock formats d as m:ss.
func clock(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// summary is the line the simulation ends with.
func (v *view) summary(now time.Time) string {
	var per []string
	for _, s := range v.seats {
		per = append(per, fmt.Sprintf("%s %d", s.name, s.pops))
	}
	text := fmt.Sprintf("stopped after %s: %d calls, %d screen pops", roundSecond(now.Sub(v.start)), v.nCalls, v.nPops)
	if len(per) > 0 && len(per) <= 8 {
		text += " (" + strings.Join(per, ", ") + ")"
	}
	return text
}
