package fakeami

// The conformance test drives the fake PBX through the flows recorded off
// real Asterisk (testdata/ami-traces) and holds its output to them. Each
// recording's calls (INVITEs from the SIP trunk, taken from its
// Newchannel SIP/trunk-… events) and actions (its .actions file, minus
// Login and Logoff) are replayed into the fake at their recorded times, on
// a manual clock, with the dialplan and queues of the folder's README and
// the phones its README describes.
//
//  1. Shape (checkShapes): every frame the fake sends has the field names,
//     in the order, of the same event or response in the recordings of its
//     generation (modern: asterisk-20.20.1-sip and asterisk-22.10.1; 1.4:
//     asterisk-1.4.44), and in the answers to list actions recorded
//     during live calls (testdata/ami-lists). The few frames no recording
//     shows are listed in
//     untracedShapes with their Asterisk source. TestShapesOfEverything
//     makes the fake send every kind of frame it can (emittable) and holds
//     each to the same check.
//
//  2. Sequence (sequenceDiffs): the call-significant events and every
//     response are compared with the recording's, after mapping channel
//     names, uniqueids and bridge ids to canonical names (canon). Filtered,
//     each for a stated reason:
//       - events outside significant: Newexten (and its AppDial, AppDial2,
//         AppQueue pseudo steps), Newcallerid/NewCallerid, NewConnectedLine,
//         HangupRequest, SoftHangupRequest, LocalBridge, DeviceStateChange
//         (of real and of pseudo devices such as Queue:q_avail), DTMF, Hold,
//         the security events and FullyBooted (sent by the session code,
//         not the PBX);
//       - VarSet of Asterisk's own variables (serviceVar): SIPURI,
//         SIPDOMAIN, SIPCALLID, RTPAUDIOQOS*, BRIDGEPEER, BRIDGEPVTCALLID,
//         DIALSTATUS, DIALEDPEER*, *TIME*, QUEUE*, READSTATUS…; the service
//         variables (calldata, customer_id, astcti_origin) are compared;
//       - values that must differ (ignoredFields): timestamps, EventTV,
//         SessionID/TV, addresses and ports, Uptime, LastReload, LoginTime,
//         LastCall, LastPause, CoreStartup/Reload date and time, Duration,
//         Seconds, Wait, and InCall (which real Asterisk reports either way,
//         see asterisk-20.20.1-sip/README.md);
//       - values set by a race (raceFields): DialBegin's DestChannelState;
//       - durations measured by Asterisk (timeFields) may be one unit off.
//     The comparison is per "thread" (threadsOf): the events of each
//     channel, each bridge, each queue member, each member's status per
//     queue, and the session's actions are each compared in order, and a
//     caller's events are compared once per destination together with its
//     own. Asterisk runs every channel in its own thread, so how two
//     channels' events interleave differs from run to run; the recordings
//     themselves disagree (DialState of 202 before 201 in one, after in
//     another). Within a thread, the one race seen in the recordings is
//     allowed by swapAllowed (rule R1).
//
// The recordings of one folder were made one after the other on one running
// Asterisk, and later ones show counters left by earlier ones (QueueParams
// Completed, Holdtime). So each folder is replayed as one chain on one PBX,
// in recording order, each recording compared with the fake's output for
// its own stretch of time.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
	"github.com/astcti/astcti/scenarios"
)

// sipPhones are the SIPp user agents of asterisk-20.20.1-sip/README.md.
func sipPhones() map[string]*scenarios.Phone {
	ph := map[string]*scenarios.Phone{
		"SIP/201": {Behaviour: scenarios.Answers, AnswerAfter: 2 * time.Second, TalkFor: 5 * time.Second},
		"SIP/202": {Behaviour: scenarios.NeverAnswers},
		"SIP/206": {Behaviour: scenarios.NeverAnswers},
		"SIP/203": {Behaviour: scenarios.Answers, TalkFor: 3 * time.Second},
		"SIP/204": {Behaviour: scenarios.Answers, TalkFor: 3 * time.Second},
		"SIP/205": {Behaviour: scenarios.Answers, TalkFor: 3 * time.Second},
		"SIP/209": {Behaviour: scenarios.Busy},
		"SIP/299": {Behaviour: scenarios.Unreachable},
	}
	for iface, p := range ph {
		p.Interface = iface
	}
	return ph
}

// chainStep is one recording of a chain, or a call that an unpublished
// recording made (which shows in the counters of the next ones).
type chainStep struct {
	trace     string          // recording name without .ami; "" for a synthetic step
	synthetic *scenarios.Call // a call to place instead of a recording
}

type chain struct {
	name    string
	dialect Dialect
	config  string // folder whose README holds the configuration
	phones  map[string]*scenarios.Phone
	steps   []chainStep
}

var chains = []chain{
	{
		name: "modern-sip", dialect: DialectModern, config: "asterisk-20.20.1-sip", phones: sipPhones(),
		steps: []chainStep{
			{trace: "asterisk-20.20.1-sip/a_nonqueue_answered"},
			{trace: "asterisk-20.20.1-sip/b1_nonqueue_noanswer"},
			{trace: "asterisk-20.20.1-sip/c_queue_answered"},
			{trace: "asterisk-20.20.1-sip/e_queue_pause_unpause_remove"},
			{trace: "asterisk-20.20.1-sip/f_originate"},
			{trace: "asterisk-20.20.1-sip/l_busy"},
		},
	},
	{
		name: "modern-errors", dialect: DialectModern, config: "asterisk-22.10.1",
		steps: []chainStep{{trace: "asterisk-22.10.1/h_action_errors"}},
	},
	{
		name: "1.4", dialect: Dialect14, config: "asterisk-1.4.44",
		steps: []chainStep{
			{trace: "asterisk-1.4.44/a_nonqueue_answered"},
			{trace: "asterisk-1.4.44/b1_nonqueue_noanswer"},
			{trace: "asterisk-1.4.44/b2_nonqueue_caller_hangup"},
			{trace: "asterisk-1.4.44/c_queue_answered"},
			{trace: "asterisk-1.4.44/c2_queue_ringnoanswer_then_answer"},
			// d_queue_abandon was recorded but not published; its caller
			// gave up in the queue, which shows as Abandoned: 1 in e.
			{synthetic: &scenarios.Call{CallerNum: "400", CallerName: "Demo 4", Exten: "102",
				Context: "astcti-queue-service", Channel: "SIP/trunk", HangupAt: 20 * time.Second}},
			{trace: "asterisk-1.4.44/e_queue_pause_unpause_remove"},
			{trace: "asterisk-1.4.44/f_originate"},
			{trace: "asterisk-1.4.44/h_action_errors"},
		},
	},
}

func TestConformance(t *testing.T) {
	shapes := tracedShapes(t)
	for _, ch := range chains {
		t.Run(ch.name, func(t *testing.T) {
			sc := traceConfig(t, ch.config)
			sc.Phones = ch.phones
			tp := newTestPBX(t, ch.dialect, sc)
			for _, st := range ch.steps {
				if st.synthetic != nil {
					c := *st.synthetic
					require.NoError(t, tp.Play(&scenarios.Scenario{Calls: []scenarios.Call{c}}))
					tp.advance(2 * time.Minute)
					continue
				}
				t.Run(filepath.Base(st.trace), func(t *testing.T) {
					got, want := runRecording(t, tp, st.trace)
					checkShapes(t, shapes[generation(ch.dialect)], got)
					for _, d := range sequenceDiffs(want, got) {
						t.Error(d)
					}
					if os.Getenv("FAKEAMI_DUMP") == filepath.Base(st.trace) {
						dumpStreams(t, want, got)
					}
				})
			}
		})
	}
}

// runRecording replays a recording's calls and actions into tp at their
// recorded times and returns the fake's output and the recording's.
func runRecording(t *testing.T, tp *testPBX, name string) (got, want []*ami.Frame) {
	tr, err := amitrace.Load(filepath.Join(amitrace.Root(), name+".ami"))
	require.NoError(t, err)
	recv := readTimed(t, tr.Received, tr.Timeline, "recv", true)
	sent := readTimed(t, tr.Sent, tr.Timeline, "send", false)

	// What happens, in recorded order: calls arriving from the SIP trunk
	// (they are not actions: the caller UA sent an INVITE) and actions.
	type input struct {
		at     time.Duration
		call   *scenarios.Call
		action *ami.Frame
	}
	var inputs []input
	var end time.Duration
	for _, tf := range recv {
		end = max(end, tf.at)
		if tf.f.Event() == "Newchannel" && strings.HasPrefix(tf.f.Get("Channel"), "SIP/trunk-") {
			c := &scenarios.Call{CallerNum: tf.f.Get("CallerIDNum"), CallerName: tf.f.Get("CallerIDName"),
				Exten: tf.f.Get("Exten"), Context: tf.f.Get("Context"), Channel: "SIP/trunk"}
			inputs = append(inputs, input{at: tf.at, call: c})
		}
		if tf.f.IsResponse() && !keepResponse(tf.f, sent) {
			continue
		}
		want = append(want, tf.f)
	}
	for _, tf := range sent {
		switch strings.ToLower(tf.f.Action()) {
		case "login", "logoff":
			continue
		}
		inputs = append(inputs, input{at: tf.at, action: tf.f})
	}
	sort.SliceStable(inputs, func(i, j int) bool { return inputs[i].at < inputs[j].at })

	rec := &recorder{clock: tp.clock}
	detach := tp.Attach(rec)
	defer detach()
	start := tp.clock.Now()
	for _, in := range inputs {
		tp.clock.AdvanceTo(start.Add(in.at))
		if in.call != nil {
			require.NoError(t, tp.Play(&scenarios.Scenario{Calls: []scenarios.Call{*in.call}}))
		} else {
			tp.Do(rec, in.action)
		}
	}
	tp.clock.AdvanceTo(start.Add(end + time.Second))
	got = rec.all()
	// Let what is still going on finish outside this recording's window,
	// as it did between two recordings.
	tp.advance(2 * time.Minute)
	return got, want
}

// keepResponse drops the responses to Login and Logoff, which the lead's
// session code answers, not the PBX.
func keepResponse(f *ami.Frame, sent []timedFrame2) bool {
	for _, s := range sent {
		if s.f.ActionID() == f.ActionID() {
			switch strings.ToLower(s.f.Action()) {
			case "login", "logoff":
				return false
			}
		}
	}
	return true
}

// ---------------------------------------------------------------- shapes

func generation(d Dialect) string {
	if d == Dialect14 {
		return "1.4"
	}
	return "modern"
}

// shapeKey names what a frame is for the shape check: the event name, or
// "Response:" and the response kind.
func shapeKey(f *ami.Frame) string {
	if e := f.Event(); e != "" {
		return e
	}
	return "Response:" + f.Response()
}

func shapeOf(f *ami.Frame) string {
	keys := make([]string, len(f.Fields))
	for i, fl := range f.Fields {
		keys[i] = fl.Key
	}
	if f.Output != nil {
		keys = append(keys, "<output>")
	}
	return strings.Join(keys, ",")
}

// tracedShapes collects, per generation, the field lists seen for every
// event and response in the recordings (read once per test binary).
func tracedShapes(t testing.TB) map[string]map[string]map[string]bool {
	shapesOnce.Do(func() { shapesCache, shapesErr = readShapes(t) })
	require.NoError(t, shapesErr)
	return shapesCache
}

var (
	shapesOnce  sync.Once
	shapesCache map[string]map[string]map[string]bool
	shapesErr   error
)

func readShapes(t testing.TB) (map[string]map[string]map[string]bool, error) {
	files, err := amitrace.All()
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]map[string]bool{"1.4": {}, "modern": {}}
	for _, path := range files {
		gen := ""
		switch {
		case strings.Contains(path, "asterisk-1.4."):
			gen = "1.4"
		case strings.Contains(path, "asterisk-20.") || strings.Contains(path, "asterisk-22."):
			gen = "modern"
		default:
			continue
		}
		tr, err := amitrace.Load(path)
		if err != nil {
			return nil, err
		}
		for _, tf := range readTimed(t, tr.Received, nil, "recv", true) {
			k := shapeKey(tf.f)
			if out[gen][k] == nil {
				out[gen][k] = map[string]bool{}
			}
			out[gen][k][shapeOf(tf.f)] = true
		}
	}
	lists, err := amitrace.Lists()
	if err != nil {
		return nil, err
	}
	for _, path := range lists {
		gen := "modern"
		if strings.Contains(path, "asterisk-1.4.") {
			gen = "1.4"
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		for _, f := range readStream(t, b, true) {
			k := shapeKey(f)
			if out[gen][k] == nil {
				out[gen][k] = map[string]bool{}
			}
			out[gen][k][shapeOf(f)] = true
		}
	}
	for gen, m := range untracedShapes {
		for k, list := range m {
			if out[gen][k] == nil {
				out[gen][k] = map[string]bool{}
			}
			for _, s := range list {
				out[gen][k][s] = true
			}
		}
	}
	return out, nil
}

// untracedShapes are frames the fake can send that no recording shows,
// with their field order from the Asterisk source of that generation.
var untracedShapes = map[string]map[string][]string{
	"1.4": {
		// Status, StatusComplete and QueueEntry come from the recorded
		// lists (testdata/ami-lists).
		// Getvar, Command (Response: Follows), UserEvent's "Event Sent"
		// come from the recorded doctor session (testdata/ami-lists).
		// app_userevent.c (1.4): UserEvent: name, then the body lines.
		"UserEvent": {"Event,Privilege,UserEvent"},
		// main/asterisk.c quit_handler.
		"Shutdown": {"Event,Privilege,Shutdown,Restart"},
	},
	"modern": {
		// app_queue.c manager_queues_status: a waiting caller.
		"QueueEntry": {"Event,Queue,Position,Channel,Uniqueid,CallerIDNum,CallerIDName,ConnectedLineNum,ConnectedLineName,Wait,Priority,ActionID"},
		// Command's Output, ShowDialPlan's ListDialplan come from the
		// recorded doctor session (testdata/ami-lists).
		// A caller's BYE before answer: HangupRequest without Cause
		// (asterisk-20.20.1-sip/README.md, d_queue_abandon, not published).
		"HangupRequest": {"Event,Privilege,Channel,ChannelState,ChannelStateDesc,CallerIDNum,CallerIDName,ConnectedLineNum,ConnectedLineName,Language,AccountCode,Context,Exten,Priority,Uniqueid,Linkedid"},
	},
}

// checkShapes holds every frame to the shapes of its generation.
func checkShapes(t *testing.T, shapes map[string]map[string]bool, frames []*ami.Frame) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range frames {
		k, s := shapeKey(f), shapeOf(f)
		if seen[k+"|"+s] {
			continue
		}
		seen[k+"|"+s] = true
		if shapeAllowed(shapes, f) {
			continue
		}
		var known []string
		for ks := range shapes[k] {
			known = append(known, ks)
		}
		sort.Strings(known)
		t.Errorf("%s has fields %s; the recordings show %q", k, s, known)
	}
}

func shapeAllowed(shapes map[string]map[string]bool, f *ami.Frame) bool {
	k, s := shapeKey(f), shapeOf(f)
	if shapes[k][s] {
		return true
	}
	if k == "UserEvent" {
		// the headers after UserEvent: are the event's own
		for known := range shapes[k] {
			if i := strings.Index(known, ",UserEvent"); i >= 0 && strings.HasPrefix(s, known[:i+len(",UserEvent")]) {
				return true
			}
		}
	}
	// Output repeats once per line of command output.
	if strings.Contains(s, ",Output") {
		s2 := s[:strings.Index(s, ",Output")+len(",Output")]
		return shapes[k][s2]
	}
	return false
}

// -------------------------------------------------------------- sequence

// significant says which events the sequence check compares.
// Not compared, because they are Asterisk internals a CTI client does not
// act on or the model does not reproduce exactly: Newexten (including the
// AppDial/AppDial2/AppQueue pseudo steps), Newcallerid/NewCallerid,
// NewConnectedLine, HangupRequest, SoftHangupRequest, LocalBridge,
// DeviceStateChange (real and pseudo devices), VarSet of Asterisk's own
// variables (see serviceVar), DTMF, Hold, the security events
// (SuccessfulAuth, RequestBadFormat, RequestNotAllowed, InvalidPassword,
// InvalidAccountID) and FullyBooted, which the lead's session code sends.
var significant = map[string]bool{
	"Newchannel": true, "Newstate": true, "Hangup": true,
	"Dial": true, "DialBegin": true, "DialState": true, "DialEnd": true,
	"Link": true, "Unlink": true,
	"BridgeCreate": true, "BridgeEnter": true, "BridgeLeave": true, "BridgeDestroy": true,
	"Join": true, "Leave": true,
	"QueueCallerJoin": true, "QueueCallerLeave": true, "QueueCallerAbandon": true,
	"AgentCalled": true, "AgentConnect": true, "AgentComplete": true, "AgentRingNoAnswer": true,
	"QueueMemberAdded": true, "QueueMemberRemoved": true, "QueueMemberPause": true,
	"QueueMemberPaused": true, "QueueMemberStatus": true,
	"OriginateResponse": true, "UserEvent": true, "VarSet": true,
	// list events answer actions
	"QueueParams": true, "QueueMember": true, "QueueEntry": true, "QueueStatusComplete": true,
	"QueueSummary": true, "QueueSummaryComplete": true,
	"CoreShowChannel": true, "CoreShowChannelsComplete": true, "Status": true, "StatusComplete": true,
}

// serviceVar tells the variables a dialplan or an Originate sets for the
// service (calldata, customer_id, astcti_origin) from Asterisk's own
// (DIALSTATUS, BRIDGEPEER, SIPCALLID, RTPAUDIOQOS…, QUEUEWAIT…), which are
// all upper case.
func serviceVar(name string) bool { return strings.ToUpper(name) != name }

// ignoredFields hold values that must differ between two runs.
var ignoredFields = map[string]bool{
	"Timestamp": true, "EventTV": true, "SessionID": true, "SessionTV": true,
	"LocalAddress": true, "RemoteAddress": true, "Uptime": true, "LastReload": true,
	"LoginTime": true, "LastCall": true, "LastPause": true,
	"CoreStartupDate": true, "CoreStartupTime": true, "CoreReloadDate": true, "CoreReloadTime": true,
	"Duration": true, "Seconds": true, "Wait": true,
	// InCall depends on whether app_queue processed the member's device
	// state before or after AgentConnect (asterisk-20.20.1-sip/README.md).
	"InCall": true,
}

// timeFields are durations measured by Asterisk; they are compared with a
// tolerance of one unit (seconds; RingTime of AgentRingNoAnswer in ms).
var timeFields = map[string]bool{
	"HoldTime": true, "Holdtime": true, "TalkTime": true, "RingTime": true, "LongestHoldTime": true,
}

// swapAllowed tells whether two adjacent events of one thread may come in
// either order, because in Asterisk they come from two threads that race.
// There is one such rule, with the recordings that show both orders:
//
//	R1: a phone's Newstate Ringing and app_dial's DialBegin for that phone
//	(a_nonqueue_answered: DialBegin first; b1_nonqueue_noanswer: Newstate
//	Ringing first, the 180 having beaten app_dial).
func swapAllowed(a, b normEvent) bool {
	if a.key == "DialBegin" {
		a, b = b, a
	}
	return a.key == "Newstate" && b.key == "DialBegin" &&
		a.get("ChannelStateDesc") == "Ringing" && a.get("Channel") == b.get("DestChannel")
}

func (e normEvent) get(key string) string {
	for _, f := range e.fields {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// raceFields are values that depend on which of two threads got there
// first, with the evidence.
var raceFields = map[string]map[string]bool{
	// The phone's 180 can beat app_dial's DialBegin (rule R1), which then
	// shows the destination Ringing instead of Down (b1_nonqueue_noanswer).
	"DialBegin": {"DestChannelState": true, "DestChannelStateDesc": true},
}

// canon maps channel names, uniqueids and bridge ids of one stream to
// canonical names: Local/201@phones#2;1 is the ;1 half of the second Local
// pair to 201@phones, SIP/201#1 the first channel of SIP/201.
type canon struct {
	names   map[string]string
	uids    map[string]string
	bridges map[string]string
	count   map[string]int
}

func newCanon() *canon {
	return &canon{names: map[string]string{}, uids: map[string]string{},
		bridges: map[string]string{}, count: map[string]int{}}
}

// splitChannel returns a channel name's base (tech/resource), pair name
// (without the half) and half (";1", ";2" or "").
func splitChannel(name string) (base, pair, half string) {
	pair, half = name, ""
	if n := len(name); n > 2 && (name[n-2] == ';' || name[n-2] == ',') && (name[n-1] == '1' || name[n-1] == '2') {
		pair, half = name[:n-2], ";"+name[n-1:]
	}
	base = pair
	if i := strings.LastIndexByte(pair, '-'); i > 0 {
		base = pair[:i]
	}
	return base, pair, half
}

func (c *canon) learn(f *ami.Frame) {
	if f.Event() == "Newchannel" {
		name := f.Get("Channel")
		base, pair, half := splitChannel(name)
		key := "pair:" + pair
		n, ok := c.count[key]
		if !ok {
			c.count[base]++
			n = c.count[base]
			c.count[key] = n
		}
		cn := fmt.Sprintf("%s#%d%s", base, n, half)
		c.names[name] = cn
		c.uids[f.Get("Uniqueid")] = cn
	}
	if id := f.Get("BridgeUniqueid"); id != "" {
		if _, ok := c.bridges[id]; !ok {
			c.bridges[id] = fmt.Sprintf("bridge#%d", len(c.bridges)+1)
		}
	}
}

func (c *canon) value(v string) string {
	if n, ok := c.names[v]; ok {
		return n
	}
	if n, ok := c.uids[v]; ok {
		return "uid:" + n
	}
	if n, ok := c.bridges[v]; ok {
		return n
	}
	return v
}

type normEvent struct {
	key     string      // event name or Response:kind
	fields  []ami.Field // normalized fields, compared
	threads []string
}

func (e normEvent) String() string {
	var b strings.Builder
	for i, f := range e.fields {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(f.Key + "=" + f.Value)
	}
	return b.String()
}

// normalize turns a stream into comparable events: significant events
// only, canonical names, no values that must differ.
func normalize(frames []*ami.Frame) []normEvent {
	c := newCanon()
	var out []normEvent
	for _, f := range frames {
		c.learn(f)
		e := f.Event()
		if e != "" && !significant[e] {
			continue
		}
		if e == "VarSet" && !serviceVar(f.Get("Variable")) {
			continue
		}
		ne := normEvent{key: shapeKey(f), threads: threadsOf(f, c)}
		for _, fl := range f.Fields {
			if ignoredFields[fl.Key] || raceFields[e][fl.Key] {
				continue
			}
			ne.fields = append(ne.fields, ami.Field{Key: fl.Key, Value: c.value(fl.Value)})
		}
		for _, o := range f.Output {
			ne.fields = append(ne.fields, ami.Field{Key: "<output>", Value: o})
		}
		out = append(out, ne)
	}
	return out
}

// threadsOf names the threads an event belongs to. A caller's event about
// one of its destinations (DialBegin of 202, AgentCalled for 201) goes to
// the caller's thread for that destination, "chan:caller|dest": each
// destination is compared with the caller's own events, but two
// destinations are not compared with each other, because in Asterisk each
// rings in its own thread (a_nonqueue_answered: DialState of 202 before
// 201; l_busy: 209's BUSY before 201's RINGING).
func threadsOf(f *ami.Frame, c *canon) []string {
	ch := func(k string) string {
		if v := f.Get(k); v != "" {
			return "chan:" + c.value(v)
		}
		return ""
	}
	sub := func(base, other string) string {
		if base == "" || other == "" {
			return base
		}
		return base + "|" + strings.TrimPrefix(other, "chan:")
	}
	var th []string
	add := func(s ...string) {
		for _, x := range s {
			if x != "" {
				th = append(th, x)
			}
		}
	}
	e := f.Event()
	switch e {
	case "":
		add("actions")
	case "Newchannel", "Newstate", "Hangup", "VarSet", "UserEvent":
		add(ch("Channel"))
	case "DialBegin", "DialState", "DialEnd":
		add(sub(ch("Channel"), ch("DestChannel")), ch("DestChannel"))
	case "Dial":
		add(sub(ch("Source"), ch("Destination")), ch("Destination"))
	case "Link", "Unlink":
		add(sub(ch("Channel1"), ch("Channel2")), ch("Channel2"))
	case "BridgeCreate", "BridgeDestroy":
		add(c.value(f.Get("BridgeUniqueid")))
	case "BridgeEnter", "BridgeLeave":
		add(ch("Channel"), c.value(f.Get("BridgeUniqueid")))
	case "Join", "Leave", "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon":
		add(ch("Channel"), "queue:"+f.Get("Queue"))
	case "AgentCalled":
		if v := f.Get("ChannelCalling"); v != "" { // 1.4
			add(sub("chan:"+c.value(v), "member:"+f.Get("AgentCalled")), "member:"+f.Get("AgentCalled"))
		} else {
			add(sub(ch("Channel"), ch("DestChannel")), "member:"+f.Get("Interface"))
		}
	case "AgentConnect", "AgentComplete", "AgentRingNoAnswer":
		if m := f.Get("Member"); m != "" { // 1.4 names the caller by Uniqueid
			caller := "chan:" + strings.TrimPrefix(c.value(f.Get("Uniqueid")), "uid:")
			add(sub(caller, "member:"+m), "member:"+m)
		} else {
			add(sub(ch("Channel"), ch("DestChannel")), "member:"+f.Get("Interface"))
		}
	case "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberPaused":
		add("member:" + f.Get("Interface") + f.Get("Location"))
	case "QueueMemberStatus":
		add("qms:" + f.Get("Interface") + f.Get("Location") + "@" + f.Get("Queue"))
	case "OriginateResponse":
		add("actions")
		if v := c.value(f.Get("Channel")); v != f.Get("Channel") {
			add("chan:" + v)
		}
	default: // list events
		add("actions")
	}
	return th
}

// sequenceDiffs compares the two streams thread by thread and describes
// each thread that differs.
func sequenceDiffs(want, got []*ami.Frame) []string {
	w, g := normalize(want), normalize(got)
	wt, gt := threads(w), threads(g)
	var names []string
	for k := range wt {
		names = append(names, k)
	}
	for k := range gt {
		if _, ok := wt[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out []string
	for _, th := range names {
		if msg := diffThread(wt[th], gt[th]); msg != "" {
			out = append(out, fmt.Sprintf("thread %s:\n%s", th, msg))
		}
	}
	if len(w) == 0 {
		out = append(out, "the recording has no significant events: nothing was compared")
	}
	return out
}

// dumpStreams logs both streams in full, one line per frame.
func dumpStreams(t *testing.T, want, got []*ami.Frame) {
	line := func(f *ami.Frame) string {
		var b strings.Builder
		b.WriteString(shapeKey(f))
		for _, fl := range f.Fields {
			switch fl.Key {
			case "Channel", "DestChannel", "Channel1", "Channel2", "Source", "Destination", "State",
				"ChannelStateDesc", "Application", "AppData", "Cause", "DialStatus", "Message", "Variable",
				"Value", "Queue", "Interface", "Location", "Status", "Reason", "CallerID", "CallerIDNum":
				b.WriteString(" " + fl.Key + "=" + fl.Value)
			}
		}
		return b.String()
	}
	for _, f := range want {
		t.Logf("want %s", line(f))
	}
	for _, f := range got {
		t.Logf("got  %s", line(f))
	}
}

// threads groups events by thread. A caller's thread "chan:X" is compared
// once per destination d: its own events together with those about d
// ("chan:X|d"), in stream order.
func threads(evs []normEvent) map[string][]normEvent {
	type item struct {
		i int
		e normEvent
	}
	raw := map[string][]item{}
	subs := map[string][]string{} // chan:X -> its destinations
	seen := map[string]bool{}
	for i, e := range evs {
		for _, th := range e.threads {
			raw[th] = append(raw[th], item{i, e})
			if base, d, ok := strings.Cut(th, "|"); ok && !seen[th] {
				seen[th] = true
				subs[base] = append(subs[base], d)
			}
		}
	}
	out := map[string][]normEvent{}
	for th, items := range raw {
		if strings.Contains(th, "|") {
			continue
		}
		if len(subs[th]) == 0 {
			for _, it := range items {
				out[th] = append(out[th], it.e)
			}
			continue
		}
		for _, d := range subs[th] {
			merged := append(append([]item(nil), items...), raw[th+"|"+d]...)
			sort.Slice(merged, func(a, b int) bool { return merged[a].i < merged[b].i })
			for _, it := range merged {
				out[th+"|"+d] = append(out[th+"|"+d], it.e)
			}
		}
	}
	// a caller whose own events are all about destinations
	for base, ds := range subs {
		if _, ok := raw[base]; ok {
			continue
		}
		for _, d := range ds {
			for _, it := range raw[base+"|"+d] {
				out[base+"|"+d] = append(out[base+"|"+d], it.e)
			}
		}
	}
	return out
}

// diffThread compares one thread; it returns "" when equal.
func diffThread(want, got []normEvent) string {
	want = append([]normEvent(nil), want...)
	n := max(len(want), len(got))
	for i := 0; i < n; i++ {
		if i < len(want) && i < len(got) && equalEvent(want[i], got[i]) {
			continue
		}
		if i+1 < len(want) && i+1 < len(got) && equalEvent(want[i+1], got[i]) &&
			equalEvent(want[i], got[i+1]) && swapAllowed(want[i], want[i+1]) {
			want[i], want[i+1] = want[i+1], want[i]
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "  first difference at event %d of %d (want) / %d (got)\n", i, len(want), len(got))
		for j := max(0, i-3); j < min(n, i+3); j++ {
			ws, gs := "-", "-"
			if j < len(want) {
				ws = want[j].short()
			}
			if j < len(got) {
				gs = got[j].short()
			}
			mark := " "
			if j == i {
				mark = ">"
			}
			fmt.Fprintf(&b, "%s want %s\n%s got  %s\n", mark, ws, mark, gs)
		}
		if i < len(want) && i < len(got) && want[i].key == got[i].key {
			fmt.Fprintf(&b, "  fields: %s\n", fieldDiff(want[i], got[i]))
		}
		return b.String()
	}
	return ""
}

// short names an event by its kind and the fields that tell it apart.
func (e normEvent) short() string {
	var b strings.Builder
	b.WriteString(e.key)
	for _, f := range e.fields {
		switch f.Key {
		case "Channel", "DestChannel", "Channel1", "Channel2", "Source", "Destination", "Queue",
			"Interface", "Location", "Status", "DialStatus", "ChannelStateDesc", "State", "Cause",
			"Response", "Message", "ActionID", "Reason", "Variable", "Value", "Paused", "BridgeUniqueid",
			"AgentCalled", "Member", "BridgeNumChannels":
			b.WriteString(" " + f.Key + "=" + f.Value)
		}
	}
	return b.String()
}

// fieldDiff lists the fields in which two events of the same kind differ.
func fieldDiff(a, b normEvent) string {
	var out []string
	for i := 0; i < max(len(a.fields), len(b.fields)); i++ {
		var fa, fb ami.Field
		if i < len(a.fields) {
			fa = a.fields[i]
		}
		if i < len(b.fields) {
			fb = b.fields[i]
		}
		if fa != fb {
			out = append(out, fmt.Sprintf("%s=%q/%s=%q", fa.Key, fa.Value, fb.Key, fb.Value))
		}
	}
	return strings.Join(out, "; ")
}

// equalEvent compares two normalized events; durations measured by
// Asterisk (timeFields) may differ by one unit.
func equalEvent(a, b normEvent) bool {
	if a.key != b.key || len(a.fields) != len(b.fields) {
		return false
	}
	for i := range a.fields {
		fa, fb := a.fields[i], b.fields[i]
		if fa.Key != fb.Key {
			return false
		}
		if fa.Value == fb.Value {
			continue
		}
		if !timeFields[fa.Key] {
			return false
		}
		x, err1 := strconv.Atoi(fa.Value)
		y, err2 := strconv.Atoi(fb.Value)
		tol := 1
		if a.key == "AgentRingNoAnswer" {
			tol = 1000
		}
		if err1 != nil || err2 != nil || x-y > tol || y-x > tol {
			return false
		}
	}
	return true
}

func TestCanonChannelNames(t *testing.T) {
	tests := []struct{ in, base, pair, half string }{
		{"SIP/201-00000001", "SIP/201", "SIP/201-00000001", ""},
		{"Local/201@phones-c3ae,1", "Local/201@phones", "Local/201@phones-c3ae", ";1"},
		{"Local/201@phones-0000000a;2", "Local/201@phones", "Local/201@phones-0000000a", ";2"},
	}
	for _, tc := range tests {
		base, pair, half := splitChannel(tc.in)
		assert.Equal(t, []string{tc.base, tc.pair, tc.half}, []string{base, pair, half}, "splitChannel(%q)", tc.in)
	}
}

// TestSequenceCheckCatches makes sure the comparison is not blind: a
// recording compared with itself passes, and each kind of damage to it is
// reported.
func TestSequenceCheckCatches(t *testing.T) {
	tr, err := amitrace.Load(filepath.Join(amitrace.Root(), "asterisk-20.20.1-sip", "c_queue_answered.ami"))
	require.NoError(t, err)
	var base []*ami.Frame
	for _, tf := range readTimed(t, tr.Received, nil, "recv", true) {
		base = append(base, tf.f)
	}
	require.Empty(t, sequenceDiffs(base, base))

	index := func(frames []*ami.Frame, event, key, value string) int {
		for i, f := range frames {
			if f.Event() == event && (key == "" || f.Get(key) == value) {
				return i
			}
		}
		t.Fatalf("no %s %s=%s", event, key, value)
		return -1
	}
	tests := []struct {
		name   string
		damage func(fs []*ami.Frame) []*ami.Frame
	}{
		{"a hangup cause", func(fs []*ami.Frame) []*ami.Frame {
			i := index(fs, "Hangup", "", "")
			fs[i] = fs[i].Clone().Set("Cause", "17")
			return fs
		}},
		{"an event missing", func(fs []*ami.Frame) []*ami.Frame {
			i := index(fs, "AgentConnect", "", "")
			return append(fs[:i], fs[i+1:]...)
		}},
		{"an extra event", func(fs []*ami.Frame) []*ami.Frame {
			i := index(fs, "QueueCallerJoin", "", "")
			return append(fs[:i+1], fs[i:]...)
		}},
		{"two events of one channel swapped", func(fs []*ami.Frame) []*ami.Frame {
			i, j := index(fs, "QueueCallerLeave", "", ""), index(fs, "AgentConnect", "", "")
			fs[i], fs[j] = fs[j], fs[i]
			return fs
		}},
		{"a response message", func(fs []*ami.Frame) []*ami.Frame {
			for i, f := range fs {
				if f.ActionID() == "c-4" {
					fs[i] = f.Clone().Set("Message", "Unable to remove interface: Not there")
				}
			}
			return fs
		}},
		{"a member status", func(fs []*ami.Frame) []*ami.Frame {
			i := index(fs, "QueueMemberStatus", "Status", "6")
			fs[i] = fs[i].Clone().Set("Status", "2")
			return fs
		}},
		{"a service variable", func(fs []*ami.Frame) []*ami.Frame {
			i := index(fs, "VarSet", "Variable", "customer_id")
			fs[i] = fs[i].Clone().Set("Value", "1")
			return fs
		}},
		{"a talk time off by 3 s", func(fs []*ami.Frame) []*ami.Frame {
			i := index(fs, "AgentComplete", "", "")
			fs[i] = fs[i].Clone().Set("TalkTime", "8")
			return fs
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			damaged := tc.damage(append([]*ami.Frame(nil), base...))
			assert.NotEmpty(t, sequenceDiffs(base, damaged), "damage not detected")
		})
	}
	// A talk time one second off is within the tolerance.
	i := index(base, "AgentComplete", "", "")
	off := append([]*ami.Frame(nil), base...)
	off[i] = off[i].Clone().Set("TalkTime", "6")
	assert.Empty(t, sequenceDiffs(base, off))
}

// TestShapeCheckCatches makes sure the field check rejects a reordered or
// renamed field and an event no recording has.
func TestShapeCheckCatches(t *testing.T) {
	shapes := tracedShapes(t)["modern"]
	ok := ev("Hangup", "call,all")
	chanBlock(ok, "", &channel{name: "SIP/201-00000001", state: stateUp})
	ok.Add("Cause", "16").Add("Cause-txt", "Normal Clearing")
	assert.True(t, shapeAllowed(shapes, ok))

	swapped := ok.Clone()
	n := len(swapped.Fields)
	swapped.Fields[n-1], swapped.Fields[n-2] = swapped.Fields[n-2], swapped.Fields[n-1]
	assert.False(t, shapeAllowed(shapes, swapped))

	renamed := ok.Clone()
	renamed.Fields[n-1].Key = "CauseText"
	assert.False(t, shapeAllowed(shapes, renamed))

	assert.False(t, shapeAllowed(shapes, ev("NoSuchEvent", "call,all")))
}
