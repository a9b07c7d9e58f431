package cti

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatproto"
)

// event is what the hub's goroutine receives from the other goroutines. The
// set is sealed: an unknown event is a programming error.
type event interface{ isEvent() }

type (
	// eventSeatAuth: a seat's reader checked the operator's password.
	eventSeatAuth struct {
		conn     *seatConn
		username string
	}
	// eventSeatCommand: an authenticated seat sent a command.
	eventSeatCommand struct {
		conn *seatConn
		cmd  seatproto.Command
	}
	// eventSeatGone: a seat's reader has ended.
	eventSeatGone struct {
		conn   *seatConn
		reason CloseReason
	}
	// eventConfig: the watcher swapped in a new configuration; mtime is
	// its file's modification time.
	eventConfig struct {
		old, new *config.Snapshot
		mtime    time.Time
	}
	// eventConfigRefused: the watcher refused a snapshot file.
	eventConfigRefused struct {
		file      string
		mtime, at time.Time
		err       error
	}
	// eventInspect runs fn on the hub's goroutine (tests and status).
	eventInspect struct{ fn func(h *hub) }
)

func (eventSeatAuth) isEvent()    {}
func (eventSeatCommand) isEvent() {}
func (eventSeatGone) isEvent()    {}
func (eventConfig) isEvent()      {}
func (eventInspect) isEvent()     {}

func (eventConfigRefused) isEvent() {}

// hub is the one goroutine that owns the live state: the call tracker, the
// seat sessions and their queue memberships, and the AMI actions in flight.
// Everything else talks to it through events (post) and AMI completions;
// it does no I/O and never blocks: seat lines go to bounded queues, AMI
// actions to the client's queue, answers come back on done.
type hub struct {
	srv     *Server
	log     *slog.Logger
	events  chan event
	done    chan *ami.Call // completions of the AMI actions the hub sent
	quit    chan struct{}  // closed when the hub has stopped
	firstUp chan struct{}  // closed at the first AMI login

	tracker    *calls.Tracker
	snap       *config.Snapshot
	sessions   map[*seatConn]*session
	byOperator map[string]*session
	byIface    map[string]*session   // by normalised seat interface
	out        outbox                // actions waiting to be sent, paced
	pending    map[*ami.Call]pending // actions in flight
	removing   map[memberKey]*removal
	retries    []adder               // QueueAdds waiting for a pause to end
	stale      staleSweep            // members of an earlier run to remove (cti/stale.go)
	originates map[string]*originate // by ActionID, from sending until OriginateResponse
	linkUp     bool
	badAction  map[string]bool // services whose action template failed, logged once
	recon      reconcile       // the periodic check of the tracker against the PBX (cti/resync.go)
	obs        hubObs          // kept only to be shown (cti/status.go)
	scratch    []byte          // where event lines are built (eventLine)
}

// pending is what the hub remembers of an AMI action in flight.
type pending struct {
	kind   pendingKind
	sess   *session // nil when the session does not matter (QueueRemove)
	queue  string
	member memberKey        // pendQueueRemove
	orig   *originate       // pendOriginate
	getvar calls.VarRequest // pendGetvar
	// channels are the Status items of a resync waiting for QueueStatus
	// (pendResyncQueues).
	channels []*ami.Frame
	// mark is the tracker's Mark when a resync asked for the channels
	// (pendResync, pendResyncQueues); periodic, that it is the periodic
	// reconciliation rather than the resync after a reconnect.
	mark     uint64
	periodic bool
	sent     time.Time // when pump sent the action, for its latency metric
}

type pendingKind int

const (
	pendQueueAdd pendingKind = iota
	pendQueueRemove
	pendPause
	pendOriginate
	pendResync
	pendResyncQueues
	pendGetvar
	pendStaleMembers
)

// originate is an ORIG in flight, from the Originate action until its
// OriginateResponse event (or originateWait).
type originate struct {
	id       string // the action's ActionID, once sent
	sess     *session
	context  string // of the ORIG
	exten    string
	deadline time.Time
	accepted bool             // the seat was told 100 OK
	early    *seatproto.Event // an OriginateResponse that came before the action's reply
}

func newHub(srv *Server, snap *config.Snapshot) *hub {
	h := &hub{
		srv:        srv,
		log:        srv.log,
		events:     make(chan event, hubQueue),
		done:       make(chan *ami.Call, 65536),
		quit:       make(chan struct{}),
		firstUp:    make(chan struct{}),
		tracker:    calls.NewTracker(catalog{snap}),
		snap:       snap,
		sessions:   make(map[*seatConn]*session),
		byOperator: make(map[string]*session),
		byIface:    make(map[string]*session),
		pending:    make(map[*ami.Call]pending),
		removing:   make(map[memberKey]*removal),
		originates: make(map[string]*originate),
		badAction:  make(map[string]bool),
		obs:        hubObs{snapSince: time.Now(), closed: newClosedRing(closedSeatsKept)},
		stale:      newStaleSweep(srv.cfg.StaleMemberGrace),
	}
	h.tracker.SetLimits(trackerLimits())
	h.recon.every = reconcileEvery
	return h
}

// post hands ev to the hub, waiting for room. It reports false when the
// hub has stopped. It is safe to call from any goroutine but the hub's.
func (h *hub) post(ev event) bool {
	select {
	case h.events <- ev:
		return true
	case <-h.quit:
		return false
	}
}

// inspect runs fn on the hub's goroutine and waits for it.
func (h *hub) inspect(fn func(h *hub)) bool {
	done := make(chan struct{})
	if !h.post(eventInspect{fn: func(h *hub) { fn(h); close(done) }}) {
		return false
	}
	select {
	case <-done:
		return true
	case <-h.quit:
		return false
	}
}

// run is the hub's loop. It returns when ctx is done, after the shutdown:
// every membership removed (as far as the PBX answers in time) and every
// seat told.
func (h *hub) run(ctx context.Context, sub *ami.Subscription) {
	defer close(h.quit)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			h.shutdown()
			return
		case it, ok := <-sub.C():
			if !ok {
				sub = h.resubscribe(sub)
				continue
			}
			h.handleAMI(it)
		case call := <-h.done:
			h.handleDone(call)
		case ev := <-h.events:
			h.handle(ev)
		case now := <-ticker.C:
			h.expire(now)
		}
	}
}

func (h *hub) handle(ev event) {
	switch ev := ev.(type) {
	case eventSeatAuth:
		h.login(ev.conn, ev.username)
		ev.conn.handled()
	case eventSeatCommand:
		h.command(ev.conn, ev.cmd)
		ev.conn.handled()
	case eventSeatGone:
		if s := h.sessions[ev.conn]; s != nil {
			h.endSession(s, ev.reason)
		}
	case eventConfig:
		h.applyConfig(ev.old, ev.new)
		h.obs.configApplied(ev.new.Source, ev.mtime)
	case eventConfigRefused:
		h.obs.configRefused(ev)
	case eventInspect:
		ev.fn(h)
	default:
		panic("cti: unknown hub event")
	}
}

// resubscribe replaces a subscription the AMI client ended because the hub
// fell behind (or the client closed). Events were lost, so the live state
// is rebuilt as after a reconnect.
func (h *hub) resubscribe(old *ami.Subscription) *ami.Subscription {
	err := old.Err()
	sub := h.srv.client.Subscribe(amiSubscription)
	if errors.Is(err, ami.ErrClosed) {
		return sub
	}
	h.log.Error("AMI events were lost: the hub fell behind; resynchronising", "err", err)
	h.tracker.LostEvents()
	if h.linkUp {
		h.resync(false)
	}
	return sub
}

// handleAMI handles one item of the AMI stream.
func (h *hub) handleAMI(it ami.Item) {
	switch {
	case it.Up != nil:
		h.amiUp(it.Up)
	case it.Down != nil:
		h.amiDown(it.Down)
	case it.Frame != nil:
		h.amiEvent(it.Frame, it.Read)
		it.Frame.Release() // the tracker and the sessions copied what they keep
	}
}

func (h *hub) amiUp(up *ami.LinkUp) {
	h.linkUp = true
	h.obs.linkUp(up)
	h.srv.metrics.LinkUp(up.Link > 1)
	h.log.Info("AMI link up", "link", up.Link, "attempt", up.Attempt, "version", up.Version, "restarted", up.Restarted.String())
	if up.Link == 1 {
		close(h.firstUp)
	}
	h.tracker.ForgetHungUp() // uniqueids may start over on a new link
	h.resync(up.Restarted == ami.RestartYes)
	h.listMembers(time.Now())
	h.pump()
}

func (h *hub) amiDown(down *ami.LinkDown) {
	h.linkUp = false
	h.tracker.LostEvents()
	h.obs.linkDown(down.Err)
	h.srv.metrics.LinkDown()
	if !errors.Is(down.Err, ami.ErrClosed) {
		h.log.Warn("AMI link down", "err", down.Err)
	}
	for _, s := range h.byIface {
		for _, m := range s.members {
			m.confirmed = false
		}
	}
	h.dropOutbox()
}

// amiEvent runs one event through the tracker, tells the seats, and follows
// the queue members and originates of the sessions. read is when the event
// was read, the start of the notification latency.
func (h *hub) amiEvent(f *ami.Frame, read time.Time) {
	for _, ch := range h.tracker.Apply(f) {
		if h.notify(ch) && ch.Kind == calls.Link {
			h.srv.metrics.Notified(read)
		}
	}
	h.askVars(h.tracker.TakeVarRequests())
	name := f.Event()
	h.srv.metrics.AMIEvent(name)
	switch name {
	case "QueueMemberAdded":
		h.memberAdded(f)
	case "QueueMemberRemoved":
		h.memberRemoved(f)
	case "QueueMemberPause", "QueueMemberPaused":
		h.memberPaused(f)
	case "OriginateResponse":
		h.originateResponse(f)
	}
}

// expire fails what waited too long for the PBX.
func (h *hub) expire(now time.Time) {
	for _, s := range h.sessions {
		if s.repop && now.After(s.repopDeadline) {
			h.maybeRepop(s, true)
		}
		if s.pause != nil && now.After(s.pause.deadline) {
			s.pause = nil
			s.conn.sendStatus(seatproto.PauseKO(seatproto.ReasonNotConfirmed))
		}
	}
	for _, o := range h.originates {
		if now.After(o.deadline) {
			h.originateEnded(o)
		}
	}
	h.retryMembers(now)
	h.listMembers(now)
	h.sweepStale(now)
	h.reconcile(now)
}

// shutdown removes every membership, waits a little for the PBX to answer,
// and tells every seat the server is stopping.
func (h *hub) shutdown() {
	for _, s := range h.sessions {
		h.leaveQueues(s)
	}
	deadline := time.NewTimer(shutdownTimeout)
	defer deadline.Stop()
	// Failed removals are not retried now: the loop ends once none is on
	// its way.
	for len(h.removing) > 0 && h.out.inFlight > 0 {
		select {
		case call := <-h.done:
			h.handleDone(call)
		case <-deadline.C:
			h.log.Warn("shutdown: the PBX did not answer every QueueRemove in time", "left", len(h.removing))
			h.closeAll()
			return
		}
	}
	if len(h.removing) > 0 {
		h.log.Warn("shutdown: the PBX is unreachable or refused; queue members left in it", "left", len(h.removing))
	}
	h.closeAll()
}

func (h *hub) closeAll() {
	for conn, s := range h.sessions {
		s.ended = true
		conn.Close(CloseShutdown)
	}
}

// isNotMember reports whether a QueueRemove failed because there is no
// such member to remove: Asterisk answers "Not there" for a queue without
// it, and "No such queue" when the queue itself is gone (or never was:
// the membership was refused). Either way the removal is done.
func isNotMember(err error) bool {
	var ae *ami.ActionError
	return errors.As(err, &ae) && (containsFold(ae.Message, "Not there") || containsFold(ae.Message, "No such queue"))
}

func isAlreadyThere(err error) bool {
	var ae *ami.ActionError
	return errors.As(err, &ae) && containsFold(ae.Message, "Already there")
}

// actionMessage is what a seat is told of a failed action: Asterisk's own
// words when it answered, else why it could not.
func actionMessage(err error) string {
	var ae *ami.ActionError
	switch {
	case errors.As(err, &ae):
		return ae.Message
	case errors.Is(err, ami.ErrDisconnected), errors.Is(err, ami.ErrQueueFull):
		return seatproto.ReasonPBXDown
	case errors.Is(err, ami.ErrActionTimeout):
		return seatproto.ReasonNotConfirmed
	}
	return err.Error()
}
