package fakeami

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/astcti/astcti/scenarios"
)

// queue is one app_queue queue.
type queue struct {
	cfg     scenarios.Queue
	members []*member
	callers []*queueCaller

	completed, abandoned int
	holdtime, talktime   int // app_queue's running averages, in seconds
	rrNext               int // rrmemory: where the next round starts

	// Indexes of members, kept by addMember and unindexMember.
	idx       int                // position in p.queues
	byIface   map[string]*member // by strings.ToUpper(iface)
	penalties map[int]int        // members per penalty: one key means one tier
}

func newQueue(name string, cfg *scenarios.Queue) *queue {
	q := &queue{cfg: *cfg}
	q.cfg.Name = name
	return q
}

func (q *queue) name() string { return q.cfg.Name }

func (q *queue) strategy() string {
	if q.cfg.Strategy == "" {
		return "ringall"
	}
	return q.cfg.Strategy
}

func (q *queue) timeout() time.Duration {
	if q.cfg.Timeout <= 0 {
		return 15 * time.Second
	}
	return q.cfg.Timeout
}

func (q *queue) retry() time.Duration {
	if q.cfg.Retry <= 0 {
		return 5 * time.Second
	}
	return q.cfg.Retry
}

// recalcHold folds a caller's hold time into the queue's average
// (app_queue.c recalc_holdtime: an exponential average with weight 1/4;
// since Asterisk 1.8 the first call sets it outright, which is what the
// modern recordings show: Holdtime 2 after one call held 2 s).
func (q *queue) recalcHold(modern bool, hold int) {
	if modern && q.completed+q.abandoned == 0 {
		q.holdtime = hold
		return
	}
	q.holdtime = (q.holdtime*3 + hold) >> 2
}

// recalcTalk does the same for talk times when a call completes
// (app_queue.c update_queue).
func (q *queue) recalcTalk(modern bool, talk int) {
	if modern && q.completed == 1 {
		q.talktime = talk
		return
	}
	q.talktime = (q.talktime*3 + talk) >> 2
}

func (q *queue) member(iface string) *member { return q.byIface[strings.ToUpper(iface)] }

// addMember appends m to q's members and indexes it. p.mu must be held.
func (p *PBX) addMember(q *queue, m *member) {
	if q.byIface == nil {
		q.byIface, q.penalties = make(map[string]*member), make(map[int]int)
	}
	if p.memberDev == nil {
		p.memberDev = make(map[string][]*member)
	}
	p.memberSeq++
	m.seq = p.memberSeq
	m.stateDev = deviceOf(m.stateIface)
	m.devKey = strings.ToUpper(m.stateDev)
	q.members = append(q.members, m)
	q.byIface[strings.ToUpper(m.iface)] = m
	q.penalties[m.penalty]++
	p.memberDev[m.devKey] = append(p.memberDev[m.devKey], m)
}

// unindexMember drops m from the indexes; the caller takes it out of
// q.members. p.mu must be held.
func (p *PBX) unindexMember(q *queue, m *member) {
	delete(q.byIface, strings.ToUpper(m.iface))
	if q.penalties[m.penalty]--; q.penalties[m.penalty] <= 0 {
		delete(q.penalties, m.penalty)
	}
	on := p.memberDev[m.devKey]
	for i, x := range on {
		if x == m {
			on = append(on[:i], on[i+1:]...)
			break
		}
	}
	if len(on) == 0 {
		delete(p.memberDev, m.devKey)
	} else {
		p.memberDev[m.devKey] = on
	}
}

// member is one queue member.
type member struct {
	q          *queue
	iface      string
	name       string
	stateIface string
	penalty    int
	paused     bool
	reason     string
	status     int // device state number (1 not in use, 2 in use, 6 ringing …)
	inCall     bool
	calls      int
	lastCall   time.Time
	lastPause  time.Time
	loginTime  time.Time
	static     bool
	ringing    bool   // being rung for a caller now
	stateDev   string // the device of stateIface
	devKey     string // stateDev in upper case: the key of p.memberDev
	seq        uint64 // order of addition, for the order of QueueMemberStatus events
}

func (m *member) displayName() string {
	if m.name == "" {
		return m.iface
	}
	return m.name
}

func (m *member) membership() string {
	if m.static {
		return "static"
	}
	return "dynamic"
}

// queue returns the queue named name, or nil. p.mu must be held.
func (p *PBX) queue(name string) *queue {
	for _, q := range p.queues {
		if strings.EqualFold(q.name(), name) {
			return q
		}
	}
	return nil
}

// queuesNewestFirst lists the queues the way app_queue's container
// iterates them in the recordings: the last configured first.
func (p *PBX) queuesNewestFirst() []*queue {
	out := make([]*queue, len(p.queues))
	for i, q := range p.queues {
		out[len(p.queues)-1-i] = q
	}
	return out
}

// membersDeviceChanged updates the members watching dev and announces
// their new status with QueueMemberStatus. p.mu must be held.
func (p *PBX) membersDeviceChanged(dev, st string) {
	status := devStatus(st)
	watching := p.memberDev[strings.ToUpper(dev)]
	if len(watching) > 1 {
		// in the order of a scan of every queue's members, as app_queue's
		// device state callback goes
		watching = slices.Clone(watching)
		slices.SortFunc(watching, func(a, b *member) int {
			if a.q.idx != b.q.idx {
				return cmp.Compare(a.q.idx, b.q.idx)
			}
			return cmp.Compare(a.seq, b.seq)
		})
	}
	for _, m := range watching {
		if m.status == status {
			continue
		}
		m.status = status
		if p.opts.Dialect == Dialect14 {
			// 1.4 reports device states from its device state thread,
			// a little after the change.
			snap := *m
			p.soon(func() { p.em.memberEvent("QueueMemberStatus", &snap) })
			continue
		}
		p.em.memberEvent("QueueMemberStatus", m)
	}
}

// agentCalled announces that m is rung. Modern app_queue shows the member's
// channel in AgentCalled as connected to the caller at the caller's
// extension, although its own events show that only once it rings (the
// recordings c_queue_answered and l_busy).
func (p *PBX) agentCalled(qc *queueCaller, m *member, dest *channel) {
	if dest.tech == "Local" || p.opts.Dialect == Dialect14 {
		p.em.agentCalled(qc, m, dest)
		return
	}
	exten, num, name := dest.exten, dest.connNum, dest.connName
	dest.exten, dest.connNum, dest.connName = qc.ch.exten, qc.ch.cidNum, qc.ch.cidName
	p.em.agentCalled(qc, m, dest)
	dest.exten, dest.connNum, dest.connName = exten, num, name
}

// queueCaller is a channel running Queue().
type queueCaller struct {
	p        *PBX
	q        *queue
	ch       *channel
	pos      int
	origPos  int
	joined   time.Time
	holdTime int // seconds, set when connected
	legs     []*leg
	roundEnd *task
	retry    *task
	giveUp   *task
	done     bool
	m        *member  // the member that answered
	dest     *channel // its channel
	talkFrom time.Time
}

// queueApp runs Queue(queue[,options[,URL[,announce[,timeout]]]]).
// p.mu must be held.
func (p *PBX) queueApp(c *channel, args []string) appResult {
	name := ""
	if len(args) > 0 {
		name = strings.TrimSpace(args[0])
	}
	q := p.queue(name)
	if q == nil {
		p.log.Warn("dialplan: Queue() of an unknown queue", "queue", name, "channel", c.name)
		p.setVar(c, "QUEUESTATUS", "UNKNOWN")
		return appNext
	}
	qc := &queueCaller{p: p, q: q, ch: c, joined: p.now()}
	q.callers = append(q.callers, qc)
	qc.pos = len(q.callers)
	qc.origPos = qc.pos
	c.caller = qc
	p.em.queueJoin(qc)
	if len(args) > 4 {
		if d := parseSeconds(args[4]); d > 0 {
			qc.giveUp = p.after(d, qc.timedOut)
		}
	}
	c.th.interrupt = qc.interrupt
	qc.tryMembers()
	return appAsync
}

// eligible reports whether m can be rung for a caller now.
func (qc *queueCaller) eligible(m *member) bool {
	p := qc.p
	if m.paused || m.ringing {
		return false
	}
	st := p.deviceState(m.stateDev)
	switch st {
	case "UNAVAILABLE", "INVALID":
		return false
	case "NOT_INUSE":
	default:
		if !m.q.cfg.RingInUse {
			return false
		}
	}
	if !m.q.cfg.RingInUse && m.inCall {
		return false
	}
	if w := m.q.cfg.WrapupTime; w > 0 && !m.lastCall.IsZero() && p.now().Before(m.lastCall.Add(w)) {
		return false
	}
	return true
}

// pick chooses the members to ring in this round, per the strategy.
func (qc *queueCaller) pick() []*member {
	q := qc.q
	if m, ok := qc.pickOne(); ok {
		if m == nil {
			return nil
		}
		return []*member{m}
	}
	var cands []*member
	minPen := -1
	for _, m := range q.members {
		if !qc.eligible(m) {
			continue
		}
		if minPen < 0 || m.penalty < minPen {
			minPen = m.penalty
		}
		cands = append(cands, m)
	}
	var tier []*member
	for _, m := range cands {
		if m.penalty == minPen {
			tier = append(tier, m)
		}
	}
	if len(tier) == 0 {
		return nil
	}
	switch strings.ToLower(q.strategy()) {
	case "ringall":
		// app_queue prepends each call attempt to its list, so the members
		// ring last-added first (l_busy, c2_queue_ringnoanswer_then_answer).
		for i, j := 0, len(tier)-1; i < j; i, j = i+1, j-1 {
			tier[i], tier[j] = tier[j], tier[i]
		}
		return tier
	case "rrmemory", "roundrobin", "rrordered":
		for i := 0; i < len(q.members); i++ {
			m := q.members[(q.rrNext+i)%len(q.members)]
			for _, t := range tier {
				if t == m {
					q.rrNext = (q.rrNext + i + 1) % len(q.members)
					return []*member{m}
				}
			}
		}
		return tier[:1]
	case "leastrecent":
		best := tier[0]
		for _, m := range tier[1:] {
			if m.lastCall.Before(best.lastCall) {
				best = m
			}
		}
		return []*member{best}
	case "fewestcalls":
		best := tier[0]
		for _, m := range tier[1:] {
			if m.calls < best.calls {
				best = m
			}
		}
		return []*member{best}
	case "random", "wrandom":
		return []*member{tier[qc.p.rng.IntN(len(tier))]}
	}
	return tier[:1] // linear
}

// pickOne is pick for the strategies that ring one member, when every
// member has the same penalty (one tier): the first eligible member from
// where the strategy starts is the one pick would choose, found without
// looking at every member. Under load the members behind the starting
// point are the busy ones, so the walk is short. ok is false when the
// shortcut does not apply; m is nil when nobody can be rung.
func (qc *queueCaller) pickOne() (m *member, ok bool) {
	q := qc.q
	n := len(q.members)
	if len(q.penalties) > 1 || n == 0 {
		return nil, false
	}
	start, rr := 0, false
	switch strings.ToLower(q.strategy()) {
	case "rrmemory", "roundrobin", "rrordered":
		start, rr = q.rrNext%n, true
	case "linear":
	default:
		return nil, false
	}
	for i := range n {
		j := (start + i) % n
		if m := q.members[j]; qc.eligible(m) {
			if rr {
				q.rrNext = (j + 1) % n
			}
			return m, true
		}
	}
	return nil, true
}

// tryMembers starts a ring round, or waits `retry` when nobody can be rung.
func (qc *queueCaller) tryMembers() {
	p := qc.p
	if qc.done {
		return
	}
	qc.retry = nil
	// Only as many callers as there are free members are offered at once
	// (autofill): a caller further back waits if those ahead take them all.
	for _, m := range qc.pick() {
		l := p.startLeg(dialSpec{kind: dialQueue, caller: qc.ch, iface: m.iface, owner: qc, m: m})
		if l == nil {
			continue
		}
		m.ringing = true
		qc.legs = append(qc.legs, l)
		p.agentCalled(qc, m, l.ch)
		p.em.dialBegin(dialQueue, qc.ch, l.ch, l.dialString)
		p.ringLeg(l)
		if qc.done {
			return
		}
	}
	if len(qc.legs) == 0 {
		qc.retry = p.after(qc.q.retry(), qc.tryMembers)
		return
	}
	qc.roundEnd = p.after(qc.q.timeout(), qc.roundTimeout)
}

func (qc *queueCaller) legRinging(l *leg) {
	if qc.done || l.ended && !l.ringing {
		return
	}
	qc.p.em.dialState(dialQueue, qc.ch, l.ch)
}

// legAnswered: a member answered; the caller leaves the queue and talks.
func (qc *queueCaller) legAnswered(l *leg) {
	p := qc.p
	if qc.done {
		p.hangupLeg(l, p.cancelCause())
		return
	}
	qc.done = true
	qc.roundEnd.cancel(p)
	qc.giveUp.cancel(p)
	for _, o := range qc.legs {
		if o != l && !o.ended {
			o.ended = true
			o.m.ringing = false
			p.em.dialEnd(dialQueue, qc.ch, o.ch, "CANCEL")
			p.hangupLeg(o, p.cancelCause())
		}
	}
	l.m.ringing = false
	p.em.dialEnd(dialQueue, qc.ch, l.ch, "ANSWER")
	c := qc.ch
	c.connNum, c.connName = l.ch.cidNum, l.ch.cidName
	p.em.newConnectedLine(c)
	qc.leave()
	qc.holdTime = seconds(p.now().Sub(qc.joined))
	qc.q.recalcHold(p.opts.Dialect == DialectModern, qc.holdTime)
	ring := p.now().Sub(l.started)
	qc.m, qc.dest = l.m, l.ch
	l.m.inCall = true
	p.em.agentConnect(qc, l.m, l.ch, seconds(ring))
	qc.talkFrom = p.now()
	c.th.interrupt = nil
	b := p.bridgeCall(c, l.ch, "")
	b.onHangup = func(x *channel, cause int) int {
		reason := "agent"
		if x == c {
			reason = "caller"
		}
		qc.complete(reason)
		if p.opts.Dialect == Dialect14 {
			if x == c || x.half == 1 {
				return causeUnknown
			}
		}
		return cause
	}
	b.onTransfer = func() { qc.complete("transfer") }
	b.afterEnd = func(left *channel, _ int) {
		if left == c {
			// Queue() without option c: the caller is hung up too.
			c.th.stop()
			cause := causeNormal
			if p.opts.Dialect == Dialect14 {
				cause = causeUnknown
			}
			p.softHangupChan(c, causeNormal, cause)
			return
		}
		cause := causeNormal
		if p.opts.Dialect == Dialect14 {
			cause = causeUnknown
		}
		p.softHangupChan(left, causeNormal, cause)
	}
}

// complete records the end of a connected queue call (AgentComplete).
func (qc *queueCaller) complete(reason string) {
	p := qc.p
	m := qc.m
	if m == nil {
		return
	}
	talk := p.now().Sub(qc.talkFrom)
	p.em.agentComplete(qc, m, qc.dest, seconds(talk), reason)
	m.inCall = false
	m.calls++
	m.lastCall = p.now()
	q := qc.q
	q.completed++
	q.recalcTalk(p.opts.Dialect == DialectModern, seconds(talk))
	qc.m = nil
}

// legFailed: a member was busy or could not be reached.
func (qc *queueCaller) legFailed(l *leg, status string, cause int) {
	p := qc.p
	l.ended = true
	if l.m != nil {
		l.m.ringing = false
	}
	if qc.done {
		return
	}
	p.em.dialEnd(dialQueue, qc.ch, l.ch, status)
	p.em.agentRingNoAnswer(qc, l.m, l.ch, int(p.now().Sub(l.started)/time.Millisecond))
	if !l.ch.gone {
		hc := cause
		if l.ch.tech == "Local" {
			hc = causeUnknown
		}
		p.destroy(l.ch, hc)
	}
	qc.roundOver()
}

// roundOver: when no leg of the round rings any more, wait `retry` and
// try again.
func (qc *queueCaller) roundOver() {
	p := qc.p
	for _, o := range qc.legs {
		if !o.ended {
			return
		}
	}
	qc.legs = nil
	qc.roundEnd.cancel(p)
	qc.roundEnd = nil
	if !qc.done && qc.retry == nil {
		qc.retry = p.after(qc.q.retry(), qc.tryMembers)
	}
}

// roundTimeout: the members rang `timeout` seconds without answering.
func (qc *queueCaller) roundTimeout() {
	p := qc.p
	if qc.done {
		return
	}
	var rung []*leg
	for _, l := range qc.legs {
		if l.ended {
			continue
		}
		l.ended = true
		l.m.ringing = false
		rung = append(rung, l)
		p.em.agentRingNoAnswer(qc, l.m, l.ch, int(p.now().Sub(l.started)/time.Millisecond))
		p.em.dialEnd(dialQueue, qc.ch, l.ch, "NOANSWER")
	}
	for _, l := range rung {
		p.hangupLeg(l, p.noAnswerCause(l))
	}
	qc.roundOver()
}

// cancelLegs stops ringing the members for this caller.
func (qc *queueCaller) cancelLegs(cause int) {
	p := qc.p
	for _, l := range qc.legs {
		if l.ended {
			continue
		}
		l.ended = true
		l.m.ringing = false
		p.em.dialEnd(dialQueue, qc.ch, l.ch, "CANCEL")
		p.hangupLeg(l, cause)
	}
	qc.legs = nil
}

// leave takes the caller out of the queue's list of waiting callers.
func (qc *queueCaller) leave() {
	q := qc.q
	for i, x := range q.callers {
		if x == qc {
			q.callers = append(q.callers[:i], q.callers[i+1:]...)
			break
		}
	}
	for i, x := range q.callers {
		x.pos = i + 1
	}
	qc.ch.caller = nil
	qc.p.em.queueLeave(qc)
}

// timedOut: the caller waited Queue()'s timeout; the dialplan goes on.
func (qc *queueCaller) timedOut() {
	p := qc.p
	if qc.done {
		return
	}
	qc.done = true
	qc.stopTimers()
	qc.cancelLegs(p.cancelCause())
	qc.leave()
	p.setVar(qc.ch, "QUEUESTATUS", "TIMEOUT")
	p.resume(qc.ch)
}

func (qc *queueCaller) stopTimers() {
	p := qc.p
	qc.roundEnd.cancel(p)
	qc.retry.cancel(p)
	qc.giveUp.cancel(p)
}

// interrupt: the caller hung up while waiting (abandon).
func (qc *queueCaller) interrupt(int) {
	p := qc.p
	if qc.done {
		return
	}
	qc.done = true
	qc.stopTimers()
	qc.cancelLegs(p.callerGoneCause())
	qc.q.abandoned++
	p.setVar(qc.ch, "ABANDONED", "TRUE")
	p.em.queueAbandon(qc)
	qc.leave()
}
