package calls

import (
	"slices"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// VarRequest asks the PBX for one service variable of a call that Resync
// rebuilt: the server sends Getvar (Channel, Variable) and gives the answer
// to GotVar.
type VarRequest struct {
	Uniqueid string // the service leg
	Channel  string // its name, for Getvar
	Variable string // the service's variable, without its "_"/"__" prefix
}

// Listing is what the PBX tells of its live calls after a reconnect: the
// input of Resync.
type Listing struct {
	// Channels are the items of CoreShowChannels or, where the PBX lacks it
	// (Asterisk 1.4) or refuses it, of Status, in order.
	Channels []*ami.Frame
	// Queues are the items of QueueStatus (QueueParams, QueueMember,
	// QueueEntry). Resync needs them only where Channels do not name the
	// application a channel runs (NeedsQueues): a QueueEntry tells which
	// queue a waiting caller is in, the QueueMember items which queues the
	// phone that answered a call belongs to.
	Queues []*ami.Frame
}

// NeedsQueues reports whether channel items leave the application of a
// channel in the dialplan unsaid, as Asterisk 1.4's Status does
// (main/manager.c action_status: Context, Extension, Priority and Link, but
// no Application): Resync then also wants the PBX's QueueStatus items.
func NeedsQueues(channels []*ami.Frame) bool {
	for _, f := range channels {
		if _, ok := f.Lookup("Context"); !ok {
			continue
		}
		if _, ok := f.Lookup("Application"); !ok {
			return true
		}
	}
	return false
}

// Resync rebuilds the calls that entered a service while the tracker did
// not see the PBX's events (the AMI link was down), from the PBX's list of
// live channels. Call it after Retain, which drops the calls that ended
// meanwhile.
//
// Every channel the tracker does not know is created. A channel that is in
// no service yet enters one by what the PBX says of it:
//
//   - where the list names its application (CoreShowChannels, and Status
//     from 1.6 on): when it runs Queue, the service of the queue named first
//     in the application's data; when it runs Dial in the context of a
//     non-queue service, that service;
//   - where it does not (Asterisk 1.4's Status): when it has a dialplan
//     position in a service's context, the service of the queue a
//     QueueEntry lists it in, else of the one queue of that context whose
//     members include the phone it talks with, else the context's non-queue
//     service, else the context's only queue service. A context whose
//     several queue services nothing tells apart rebuilds nothing.
//
// The channels it talks with and that are told of no call yet become its
// answered legs: those that share its bridge (BridgeId, 12+), or the one
// the list names as bridged with it (BridgedUniqueID or BridgedChannel,
// 1.6–11; Link, 1.4). A call learnt from the list, or one whose events were
// lost, is doubtful (confirm.go): Resync returns a VarRequest for each
// variable of each such call that is rebuilt or has legs to tell of, and
// their Ring and Link wait for the last answer given to GotVar. A call
// whose service declares no variable has its legs told at once. What the
// tracker told before is never told again.
func (t *Tracker) Resync(l Listing) ([]VarRequest, []Change) {
	t.out = nil
	for _, f := range l.Channels {
		t.fs.scan(f)
		t.coreShowChannel(&t.fs)
	}
	queues := indexQueues(l.Queues)
	for _, f := range l.Channels {
		c := t.byUID[f.Get("Uniqueid")]
		if c == nil || c.by != nil || c.owner != nil || t.cat == nil {
			continue
		}
		peers := t.listedPeers(f, l.Channels, c)
		if c.call == nil {
			svc, ok := t.resyncService(f, peers, queues)
			if !ok {
				continue
			}
			t.enterService(c, svc, f.Get("Context"), listedExten(f))
		}
		if c.epoch != t.epoch && (c.epoch == 0 || len(c.call.held) > 0) {
			t.confirmed(c) // rebuilt, or its answers were lost with the link
		}
		for _, leg := range peers {
			if leg.linked || leg.iface == "" {
				continue
			}
			if s := serviceLeg(leg); s != nil && s != c {
				continue // another call's leg
			}
			if leg.by == nil {
				leg.by = c
			}
			t.linkFound(leg, c)
		}
	}
	t.replayEarly()
	return t.TakeVarRequests(), t.flush()
}

// GotVar takes the answer to a VarRequest: value is the variable's value,
// "" when the PBX has none or the Getvar failed. When it is the last answer
// the call waited for, it returns the Rings and Links that waited for it.
// An answer to a request made before events were lost again is ignored:
// the call is asked for again.
func (t *Tracker) GotVar(req VarRequest, value string) []Change {
	t.out = nil
	c := t.byUID[req.Uniqueid]
	if c == nil || c.call == nil || c.call.asked == 0 || c.epoch != t.epoch {
		return nil
	}
	cl := c.call
	if value != "" {
		cl.setVar(req.Variable, value)
	}
	if cl.asked--; cl.asked == 0 {
		t.release(cl)
	}
	return t.flush()
}

// resyncService returns the service a listed channel is in (see Resync).
// peers are the channels it talks with.
func (t *Tracker) resyncService(f *ami.Frame, peers []*channel, queues queueIndex) (Service, bool) {
	app, named := f.Lookup("Application")
	if named {
		switch {
		case ami.EqualFold(app, "Queue"):
			data, ok := f.Lookup("ApplicationData") // CoreShowChannel
			if !ok {
				data = f.Get("Data") // Status
			}
			return t.cat.ServiceByQueue(firstArg(data))
		case ami.EqualFold(app, "Dial"):
			return t.cat.ServiceByContext(f.Get("Context"))
		}
		return Service{}, false
	}
	// Asterisk 1.4's Status: a channel that runs no dialplan (an
	// originated or dialled leg) has no Context.
	ctx := f.Get("Context")
	if ctx == "" {
		return Service{}, false
	}
	if q, ok := queues.entries[f.Get("Channel")]; ok {
		return t.cat.ServiceByQueue(q)
	}
	queued := t.cat.QueueServicesInContext(ctx)
	var answered []Service
	for _, svc := range queued {
		if slices.ContainsFunc(peers, func(p *channel) bool { return queues.members[svc.Queue][p.iface] }) {
			answered = append(answered, svc)
		}
	}
	if len(answered) == 1 {
		return answered[0], true
	}
	if svc, ok := t.cat.ServiceByContext(ctx); ok {
		return svc, true
	}
	if len(queued) == 1 {
		return queued[0], true
	}
	return Service{}, false
}

// firstArg returns the first argument of an application's data: "," since
// 1.6, "|" in 1.4.
func firstArg(data string) string {
	if i := strings.IndexAny(data, ",|"); i >= 0 {
		data = data[:i]
	}
	return strings.TrimSpace(data)
}

// listedPeers returns the known channels a listed channel talks with, but
// c and the other half of its Local channel: those of its bridge (12+), or
// the one it is bridged with (1.6–11 BridgedUniqueID or BridgedChannel,
// 1.4 Link).
func (t *Tracker) listedPeers(f *ami.Frame, items []*ami.Frame, c *channel) []*channel {
	var peers []*channel
	add := func(p *channel) {
		if p != nil && p != c && p != c.peer && !slices.Contains(peers, p) {
			peers = append(peers, p)
		}
	}
	// BridgeId in CoreShowChannel, BridgeID in Status (Get ignores case).
	if br := f.Get("BridgeId"); br != "" {
		for _, g := range items {
			if g.Get("BridgeId") == br {
				add(t.byUID[g.Get("Uniqueid")])
			}
		}
		return peers
	}
	if uid := f.Get("BridgedUniqueID"); uid != "" {
		add(t.byUID[uid])
		return peers
	}
	name := f.Get("BridgedChannel")
	if name == "" {
		name = f.Get("Link")
	}
	if name != "" {
		add(t.byName[name])
	}
	return peers
}

// queueIndex is what QueueStatus items tell Resync: the queue of each
// waiting caller (by channel name), and the member interfaces of each
// queue (normalised).
type queueIndex struct {
	entries map[string]string
	members map[string]map[string]bool
}

func indexQueues(items []*ami.Frame) queueIndex {
	q := queueIndex{entries: map[string]string{}, members: map[string]map[string]bool{}}
	for _, f := range items {
		switch f.Event() {
		case "QueueEntry":
			q.entries[f.Get("Channel")] = f.Get("Queue")
		case "QueueMember":
			name := f.Get("Queue")
			if q.members[name] == nil {
				q.members[name] = map[string]bool{}
			}
			iface, ok := f.Lookup("Location") // 1.4–13; later StateInterface too
			if !ok {
				iface = f.Get("Interface")
			}
			q.members[name][NormalizeInterface(iface)] = true
		}
	}
	return q
}

func listedExten(f *ami.Frame) string {
	if ex, ok := f.Lookup("Exten"); ok {
		return ex
	}
	return f.Get("Extension")
}
