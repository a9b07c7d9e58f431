package doctor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

// maxWatchedChannels bounds the channels the watcher remembers.
var maxWatchedChannels = 100000

// watcher follows the event stream of the doctor's manager connection from
// its login on: which events came, whether a call entered a configured
// service and which of the events astcti needs it brought, which service
// variables were set, and the doctor's own probe UserEvent. The
// collector goroutine calls observe; the doctor reads the state. mu guards
// every field.
type watcher struct {
	mu sync.Mutex
	g  generation
	// The configured inbound services, by context and by queue.
	contexts map[string]*config.Service
	queues   map[string]*config.Service

	seq       int                   // events seen
	callSeq   int                   // events of a channel (with a Uniqueid) seen
	last      map[string]int        // event name → seq of its last occurrence
	firstSeen map[string]firstEvent // Uniqueid → its channel's first event

	call      *watchedCall
	late      *watchedCall  // the first call into a service that was up before the login
	callEnded chan struct{} // closed when the watched call's channel hangs up

	varSet map[string]int // lower-case bare variable name → seq it was last seen set

	fullyBooted bool
	probeToken  string        // the Doctor header of the probe UserEvent
	probeBack   chan struct{} // closed when it came back
}

// watchedCall is the first call seen entering a configured service.
type watchedCall struct {
	service  *config.Service
	uniqueid string
	channel  string
	start    int  // seq of its channel's first event
	ended    bool // its channel hung up
	late     bool // it was up before the login: its first events were not seen
}

// firstEvent is the first event seen of a channel.
type firstEvent struct {
	seq        int
	newchannel bool // it was the channel's Newchannel: the doctor saw it from its start
}

func newWatcher(g generation, model *config.Model, probeToken string) *watcher {
	w := &watcher{
		g: g, contexts: map[string]*config.Service{}, queues: map[string]*config.Service{},
		last: map[string]int{}, firstSeen: map[string]firstEvent{}, varSet: map[string]int{},
		callEnded: make(chan struct{}), probeToken: probeToken, probeBack: make(chan struct{}),
	}
	if model != nil {
		for i := range model.Services {
			s := &model.Services[i]
			if !s.Enabled || s.Type != config.Inbound {
				continue
			}
			if s.IsQueue {
				w.queues[strings.ToLower(s.Queue)] = s
			}
			if _, ok := w.contexts[s.Context]; !ok || !s.IsQueue {
				w.contexts[s.Context] = s
			}
		}
	}
	return w
}

// setGeneration tells the watcher the PBX's generation once it is known
// (the banner comes after the watcher is made).
func (w *watcher) setGeneration(g generation) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.g = g
}

// eventName returns the name of an event as astcti reads it: 1.4's
// "UserEventAstCTI" is a UserEvent, 1.6's "NewCallerid" a Newcallerid.
func eventName(f *ami.Frame) string {
	name := f.Event()
	switch {
	case len(name) > len("UserEvent") && strings.EqualFold(name[:len("UserEvent")], "UserEvent"):
		return "UserEvent"
	case strings.EqualFold(name, "NewCallerid"):
		return "Newcallerid"
	}
	return name
}

// observe takes one event, in arrival order.
func (w *watcher) observe(f *ami.Frame) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	name := eventName(f)
	w.last[name] = w.seq
	uid := f.Get("Uniqueid")
	if uid != "" {
		w.callSeq++
		if _, ok := w.firstSeen[uid]; !ok && len(w.firstSeen) < maxWatchedChannels {
			w.firstSeen[uid] = firstEvent{seq: w.seq, newchannel: name == "Newchannel"}
		}
	}
	switch name {
	case "FullyBooted":
		w.fullyBooted = true
	case "UserEvent":
		if w.probeToken != "" && f.Get("Doctor") == w.probeToken {
			select {
			case <-w.probeBack:
			default:
				close(w.probeBack)
			}
		}
	}
	w.noteVars(f, name)
	if w.late != nil && !w.late.ended && name == "Hangup" && uid == w.late.uniqueid {
		w.late.ended = true
	}
	if w.call == nil {
		w.detect(f, name, uid)
		return
	}
	if !w.call.ended && name == "Hangup" && uid == w.call.uniqueid {
		w.call.ended = true
		close(w.callEnded)
	}
}

// detect notices the first call into a configured service: an event of a
// channel in a service's context (Newexten on every version; every channel
// event on 12 and later, which carry the context), or a caller joining a
// service's queue. A call whose channel was created before the login (its
// Newchannel was not seen) is kept apart, for want of a better one: what it
// brought before the login is unknown. w.mu must be held.
func (w *watcher) detect(f *ami.Frame, name, uid string) {
	var svc *config.Service
	switch {
	case uid == "":
		return
	case name == "Join" || name == "QueueCallerJoin":
		svc = w.queues[strings.ToLower(f.Get("Queue"))]
	default:
		if ctx, ok := f.Lookup("Context"); ok {
			svc = w.contexts[ctx]
		}
	}
	if svc == nil {
		return
	}
	first, ok := w.firstSeen[uid]
	if !ok {
		first = firstEvent{seq: w.seq}
	}
	c := &watchedCall{service: svc, uniqueid: uid, channel: f.Get("Channel"), start: first.seq, ended: name == "Hangup"}
	if !first.newchannel && w.last["Newchannel"] > 0 {
		// Newchannel events come, but this channel's came before the
		// login.
		if w.late == nil {
			c.late = true
			w.late = c
		}
		return
	}
	w.call = c
	if c.ended {
		close(w.callEnded)
	}
}

// noteVars records the service variables an event shows set: VarSet,
// Newexten of Set or MSet, UserEvent headers. w.mu must be held.
func (w *watcher) noteVars(f *ami.Frame, name string) {
	switch name {
	case "VarSet":
		w.varSet[strings.ToLower(bareVar(f.Get("Variable")))] = w.seq
	case "Newexten":
		p := dpPriority{App: f.Get("Application"), Data: f.Get("AppData")}
		if strings.EqualFold(p.App, "Set") || strings.EqualFold(p.App, "MSet") {
			for _, n := range setsVar(p, w.g) {
				w.varSet[strings.ToLower(bareVar(n))] = w.seq
			}
		}
	case "UserEvent":
		for _, fl := range f.Fields {
			w.varSet[strings.ToLower(bareVar(fl.Key))] = w.seq
		}
	}
}

// watchReport is what the watcher saw of the watched call.
type watchReport struct {
	call       *watchedCall // nil: none came
	events     int          // events seen since login
	callEvents int          // of them, events of a channel
	seen       func(name string) bool
	varSet     func(name string) bool
}

// report returns the watcher's findings so far.
func (w *watcher) report() watchReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := watchReport{events: w.seq, callEvents: w.callSeq}
	call := w.call
	if call == nil {
		call = w.late
	}
	if call == nil {
		return r
	}
	c := *call
	r.call = &c
	last := make(map[string]int, len(w.last))
	for k, v := range w.last {
		last[k] = v
	}
	vars := make(map[string]int, len(w.varSet))
	for k, v := range w.varSet {
		vars[k] = v
	}
	r.seen = func(name string) bool { return last[name] >= c.start }
	r.varSet = func(name string) bool { return vars[strings.ToLower(bareVar(name))] >= c.start }
	return r
}

func (w *watcher) sawFullyBooted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fullyBooted
}

// watchGrace is how long the watch goes on after the watched call's
// channel hung up, for the other legs' last events.
var watchGrace = time.Second

// watch waits for a call into a configured service (one may have come
// already, since login), until it ends or Options.Watch has passed, and
// reports which of the events astcti needs it brought.
func (d *doctor) watch(ctx context.Context) {
	w := d.s.w
	start := time.Now()
	timer := time.NewTimer(d.opts.Watch)
	defer timer.Stop()
	cut := false // ctx ended the watch (a signal, --timeout), not the call or Options.Watch
	select {
	case <-w.callEnded:
		grace := time.NewTimer(watchGrace)
		select {
		case <-grace.C:
		case <-timer.C:
		case <-ctx.Done():
			cut = true
		}
		grace.Stop()
	case <-timer.C:
	case <-ctx.Done():
		cut = true
	}
	// What the lines say was watched: Options.Watch, or as long as it
	// lasted if it was cut short (never "no call in 10m0s" after 2 s).
	span, ended := "in "+d.opts.Watch.String(), "when the watch ended"
	if cut {
		span = fmt.Sprintf("in the %v before the watch was cut short (--watch %v)", time.Since(start).Round(100*time.Millisecond), d.opts.Watch)
		ended = "when the watch was cut short"
	}
	r := w.report()
	if r.call == nil {
		d.noCallWatched(r, span)
		return
	}
	svc := r.call.service
	required := []string{"Newchannel", "Newexten", "Hangup"}
	if r.call.late {
		// Its Newchannel (and maybe its Newexten) came before the login.
		required = []string{"Hangup"}
	}
	var optional []string
	g := d.f.gen
	if svc.IsQueue {
		if g == gen12 {
			required = append(required, "QueueCallerJoin")
		} else {
			required = append(required, "Join")
		}
		optional = append(optional, "AgentCalled")
	} else if g == gen12 {
		optional = append(optional, "DialBegin")
	} else {
		optional = append(optional, "Dial")
	}
	switch g {
	case gen12:
		optional = append(optional, "BridgeEnter")
	case gen18:
		optional = append(optional, "Bridge")
	default:
		optional = append(optional, "Link")
	}
	if g != gen14 && d.needsVarSet(*svc) {
		required = append(required, "VarSet")
	}
	var seen, missing, notSeen []string
	for _, e := range required {
		if r.seen(e) {
			seen = append(seen, e)
		} else {
			missing = append(missing, e)
		}
	}
	for _, e := range optional {
		if r.seen(e) {
			seen = append(seen, e)
		} else {
			notSeen = append(notSeen, e)
		}
	}
	call := fmt.Sprintf("a call into service %s (%s)", svc.Name, r.call.channel)
	if r.call.late {
		call += ", up before the doctor logged in (its first events were not seen; place a new call for a full check),"
	}
	if !r.call.ended {
		call += ", still up " + ended + ","
	}
	switch {
	case len(missing) > 0:
		detail := call + " came without " + strings.Join(missing, ", ")
		if len(seen) > 0 {
			detail += " (it brought " + strings.Join(seen, ", ") + ")"
		}
		d.fail("watch", detail, "the read classes or the eventfilter lines drop them: see the read and eventfilter lines above, and docs/asterisk.md")
	case len(notSeen) > 0:
		d.warn("watch", call+" brought "+strings.Join(seen, ", ")+", but no "+strings.Join(notSeen, ", "),
			"that is right if no phone rang or nobody answered; if one did, the read classes or the eventfilter drop them")
	default:
		d.ok("watch", "%s brought every event astcti needs: %s", call, strings.Join(seen, ", "))
	}
	for _, v := range svc.Variables {
		name := "watch " + svc.Name + " variable " + v
		if r.varSet(v) {
			d.ok(name, "seen set during the call")
			continue
		}
		d.warn(name, "not seen set during the call: seats would get it empty",
			"the dialplan must set it in the service's context (see the variable line above), and no eventfilter line may drop its VarSet")
	}
}

// needsVarSet reports whether the service's variables are set in a way
// that shows as VarSet (Set, MSet, Read; or unknown).
func (d *doctor) needsVarSet(s config.Service) bool {
	if len(s.Variables) == 0 {
		return false
	}
	ci := d.f.contexts[s.Context]
	if ci == nil || !ci.exists {
		return true
	}
	for _, v := range s.Variables {
		ss := findSetters(d.reach(s.Context), v, d.f.gen)
		if len(ss) == 0 || !allApps(ss, "UserEvent") {
			return true
		}
	}
	return false
}

// noCallWatched reports a watch without a call into a service; span
// says how long it watched ("in 1m0s").
func (d *doctor) noCallWatched(r watchReport, span string) {
	var contexts []string
	for _, s := range d.services() {
		if s.Type == config.Inbound {
			contexts = append(contexts, s.Context)
		}
	}
	detail := fmt.Sprintf("no call into a configured service %s (%d events of other calls came)", span, r.callEvents)
	if r.callEvents == 0 {
		detail = fmt.Sprintf("no event of any call came %s: if a call was placed, the user may not read call, or an eventfilter drops the events", span)
	}
	fix := "place a test call into a service during the watch"
	if len(contexts) > 0 {
		fix += " (contexts " + strings.Join(contexts, ", ") + ")"
	}
	d.warn("watch", detail, fix)
}
