package doctor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

// facts is what the doctor learnt from the PBX, before judging it.
type facts struct {
	gen       generation
	genKnown  bool
	version   string // "22.10.1", "" when unknown
	versionBy string // CoreSettings, core show version

	probes map[string]probe // by action name

	show    *userClasses // `manager show user`; nil when unknown
	showWhy string       // why unknown

	conf    *managerUser // the user's section of --manager-conf; nil when not read
	confWhy string       // why not read, when --manager-conf was given

	probeBack bool // the probe UserEvent came back

	skew    time.Duration
	skewBy  string // "Ping timestamp", "Getvar EPOCH"; "" when unknown
	skewWhy string

	dpHow    string // "ShowDialPlan", "dialplan show": how the dialplan was read; "" when it could not be
	dpWhy    string // why it could not
	contexts map[string]*ctxInfo
	queues   map[string]*queueInfo
	extens   map[string]*extenInfo // by "exten@context"
}

// probe is the answer to one action.
type probe struct {
	v   verdict
	msg string // Asterisk's Message, or the error
}

// ctxInfo is what the doctor knows of a context.
type ctxInfo struct {
	known  bool // false: the dialplan could not be read
	exists bool
	ctx    *dpContext
	why    string // how it was found missing, or why it is unknown
}

type queueInfo struct {
	known, exists bool
	why           string
}

type extenInfo struct {
	known, exists bool
	why           string
}

// The probes: each action in a form Asterisk refuses for another reason
// than the class, so that nothing changes on the PBX (no queue member,
// no call). The queue and context names are not ones a PBX has.
const (
	probeQueue   = "astcti-doctor-no-such-queue"
	probeContext = "astcti-doctor-no-such-context"
	probeIface   = "Local/astcti-doctor@" + probeContext
)

// gather asks the PBX everything the checks need. Failures are facts too:
// nothing here ends the run.
func (d *doctor) gather(ctx context.Context, token string) {
	f := &d.f
	f.probes = map[string]probe{}
	f.contexts = map[string]*ctxInfo{}
	f.queues = map[string]*queueInfo{}
	f.extens = map[string]*extenInfo{}
	f.gen, f.genKnown = generationOf(d.s.up.Version)

	// First the UserEvent, so that a test can tell the doctor is logged
	// in and watching; it comes back while the rest goes on.
	sentProbe := time.Now()
	d.probe(ctx, "UserEvent", "UserEvent", "AstCTIDoctor", "Doctor", token)

	if f.gen != gen14 {
		call, err := d.s.do(ctx, "CoreSettings")
		if v, _ := judge(call, err); v == allowed && err == nil {
			f.version, f.versionBy = call.Reply.Get("AsteriskVersion"), "CoreSettings"
		}
	}
	if call := d.probe(ctx, "Command", "Command", "core show version"); f.version == "" && call != nil && call.Reply != nil {
		if version := asteriskVersion(append(call.Reply.Output, call.Reply.Values("Output")...)); version != "" {
			f.version, f.versionBy = version, "core show version"
		}
	}
	d.gatherShowUser(ctx)

	d.probe(ctx, "QueueAdd", "Queue", probeQueue, "Interface", probeIface)
	d.probe(ctx, "QueueRemove", "Queue", probeQueue, "Interface", probeIface)
	d.probe(ctx, "QueuePause", "Interface", probeIface, "Paused", "false")
	d.probe(ctx, "Originate")
	d.probe(ctx, "Status", "Channel", probeIface+"-00000000;1")
	if f.gen != gen14 {
		d.probe(ctx, "CoreShowChannels")
		d.probe(ctx, "CoreStatus")
	}
	d.gatherClock(ctx)
	d.gatherManagerConf()
	d.gatherDialplan(ctx)
	d.gatherQueues(ctx)

	if f.probes["UserEvent"].v == allowed {
		select {
		case <-d.s.w.probeBack:
			f.probeBack = true
		case <-time.After(time.Until(sentProbe.Add(probeWait))):
		case <-ctx.Done():
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// probe sends one action and keeps what its answer says.
func (d *doctor) probe(ctx context.Context, name string, kv ...string) *ami.Call {
	call, err := d.s.do(ctx, name, kv...)
	v, msg := judge(call, err)
	d.f.probes[name] = probe{v: v, msg: msg}
	d.log.Debug("doctor: probe", "action", name, "verdict", v, "message", msg)
	return call
}

// gatherShowUser reads the user's classes with `manager show user`.
func (d *doctor) gatherShowUser(ctx context.Context) {
	f := &d.f
	if p := f.probes["Command"]; p.v != allowed {
		f.showWhy = "the user may not run Command (" + p.msg + "), which `manager show user` needs"
		return
	}
	lines, _, err := d.s.command(ctx, "manager show user "+d.opts.AMI.Username)
	if err != nil {
		f.showWhy = err.Error()
		return
	}
	u, err := parseManagerShowUser(lines)
	if err != nil {
		f.showWhy = "manager show user " + d.opts.AMI.Username + ": " + err.Error()
		return
	}
	f.show = &u
}

// gatherClock compares the PBX's clock with ours: the Timestamp of Ping's
// answer (Asterisk 1.6 and later, microseconds), else Getvar of EPOCH
// (seconds; on 1.4 too). The middle of the round trip is taken as the
// moment the PBX read its clock.
func (d *doctor) gatherClock(ctx context.Context) {
	f := &d.f
	t0 := time.Now()
	call, err := d.s.do(ctx, "Ping")
	t1 := time.Now()
	mid := t0.Add(t1.Sub(t0) / 2)
	if err == nil && call.Reply != nil {
		if ts, perr := strconv.ParseFloat(call.Reply.Get("Timestamp"), 64); perr == nil && ts > 0 {
			sec, frac := math.Modf(ts)
			pbx := time.Unix(int64(sec), int64(frac*1e9))
			f.skew, f.skewBy = pbx.Sub(mid), "Ping timestamp"
		}
	}
	t0 = time.Now()
	call = d.probe(ctx, "Getvar", "Variable", "EPOCH")
	t1 = time.Now()
	mid = t0.Add(t1.Sub(t0) / 2)
	if f.skewBy != "" {
		return // the Ping's timestamp is the better clock
	}
	if p := f.probes["Getvar"]; p.v != allowed || call == nil || call.Reply == nil {
		f.skewWhy = "no Ping timestamp (Asterisk 1.4) and Getvar refused (" + p.msg + ")"
		return
	}
	epoch, perr := strconv.ParseInt(call.Reply.Get("Value"), 10, 64)
	if perr != nil {
		f.skewWhy = fmt.Sprintf("Getvar EPOCH answered %q", call.Reply.Get("Value"))
		return
	}
	// EPOCH is the second the PBX was in: its middle is the best guess.
	f.skew, f.skewBy = time.Unix(epoch, 5e8).Sub(mid), "Getvar EPOCH"
}

// gatherManagerConf reads the user's section of --manager-conf.
func (d *doctor) gatherManagerConf() {
	path := d.opts.ManagerConf
	if path == "" {
		return
	}
	u, err := readManagerConf(path, d.opts.AMI.Username)
	switch {
	case err != nil:
		d.f.confWhy = "cannot read " + path + ": " + err.Error()
	case u == nil:
		d.f.confWhy = fmt.Sprintf("%s has no [%s] section", path, d.opts.AMI.Username)
	default:
		d.f.conf = u
	}
}

// services returns the enabled services of the configuration.
func (d *doctor) services() []config.Service {
	if d.model == nil {
		return nil
	}
	var out []config.Service
	for _, s := range d.model.Services {
		if s.Enabled {
			out = append(out, s)
		}
	}
	return out
}

// maxJumpContexts bounds the contexts read because a service's context
// sends calls to them (Goto, Gosub, Macro).
var maxJumpContexts = 20

// gatherDialplan reads the services' contexts, the contexts they jump to
// (one level), and whether the extensions of the Local seats exist.
func (d *doctor) gatherDialplan(ctx context.Context) {
	var names []string
	for _, s := range d.services() {
		names = append(names, s.Context)
	}
	for _, n := range names {
		d.context(ctx, n)
	}
	jumps := 0
	for _, s := range d.services() {
		ci := d.f.contexts[s.Context]
		if !ci.exists {
			continue
		}
		for _, t := range jumpTargets(ci.ctx, d.f.gen) {
			if _, ok := d.f.contexts[t]; ok || jumps >= maxJumpContexts {
				continue
			}
			jumps++
			d.context(ctx, t)
		}
	}
	d.gatherExtens(ctx)
}

// context reads one context, once, by ShowDialPlan where the PBX has it
// and the user may run it, else by `dialplan show`.
func (d *doctor) context(ctx context.Context, name string) *ctxInfo {
	if ci, ok := d.f.contexts[name]; ok {
		return ci
	}
	ci := &ctxInfo{}
	d.f.contexts[name] = ci
	if d.f.dpHow == "" && d.f.dpWhy == "" {
		d.chooseDialplanSource(ctx, name, ci)
		return ci
	}
	switch d.f.dpHow {
	case "ShowDialPlan":
		d.showDialPlan(ctx, name, ci)
	case "dialplan show":
		d.dialplanShow(ctx, name, ci)
	default:
		ci.why = d.f.dpWhy
	}
	return ci
}

// chooseDialplanSource tries ShowDialPlan, then `dialplan show`, on the
// first context, and keeps the first the PBX answers.
func (d *doctor) chooseDialplanSource(ctx context.Context, name string, ci *ctxInfo) {
	var why []string
	if d.f.gen != gen14 {
		if v, msg := d.showDialPlan(ctx, name, ci); v == allowed {
			d.f.dpHow = "ShowDialPlan"
			return
		} else {
			why = append(why, "ShowDialPlan: "+msg)
		}
	}
	if p := d.f.probes["Command"]; p.v == allowed {
		if v, msg := d.dialplanShow(ctx, name, ci); v == allowed {
			d.f.dpHow = "dialplan show"
			return
		} else {
			why = append(why, "dialplan show: "+msg)
		}
	} else {
		why = append(why, "Command (for dialplan show): "+p.msg)
	}
	d.f.dpWhy = strings.Join(why, "; ")
	ci.known, ci.why = false, d.f.dpWhy
}

// showDialPlan reads a context with ShowDialPlan (Asterisk 1.6+).
func (d *doctor) showDialPlan(ctx context.Context, name string, ci *ctxInfo) (verdict, string) {
	call, err := d.s.do(ctx, "ShowDialPlan", "Context", name)
	v, msg := judge(call, err)
	switch {
	case v != allowed:
		return v, msg
	case err != nil && strings.HasPrefix(msg, "Did not find context"):
		ci.known, ci.why = true, "ShowDialPlan: "+msg
		return v, msg
	case err != nil:
		ci.why = "ShowDialPlan: " + msg
		return v, msg
	}
	ci.known = true
	for _, c := range parseListDialplan(call.Items) {
		if c.Name == name {
			ci.exists, ci.ctx = true, c
		}
	}
	if !ci.exists {
		// An empty context is listed with no item.
		ci.exists, ci.ctx = true, &dpContext{Name: name}
	}
	return v, msg
}

// dialplanShow reads a context with the CLI's `dialplan show CONTEXT`.
func (d *doctor) dialplanShow(ctx context.Context, name string, ci *ctxInfo) (verdict, string) {
	lines, v, err := d.s.command(ctx, "dialplan show "+name)
	if v != allowed {
		return v, errText(err)
	}
	cs, err := parseDialplanShow(lines)
	switch {
	case errors.Is(err, errNoContext):
		ci.known, ci.why = true, "dialplan show "+name+": "+firstLine(lines)
	case err != nil:
		ci.why = "dialplan show " + name + ": " + err.Error()
	default:
		ci.known = true
		for _, c := range cs {
			if c.Name == name {
				ci.exists, ci.ctx = true, c
			}
		}
		if !ci.exists {
			ci.why = "dialplan show " + name + " listed other contexts"
		}
	}
	return allowed, ""
}

func firstLine(lines []string) string {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			return strings.TrimSpace(l)
		}
	}
	return "(no output)"
}

// gatherExtens asks whether the exten@context of each Local seat
// exists, several at a time.
func (d *doctor) gatherExtens(ctx context.Context) {
	if d.model == nil {
		return
	}
	var keys []string
	for _, s := range d.model.Seats {
		exten, context, ok := localTarget(s.Interface)
		if !ok {
			continue
		}
		k := exten + "@" + context
		if _, dup := d.f.extens[k]; dup {
			continue
		}
		d.f.extens[k] = &extenInfo{}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return
	}
	if d.f.dpHow == "" {
		// No service read the dialplan yet (or it could not be read):
		// let the first seat's context decide how.
		_, context, _ := strings.Cut(keys[0], "@")
		d.context(ctx, context)
	}
	if d.f.dpHow == "" {
		for _, k := range keys {
			d.f.extens[k].why = d.f.dpWhy
		}
		return
	}
	actions := make([]*ami.Frame, len(keys))
	for i, k := range keys {
		exten, context, _ := strings.Cut(k, "@")
		if d.f.dpHow == "ShowDialPlan" {
			actions[i] = ami.NewAction("ShowDialPlan", "Context", context, "Extension", exten)
		} else {
			actions[i] = ami.NewAction("Command", "Command", "dialplan show "+k)
		}
	}
	for i, call := range d.doMany(ctx, actions) {
		d.f.extens[keys[i]] = d.extenAnswer(call)
	}
}

// extenAnswer reads the answer about one exten@context.
func (d *doctor) extenAnswer(call *ami.Call) *extenInfo {
	v, msg := judge(call, call.Err)
	switch {
	case v != allowed:
		return &extenInfo{why: msg}
	case d.f.dpHow == "ShowDialPlan" && call.Err != nil:
		if strings.HasPrefix(msg, "Did not find") {
			return &extenInfo{known: true, why: "ShowDialPlan: " + msg}
		}
		return &extenInfo{why: "ShowDialPlan: " + msg}
	case d.f.dpHow == "ShowDialPlan":
		return &extenInfo{known: true, exists: true}
	}
	lines := call.Reply.Output
	if lines == nil {
		lines = call.Reply.Values("Output")
	}
	_, err := parseDialplanShow(lines)
	switch {
	case errors.Is(err, errNoContext), errors.Is(err, errNoExtension):
		return &extenInfo{known: true, why: firstLine(lines)}
	case err != nil:
		return &extenInfo{why: err.Error()}
	}
	return &extenInfo{known: true, exists: true}
}

// doMany sends the actions, at most inFlight at a time, and returns their
// calls in order; a call not sent or not answered before ctx ended has
// its Err set.
func (d *doctor) doMany(ctx context.Context, actions []*ami.Frame) []*ami.Call {
	calls := make([]*ami.Call, len(actions))
	done := make(chan *ami.Call, inFlight)
	index := map[*ami.Call]int{}
	next, pending := 0, 0
	for next < len(actions) || pending > 0 {
		for pending < inFlight && next < len(actions) {
			c := d.s.c.Go(actions[next], done)
			index[c] = next
			next++
			pending++
		}
		select {
		case c := <-done:
			calls[index[c]] = c
			pending--
		case <-ctx.Done():
			for i, c := range calls {
				if c == nil {
					calls[i] = &ami.Call{Action: actions[i], Err: ctx.Err()}
				}
			}
			return calls
		}
	}
	return calls
}

// localTarget returns the exten and context of a Local interface
// (Local/201@phones/n).
func localTarget(iface string) (exten, context string, ok bool) {
	tech, res, ok := strings.Cut(iface, "/")
	if !ok || !strings.EqualFold(tech, "Local") {
		return "", "", false
	}
	res, _, _ = strings.Cut(res, "/")
	exten, context, ok = strings.Cut(res, "@")
	return exten, context, ok && exten != "" && context != ""
}

// gatherQueues asks QueueStatus whether each queue service's queue
// exists.
func (d *doctor) gatherQueues(ctx context.Context) {
	for _, s := range d.services() {
		if !s.IsQueue {
			continue
		}
		if _, ok := d.f.queues[strings.ToLower(s.Queue)]; ok {
			continue
		}
		qi := &queueInfo{}
		d.f.queues[strings.ToLower(s.Queue)] = qi
		call, err := d.s.do(ctx, "QueueStatus", "Queue", s.Queue)
		if v, msg := judge(call, err); v != allowed || err != nil {
			qi.why = "QueueStatus: " + msg
			continue
		}
		qi.known = true
		for _, f := range call.Items {
			if ami.EqualFold(f.Event(), "QueueParams") && strings.EqualFold(f.Get("Queue"), s.Queue) {
				qi.exists = true
			}
		}
		if !qi.exists {
			qi.why = "QueueStatus lists no queue of that name"
		}
	}
}
