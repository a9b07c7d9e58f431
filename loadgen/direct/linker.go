package direct

import (
	"bytes"
	"strings"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
)

// Bounds of what one client remembers. A client sees every event of the
// PBX, so nothing it keeps may grow with the PBX's traffic: each memory is a
// small ring, and a missed BridgeLeave or Hangup only ages out.
const (
	// ownBridges is how many bridges the phone's channels may be in at
	// once (a call, a consultation, a conference).
	ownBridges = 8
	// recentEntries is how many BridgeEnter events of other channels are
	// remembered, for a phone whose channel enters a bridge after the
	// caller did.
	recentEntries = 8
	// recentLinks is how many callers already told are remembered, so
	// that a PBX repeating itself (1.4: Link, Unlink, Link) gives one Link.
	recentLinks = 32
)

// linker decides, from the full event stream of the PBX, when the phone of
// one client talks to a caller, with the rule cti/calls applies for its
// Link: Link (1.4), Bridge with Bridgestate Link (1.6–11), or two
// BridgeEnter of one bridge (12+). The phone's leg is a channel whose
// interface (calls.InterfaceOf) is the phone, but not the ";2" half of a
// Local channel, which runs the phone's dialplan rather than talking to the
// caller; the other party's Uniqueid is the caller's. As a mini-CTI does,
// it follows no call: a phone reached through a Local queue member must be
// configured as that Local interface (as fakeami's GET /links names it).
//
// It reads messages without copying them: an event that is not about the
// phone costs a few comparisons. A linker is owned by one client's reader
// goroutine.
type linker struct {
	phone string // normalised interface, e.g. "SIP/10001"

	bridges  [ownBridges]string // bridges a channel of the phone is in; "" = free
	recent   [recentEntries]entry
	recentAt int
	linked   [recentLinks]string // callers already told, a ring
	linkedAt int
}

// entry is one BridgeEnter of another channel: which bridge, which uniqueid.
// Its byte slices are reused, so remembering costs no allocation.
type entry struct{ bridge, uid []byte }

// observe reads one message and returns the caller's Uniqueid when it is
// the event that links the phone to a caller not told before.
func (l *linker) observe(m *ami.Message) (string, bool) {
	switch string(m.Get("Event")) {
	case "BridgeEnter":
		return l.bridgeEnter(m)
	case "BridgeLeave":
		l.bridgeLeave(m)
	case "Link":
		return l.pair(m)
	case "Bridge":
		if string(m.Get("Bridgestate")) == "Link" {
			return l.pair(m)
		}
	}
	return "", false
}

// pair reads an event naming both parties (1.4 Link, 1.6–11 Bridge).
func (l *linker) pair(m *ami.Message) (string, bool) {
	switch {
	case l.isPhone(m.Get("Channel2")):
		return l.tell(m.Get("Uniqueid1"))
	case l.isPhone(m.Get("Channel1")):
		return l.tell(m.Get("Uniqueid2"))
	}
	return "", false
}

// bridgeEnter reads a 12+ BridgeEnter: the phone's channel entering a
// bridge where the caller already is, or a channel entering a bridge of
// the phone.
func (l *linker) bridgeEnter(m *ami.Message) (string, bool) {
	bridge, uid := m.Get("BridgeUniqueid"), m.Get("Uniqueid")
	if len(bridge) == 0 || len(uid) == 0 {
		return "", false
	}
	if !l.isPhone(m.Get("Channel")) {
		if l.inBridge(bridge) {
			return l.tell(uid)
		}
		l.remember(bridge, uid)
		return "", false
	}
	l.joinBridge(bridge)
	if string(m.Get("BridgeNumChannels")) == "1" {
		return "", false // the phone is first: the caller's BridgeEnter links
	}
	for i := range l.recent {
		if e := &l.recent[i]; bytes.Equal(e.bridge, bridge) {
			return l.tell(e.uid)
		}
	}
	return "", false
}

// bridgeLeave forgets a bridge when the phone's channel leaves it.
func (l *linker) bridgeLeave(m *ami.Message) {
	if !l.isPhone(m.Get("Channel")) {
		return
	}
	bridge := m.Get("BridgeUniqueid")
	for i, b := range l.bridges {
		if b != "" && b == string(bridge) {
			l.bridges[i] = ""
		}
	}
}

// isPhone reports whether channel is a leg of the phone: a cheap prefix
// test ("SIP/10001" then '-') first, so that the events of every other
// phone cost no allocation, then the project's rule.
func (l *linker) isPhone(channel []byte) bool {
	n := len(l.phone)
	if len(channel) <= n || channel[n] != '-' || string(channel[:n]) != l.phone {
		return false
	}
	name := string(channel)
	if strings.HasSuffix(name, ";2") || strings.HasSuffix(name, ",2") {
		return false // the Local half that runs the phone's dialplan
	}
	return calls.InterfaceOf(name) == l.phone
}

func (l *linker) inBridge(bridge []byte) bool {
	for _, b := range l.bridges {
		if b != "" && b == string(bridge) {
			return true
		}
	}
	return false
}

// joinBridge notes that a channel of the phone entered bridge, in a free
// slot, or over the oldest when a BridgeLeave was missed.
func (l *linker) joinBridge(bridge []byte) {
	if l.inBridge(bridge) {
		return
	}
	for i, b := range l.bridges {
		if b == "" {
			l.bridges[i] = string(bridge)
			return
		}
	}
	copy(l.bridges[:], l.bridges[1:])
	l.bridges[len(l.bridges)-1] = string(bridge)
}

// remember keeps another channel's BridgeEnter in the ring.
func (l *linker) remember(bridge, uid []byte) {
	e := &l.recent[l.recentAt]
	e.bridge = append(e.bridge[:0], bridge...)
	e.uid = append(e.uid[:0], uid...)
	l.recentAt = (l.recentAt + 1) % len(l.recent)
}

// tell returns uid as the caller to report, unless it was told already.
func (l *linker) tell(uid []byte) (string, bool) {
	if len(uid) == 0 {
		return "", false
	}
	for _, u := range l.linked {
		if u == string(uid) {
			return "", false
		}
	}
	s := string(uid)
	l.linked[l.linkedAt] = s
	l.linkedAt = (l.linkedAt + 1) % len(l.linked)
	return s, true
}
