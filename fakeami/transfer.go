package fakeami

import (
	"errors"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// ErrTransfer is returned by Transfer when the channel cannot transfer: it
// does not exist or talks to nobody.
var ErrTransfer = errors.New("fakeami: transfer")

// Transfer makes a bridged channel transfer the party it talks to, blind,
// to exten@context: what a phone's transfer key does, and what the AMI
// action BlindTransfer does in Asterisk 12 and later (Asterisk 1.4 has no
// such action; a 1.4 phone's transfer gives the same call flow, in 1.4's
// events). The transferer hangs up, the transferee keeps its channel,
// uniqueid, linkedid and variables and runs the dialplan at exten@context,
// priority 1. It is safe to call from any goroutine.
func (p *PBX) Transfer(channel, context, exten string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.channelByName(strings.TrimSpace(channel))
	if x == nil {
		return errors.Join(ErrTransfer, errors.New("channel specified does not exist"))
	}
	if x.bridge == nil || x.bridge.peer(x) == nil {
		return errors.Join(ErrTransfer, errors.New("transfer invalid: the channel talks to nobody"))
	}
	if context == "" {
		context = x.context
	}
	p.blindTransfer(x, context, exten)
	p.runDue()
	return nil
}

// actionBlindTransfer is manager.c action_blind_transfer (Asterisk 12+):
// Channel is the transferer, Context (default: the channel's) and Exten
// where the party it talks to goes.
func (p *PBX) actionBlindTransfer(s Sink, a *ami.Frame) {
	id := a.ActionID()
	name, exten := strings.TrimSpace(a.Get("Channel")), strings.TrimSpace(a.Get("Exten"))
	if name == "" {
		p.respond(s, id, "Error", "No channel specified")
		return
	}
	if exten == "" {
		p.respond(s, id, "Error", "No extension specified")
		return
	}
	x := p.channelByName(name)
	if x == nil {
		p.respond(s, id, "Error", "Channel specified does not exist")
		return
	}
	context := strings.TrimSpace(a.Get("Context"))
	if context == "" {
		context = x.context
	}
	// ast_bridge_transfer_blind: a channel in no bridge cannot transfer
	// (AST_BRIDGE_TRANSFER_INVALID).
	if x.bridge == nil || x.bridge.peer(x) == nil {
		p.respond(s, id, "Error", "Transfer invalid")
		return
	}
	p.respond(s, id, "Success", "Transfer succeeded")
	p.blindTransfer(x, context, exten)
}

// blindTransfer transfers the peer of the bridged channel x to
// exten@context, with the events of 22.10.1 k_blind_transfer, in its order:
// Unhold and the BLINDTRANSFER variables on both channels, the
// BlindTransfer event, the transferee's Newexten at the new place (still
// naming the application it was running: Asterisk shows a stale snapshot),
// its BridgeLeave, then its dialplan at priority 1 without a Newexten for
// that first step (the recording has none for the Dial), then the
// transferer's BridgeLeave and Hangup (cause 16), the queue's AgentComplete
// with Reason transfer, and BridgeDestroy. In 1.4 only the events that
// dialect has are sent (Unlink, Newexten, Hangup, AgentComplete, Dial…).
// p.mu must be held.
func (p *PBX) blindTransfer(x *channel, context, exten string) {
	b := x.bridge
	y := b.peer(x)
	modern := p.opts.Dialect == DialectModern
	if modern {
		p.broadcast((&eventsModern{p: p}).chanEvent("Unhold", "call,all", x))
	}
	p.setVar(y, "BLINDTRANSFER", x.name)
	p.setVar(x, "BLINDTRANSFER", y.name)
	p.setVar(x, "BRIDGEPEER", "")
	if modern {
		f := ev("BlindTransfer", "call,all")
		f.Add("Result", "Success")
		chanBlock(f, "Transferer", x)
		chanBlock(f, "Transferee", y)
		bridgeBlock(f, b)
		f.Add("IsExternal", "Yes").Add("Context", context).Add("Extension", exten)
		p.broadcast(f)
	}
	p.setVar(y, "BRIDGEPEER", "")

	// The transferee goes to the new place and leaves the bridge.
	y.context, y.exten, y.priority = context, exten, 1
	p.em.newExten(y, y.app, y.appData)
	p.bridgeDrop(b, y)
	if y.th != nil {
		y.th.stop()
	}
	y.th = &thread{ch: y}
	if st, ok := p.findStep(context, exten, 1); !ok {
		p.dialplanEnd(y)
	} else {
		args := make([]string, len(st.Args))
		for i, a := range st.Args {
			args[i] = p.expand(y, a)
		}
		y.app, y.appData = st.App, p.joinArgs(args)
		switch p.runApp(y, st.App, args) {
		case appNext:
			y.priority++
			p.runThread(y)
		case appJump:
			p.runThread(y)
		}
	}

	// The transferer leaves and hangs up; the bridge is gone.
	p.bridgeDrop(b, x)
	p.destroy(x, causeNormal)
	if b.onTransfer != nil {
		b.onTransfer()
	}
	for i, o := range p.bridges {
		if o == b {
			p.bridges = append(p.bridges[:i], p.bridges[i+1:]...)
			break
		}
	}
	p.em.bridgeDestroy(b)
}

// bridgeDrop takes c out of b without destroying b, even when it is left
// empty (blindTransfer destroys it itself, after the transferer's hangup).
// p.mu must be held.
func (p *PBX) bridgeDrop(b *bridge, c *channel) {
	for i, o := range b.chans {
		if o == c {
			b.chans = append(b.chans[:i], b.chans[i+1:]...)
			break
		}
	}
	if !b.broken {
		b.broken = true
		p.em.bridgeBreak(b)
	}
	c.bridge = nil
	p.em.bridgeLeave(b, c)
}
