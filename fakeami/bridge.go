package fakeami

import (
	"fmt"
	"time"
)

// bridge joins two channels that talk to each other.
type bridge struct {
	id      string
	tech    string     // bridge technology: simple_bridge, native_rtp
	chans   []*channel // in the order they entered
	pair    [2]*channel
	created time.Time
	broken  bool
	// onHangup is called when chans[i] must hang up while bridged, before
	// it leaves; it returns the cause x hangs up with.
	onHangup func(x *channel, cause int) int
	// afterEnd is called once the bridge is empty with the channel that was
	// left behind (its peer hung up), which it must dispose of.
	afterEnd func(left *channel, peerCause int)
	// onTransfer is called when a channel of the bridge has transferred the
	// other away (transfer.go), once the transferer has hung up.
	onTransfer func()
}

// newBridgeID returns a bridge unique id shaped like Asterisk's UUIDs.
// p.mu must be held.
func (p *PBX) newBridgeID() string {
	r := p.rng
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
		r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
}

// bridgeCall bridges caller and dest (dest enters first, as app_dial and
// app_queue do). p.mu must be held.
func (p *PBX) bridgeCall(caller, dest *channel, tech string) *bridge {
	b := &bridge{id: p.newBridgeID(), tech: "simple_bridge", created: p.now()}
	b.pair = [2]*channel{caller, dest}
	p.bridges = append(p.bridges, b)
	// The link's time is taken before its events go to the sessions,
	// whose writers may send them at once: a reader must never see the
	// event before the time the PBX says it wrote it.
	linkedAt := time.Now()
	p.em.bridgeCreate(b)
	for _, c := range []*channel{dest, caller} {
		b.chans = append(b.chans, c)
		c.bridge = b
		p.em.bridgeEnter(b, c)
	}
	p.recordLink(caller, dest, linkedAt)
	if tech != "" {
		b.tech = tech
	}
	p.setVar(dest, "BRIDGEPEER", caller.name)
	p.setVar(caller, "BRIDGEPEER", dest.name)
	return b
}

// bridgePeer returns the other channel of c's bridge, or nil.
func (b *bridge) peer(c *channel) *channel {
	for _, x := range b.chans {
		if x != c {
			return x
		}
	}
	return nil
}

// leaveBridge takes c out of b; when b is empty it is destroyed.
// p.mu must be held.
func (p *PBX) leaveBridge(b *bridge, c *channel) {
	idx := -1
	for i, x := range b.chans {
		if x == c {
			idx = i
		}
	}
	if idx < 0 {
		return
	}
	if !b.broken {
		b.broken = true
		p.em.bridgeBreak(b)
	}
	b.chans = append(b.chans[:idx], b.chans[idx+1:]...)
	c.bridge = nil
	p.em.bridgeLeave(b, c)
	if len(b.chans) == 0 {
		for i, x := range p.bridges {
			if x == b {
				p.bridges = append(p.bridges[:i], p.bridges[i+1:]...)
				break
			}
		}
		p.em.bridgeDestroy(b)
	}
}

// bridgeHangup hangs up x, which is bridged: the bridge breaks, x leaves
// and hangs up, and the channel left behind is handed to the bridge's
// owner. p.mu must be held.
func (p *PBX) bridgeHangup(x *channel, cause int) {
	b := x.bridge
	if !b.broken {
		b.broken = true
		p.em.bridgeBreak(b)
	}
	if b.onHangup != nil {
		cause = b.onHangup(x, cause)
	}
	p.destroy(x, cause)
	if y := b.peer(x); y != nil && !y.gone {
		p.leaveBridge(b, y)
		if b.afterEnd != nil {
			b.afterEnd(y, cause)
		}
	}
}
