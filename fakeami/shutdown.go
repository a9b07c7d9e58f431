package fakeami

import "time"

// Shutdown does what Asterisk does on `core restart now` (recording
// asterisk-22.10.1/n_pbx_restart): every channel gets a SoftHangupRequest
// with cause 4 (shutdown), the calls come down (a connected queue call ends
// with AgentComplete Reason caller), Event: Shutdown is sent, and the PBX
// forgets its channels, its dynamic queue members (persistentmembers = no:
// no QueueMemberRemoved is sent) and its counters; uniqueids and channel
// numbers start again from 0 and StartTime is now. Scheduled calls and
// traffic go on, but what falls due while it shuts down gets no channel
// (a call arriving, a member rung), as Asterisk refuses to allocate one. It is safe to call from any goroutine.
func (p *PBX) Shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shutdown()
}

// restartNow is the CLI's `core restart now` (1.4: `restart now`) given
// through the Command action: the PBX shuts down as Shutdown does and every
// manager session is closed, without an answer to the Command (real
// 22.10.1 closes the socket; 1.4.44 writes the first lines of its
// "Response: Follows" and closes it, which a client cannot read either).
// The listener stays open: the restarted PBX takes logins at once. p.mu
// must be held.
func (p *PBX) restartNow() {
	p.shutdown()
	p.broadcast(closeAfterFlush)
}

// shutdown is Shutdown with p.mu held.
func (p *PBX) shutdown() {
	p.shuttingDown = true
	live := append([]*channel(nil), p.chans.list()...)
	for _, c := range live {
		p.em.hangupRequest(c, 4, true, true)
	}
	for _, c := range live {
		if !c.gone {
			c.softHangup = true
			p.interrupt(c, causeUnknown)
		}
	}
	p.runDue() // what the hangups set off (1.4 member statuses) comes first
	p.em.shutdown(true)
	p.chans.reset()
	p.bridges = nil
	p.devStates = nil
	p.globals = nil
	p.uidSeq, p.chanSeq, p.processed = 0, 0, 0
	p.start = p.now()
	p.reload = p.start
	for _, q := range p.queues {
		kept := q.members[:0]
		for _, m := range q.members {
			if m.static {
				m.calls, m.inCall, m.ringing = 0, false, false
				m.lastCall = time.Time{}
				kept = append(kept, m)
			} else {
				p.unindexMember(q, m)
			}
		}
		q.members = kept
		q.callers = nil
		q.completed, q.abandoned, q.holdtime, q.talktime, q.rrNext = 0, 0, 0, 0, 0
	}
	p.shuttingDown = false // the restarted PBX takes calls
	p.runDue()
}
