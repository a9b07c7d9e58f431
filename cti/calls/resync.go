package calls

import (
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

// Resync rebuilds the calls that entered a service while the tracker did
// not see the PBX's events (the AMI link was down), from the PBX's list of
// live channels: the items of CoreShowChannels (or Status), in order. Call
// it after Retain, which drops the calls that ended meanwhile.
//
// Every channel the tracker does not know is created. A channel that is in
// no service yet enters one when it runs Queue (the service of the queue
// named first in its ApplicationData), or Dial in the context of a
// non-queue service. The channels that share its bridge (BridgeId, 12+)
// and are in no call yet become its answered legs. Their Link waits for the
// call's data: Resync returns a VarRequest for each variable of each
// rebuilt call, and the last answer given to GotVar releases the Links. A
// rebuilt call whose service declares no variable has its Links returned
// at once. Calls the tracker already knew are left as they are, so no seat
// hears twice what it was told before.
func (t *Tracker) Resync(items []*ami.Frame) ([]VarRequest, []Change) {
	t.out = nil
	for _, f := range items {
		t.fs.scan(f)
		t.coreShowChannel(&t.fs)
	}
	var reqs []VarRequest
	for _, f := range items {
		c := t.byUID[f.Get("Uniqueid")]
		if c == nil || c.call != nil || c.by != nil || c.owner != nil || t.cat == nil {
			continue
		}
		svc, ok := t.resyncService(f)
		if !ok {
			continue
		}
		t.enterService(c, svc, f.Get("Context"), listedExten(f))
		cl := c.call
		if br := bridgeID(f); br != "" {
			for _, g := range items {
				leg := t.byUID[g.Get("Uniqueid")]
				if leg == nil || leg == c || leg.peer == c || bridgeID(g) != br ||
					leg.call != nil || leg.by != nil || leg.owner != nil || leg.iface == "" {
					continue
				}
				leg.by, leg.owner = c, c
				cl.held = append(cl.held, leg)
			}
		}
		for i, v := range svc.Variables {
			if cl.set[i] {
				continue
			}
			reqs = append(reqs, VarRequest{Uniqueid: c.uid, Channel: c.name, Variable: bareVarName(v)})
			cl.asked++
		}
		if cl.asked == 0 {
			t.release(cl)
		}
	}
	return reqs, t.flush()
}

// GotVar takes the answer to a VarRequest: value is the variable's value,
// "" when the PBX has none or the Getvar failed. When it is the last answer
// the call waited for, it returns the Link of each leg Resync found
// answering it.
func (t *Tracker) GotVar(req VarRequest, value string) []Change {
	t.out = nil
	c := t.byUID[req.Uniqueid]
	if c == nil || c.call == nil || c.call.asked == 0 {
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

// release tells the held legs of a rebuilt call that they answered it.
func (t *Tracker) release(cl *call) {
	for _, leg := range cl.held {
		if leg.dead || leg.linked {
			continue
		}
		leg.rang, leg.linked = true, true
		t.emit(Link, leg)
	}
	cl.held = nil
}

// resyncService returns the service a listed channel is in: that of the
// queue it waits in (Queue's first argument), or the non-queue service of
// the context where it runs Dial.
func (t *Tracker) resyncService(f *ami.Frame) (Service, bool) {
	app := f.Get("Application")
	switch {
	case ami.EqualFold(app, "Queue"):
		data, ok := f.Lookup("ApplicationData") // CoreShowChannel
		if !ok {
			data = f.Get("Data") // Status
		}
		q, _, _ := strings.Cut(data, ",")
		return t.cat.ServiceByQueue(strings.TrimSpace(q))
	case ami.EqualFold(app, "Dial"):
		return t.cat.ServiceByContext(f.Get("Context"))
	}
	return Service{}, false
}

// bridgeID returns the bridge a listed channel is in: BridgeId in
// CoreShowChannel, BridgeID in Status (Get ignores case).
func bridgeID(f *ami.Frame) string { return f.Get("BridgeId") }

func listedExten(f *ami.Frame) string {
	if ex, ok := f.Lookup("Exten"); ok {
		return ex
	}
	return f.Get("Extension")
}
