package fakeami

import "time"

// State is a snapshot of the PBX for the control API and tests. It is
// plain data and marshals to JSON.
type State struct {
	Dialect  string            `json:"dialect"`
	Started  time.Time         `json:"started"`
	Channels []ChannelSnapshot `json:"channels"`
	Queues   []QueueSnapshot   `json:"queues"`
}

// ChannelSnapshot is one live channel.
type ChannelSnapshot struct {
	Name         string `json:"name"`
	Uniqueid     string `json:"uniqueid"`
	Linkedid     string `json:"linkedid"`
	State        string `json:"state"`
	Context      string `json:"context"`
	Exten        string `json:"exten"`
	Priority     int    `json:"priority"`
	CallerIDNum  string `json:"callerIdNum"`
	CallerIDName string `json:"callerIdName"`
	Application  string `json:"application,omitempty"`
	BridgedWith  string `json:"bridgedWith,omitempty"` // the channel it talks to
}

// QueueSnapshot is one queue.
type QueueSnapshot struct {
	Name      string           `json:"name"`
	Strategy  string           `json:"strategy"`
	Waiting   []string         `json:"waiting"` // channels of the callers waiting, in order
	Members   []MemberSnapshot `json:"members"`
	Completed int              `json:"completed"`
	Abandoned int              `json:"abandoned"`
}

// MemberSnapshot is one queue member.
type MemberSnapshot struct {
	Interface string `json:"interface"`
	Name      string `json:"name"`
	Penalty   int    `json:"penalty"`
	Paused    bool   `json:"paused"`
	Reason    string `json:"reason,omitempty"`
	Status    int    `json:"status"` // device state number: 1 not in use, 2 in use, 5 unavailable, 6 ringing
	InCall    bool   `json:"inCall"`
	Dynamic   bool   `json:"dynamic"`
	Calls     int    `json:"callsTaken"`
}

// State returns a snapshot of the PBX. It is safe to call from any
// goroutine.
func (p *PBX) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := State{Dialect: p.opts.Dialect.String(), Started: p.start,
		Channels: []ChannelSnapshot{}, Queues: []QueueSnapshot{}}
	for _, c := range p.chans.list() {
		cs := ChannelSnapshot{
			Name: c.name, Uniqueid: c.uniqueid, Linkedid: c.linkedid, State: c.state.String(),
			Context: c.context, Exten: c.exten, Priority: c.priority,
			CallerIDNum: c.cidNum, CallerIDName: c.cidName, Application: c.app,
		}
		if c.bridge != nil {
			if o := c.bridge.peer(c); o != nil {
				cs.BridgedWith = o.name
			}
		}
		st.Channels = append(st.Channels, cs)
	}
	for _, q := range p.queues {
		qs := QueueSnapshot{Name: q.name(), Strategy: q.strategy(), Waiting: []string{},
			Members: []MemberSnapshot{}, Completed: q.completed, Abandoned: q.abandoned}
		for _, qc := range q.callers {
			qs.Waiting = append(qs.Waiting, qc.ch.name)
		}
		for _, m := range q.members {
			qs.Members = append(qs.Members, MemberSnapshot{
				Interface: m.iface, Name: m.displayName(), Penalty: m.penalty,
				Paused: m.paused, Reason: m.reason, Status: m.status,
				InCall: m.inCall || m.ringing, Dynamic: !m.static, Calls: m.calls,
			})
		}
		st.Queues = append(st.Queues, qs)
	}
	return st
}
