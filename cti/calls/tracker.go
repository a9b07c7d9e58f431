package calls

import (
	"cmp"
	"slices"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// Limits on what the tracker keeps for one channel. They bound the memory a
// misbehaving PBX or dialplan can make the tracker hold.
var (
	// maxPending is the number of variables kept for a channel whose service
	// is not known yet; the oldest is dropped first.
	maxPending = 16
	// maxHops bounds the walk from a leg to the service leg that owns it.
	maxHops = 8
)

// Tracker follows the channels of the PBX and tells which seat must hear
// what about which service call. It is a pure reducer: Apply takes one AMI
// event and returns the notifications it causes; there are no goroutines,
// no clock and no I/O.
//
// A Tracker is not safe for concurrent use: one goroutine (the server's hub)
// owns it and makes every call.
type Tracker struct {
	cat     Catalog
	byUID   map[string]*channel
	byName  map[string]*channel
	bridges map[string]*bridge

	// recent are the last channels created, newest at recentAt-1: 1.4's
	// AgentCalled names only the member interface, and the member leg is
	// one of the channels created just before it.
	recent   [16]*channel
	recentAt int
	// gone are the uniqueids of the last channels hung up (a ring of
	// lim.Gone, newest at goneAt-1, and the same as a set), so that a late
	// Newchannel, OriginateResponse or CoreShowChannel does not bring a
	// dead channel back.
	gone    []string
	goneAt  int
	goneSet map[string]struct{}

	lim      Limits
	perIface map[string]int        // live channels per interface
	toldOn   map[string][]*channel // live legs told of, per interface, oldest first

	seq uint64
	// epoch counts the losses of events (LostEvents); asks are the Getvar
	// requests made for doubtful calls, until TakeVarRequests (confirm.go).
	epoch uint32
	asks  []VarRequest
	// listing is set from Mark to Resync, while a channel list is on its
	// way; early are the events about unknown channels kept meanwhile
	// (early.go).
	listing bool
	early   []earlyFrame
	fs      fields
	out     []Change
	stats   Stats
}

// channel is one Asterisk channel, keyed by its Uniqueid.
type channel struct {
	uid      string
	name     string
	iface    string
	linkedid string
	cidNum   string
	cidName  string
	context  string // where the dialplan is now
	exten    string
	state    string
	seq      uint64 // creation order
	half     int8   // 1 or 2 for the halves of a Local channel, else 0
	dead     bool
	held     int8 // of a leg, what waits for its call's data (heldRing, heldLink, heldFound)
	// epoch is the tracker's epoch when the channel was created by a
	// Newchannel, or its call's variables were last asked for; 0 for a
	// channel learnt otherwise (confirm.go).
	epoch uint32

	peer  *channel // the other half of a Local channel
	by    *channel // the channel that dialled this one (Dial, AgentCalled, AgentConnect)
	owner *channel // the service leg this leg was notified for; fixed at the first notification
	call  *call    // set when this channel entered a service: it is a service leg
	br    *bridge  // the (12+) bridge this channel is in

	pending []Var // variables set before the service is known

	rang, linked bool     // Ring and Link were told for this leg
	failed       bool     // dialled and busy: never told of
	waitq        *channel // the service leg in whose ringq this dialled leg waits

	ringq []*channel // of a service leg: its dialled legs waiting for their Ring, in dial order
}

// call is the service side of a service leg.
type call struct {
	svc     Service
	context string
	exten   string
	vals    []string // parallel to svc.Variables
	set     []bool

	// Of a call whose data is doubtful (confirm.go): the Getvar answers it
	// still waits for, and the legs whose Ring or Link waits for them.
	asked int
	held  []*channel
}

type bridge struct {
	id      string
	members []*channel
}

// NewTracker returns an empty tracker that finds services in cat.
func NewTracker(cat Catalog) *Tracker {
	t := &Tracker{
		cat:      cat,
		byUID:    make(map[string]*channel),
		byName:   make(map[string]*channel),
		bridges:  make(map[string]*bridge),
		goneSet:  make(map[string]struct{}),
		perIface: make(map[string]int),
		toldOn:   make(map[string][]*channel),
		epoch:    1,
	}
	t.SetLimits(DefaultLimits)
	return t
}

// SetCatalog replaces the catalog, on a configuration reload. Calls whose
// service is known keep it and their data; the new catalog decides for calls
// that enter a service from now on.
func (t *Tracker) SetCatalog(cat Catalog) { t.cat = cat }

// Len returns the number of live channel objects.
func (t *Tracker) Len() int { return len(t.byUID) }

// Stats returns counters of what Apply did.
func (t *Tracker) Stats() Stats {
	s := t.stats
	s.Channels = len(t.byUID)
	return s
}

// Reset forgets every channel and call, as after a PBX restart: Asterisk's
// uniqueids start over. It returns a Hangup for every live leg a seat was
// told of, oldest first; a Shutdown event does the same.
func (t *Tracker) Reset() []Change {
	t.out = nil
	t.shutdown()
	return t.flush()
}

// Mark returns the tracker's position in the creation order of channels:
// a channel created later than a Mark is newer than it. Take one before
// asking the PBX for its list of channels, and give it to Retain. Until
// Resync, the events about channels the tracker does not know are kept,
// and Resync plays them again after the list (early.go).
func (t *Tracker) Mark() uint64 {
	t.listing, t.early = true, t.early[:0]
	return t.seq
}

// Retain keeps the channels whose uniqueids are in alive and ends the
// others created no later than mark, as if their Hangup had come: the
// PBX's list of live channels (CoreShowChannels, Status) tells which calls
// ended while the AMI link was down, and which channels the PBX no longer
// has although no Hangup said so (the periodic reconciliation). A channel
// created after mark may be missing from a list asked for before it, and
// is kept. It returns a Hangup for every ended leg a seat was told of,
// oldest first.
func (t *Tracker) Retain(alive map[string]bool, mark uint64) []Change {
	var gone []*channel
	for uid, c := range t.byUID {
		if !alive[uid] && c.seq <= mark {
			gone = append(gone, c)
		}
	}
	t.stats.AgedOut += uint64(len(gone))
	slices.SortFunc(gone, func(a, b *channel) int { return cmp.Compare(a.seq, b.seq) })
	t.out = nil
	for _, c := range gone {
		t.hangup(c)
	}
	return t.flush()
}

// flush returns the changes emitted since t.out was last emptied.
func (t *Tracker) flush() []Change {
	out := t.out
	t.out = nil
	t.stats.Changes += uint64(len(out))
	return out
}

// told returns the live legs a seat was told of, oldest first.
func (t *Tracker) told() []*channel {
	var legs []*channel
	for _, c := range t.byUID {
		if c.owner != nil && (c.rang || c.linked) {
			legs = append(legs, c)
		}
	}
	slices.SortFunc(legs, func(a, b *channel) int { return cmp.Compare(a.seq, b.seq) })
	return legs
}

// forget drops every channel.
func (t *Tracker) forget() {
	clear(t.byUID)
	clear(t.byName)
	clear(t.bridges)
	clear(t.recent[:])
	clear(t.perIface)
	clear(t.toldOn)
	t.recentAt = 0
	t.ForgetHungUp()
}

// CallsOn returns the current state of every live service call on the seat
// interface iface (normalised as NormalizeInterface does), oldest first: a
// Link change for each leg that answered, a Ring change for each that is
// ringing. The server sends them to a seat that logs in mid-call.
func (t *Tracker) CallsOn(iface string) []Change {
	iface = NormalizeInterface(iface)
	var out []Change
	for _, c := range t.told() {
		if c.iface != iface {
			continue
		}
		k := Ring
		if c.linked {
			k = Link
		}
		out = append(out, t.change(k, c))
	}
	return out
}

// Apply takes the next frame from the PBX, in arrival order, and returns the
// notifications it causes, or nil. It never fails and never panics: frames
// it cannot use are counted in Stats and otherwise ignored. The returned
// slice belongs to the caller.
func (t *Tracker) Apply(f *ami.Frame) []Change {
	t.stats.Frames++
	if f == nil || len(f.Fields) == 0 {
		t.stats.Ignored++
		return nil
	}
	name := f.Fields[0].Value
	if !ami.EqualFold(f.Fields[0].Key, "Event") {
		var ok bool
		if name, ok = f.Lookup("Event"); !ok {
			t.stats.Ignored++ // a response
			return nil
		}
	}
	ev := lookupEvent(name)
	if ev == evNone {
		t.stats.Ignored++
		return nil
	}
	t.out = nil
	t.fs.scan(f)
	t.dispatch(ev, f)
	t.keepEarly(ev, f)
	return t.flush()
}

func (t *Tracker) dispatch(ev event, f *ami.Frame) {
	fs := &t.fs
	switch ev {
	case evNewchannel:
		t.newChannel(fs)
	case evNewcallerid:
		if c := t.channelOf(fs); c != nil {
			t.setCallerID(c, fs.callerNum(), fs.get(kCallerIDName))
		}
	case evNewstate:
		if c := t.channelOf(fs); c != nil {
			t.setCallerID(c, fs.callerNum(), fs.get(kCallerIDName))
			c.state = internState(fs.state())
			t.stateChanged(c)
		}
	case evNewexten:
		t.newExten(fs)
	case evVarSet:
		if c := t.channelOf(fs); c != nil {
			t.setVar(c, fs.get(kVariable), fs.get(kValue))
		}
	case evUserEvent:
		t.userEvent(fs, f)
	case evJoin:
		t.join(fs)
	case evDial:
		t.dial(fs)
	case evDialEnd:
		// A busy phone never rings (l_busy). Dial() says why it gave up
		// (apps/app_dial.c DIALSTATUS).
		if st := fs.get(kDialStatus); ami.EqualFold(st, "BUSY") || ami.EqualFold(st, "CONGESTION") || ami.EqualFold(st, "CHANUNAVAIL") {
			if c := t.byID(fs.get(kDestUniqueID)); c != nil {
				t.fail(c)
			}
		}
	case evDialBegin:
		if !fs.present(kUniqueid) {
			return // an Originate's own dial: only Dest* fields, no caller
		}
		src, dst := t.channelOf(fs), t.byID(fs.get(kDestUniqueID))
		if src != nil {
			t.setCallerID(src, fs.get(kCallerIDNum), fs.get(kCallerIDName))
		}
		t.attach(src, dst)
	case evAgentCalled:
		t.agentCalled(fs)
	case evAgentConnect:
		src := t.channelOf(fs)
		var dst *channel
		switch {
		case fs.present(kDestUniqueID): // 12+
			dst = t.byID(fs.get(kDestUniqueID))
		case fs.present(kBridgedChannel): // 1.4–11: the member leg's uniqueid
			dst = t.byID(fs.get(kBridgedChannel))
		}
		t.attach(src, dst)
	case evLink:
		t.pair(t.byID(fs.get(kUniqueid1)), t.byID(fs.get(kUniqueid2)))
	case evBridge:
		if fs.present(kBridgestate) && !ami.EqualFold(fs.get(kBridgestate), "Link") {
			return // Bridgestate: Unlink
		}
		t.pair(t.byID(fs.get(kUniqueid1)), t.byID(fs.get(kUniqueid2)))
	case evBridgeEnter:
		t.bridgeEnter(fs)
	case evBridgeLeave:
		if c := t.channelOf(fs); c != nil {
			t.leaveBridge(c)
		}
	case evBridgeDestroy:
		if b := t.bridges[fs.get(kBridgeUniqueid)]; b != nil {
			for _, c := range b.members {
				c.br = nil
			}
			delete(t.bridges, b.id)
		}
	case evLocalBridge:
		// Rare, and its two ids share a slot of the key table: read them
		// with Get.
		a, b := t.byID(f.Get("LocalOneUniqueid")), t.byID(f.Get("LocalTwoUniqueid"))
		if a != nil && b != nil && a != b {
			a.peer, b.peer = b, a
		}
	case evHangup:
		if c := t.channelOf(fs); c != nil {
			t.hangup(c)
		} else if uid := fs.get(kUniqueid); uid != "" && !t.isGone(uid) {
			// A Hangup before anything else of its channel: remember it,
			// so that a Newchannel coming after it makes no ghost call.
			t.markGone(clone(uid))
		}
	case evOriginateResponse:
		t.originateResponse(fs)
	case evShutdown:
		t.shutdown()
	case evRename:
		t.rename(fs)
	case evCoreShowChannel:
		t.coreShowChannel(fs)
	}
}

// byID returns the live channel with uniqueid uid, or nil. An empty uid is
// counted as malformed, an unknown one as unknown.
func (t *Tracker) byID(uid string) *channel {
	if uid == "" {
		t.stats.Malformed++
		return nil
	}
	c := t.byUID[uid]
	if c == nil {
		t.stats.Unknown++
	}
	return c
}

// channelOf returns the channel an event is about: by Uniqueid, else by
// Channel name (1.4 events that lack a Uniqueid).
func (t *Tracker) channelOf(fs *fields) *channel {
	if uid := fs.get(kUniqueid); uid != "" {
		return t.byID(uid)
	}
	if name := fs.get(kChannel); name != "" {
		if c := t.byName[name]; c != nil {
			return c
		}
		t.stats.Unknown++
		return nil
	}
	t.stats.Malformed++
	return nil
}

func (t *Tracker) emit(k Kind, leg *channel) {
	t.out = append(t.out, t.change(k, leg))
}

// change builds the notification of kind k for the seat of leg.
func (t *Tracker) change(k Kind, leg *channel) Change {
	o := leg.owner
	c := Call{Channel: leg.name, State: leg.state}
	// A leg told of before its own state says so (a Ring told in dial
	// order, a Local member whose phone half answered) reads as what it is
	// told to be.
	switch {
	case k == Ring && leg.state != stateUp:
		c.State = stateRinging
	case k == Link:
		c.State = stateUp
	}
	if o != nil && o.call != nil {
		cl := o.call
		c.Uniqueid = o.uid
		c.CallerIDNum, c.CallerIDName = callerOf(o)
		c.Context, c.Exten = cl.context, cl.exten
		c.Linkedid = o.linkedid
		c.Service, c.Queue = cl.svc.Name, cl.svc.Queue
		c.Data = cl.data()
	}
	return Change{Kind: k, Interface: leg.iface, Call: c}
}

// callerOf returns the caller id of a service leg: its own, or when it never
// got one, that of the other half of its Local channel (1.4 and 1.8 give the
// originated ";1" half the caller id and the service ";2" half none).
func callerOf(o *channel) (num, name string) {
	if knownCID(o.cidNum) || o.peer == nil || !knownCID(o.peer.cidNum) {
		return o.cidNum, o.cidName
	}
	return o.peer.cidNum, o.peer.cidName
}

func clone(s string) string {
	if s == "" {
		return ""
	}
	return strings.Clone(s)
}
