package fakeami

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// Options configures a PBX.
type Options struct {
	Dialect  Dialect
	Scenario *scenarios.Scenario // dialplan, queues, phones, initial calls, traffic; nil = empty PBX
	Seed     int64               // for traffic and ids; 0 = time-based
	Logger   *slog.Logger        // nil = discard

	// Clock is the time source; nil means the real clock.
	Clock Clock
	// PhoneContext is the dialplan context of the phones' own channels (the
	// context= of their sip.conf peer), shown in the Newchannel of a phone
	// that is rung. Default "from-operators", as in the demo PBX.
	PhoneContext string
	// LinkRing is how many links GET /links keeps (see Link); 0 means
	// DefaultLinkRing.
	LinkRing int
}

// PBX is a model of an Asterisk PBX: channels, a dialplan that runs, queues
// and their members, phones that ring and answer as configured. It speaks
// the manager events of one Dialect.
//
// Concurrency: one mutex, mu, guards the whole model. Every entry point (Do,
// Attach, Play, State, Shutdown and the clock's timer callback) takes it for
// the time of one model step and releases it before returning. Sinks are
// called with mu held, so every sink sees events in one global order; Sinks
// must not block (see Sink) and must not call back into the PBX. There is
// no I/O under mu. The only goroutines are the clock's timer callbacks,
// which exist only while Run runs.
type PBX struct {
	opts  Options
	log   *slog.Logger
	clock Clock
	em    emitter
	rng   *rand.Rand

	mu        sync.Mutex
	sinks     map[int]*sinkEntry
	sinkSeq   int
	start     time.Time // start of the PBX (reset by Shutdown)
	reload    time.Time
	uidSeq    int                  // uniqueid counter
	chanSeq   int                  // channel name suffix counter
	chans     chanTable            // live channels
	memberDev map[string][]*member // queue members by the upper-case device of their state interface
	memberSeq uint64
	bridges   []*bridge
	config    *scenarios.Scenario // the merged configuration, without calls
	contexts  map[string]*scenarios.Context
	queues    []*queue // in configuration order
	phones    map[string]*scenarios.Phone
	globals   varList
	traffic   *trafficGen
	pending   []scenarios.Call // initial calls, scheduled when Run starts
	processed int              // calls processed since start (CoreProcessedCalls)
	devStates map[string]string

	tasks     timeHeap[*task]
	taskSeq   uint64
	draining  bool
	running   bool
	alarmStop func() bool
	alarmAt   time.Time
	alarmGen  uint64

	// shuttingDown is set while shutdown hangs every call up: what falls
	// due meanwhile (traffic behind time, a queue retry) gets no channel,
	// as Asterisk refuses channel allocation during a shutdown.
	shuttingDown bool

	// links and the call counters have their own synchronisation, so that
	// the control API reads them without waiting for mu.
	links                                   *linkRing
	callsStarted, callsAnswered, callsEnded atomic.Int64
}

// NewPBX returns a PBX loaded with opts.Scenario. Its clock does not drive
// it until Run is called; actions can be performed before.
func NewPBX(opts Options) (*PBX, error) {
	if opts.Dialect != Dialect14 && opts.Dialect != DialectModern {
		return nil, fmt.Errorf("fakeami: unknown dialect %v", opts.Dialect)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.PhoneContext == "" {
		opts.PhoneContext = "from-operators"
	}
	seed := opts.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	p := &PBX{
		opts:     opts,
		log:      opts.Logger,
		clock:    opts.Clock,
		rng:      rand.New(rand.NewPCG(uint64(seed), uint64(seed)>>1|1)),
		sinks:    make(map[int]*sinkEntry),
		contexts: make(map[string]*scenarios.Context),
		phones:   make(map[string]*scenarios.Phone),
		links:    newLinkRing(opts.LinkRing),
	}
	if opts.Dialect == Dialect14 {
		p.em = &events14{p: p}
	} else {
		p.em = &eventsModern{p: p}
	}
	p.start = p.clock.Now()
	p.reload = p.start
	if sc := opts.Scenario; sc != nil {
		if err := p.mergeScenario(sc); err != nil {
			return nil, err
		}
		p.pending = append(p.pending, sc.Calls...)
		if sc.Traffic != nil {
			p.traffic = newTraffic(p, sc.Traffic, seed)
		}
	}
	return p, nil
}

// now returns the clock's time.
func (p *PBX) now() time.Time { return p.clock.Now() }

// StartTime returns when the PBX started (or last restarted, see Shutdown),
// for CoreStatus and FullyBooted's Uptime. It is safe to call from any
// goroutine.
func (p *PBX) StartTime() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.start
}

// Run drives time: it places the scenario's calls at their times, rings,
// answers and hangs up on schedule, and generates the scenario's traffic.
// It returns nil when ctx is done; the PBX then stands still (actions are
// still answered) until Run is called again.
func (p *PBX) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("fakeami: PBX is already running")
	}
	p.startLocked()
	p.mu.Unlock()

	<-ctx.Done()

	p.mu.Lock()
	p.stopLocked()
	p.mu.Unlock()
	return nil
}

// startLocked starts the clock driving the PBX. p.mu must be held.
func (p *PBX) startLocked() {
	p.running = true
	for _, c := range p.pending {
		p.scheduleCall(c, 0)
	}
	p.pending = nil
	if p.traffic != nil {
		p.traffic.start()
	}
	p.runDue()
	p.armAlarm()
}

// stopLocked stops the clock driving the PBX. p.mu must be held.
func (p *PBX) stopLocked() {
	p.running = false
	if p.alarmStop != nil {
		p.alarmStop()
		p.alarmStop = nil
	}
	p.alarmGen++
	if p.traffic != nil {
		p.traffic.stop()
	}
}

// sinkEntry is an attached sink. detached is set by the detach function,
// which may run in any goroutine, even inside the sink's own Send (while
// p.mu is held): the entry is then dropped at the next broadcast.
type sinkEntry struct {
	s        Sink
	detached atomic.Bool
}

// Attach registers s to receive every event from now on and returns the
// function that unregisters it. Both are safe to call from any goroutine;
// detach may even be called from within s.Send.
func (p *PBX) Attach(s Sink) (detach func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sinkSeq++
	e := &sinkEntry{s: s}
	p.sinks[p.sinkSeq] = e
	return func() { e.detached.Store(true) }
}

// broadcast sends an event to every attached sink, in the order they were
// attached. p.mu must be held.
func (p *PBX) broadcast(f *ami.Frame) {
	switch len(p.sinks) {
	case 0:
		return
	case 1:
		for id, e := range p.sinks {
			if e.detached.Load() {
				delete(p.sinks, id)
				return
			}
			e.s.Send(f)
		}
		return
	}
	ids := make([]int, 0, len(p.sinks))
	for id := range p.sinks {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		e := p.sinks[id]
		if e.detached.Load() {
			delete(p.sinks, id)
			continue
		}
		e.s.Send(f)
	}
}

// Do performs one action of a logged-in manager session. The Response (and
// for list actions the list events and the closing …Complete event, all
// carrying the ActionID) goes to s first; the events the action causes are
// then broadcast to every attached sink, s included if it is attached. Do
// never blocks. It is safe to call from any goroutine.
func (p *PBX) Do(s Sink, action *ami.Frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.doAction(s, action)
	p.runDue()
}

// Play merges sc's dialplan, queues and phones into the PBX and schedules
// its calls relative to now (and its traffic, replacing any running
// traffic). It is safe to call from any goroutine.
func (p *PBX) Play(sc *scenarios.Scenario) error {
	if sc == nil {
		return errors.New("fakeami: nil scenario")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.mergeScenario(sc); err != nil {
		return err
	}
	for _, c := range sc.Calls {
		p.scheduleCall(c, 0)
	}
	if sc.Traffic != nil {
		if p.traffic != nil {
			p.traffic.stop()
		}
		seed := sc.Traffic.Seed
		if seed == 0 {
			seed = p.rng.Int64()
		}
		p.traffic = newTraffic(p, sc.Traffic, seed)
		if p.running {
			p.traffic.start()
		}
	}
	p.runDue()
	return nil
}

// mergeScenario merges sc over the PBX's configuration the way
// scenarios.Merge merges files (a context is merged extension by
// extension), checks the references of the result (a call into a context
// that does not exist, a Queue() of an unknown queue, …) and only then
// loads it. p.mu must be held, or p not yet shared.
func (p *PBX) mergeScenario(sc *scenarios.Scenario) error {
	merged, err := scenarios.Merge(p.config, sc)
	if err != nil {
		return fmt.Errorf("fakeami: %w", err)
	}
	// The configuration keeps dialplan, queues and phones; calls and
	// traffic are scheduled by the caller, once.
	merged.Calls, merged.Traffic = nil, nil
	if err := p.merge(merged); err != nil {
		return err
	}
	p.config = merged
	return nil
}

// merge adds sc's contexts, queues and phones. A context of the same name
// replaces the old one; a queue of the same name keeps its members and
// callers but takes the new settings. p.mu must be held.
func (p *PBX) merge(sc *scenarios.Scenario) error {
	names := make([]string, 0, len(sc.Contexts))
	for name := range sc.Contexts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ctx := sc.Contexts[name]
		if ctx == nil {
			return fmt.Errorf("fakeami: scenario %s: context %q is nil", sc.Name, name)
		}
		p.contexts[name] = ctx
	}
	qnames := make([]string, 0, len(sc.Queues))
	for name := range sc.Queues {
		qnames = append(qnames, name)
	}
	sort.Strings(qnames)
	for _, name := range qnames {
		cfg := sc.Queues[name]
		if cfg == nil {
			return fmt.Errorf("fakeami: scenario %s: queue %q is nil", sc.Name, name)
		}
		if q := p.queue(name); q != nil {
			q.cfg = *cfg
			q.cfg.Name = name
			continue
		}
		q := newQueue(name, cfg)
		q.idx = len(p.queues)
		p.queues = append(p.queues, q)
		for _, m := range cfg.Members {
			p.addMember(q, &member{
				q: q, iface: m.Interface, name: m.Name, stateIface: m.Interface,
				penalty: m.Penalty, static: true, loginTime: p.now(),
			})
		}
	}
	for iface, ph := range sc.Phones {
		if ph == nil {
			return fmt.Errorf("fakeami: scenario %s: phone %q is nil", sc.Name, iface)
		}
		p.phones[iface] = ph
	}
	gnames := make([]string, 0, len(sc.Globals))
	for k := range sc.Globals {
		gnames = append(gnames, k)
	}
	sort.Strings(gnames)
	for _, k := range gnames {
		p.globals.set(k, sc.Globals[k])
	}
	return nil
}

// scheduleCall places c at its time (relative to now plus base).
// p.mu must be held.
func (p *PBX) scheduleCall(c scenarios.Call, base time.Duration) {
	p.after(base+c.At, func() { p.incomingCall(c) })
}

// cidText returns a caller id value as Asterisk shows an empty one.
func cidText(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
