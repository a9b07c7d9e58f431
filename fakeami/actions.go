package fakeami

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/ami"
)

// Versions the Command action reports for `core show version`, as the
// recorded builds would.
var (
	version14     = "Asterisk 1.4.44 built by fakeami @ fakeami on a x86_64 running Linux"
	versionModern = "Asterisk 22.10.1 built by fakeami @ fakeami on a x86_64 running Linux"
)

// restartCommand is the CLI command that restarts the PBX at once.
var restartCommand = map[Dialect]string{Dialect14: "restart now", DialectModern: "core restart now"}

// doAction answers one action. p.mu must be held.
func (p *PBX) doAction(s Sink, a *ami.Frame) {
	if s == nil {
		s = discardSink{}
	}
	h, ok := actionHandlers[strings.ToLower(a.Action())]
	if !ok || h.modernOnly && p.opts.Dialect != DialectModern {
		p.unknownAction(s, a)
		return
	}
	h.do(p, s, a)
}

// actionHandler performs one manager action. modernOnly marks the actions
// Asterisk 1.4 does not have: it answers them "Invalid/unknown command".
type actionHandler struct {
	do         func(p *PBX, s Sink, a *ami.Frame)
	modernOnly bool
}

// actionHandlers maps lower-case action names to their handlers.
var actionHandlers = map[string]actionHandler{
	"queueadd":         {do: (*PBX).actionQueueAdd},
	"queueremove":      {do: (*PBX).actionQueueRemove},
	"queuepause":       {do: (*PBX).actionQueuePause},
	"queuestatus":      {do: (*PBX).actionQueueStatus},
	"queuesummary":     {do: (*PBX).actionQueueSummary, modernOnly: true},
	"coreshowchannels": {do: (*PBX).actionCoreShowChannels, modernOnly: true},
	"corestatus":       {do: (*PBX).actionCoreStatus, modernOnly: true},
	"status":           {do: (*PBX).actionStatus},
	"originate":        {do: (*PBX).actionOriginate},
	"blindtransfer":    {do: (*PBX).actionBlindTransfer, modernOnly: true},
	"getvar":           {do: (*PBX).actionGetvar},
	"setvar":           {do: (*PBX).actionSetvar},
	"command":          {do: (*PBX).actionCommand},
	"hangup":           {do: (*PBX).actionHangup},
	"ping":             {do: (*PBX).actionPing},
	"showdialplan":     {do: (*PBX).actionShowDialPlan, modernOnly: true}, // command.go
	"coresettings":     {do: (*PBX).actionCoreSettings, modernOnly: true}, // command.go
	"userevent":        {do: (*PBX).actionUserEvent},                      // command.go
}

type discardSink struct{}

func (discardSink) Send(*ami.Frame) {}

// respond sends a Response with Asterisk's field order
// (manager.c astman_send_response_full).
func (p *PBX) respond(s Sink, id, kind, msg string) {
	r := &ami.Frame{Fields: make([]ami.Field, 0, 3)}
	r.Add("Response", kind)
	if id != "" {
		r.Add("ActionID", id)
	}
	r.Add("Message", msg)
	s.Send(r)
}

// respondList opens a list: Response: Success with EventList: start
// (modern), or a plain Success (1.4).
func (p *PBX) respondList(s Sink, id, msg string) {
	r := &ami.Frame{Fields: make([]ami.Field, 0, 4)}
	r.Add("Response", "Success")
	if id != "" {
		r.Add("ActionID", id)
	}
	if p.opts.Dialect == DialectModern {
		r.Add("EventList", "start")
	}
	r.Add("Message", msg)
	s.Send(r)
}

// listComplete closes a list (astman_send_list_complete_start/end).
func (p *PBX) listComplete(s Sink, event, id string, items int, extra ...string) {
	f := ev(event, "")
	if id != "" {
		f.Add("ActionID", id)
	}
	f.Add("EventList", "Complete").Add("ListItems", itoa(items))
	for i := 0; i+1 < len(extra); i += 2 {
		f.Add(extra[i], extra[i+1])
	}
	s.Send(f)
}

func addActionID(f *ami.Frame, id string) {
	if id != "" {
		f.Add("ActionID", id)
	}
}

func (p *PBX) unknownAction(s Sink, a *ami.Frame) {
	msg := "Invalid/unknown command"
	if p.opts.Dialect == DialectModern {
		msg = "Invalid/unknown command: " + a.Action() + ". Use Action: ListCommands to show available commands."
	}
	p.respond(s, a.ActionID(), "Error", msg)
}

func (p *PBX) actionPing(s Sink, a *ami.Frame) {
	r := &ami.Frame{}
	if p.opts.Dialect == Dialect14 {
		r.Add("Response", "Pong")
		addActionID(r, a.ActionID())
		s.Send(r)
		return
	}
	r.Add("Response", "Success")
	addActionID(r, a.ActionID())
	now := p.now()
	r.Add("Ping", "Pong").Add("Timestamp", fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000))
	s.Send(r)
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "t", "on":
		return true
	}
	return false
}

// actionQueueAdd is app_queue.c manager_add_queue_member.
func (p *PBX) actionQueueAdd(s Sink, a *ami.Frame) {
	id := a.ActionID()
	qname, iface := strings.TrimSpace(a.Get("Queue")), strings.TrimSpace(a.Get("Interface"))
	if qname == "" {
		p.respond(s, id, "Error", "'Queue' not specified.")
		return
	}
	if iface == "" {
		p.respond(s, id, "Error", "'Interface' not specified.")
		return
	}
	q := p.queue(qname)
	if q == nil {
		p.respond(s, id, "Error", "Unable to add interface to queue: No such queue")
		return
	}
	if q.member(iface) != nil {
		p.respond(s, id, "Error", "Unable to add interface: Already there")
		return
	}
	penalty, _ := strconv.Atoi(strings.TrimSpace(a.Get("Penalty")))
	m := &member{
		q: q, iface: iface, name: a.Get("MemberName"), stateIface: a.Get("StateInterface"),
		penalty: penalty, paused: truthy(a.Get("Paused")), loginTime: p.now(),
	}
	if m.stateIface == "" {
		m.stateIface = iface
	}
	if m.paused {
		m.lastPause = p.now()
		if p.opts.Dialect == DialectModern {
			m.reason = a.Get("Reason")
		}
	}
	m.status = devStatus(p.deviceState(deviceOf(m.stateIface)))
	p.addMember(q, m)
	p.respond(s, id, "Success", "Added interface to queue")
	p.em.memberEvent("QueueMemberAdded", m)
}

// actionQueueRemove is app_queue.c manager_remove_queue_member.
func (p *PBX) actionQueueRemove(s Sink, a *ami.Frame) {
	id := a.ActionID()
	qname, iface := strings.TrimSpace(a.Get("Queue")), strings.TrimSpace(a.Get("Interface"))
	if qname == "" || iface == "" {
		p.respond(s, id, "Error", "Need 'Queue' and 'Interface' parameters.")
		return
	}
	q := p.queue(qname)
	if q == nil {
		p.respond(s, id, "Error", "Unable to remove interface from queue: No such queue")
		return
	}
	m := q.member(iface)
	if m == nil {
		p.respond(s, id, "Error", "Unable to remove interface: Not there")
		return
	}
	if m.static {
		p.respond(s, id, "Error", "Unable to remove interface: Not dynamic")
		return
	}
	p.unindexMember(q, m)
	q.members = slices.DeleteFunc(q.members, func(x *member) bool { return x == m })
	p.respond(s, id, "Success", "Removed interface from queue")
	p.em.memberEvent("QueueMemberRemoved", m)
}

// actionQueuePause is app_queue.c manager_pause_queue_member: without a
// Queue it pauses the interface in every queue, with one Response and one
// event per queue.
func (p *PBX) actionQueuePause(s Sink, a *ami.Frame) {
	id := a.ActionID()
	iface, pausedText := strings.TrimSpace(a.Get("Interface")), a.Get("Paused")
	if iface == "" || strings.TrimSpace(pausedText) == "" {
		p.respond(s, id, "Error", "Need 'Interface' and 'Paused' parameters.")
		return
	}
	paused := truthy(pausedText)
	qname := strings.TrimSpace(a.Get("Queue"))
	var hits []*member
	for _, q := range p.queuesNewestFirst() {
		if qname != "" && !strings.EqualFold(q.name(), qname) {
			continue
		}
		if m := q.member(iface); m != nil {
			hits = append(hits, m)
		}
	}
	if len(hits) == 0 {
		p.respond(s, id, "Error", "Interface not found")
		return
	}
	if paused {
		p.respond(s, id, "Success", "Interface paused successfully")
	} else {
		p.respond(s, id, "Success", "Interface unpaused successfully")
	}
	reason := ""
	if paused && p.opts.Dialect == DialectModern {
		reason = a.Get("Reason")
	}
	for _, m := range hits {
		m.paused = paused
		m.reason = reason
		if paused {
			m.lastPause = p.now()
		}
		p.em.memberEvent("QueueMemberPause", m)
	}
}

// actionQueueStatus lists queues, their members and waiting callers.
func (p *PBX) actionQueueStatus(s Sink, a *ami.Frame) {
	id := a.ActionID()
	qname, mname := strings.TrimSpace(a.Get("Queue")), strings.TrimSpace(a.Get("Member"))
	modern := p.opts.Dialect == DialectModern
	p.respondList(s, id, "Queue status will follow")
	items := 0
	for _, q := range p.queuesNewestFirst() {
		if qname != "" && !strings.EqualFold(q.name(), qname) {
			continue
		}
		f := ev("QueueParams", "")
		f.Add("Queue", q.name()).Add("Max", "0")
		if modern {
			f.Add("Strategy", q.strategy())
		}
		f.Add("Calls", itoa(len(q.callers))).Add("Holdtime", itoa(q.holdtime))
		if modern {
			f.Add("TalkTime", itoa(q.talktime))
		}
		f.Add("Completed", itoa(q.completed)).Add("Abandoned", itoa(q.abandoned)).
			Add("ServiceLevel", "0").Add("ServicelevelPerf", "0.0")
		if modern {
			f.Add("ServicelevelPerf2", "0.0")
		}
		f.Add("Weight", "0")
		addActionID(f, id)
		s.Send(f)
		items++
		for _, m := range q.members {
			if mname != "" && !strings.EqualFold(m.iface, mname) && !strings.EqualFold(m.name, mname) {
				continue
			}
			f := ev("QueueMember", "")
			f.Add("Queue", q.name()).Add("Name", m.displayName()).Add("Location", m.iface)
			if modern {
				f.Add("StateInterface", m.stateIface)
			}
			f.Add("Membership", m.membership()).Add("Penalty", itoa(m.penalty)).
				Add("CallsTaken", itoa(m.calls)).Add("LastCall", unixOrZero(m.lastCall))
			if modern {
				f.Add("LastPause", unixOrZero(m.lastPause)).Add("LoginTime", unixOrZero(m.loginTime)).
					Add("InCall", boolNum(m.inCall))
			}
			f.Add("Status", itoa(m.status)).Add("Paused", boolNum(m.paused))
			if modern {
				f.Add("PausedReason", m.reason).Add("Wrapuptime", itoa(seconds(q.cfg.WrapupTime)))
			}
			addActionID(f, id)
			s.Send(f)
			items++
		}
		for _, qc := range q.callers {
			wait := itoa(int(p.now().Sub(qc.joined) / time.Second))
			f := ev("QueueEntry", "")
			f.Add("Queue", q.name()).Add("Position", itoa(qc.pos)).Add("Channel", qc.ch.name)
			if modern {
				f.Add("Uniqueid", qc.ch.uniqueid).
					Add("CallerIDNum", cidText(qc.ch.cidNum)).Add("CallerIDName", cidText(qc.ch.cidName)).
					Add("ConnectedLineNum", cidText(qc.ch.connNum)).Add("ConnectedLineName", cidText(qc.ch.connName)).
					Add("Wait", wait).Add("Priority", "0")
			} else {
				f.Add("CallerID", cidText(qc.ch.cidNum)).Add("CallerIDName", cidText(qc.ch.cidName)).
					Add("Wait", wait)
			}
			addActionID(f, id)
			s.Send(f)
			items++
		}
	}
	if modern {
		p.listComplete(s, "QueueStatusComplete", id, items)
		return
	}
	f := ev("QueueStatusComplete", "")
	addActionID(f, id)
	s.Send(f)
}

// actionQueueSummary is Asterisk 1.6+'s QueueSummary.
func (p *PBX) actionQueueSummary(s Sink, a *ami.Frame) {
	id := a.ActionID()
	qname := strings.TrimSpace(a.Get("Queue"))
	p.respondList(s, id, "Queue summary will follow")
	items := 0
	for _, q := range p.queuesNewestFirst() {
		if qname != "" && !strings.EqualFold(q.name(), qname) {
			continue
		}
		avail := 0
		for _, m := range q.members {
			if !m.paused && !m.inCall && (m.status == 1 || m.status == 0) {
				avail++
			}
		}
		longest := 0
		for _, qc := range q.callers {
			if w := int(p.now().Sub(qc.joined) / time.Second); w > longest {
				longest = w
			}
		}
		f := ev("QueueSummary", "")
		f.Add("Queue", q.name()).Add("LoggedIn", itoa(len(q.members))).Add("Available", itoa(avail)).
			Add("Callers", itoa(len(q.callers))).Add("HoldTime", itoa(q.holdtime)).
			Add("TalkTime", itoa(q.talktime)).Add("LongestHoldTime", itoa(longest))
		addActionID(f, id)
		s.Send(f)
		items++
	}
	p.listComplete(s, "QueueSummaryComplete", id, items)
}

func duration(d time.Duration) string {
	sec := int(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", sec/3600, sec/60%60, sec%60)
}

// actionCoreShowChannels lists the channels (manager.c
// action_coreshowchannels): the resync a CTI server does on connect.
func (p *PBX) actionCoreShowChannels(s Sink, a *ami.Frame) {
	id := a.ActionID()
	p.respondList(s, id, "Channels will follow")
	for _, c := range p.chans.list() {
		f := ev("CoreShowChannel", "")
		addActionID(f, id)
		chanBlock(f, "", c)
		bid := ""
		if c.bridge != nil {
			bid = c.bridge.id
		}
		f.Add("Application", c.app).Add("ApplicationData", c.appData).
			Add("Duration", duration(p.now().Sub(c.created))).Add("BridgeId", bid)
		s.Send(f)
	}
	p.listComplete(s, "CoreShowChannelsComplete", id, p.chans.count())
}

// actionStatus lists one channel or all (manager.c action_status).
func (p *PBX) actionStatus(s Sink, a *ami.Frame) {
	id := a.ActionID()
	list := p.chans.list()
	if name := strings.TrimSpace(a.Get("Channel")); name != "" && !strings.EqualFold(name, "all") {
		c := p.channelByName(name)
		if c == nil {
			p.respond(s, id, "Error", "No such channel")
			return
		}
		list = []*channel{c}
	}
	p.respondList(s, id, "Channel status will follow")
	for _, c := range list {
		secs := itoa(int(p.now().Sub(c.created) / time.Second))
		if p.opts.Dialect == Dialect14 {
			f := ev("Status", "Call")
			f.Add("Channel", c.name).Add("CallerID", cidText(c.cidNum)).
				Add("CallerIDNum", cidText(c.cidNum)).Add("CallerIDName", cidText(c.cidName)).
				Add("Account", "").Add("State", c.state.String())
			// Only a channel that runs the dialplan (c->pbx) shows where it
			// is; an originated channel running its Application has none
			// (real 1.4.44: testdata/ami-lists).
			if c.th != nil && !c.th.appOnly {
				f.Add("Context", c.context).Add("Extension", c.exten).
					Add("Priority", itoa(c.priority)).Add("Seconds", secs)
			}
			if c.bridge != nil {
				if o := c.bridge.peer(c); o != nil {
					f.Add("Link", o.name)
				}
			}
			f.Add("Uniqueid", c.uniqueid)
			addActionID(f, id)
			s.Send(f)
			continue
		}
		f := ev("Status", "Call")
		chanBlock(f, "", c)
		bid := ""
		if c.bridge != nil {
			bid = c.bridge.id
		}
		format := "(ulaw)"
		if c.tech == "Local" {
			format = "(slin)"
		}
		f.Add("Type", c.tech).Add("DNID", "").
			Add("EffectiveConnectedLineNum", cidText(c.connNum)).
			Add("EffectiveConnectedLineName", cidText(c.connName)).
			Add("TimeToHangup", "0").Add("BridgeID", bid).
			Add("Application", c.app).Add("Data", c.appData).
			Add("Nativeformats", format).Add("Readformat", strings.Trim(format, "()")).Add("Readtrans", "").
			Add("Writeformat", strings.Trim(format, "()")).Add("Writetrans", "").
			Add("Callgroup", "0").Add("Pickupgroup", "0").Add("Seconds", secs)
		addActionID(f, id)
		s.Send(f)
	}
	if p.opts.Dialect == Dialect14 {
		// 1.4 closes the list with the ActionID alone (main/manager.c
		// action_status; real 1.4.44 in cti/calls/testdata/resync).
		f := ev("StatusComplete", "")
		addActionID(f, id)
		s.Send(f)
		return
	}
	p.listComplete(s, "StatusComplete", id, len(list), "Items", itoa(len(list)))
}

// actionCoreStatus is manager.c action_corestatus.
func (p *PBX) actionCoreStatus(s Sink, a *ami.Frame) {
	r := &ami.Frame{}
	r.Add("Response", "Success")
	addActionID(r, a.ActionID())
	st, rl := p.start.Local(), p.reload.Local()
	r.Add("CoreStartupDate", st.Format("2006-01-02")).Add("CoreStartupTime", st.Format("15:04:05")).
		Add("CoreReloadDate", rl.Format("2006-01-02")).Add("CoreReloadTime", rl.Format("15:04:05")).
		Add("CoreCurrentCalls", itoa(p.chans.count())).Add("CoreProcessedCalls", itoa(p.processed))
	s.Send(r)
}

// actionGetvar reads a channel variable, or a global one without Channel.
func (p *PBX) actionGetvar(s Sink, a *ami.Frame) {
	id := a.ActionID()
	name := strings.TrimSpace(a.Get("Variable"))
	if name == "" {
		p.respond(s, id, "Error", "No variable specified")
		return
	}
	value := ""
	if cname := strings.TrimSpace(a.Get("Channel")); cname != "" {
		c := p.channelByName(cname)
		if c == nil {
			p.respond(s, id, "Error", "No such channel")
			return
		}
		value = p.variable(c, name)
	} else {
		value = p.globalVariable(name)
	}
	r := &ami.Frame{}
	r.Add("Response", "Success")
	if p.opts.Dialect == Dialect14 {
		// 1.4 puts the ActionID last (main/manager.c action_getvar;
		// testdata/ami-lists/asterisk-1.4.44-doctor.ami).
		r.Add("Variable", name).Add("Value", value)
		addActionID(r, id)
		s.Send(r)
		return
	}
	addActionID(r, id)
	r.Add("Variable", name).Add("Value", value)
	s.Send(r)
}

// actionSetvar sets a channel variable, or a global one without Channel.
func (p *PBX) actionSetvar(s Sink, a *ami.Frame) {
	id := a.ActionID()
	name := strings.TrimSpace(a.Get("Variable"))
	if name == "" {
		p.respond(s, id, "Error", "No variable specified")
		return
	}
	var c *channel
	if cname := strings.TrimSpace(a.Get("Channel")); cname != "" {
		c = p.channelByName(cname)
		if c == nil {
			p.respond(s, id, "Error", "No such channel")
			return
		}
	}
	p.respond(s, id, "Success", "Variable Set")
	if c != nil {
		p.dialplanSet(c, name, a.Get("Value"))
	} else {
		p.globals.set(name, a.Get("Value"))
	}
}

// actionHangup hangs up a channel (manager.c action_hangup).
func (p *PBX) actionHangup(s Sink, a *ami.Frame) {
	id := a.ActionID()
	name := strings.TrimSpace(a.Get("Channel"))
	if name == "" {
		p.respond(s, id, "Error", "No channel specified")
		return
	}
	c := p.channelByName(name)
	if c == nil {
		p.respond(s, id, "Error", "No such channel")
		return
	}
	cause := causeNormal
	if n, err := strconv.Atoi(strings.TrimSpace(a.Get("Cause"))); err == nil && n > 0 {
		cause = n
	}
	p.respond(s, id, "Success", "Channel Hungup")
	p.softHangupChan(c, cause, cause)
}

// actionCommand runs a CLI command: `core show version` (and 1.4's
// `show version`), `core show uptime`, the commands of command.go
// (`dialplan show`); anything else is "No such command". The manager
// module answers `manager show user` itself (manager.go).
func (p *PBX) actionCommand(s Sink, a *ami.Frame) {
	id := a.ActionID()
	cmd := strings.Join(strings.Fields(a.Get("Command")), " ")
	var out []string
	ok := true
	switch strings.ToLower(cmd) {
	case "core show version", "show version":
		if p.opts.Dialect == Dialect14 {
			out = []string{version14}
		} else {
			out = []string{versionModern}
		}
	case restartCommand[p.opts.Dialect]:
		p.restartNow()
		return
	case "core show uptime", "show uptime":
		out = []string{"System uptime: " + uptimeText(p.now().Sub(p.start)),
			"Last reload: " + uptimeText(p.now().Sub(p.reload))}
	default:
		out, ok = p.cliCommandOutput(cmd) // command.go
	}
	s.Send(commandResponse(p.opts.Dialect, id, out, ok)) // manager.go
}

func uptimeText(d time.Duration) string {
	sec := int(d / time.Second)
	if sec < 60 {
		return fmt.Sprintf("%d seconds", sec)
	}
	return fmt.Sprintf("%d minutes, %d seconds", sec/60, sec%60)
}
