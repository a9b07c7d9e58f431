package cti

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatproto"
)

// session is an authenticated operator at a seat, as the hub keeps it.
type session struct {
	conn     *seatConn
	log      *slog.Logger // operator=, and mac= and interface= once the seat is known (sessionLog)
	operator string
	fullName string
	paused   bool // begins paused (the operator's setting), then as PAUSE says

	// The seat, once known: from the operator's fixed seat or from MAC.
	seatMAC string
	iface   string // as configured, used verbatim in Queue* actions
	key     string // normalised, as the tracker names interfaces

	members map[string]*membership // by queue
	// repop: the seat's live calls are still to be shown (re-pop), once
	// its memberships are answered or at repopDeadline. Until then no
	// event goes to the seat: the re-pop tells the state of its calls.
	repop         bool
	repopDeadline time.Time
	pause         *pauseRequest
	orig          *originate  // the ORIG in flight, one at a time, until its OriginateResponse
	actions       tokenBucket // PAUSE and ORIG cost the PBX an action each: rate-limited
	ended         bool

	pauseReason string    // of the last PAUSE IN, for /status
	pausedSince time.Time // when the PBX confirmed the PAUSE IN in force, for /status; zero when unknown
}

// tokenBucket allows seatActionBurst actions at once, then one per
// seatActionEvery. Only the hub uses it.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (b *tokenBucket) allow(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens, b.last = float64(seatActionBurst), now
	}
	b.tokens = min(float64(seatActionBurst), b.tokens+now.Sub(b.last).Seconds()/seatActionEvery.Seconds())
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// pauseRequest is a PAUSE IN or OUT waiting for the PBX to confirm it on
// every queue.
type pauseRequest struct {
	paused    bool
	waiting   map[string]bool // queues not yet confirmed
	confirmed int             // queues that confirmed
	deadline  time.Time
}

// login starts the session of an operator whose password a reader checked.
// A second login of the same operator replaces the first.
func (h *hub) login(conn *seatConn, username string) {
	op := h.snap.Operator(username)
	if op == nil || !op.Enabled {
		conn.Close(CloseOperatorDisabled) // disabled between the check and now
		return
	}
	var seat *config.Seat
	if op.Seat != "" {
		seat = h.snap.SeatByMAC(op.Seat)
	}
	if seat != nil {
		// A fixed seat held by another operator's session is that
		// operator's, who sits at the phone (by MAC, or by a fixed seat of
		// the same phone): taking it would ring her phone with this
		// operator's screen pops. The login is refused, and the
		// connection closed (docs/protocol.md, "one live session per
		// seat"); the holder is not disturbed.
		if other := h.byIface[calls.NormalizeInterface(seat.Interface)]; other != nil && other.operator != username {
			h.log.Info("seat login refused: the operator's fixed seat is in use by another operator",
				"operator", username, "mac", seat.MAC, "interface", seat.Interface, "holder", other.operator,
				"conn", conn.id, "remote", conn.remote)
			conn.Close(CloseSeatInUse)
			return
		}
	}
	if old := h.byOperator[username]; old != nil {
		old.log.Info("operator logged in again: replacing the old session")
		h.endSession(old, CloseReplaced)
	}
	s := &session{
		conn: conn, operator: username, fullName: op.FullName,
		paused: op.BeginPaused, members: make(map[string]*membership),
	}
	s.log = h.sessionLog(s)
	h.sessions[conn] = s
	h.byOperator[username] = s
	h.srv.metrics.Login()
	conn.sendStatus(seatproto.LoggedIn())
	s.log.Info("operator logged in")
	if seat != nil {
		h.takeSeat(s, seat)
	}
}

// sessionLog is the logger of a session's lines: they name the seat by
// its MAC and interface (what an administrator knows it by), and the
// operator; the connection's number (seat= in the lines of the
// connection's reader, before the login) and remote address come second.
func (h *hub) sessionLog(s *session) *slog.Logger {
	if s.iface == "" {
		return h.log.With("operator", s.operator, "conn", s.conn.id, "remote", s.conn.remote)
	}
	return h.log.With("mac", s.seatMAC, "interface", s.iface, "operator", s.operator, "conn", s.conn.id, "remote", s.conn.remote)
}

// command handles a command of an authenticated seat.
func (h *hub) command(conn *seatConn, cmd seatproto.Command) {
	s := h.sessions[conn]
	if s == nil || s.ended {
		return
	}
	switch cmd.Verb {
	case seatproto.VerbNoop:
		conn.sendStatus(seatproto.OK())
	case seatproto.VerbQuit:
		h.endSession(s, CloseQuit)
	case seatproto.VerbUser, seatproto.VerbPass, seatproto.VerbResume:
		conn.sendStatus(seatproto.KO(seatproto.ReasonAlreadyLoggedIn))
	case seatproto.VerbToken:
		h.issueToken(s)
	case seatproto.VerbMAC:
		h.mac(s, cmd.MAC)
	case seatproto.VerbPauseIn, seatproto.VerbPauseOut:
		if !s.actions.allow(time.Now()) {
			conn.sendStatus(seatproto.PauseKO(seatproto.ReasonRateLimited))
			return
		}
		h.pauseCmd(s, cmd.Verb == seatproto.VerbPauseIn, cmd.Reason)
	case seatproto.VerbOrig:
		if !s.actions.allow(time.Now()) {
			conn.sendStatus(seatproto.KO(seatproto.ReasonRateLimited))
			return
		}
		h.originateCmd(s, cmd)
	}
}

// issueToken answers TOKEN: a resume token for the session's operator.
func (h *hub) issueToken(s *session) {
	op := h.snap.Operator(s.operator)
	if h.srv.resume == nil || op == nil {
		s.conn.sendStatus(seatproto.KO(seatproto.ReasonNoResume))
		return
	}
	tok := h.srv.resume.Issue(op.Username, op.PasswordHash, time.Now().Add(h.srv.resumeTTL()))
	s.conn.sendStatus(seatproto.ResumeToken(tok))
}

// mac pairs the session with the seat of that MAC address.
func (h *hub) mac(s *session, mac string) {
	fixed := false
	if op := h.snap.Operator(s.operator); op != nil && op.Seat != "" {
		fixed = true // a fixed seat wins over the PC's MAC
	}
	switch {
	case s.iface != "" && (s.seatMAC == mac || fixed):
		s.conn.sendStatus(seatproto.OK())
		h.announceQueues(s)
	case s.iface != "":
		s.conn.sendStatus(seatproto.KO(seatproto.ReasonSeatSet))
	default:
		seat := h.snap.SeatByMAC(mac)
		if seat == nil {
			s.conn.sendStatus(seatproto.KO(seatproto.ReasonUnknownSeat))
			return
		}
		if other := h.byIface[calls.NormalizeInterface(seat.Interface)]; other != nil && other != s {
			s.conn.sendStatus(seatproto.KO(seatproto.ReasonSeatInUse))
			return
		}
		s.conn.sendStatus(seatproto.OK())
		h.takeSeat(s, seat)
	}
}

// takeSeat pairs the session with a seat: the seat's phone joins the
// operator's queues, and a call already on the phone is shown at once,
// after the `200` lines (docs/protocol.md, "Re-pop").
func (h *hub) takeSeat(s *session, seat *config.Seat) {
	key := calls.NormalizeInterface(seat.Interface)
	if other := h.byIface[key]; other != nil && other != s {
		h.endSession(other, CloseReplaced)
	}
	s.seatMAC, s.iface, s.key = seat.MAC, seat.Interface, key
	s.log = h.sessionLog(s)
	h.byIface[key] = s
	s.log.Info("seat taken")
	for _, q := range h.snap.Queues(s.operator) {
		s.members[q.Queue] = &membership{service: q.Service, penalty: q.Penalty}
		h.queueAdd(s, q.Queue)
	}
	s.repop, s.repopDeadline = true, time.Now().Add(repopWait)
	h.maybeRepop(s, false)
}

// maybeRepop shows the seat the calls on its phone once no QueueAdd of
// the session waits for an answer, or at once when force is set.
func (h *hub) maybeRepop(s *session, force bool) {
	if !s.repop || s.ended {
		return
	}
	if !force {
		for _, m := range s.members {
			if m.adding {
				return
			}
		}
	}
	s.repop = false
	for _, ch := range h.tracker.CallsOn(s.key) {
		h.notify(ch)
	}
}

// announceQueues tells the seat again of every queue it is confirmed in.
// The seat of an operator with a fixed seat is known at PASS, so its 200
// lines may come before the answer to MAC; a client that waits for them
// after MAC gets them again (a 200 line is a state, not a step: repeating
// it is harmless). Queues still being added are told when confirmed.
func (h *hub) announceQueues(s *session) {
	queues := make([]string, 0, len(s.members))
	for q, m := range s.members {
		if m.confirmed {
			queues = append(queues, q)
		}
	}
	slices.Sort(queues)
	for _, q := range queues {
		s.conn.sendStatus(seatproto.InQueue(q))
	}
}

// endSession ends a session for any reason: its memberships are removed
// and the seat is told why.
func (h *hub) endSession(s *session, reason CloseReason) {
	if s.ended {
		return
	}
	s.ended = true
	h.obs.closed.add(s, reason)
	h.leaveQueues(s)
	delete(h.sessions, s.conn)
	if h.byOperator[s.operator] == s {
		delete(h.byOperator, s.operator)
	}
	if s.key != "" && h.byIface[s.key] == s {
		delete(h.byIface, s.key)
	}
	s.log.Info("seat session ended", "reason", reason.String())
	s.conn.Close(reason)
}

// pauseCmd sends PAUSE IN or OUT to the PBX for every queue of the seat.
func (h *hub) pauseCmd(s *session, in bool, reason string) {
	switch {
	case s.iface == "":
		s.conn.sendStatus(seatproto.PauseKO(seatproto.ReasonNoSeat))
		return
	case len(s.members) == 0:
		s.conn.sendStatus(seatproto.PauseKO(seatproto.ReasonNoQueue))
		return
	case !h.linkUp:
		s.conn.sendStatus(seatproto.PauseKO(seatproto.ReasonPBXDown))
		return
	case s.pause != nil:
		s.conn.sendStatus(seatproto.PauseKO("pause pending"))
		return
	}
	// The memberships the PBX has are paused by the action and confirm
	// it; those joining start in the new state (QueueAdd's Paused) and
	// confirm it when added. A refused one (202), or one removed behind
	// the server's back and not yet added again, would never answer: it
	// is not waited for, and starts in the new state when added.
	pr := &pauseRequest{paused: in, waiting: make(map[string]bool), deadline: time.Now().Add(pauseConfirmTimeout)}
	inPBX := 0
	for q, m := range s.members {
		if m.confirmed || m.joining() {
			pr.waiting[q] = true
		}
		if m.confirmed {
			inPBX++
		}
	}
	if len(pr.waiting) == 0 {
		s.conn.sendStatus(seatproto.PauseKO(seatproto.ReasonNoQueue))
		return
	}
	s.pause = pr
	s.paused, s.pauseReason = in, reason
	if inPBX > 0 {
		h.send(pauseAction(s, ""), pending{kind: pendPause, sess: s})
	}
	if in {
		s.conn.sendStatus(seatproto.PausePending())
	}
}

// pauseAction is the QueuePause of the seat's pause state: in every queue
// of its interface, or in one.
func pauseAction(s *session, queue string) *ami.Frame {
	action := ami.NewAction("QueuePause", "Interface", s.iface, "Paused", strconv.FormatBool(s.paused))
	if queue != "" {
		action.Add("Queue", queue)
	}
	if s.paused && s.pauseReason != "" {
		action.Add("Reason", s.pauseReason)
	}
	return action
}

// settlePause takes queue off the seat's PAUSE in progress: the queue
// confirmed the pause state (ok), or never will (refused). Once no queue is
// left, the seat is told: 300 if any confirmed, else as if it had no queue.
func (h *hub) settlePause(s *session, queue string, ok bool) {
	pr := s.pause
	if pr == nil || !pr.waiting[queue] {
		return
	}
	delete(pr.waiting, queue)
	if ok {
		pr.confirmed++
	}
	if len(pr.waiting) > 0 {
		return
	}
	s.pause = nil
	if pr.confirmed == 0 {
		s.paused = !pr.paused // as pauseDone: no member took the new state
		s.conn.sendStatus(seatproto.PauseKO(seatproto.ReasonNoQueue))
		return
	}
	switch {
	case !pr.paused:
		s.pausedSince = time.Time{}
	case s.pausedSince.IsZero(): // a new reason keeps the pause's start
		s.pausedSince = time.Now()
	}
	s.conn.sendStatus(seatproto.PauseOK())
}

func (h *hub) pauseDone(s *session, call *ami.Call) {
	if s.ended || s.pause == nil || call.Err == nil {
		return
	}
	// The PBX refused: the member stays as it was, and so must the state
	// the next QueueAdd (after a reconnect) starts it in.
	s.paused = !s.pause.paused
	s.pause = nil
	s.conn.sendStatus(seatproto.PauseKO(actionMessage(call.Err)))
}

// memberPaused follows QueueMemberPause (modern) and QueueMemberPaused
// (1.4): once every queue of a PAUSE confirmed it, the seat is told.
func (h *hub) memberPaused(f *ami.Frame) {
	s := h.memberSession(f)
	if s == nil || s.pause == nil {
		return
	}
	if (f.Get("Paused") == "1") != s.pause.paused {
		return
	}
	h.settlePause(s, f.Get("Queue"), true)
}

// originateCmd places a call from the seat's own phone into an outbound
// service's context (never into arbitrary dialplan: toll fraud).
func (h *hub) originateCmd(s *session, cmd seatproto.Command) {
	switch {
	case s.iface == "":
		s.conn.sendStatus(seatproto.KO(seatproto.ReasonNoSeat))
		return
	case !h.snap.MayOriginate(s.operator, cmd.Context):
		s.conn.sendStatus(seatproto.KO(seatproto.ReasonNotAllowed))
		return
	case s.orig != nil:
		s.conn.sendStatus(seatproto.KO(seatproto.ReasonPending))
		return
	case !h.linkUp:
		s.conn.sendStatus(seatproto.KO(seatproto.ReasonPBXDown))
		return
	}
	action := ami.NewAction("Originate",
		"Channel", s.iface,
		"Context", cmd.Context,
		"Exten", cmd.Exten,
		"Priority", cmd.Priority,
		"Async", "true")
	s.orig = &originate{
		sess: s, context: cmd.Context, exten: cmd.Exten,
		deadline: time.Now().Add(originateWait),
	}
	h.send(action, pending{kind: pendOriginate, sess: s, orig: s.orig})
}

// originateDone answers the seat's ORIG once Asterisk answered the action.
// The ORIG stays in flight until its OriginateResponse, which the client
// may hand over before the reply (they come on different channels): it
// then waited in o.early, so that the seat sees 100 OK first.
func (h *hub) originateDone(o *originate, call *ami.Call) {
	s := o.sess
	if call.Err != nil {
		h.originateEnded(o)
		if !s.ended {
			s.conn.sendStatus(seatproto.KO(actionMessage(call.Err)))
		}
		return
	}
	if !s.ended {
		s.conn.sendStatus(seatproto.OK())
	}
	if h.originates[o.id] != o {
		return // it timed out meanwhile
	}
	o.accepted = true
	if o.early != nil {
		h.originateEnded(o)
		if !s.ended {
			s.conn.Send(seatproto.AppendEvent(nil, o.early))
		}
	}
}

// originateEnded forgets an ORIG: the seat may send the next one.
func (h *hub) originateEnded(o *originate) {
	if h.originates[o.id] == o {
		delete(h.originates, o.id)
	}
	if o.sess.orig == o {
		o.sess.orig = nil
	}
}

// originateResponse sends the result of an ORIG to the seat that asked.
func (h *hub) originateResponse(f *ami.Frame) {
	id := f.ActionID()
	o := h.originates[id]
	if o == nil {
		return
	}
	// docs/protocol.md: the new channel's uniqueid (none on failure, where
	// 1.4 says <null> and later versions <unknown>), the seat's interface,
	// the ORIG's context and exten; the other call elements are empty.
	uid := f.Get("Uniqueid")
	if !ami.EqualFold(f.Get("Response"), "Success") || strings.HasPrefix(uid, "<") {
		uid = ""
	}
	ev := &seatproto.Event{
		ID: seatproto.EventOriginateResponse,
		Call: seatproto.Call{
			UniqueID: uid, Channel: o.sess.iface,
			Context: o.context, Exten: o.exten,
		},
		Originate: &seatproto.Originate{Response: f.Get("Response"), Reason: f.Get("Reason")},
	}
	if !o.accepted {
		o.early = ev
		return
	}
	h.originateEnded(o)
	if !o.sess.ended {
		o.sess.conn.Send(seatproto.AppendEvent(nil, ev))
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
