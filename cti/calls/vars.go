package calls

import (
	"github.com/astcti/astcti/cti/ami"
)

// setVar records that the dialplan set variable name on c: a Set step
// (Newexten), a VarSet event or a UserEvent header.
func (t *Tracker) setVar(c *channel, name, value string) {
	name = bareVarName(name)
	if name == "" {
		return
	}
	if c.call != nil {
		c.call.setVar(name, value)
		return
	}
	if c.by != nil || c.dead || asteriskVar(name) {
		// A dialled leg never becomes a service leg, and Asterisk's own
		// variables are never service data.
		return
	}
	// The service is not known yet (Set before Queue()): keep the value
	// until it is.
	for i := range c.pending {
		if ami.EqualFold(c.pending[i].Name, name) {
			if c.pending[i].Value != value {
				c.pending[i].Value = clone(value)
			}
			return
		}
	}
	if len(c.pending) >= maxPending {
		c.pending = append(c.pending[:0], c.pending[1:]...)
	}
	c.pending = append(c.pending, Var{Name: clone(name), Value: clone(value)})
}

// setVar sets every declared variable named name (compared as Asterisk
// compares variable names).
func (cl *call) setVar(name, value string) {
	for i, v := range cl.svc.Variables {
		if !ami.EqualFold(bareVarName(v), name) {
			continue
		}
		if !cl.set[i] || cl.vals[i] != value {
			cl.vals[i] = clone(value)
			cl.set[i] = true
		}
	}
}

// data returns a copy of the variables that have a value, in the order the
// service declares them.
func (cl *call) data() []Var {
	n := 0
	for _, s := range cl.set {
		if s {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Var, 0, n)
	for i, s := range cl.set {
		if s {
			out = append(out, Var{Name: cl.svc.Variables[i], Value: cl.vals[i]})
		}
	}
	return out
}

// bareVarName drops the inheritance prefix ("_name" is inherited by the
// channels a channel dials, "__name" by all their descendants): Asterisk
// finds "__customer_id" when asked for "customer_id" (main/chanvars.c
// ast_var_name).
func bareVarName(name string) string {
	for i := 0; i < 2 && len(name) > 0 && name[0] == '_'; i++ {
		name = name[1:]
	}
	return name
}

// asteriskVars are variables Asterisk itself sets on channels; they show up
// as VarSet on 1.6+ and are never service data, so a channel whose service
// is not known yet does not keep them.
var asteriskVars = [...]string{
	"DIALSTATUS", "DIALEDPEERNAME", "DIALEDPEERNUMBER", "DIALEDTIME", "ANSWEREDTIME",
	"DIALEDTIME_MS", "ANSWEREDTIME_MS", "RINGTIME", "RINGTIME_MS", "PROGRESSTIME", "PROGRESSTIME_MS",
	"BRIDGEPEER", "BRIDGEPVTCALLID", "BLINDTRANSFER", "ATTENDEDTRANSFER", "TRANSFERERNAME",
	"SIPURI", "SIPDOMAIN", "SIPCALLID", "SIP_CODEC", "RTPAUDIOQOS", "RTPAUDIOQOSBRIDGED",
	"RTPAUDIOQOSJITTER", "RTPAUDIOQOSLOSS", "RTPAUDIOQOSRTT", "RTPAUDIOQOSJITTERBRIDGED",
	"RTPAUDIOQOSLOSSBRIDGED", "RTPAUDIOQOSRTTBRIDGED", "QUEUEPOSITION", "QUEUESTATUS",
	"QUEUEWAIT", "QUEUEWAIT_MS", "ABANDONED", "MEMBERINTERFACE", "MEMBERNAME", "MEMBERCALLS", "MEMBERLASTCALL",
	"MEMBERPENALTY", "MEMBERDYNAMIC", "MEMBERREALTIME", "READSTATUS", "CHANLOCALSTATUS",
	"MACRO_DEPTH", "GOSUB_RETVAL", "SHARED", "FORWARD_CONTEXT", "ORIGINATE_STATUS",
	"PICKUPMARK", "TRANSFER_CONTEXT", "LOCAL_OPTIMIZE_IN_PROGRESS",
}

func asteriskVar(name string) bool {
	for _, v := range asteriskVars {
		if len(v) == len(name) && ami.EqualFold(v, name) {
			return true
		}
	}
	return false
}

// userEventHeaders are the headers of a UserEvent that Asterisk writes
// itself; the others are the dialplan's "key: value" pairs
// (apps/app_userevent.c).
var userEventHeaders = [...]string{
	"Event", "Privilege", "UserEvent", "Uniqueid", "Linkedid", "Channel", "ChannelState",
	"ChannelStateDesc", "CallerIDNum", "CallerIDName", "ConnectedLineNum", "ConnectedLineName",
	"Language", "AccountCode", "Context", "Exten", "Priority", "SystemName", "Timestamp", "ActionID",
}

// userEvent takes service data from a dialplan UserEvent: 1.6+ sends
// "Event: UserEvent", "UserEvent: <name>" and the pairs as headers of their
// own after it (22: j_userevent_vars); 1.4 sends "Event: UserEvent<name>"
// with the body as headers, and a Uniqueid only if the dialplan wrote one.
func (t *Tracker) userEvent(fs *fields, f *ami.Frame) {
	if !fs.present(kUniqueid) {
		t.stats.Malformed++ // 1.4 without a Uniqueid: no channel to give it to
		return
	}
	c := t.channelOf(fs)
	if c == nil {
		return
	}
	start := fs.userEvent + 1 // 0 when there is no UserEvent header (1.4)
next:
	for _, fl := range f.Fields[start:] {
		for _, h := range userEventHeaders {
			if ami.EqualFold(fl.Key, h) {
				continue next
			}
		}
		t.setVar(c, fl.Key, fl.Value)
	}
}
