package cti

import (
	"bytes"

	"github.com/astcti/astcti/cti/calls"
	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatproto"
)

// catalog shows a configuration snapshot to the call tracker: only enabled
// inbound services are notified (outbound services are for ORIG only).
type catalog struct{ snap *config.Snapshot }

func (c catalog) ServiceByContext(context string) (calls.Service, bool) {
	return trackerService(c.snap.ServiceByContext(context))
}

func (c catalog) ServiceByQueue(queue string) (calls.Service, bool) {
	return trackerService(c.snap.ServiceByQueue(queue))
}

func (c catalog) QueueServicesInContext(context string) []calls.Service {
	var out []calls.Service
	for _, s := range c.snap.QueueServicesByContext(context) {
		if svc, ok := trackerService(s); ok {
			out = append(out, svc)
		}
	}
	return out
}

func trackerService(s *config.Service) (calls.Service, bool) {
	if s == nil || !s.Enabled || s.Type != config.Inbound {
		return calls.Service{}, false
	}
	return calls.Service{Name: s.Name, Context: s.Context, Queue: s.Queue, Variables: s.Variables}, true
}

// eventIDs maps the tracker's changes to the seat protocol's events.
var eventIDs = map[calls.Kind]string{
	calls.Ring:   seatproto.EventCallerID,
	calls.Link:   seatproto.EventLink,
	calls.Hangup: seatproto.EventHangup,
}

// notify sends one change to the seat whose phone it concerns, if a seat is
// logged in there, and reports whether it was queued for the seat.
func (h *hub) notify(ch calls.Change) bool {
	s := h.byIface[ch.Interface]
	if s == nil || s.ended || s.repop {
		return false // a seat waiting for its re-pop gets the calls' state then
	}
	svc := h.snap.Service(ch.Call.Service)
	ev := &seatproto.Event{ID: eventIDs[ch.Kind], Call: seatCall(ch.Call, svc)}
	if ch.Kind == calls.Link && svc != nil {
		ev.Action = h.action(svc, &ev.Call)
	}
	return s.conn.Send(h.eventLine(ev))
}

// maxScratch bounds the event-line buffer the hub keeps between events.
const maxScratch = 64 << 10

// eventLine returns the line of ev in a slice of its own and of its exact
// size, which the seat's queue keeps until it is written: the line is
// built in the hub's scratch buffer and copied once, rather than grown
// from nothing (at 50,000 seats the garbage collector's work follows the
// bytes allocated per notification).
func (h *hub) eventLine(ev *seatproto.Event) []byte {
	h.scratch = seatproto.AppendEvent(h.scratch[:0], ev)
	line := bytes.Clone(h.scratch)
	if cap(h.scratch) > maxScratch {
		h.scratch = nil
	}
	return line
}

// seatCall is the <call> of an event: the service's variables in its
// order, empty when the dialplan did not set them.
func seatCall(c calls.Call, svc *config.Service) seatproto.Call {
	sc := seatproto.Call{
		UniqueID: c.Uniqueid, Channel: c.Channel,
		CallerIDNum: c.CallerIDNum, CallerIDName: c.CallerIDName,
		Context: c.Context, Exten: c.Exten, LinkedID: c.Linkedid,
		Service: c.Service, Queue: c.Queue, State: c.State,
	}
	if svc == nil {
		sc.AppData = make([]seatproto.Data, 0, len(c.Data))
		for _, v := range c.Data {
			sc.AppData = append(sc.AppData, seatproto.Data{Key: v.Name, Value: v.Value})
		}
		return sc
	}
	sc.AppData = make([]seatproto.Data, 0, len(svc.Variables))
	for _, name := range svc.Variables {
		d := seatproto.Data{Key: name}
		for _, v := range c.Data {
			if v.Name == name {
				d.Value = v.Value
				break
			}
		}
		sc.AppData = append(sc.AppData, d)
	}
	return sc
}

// action is the <action> of a Link: the service's trigger with the call's
// values in its placeholders. The program of an application action is
// never expanded, so a caller cannot choose what runs.
func (h *hub) action(svc *config.Service, c *seatproto.Call) *seatproto.Action {
	vals := c.Value
	switch svc.Trigger {
	case config.TriggerApplication:
		params, err := seatproto.Expand(svc.Parameters, vals, false)
		if err != nil {
			h.badTemplate(svc, err)
			return nil
		}
		return &seatproto.Action{Type: seatproto.ActionApplication, Application: svc.Application, Parameters: params}
	case config.TriggerBrowser:
		url, err := seatproto.Expand(svc.Application, vals, true)
		if err != nil {
			h.badTemplate(svc, err)
			return nil
		}
		return &seatproto.Action{Type: seatproto.ActionBrowser, Application: url}
	}
	return nil
}

func (h *hub) badTemplate(svc *config.Service, err error) {
	if !h.badAction[svc.Name] {
		h.badAction[svc.Name] = true
		h.log.Error("service action cannot be expanded: seats get the Link without it", "service", svc.Name, "err", err)
	}
}
