package calls

import (
	"slices"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

func (t *Tracker) newChannel(fs *fields) {
	uid, name := fs.get(kUniqueid), fs.get(kChannel)
	if uid == "" || name == "" {
		t.stats.Malformed++
		return
	}
	if c := t.byUID[uid]; c != nil {
		// A repeated Newchannel (or a CoreShowChannel for a channel we
		// know): keep what we know and update.
		t.setCallerID(c, fs.callerNum(), fs.get(kCallerIDName))
		if s := fs.state(); s != "" {
			c.state = internState(s)
		}
		return
	}
	if t.isGone(uid) {
		t.stats.Late++
		return
	}
	if !t.admit(InterfaceOf(name)) {
		return
	}
	// One allocation holds every string the channel keeps from the frame,
	// so that it keeps no part of the frame itself.
	num, cname := fs.callerNum(), fs.get(kCallerIDName)
	if !knownCID(num) {
		num = ""
	}
	if !knownCID(cname) {
		cname = ""
	}
	var s strs
	s.add(uid, name, fs.get(kLinkedid), fs.get(kContext), fs.exten(), num, cname)
	c := t.create(s.at(0), s.at(1))
	c.linkedid, c.context, c.exten, c.cidNum, c.cidName = s.at(2), s.at(3), s.at(4), s.at(5), s.at(6)
	c.state = internState(fs.state())
	c.epoch = t.epoch
}

// strs copies several strings into one allocation.
type strs struct {
	all  string
	ends [8]int
	n    int
}

func (s *strs) add(parts ...string) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	var b strings.Builder
	b.Grow(size)
	for i, p := range parts {
		b.WriteString(p)
		if i < len(s.ends) {
			s.ends[i] = b.Len()
		}
	}
	s.all, s.n = b.String(), min(len(parts), len(s.ends))
}

// at returns the i-th string added.
func (s *strs) at(i int) string {
	start := 0
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.all[start:s.ends[i]]
}

// create adds a channel object. uid and name must not alias a frame.
func (t *Tracker) create(uid, name string) *channel {
	t.seq++
	c := &channel{uid: uid, seq: t.seq}
	t.byUID[c.uid] = c
	t.setName(c, name)
	t.recent[t.recentAt%len(t.recent)] = c
	t.recentAt++
	return c
}

// setName names c and links it with the other half of its Local channel.
// name must not alias a frame.
func (t *Tracker) setName(c *channel, name string) {
	if c.name != "" && t.byName[c.name] == c {
		delete(t.byName, c.name)
	}
	told := false
	if c.name != "" {
		t.countIface(c, -1)
		if told = slices.Contains(t.toldOn[c.iface], c); told {
			t.untold(c)
		}
	}
	c.name = name
	c.iface = InterfaceOf(c.name)
	t.countIface(c, +1)
	if told {
		t.toldOn[c.iface] = append(t.toldOn[c.iface], c)
	}
	c.half = int8(localHalf(c.name))
	t.byName[c.name] = c
	if c.half != 0 {
		var buf [128]byte // most names fit: no allocation for the lookup
		other := append(buf[:0], c.name...)
		other[len(other)-1] = '1' + '2' - other[len(other)-1]
		if p := t.byName[string(other)]; p != nil && p != c {
			c.peer, p.peer = p, c
		}
	}
}

func (t *Tracker) setCallerID(c *channel, num, name string) {
	if knownCID(num) && num != c.cidNum {
		c.cidNum = clone(num)
	}
	if knownCID(name) && name != c.cidName {
		c.cidName = clone(name)
	}
}

// knownCID reports whether a caller id header holds a value: Asterisk writes
// "<unknown>" (1.4: also "<Unknown>") for none.
func knownCID(s string) bool { return s != "" && !ami.EqualFold(s, "<unknown>") }

func (t *Tracker) newExten(fs *fields) {
	c := t.channelOf(fs)
	if c == nil {
		return
	}
	if ctx := fs.get(kContext); ctx != "" && ctx != c.context {
		c.context = clone(ctx)
	}
	if ex := fs.exten(); ex != "" && ex != c.exten {
		c.exten = clone(ex)
	}
	t.setCallerID(c, fs.get(kCallerIDNum), fs.get(kCallerIDName))
	app := fs.get(kApplication)
	switch {
	case ami.EqualFold(app, "Answer"), ami.EqualFold(app, "Dial"):
		// The design's rule: a non-queue service is the context in which
		// the call is answered (AsteriskCTI's rule). A dialplan that dials the
		// operators without answering first enters the service at its
		// Dial step.
		if c.call == nil && t.cat != nil {
			if svc, ok := t.cat.ServiceByContext(c.context); ok {
				t.enterService(c, svc, c.context, c.exten)
			}
		}
	case ami.EqualFold(app, "Set"):
		// 1.4's Set takes several name=value pairs separated by '|'
		// (main/pbx.c pbx_builtin_setvar); from 1.6 on it takes one pair
		// whose value may hold '|' and ',', and a VarSet event follows.
		// 1.4's Newexten has Privilege call,all, 1.6+'s dialplan,all.
		data := fs.get(kAppData)
		if strings.Contains(fs.get(kPrivilege), "dialplan") {
			t.setPair(c, data)
			return
		}
		for data != "" {
			part := data
			if i := strings.IndexByte(data, '|'); i >= 0 {
				part, data = data[:i], data[i+1:]
			} else {
				data = ""
			}
			t.setPair(c, part)
		}
	}
}

func (t *Tracker) setPair(c *channel, pair string) {
	name, value, ok := strings.Cut(pair, "=")
	if !ok {
		return
	}
	t.setVar(c, strings.TrimSpace(name), value)
}

// hangup ends c. A dialled leg that was never offered the call (busy,
// cancelled or unanswered before it rang) leaves its caller's ringq untold.
func (t *Tracker) hangup(c *channel) {
	t.unwait(c)
	t.remove(c)
	if c.rang || c.linked {
		t.emit(Hangup, c)
	}
}

// remove forgets c. Other legs may still point at it (a seat leg at its
// caller), so its fields stay as they are.
func (t *Tracker) remove(c *channel) {
	c.dead = true
	delete(t.byUID, c.uid)
	if t.byName[c.name] == c {
		delete(t.byName, c.name)
	}
	t.countIface(c, -1)
	if c.rang || c.linked {
		t.untold(c)
	}
	t.leaveBridge(c)
	c.pending = nil
	t.markGone(c.uid)
}

// originateResponse creates the channel of a successful Originate that the
// tracker did not see being created (it connected after the Newchannel).
func (t *Tracker) originateResponse(fs *fields) {
	uid := fs.get(kUniqueid)
	if !ami.EqualFold(fs.get(kResponse), "Success") || !knownCID(uid) || uid == "<null>" || fs.get(kChannel) == "" {
		return
	}
	if t.byUID[uid] != nil {
		return
	}
	if t.isGone(uid) {
		t.stats.Late++
		return
	}
	if !t.admit(InterfaceOf(fs.get(kChannel))) {
		return
	}
	c := t.create(clone(uid), clone(fs.get(kChannel)))
	c.state = stateUp // Reason 4: answered
	c.context = clone(fs.get(kContext))
	c.exten = clone(fs.get(kExten))
	t.setCallerID(c, fs.callerNum(), fs.get(kCallerIDName))
}

// coreShowChannel learns a channel from a CoreShowChannels list (the resync
// after a reconnect): it knows the channel from then on, but not the
// service nor the data of a call that began before.
func (t *Tracker) coreShowChannel(fs *fields) {
	uid, name := fs.get(kUniqueid), fs.get(kChannel)
	if uid == "" || name == "" {
		t.stats.Malformed++
		return
	}
	if t.byUID[uid] != nil {
		return
	}
	t.newChannel(fs) // refuses a channel hung up already
	if c := t.byUID[uid]; c != nil {
		c.epoch = 0 // its past is unknown: its data is doubtful
	}
}

// rename follows a channel's new name: 1.4–11 Rename (Oldname, Newname,
// Uniqueid), 12+ Rename (Channel, Newname, Uniqueid).
func (t *Tracker) rename(fs *fields) {
	newName := fs.get(kNewname)
	if newName == "" {
		t.stats.Malformed++
		return
	}
	c := t.byUID[fs.get(kUniqueid)]
	if c == nil {
		old := fs.get(kOldname)
		if old == "" {
			old = fs.get(kChannel)
		}
		c = t.byName[old]
	}
	if c == nil {
		t.stats.Unknown++
		return
	}
	t.setName(c, clone(newName))
}

// shutdown drops every call: Asterisk is stopping or restarting, and its
// uniqueids start over. Seats hear a Hangup for every leg they were told of.
func (t *Tracker) shutdown() {
	for _, c := range t.told() {
		c.dead = true
		t.emit(Hangup, c)
	}
	t.forget()
}
