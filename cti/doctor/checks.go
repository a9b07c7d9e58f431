package doctor

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/config"
)

// clockSkewMax is the clock difference above which the clock check warns.
var clockSkewMax = 3 * time.Second

func (d *doctor) hasQueueService() bool {
	for _, s := range d.services() {
		if s.IsQueue {
			return true
		}
	}
	return false
}

func (d *doctor) hasOutboundService() bool {
	for _, s := range d.services() {
		if s.Type == config.Outbound {
			return true
		}
	}
	return false
}

// reload is what to run after editing manager.conf.
const reload = `then run "manager reload"`

func (d *doctor) checkVersion() {
	f := &d.f
	version := "Asterisk " + f.version
	if f.version == "" {
		version = "Asterisk (version not told: CoreSettings and Command refused)"
	} else if f.versionBy != "" {
		version += " (" + f.versionBy + ")"
	}
	switch {
	case !f.genKnown:
		d.warn("version", fmt.Sprintf("%s, manager version %q, which the doctor does not know", version, d.s.up.Version),
			"astcti supports Asterisk 1.4 and later; the checks below take it for Asterisk 12 or later")
	case tooOld(f.version):
		d.fail("version", fmt.Sprintf("%s: astcti needs Asterisk 1.4 or later", version), "upgrade Asterisk")
	default:
		d.ok("version", "%s, manager %s: %s", version, d.s.up.Version, f.gen)
	}
}

// writeCheck is one action astcti needs and what it is for.
type writeCheck struct {
	action string
	needed bool   // astcti cannot do its work without it: FAIL when refused
	what   string // what breaks without it
	probe  string // the harmless form the doctor sent
}

func (d *doctor) checkWrites() {
	g := d.f.gen
	queue, outbound := d.hasQueueService(), d.hasOutboundService()
	checks := []writeCheck{
		{"QueueAdd", queue, "astcti cannot add the operators' phones to their queues", "of a queue that does not exist"},
		{"QueueRemove", queue, "astcti cannot take the operators' phones out of their queues", "of a queue that does not exist"},
		{"QueuePause", queue, "operators cannot pause", "of an interface in no queue"},
		{"Originate", outbound, "operators cannot place calls (ORIG)", "without a channel"},
		{"Getvar", false, "the calls astcti rebuilds after a reconnect have no data", "of EPOCH, without a channel"},
	}
	for _, c := range checks {
		d.writeLine(c)
	}
	if g == gen14 {
		d.writeLine(writeCheck{"Status", false, "after a reconnect astcti cannot tell which calls are still up", "of a channel that does not exist"})
	} else {
		d.listChannelsLine()
		d.writeLine(writeCheck{"CoreStatus", false, "astcti cannot read when the PBX started, and tells a restart only by the Shutdown event", "(read only)"})
	}
	d.commandLine()
}

func (d *doctor) writeLine(c writeCheck) {
	p := d.f.probes[c.action]
	name := "write " + c.action
	classes := classesText(d.f.gen, c.action)
	switch p.v {
	case allowed:
		d.ok(name, "allowed (%s); the harmless probe %s got %q", classes, c.probe, p.msg)
	case denied:
		st := Warn
		if c.needed {
			st = Fail
		}
		d.result(st, name, fmt.Sprintf("Permission denied: the user lacks the write class %s: %s", classes, c.what),
			fmt.Sprintf("add %s to the write= line of [%s] in manager.conf, %s", firstClass(d.f.gen, c.action), d.opts.AMI.Username, reload))
	case absent:
		d.result(Fail, name, fmt.Sprintf("this Asterisk has no %s action (%s): %s", c.action, p.msg, c.what),
			"load the module that provides it (app_queue for the queue actions)")
	default:
		d.warn(name, "no answer to the probe: "+p.msg, "run the doctor again")
	}
}

// firstClass is the class to add for an action: the narrowest of those
// that allow it (reporting rather than system).
func firstClass(g generation, action string) string {
	cs := actionClasses[g][action]
	for _, c := range cs {
		if c == "reporting" || c == "originate" || c == "agent" {
			return c
		}
	}
	if len(cs) > 0 {
		return cs[len(cs)-1]
	}
	return "?"
}

// listChannelsLine: CoreShowChannels, or Status as astcti's fallback.
func (d *doctor) listChannelsLine() {
	csc, st := d.f.probes["CoreShowChannels"], d.f.probes["Status"]
	name := "write CoreShowChannels"
	fix := fmt.Sprintf("add reporting to the write= line of [%s] in manager.conf, %s", d.opts.AMI.Username, reload)
	switch {
	case csc.v == allowed:
		d.ok(name, "allowed (%s): astcti lists the live calls with it after each reconnect", classesText(d.f.gen, "CoreShowChannels"))
	case csc.v == denied && st.v == allowed:
		d.warn(name, "Permission denied; astcti falls back to Status, which the user may run", fix)
	case csc.v == denied:
		d.warn(name, "Permission denied, and for Status too: after a reconnect astcti cannot tell which calls are still up", fix)
	default:
		d.warn(name, "no answer to the probe: "+csc.msg, "run the doctor again")
	}
}

func (d *doctor) commandLine() {
	p := d.f.probes["Command"]
	if p.v == allowed {
		d.ok("write Command", "allowed: the doctor read the user's classes and the dialplan with it; astcti itself needs no Command, which lets the user run any CLI command")
		return
	}
	d.ok("write Command", "refused (%s), and astcti needs none; the checks that would have used it say what they could not see", p.msg)
}

// readCheck is one read class astcti needs.
type readCheck struct {
	class string
	st    Status // when the class is missing
	what  string // what astcti misses without it
}

func (d *doctor) checkReads() {
	g := d.f.gen
	agent := Warn
	if d.hasQueueService() {
		agent = Fail
	}
	user := Warn
	if d.userEventOnly() {
		user = Fail
	}
	call := "astcti gets no channel, dial, bridge or hangup events, so it sees no calls"
	if g == gen14 {
		call = "astcti gets no channel, Newexten, Join, Dial, Link or Hangup events, so it sees no calls"
	}
	checks := []readCheck{
		{"system", Warn, "astcti gets no FullyBooted (it waits 3 s at each login) and no Shutdown (it tells a PBX restart only by its start time)"},
		{"call", Fail, call},
		{"agent", agent, "astcti gets no queue events (QueueCallerJoin, AgentCalled, AgentConnect, QueueMember…): it misses queue calls and the confirmation of queue memberships"},
		{"dialplan", Fail, "astcti gets no Newexten or VarSet: it misses the calls of services without a queue, and every service variable"},
		{"user", user, "UserEvent never reaches astcti: variables announced with UserEvent stay empty"},
	}
	for _, c := range checks {
		if c.class == "dialplan" && g == gen14 {
			d.ok("read dialplan", "not a class of Asterisk 1.4: Newexten comes with call")
			continue
		}
		d.readLine(c)
	}
}

// userEventOnly reports whether some service variable is set in its
// context by UserEvent alone.
func (d *doctor) userEventOnly() bool {
	for _, s := range d.services() {
		ci := d.f.contexts[s.Context]
		if ci == nil || !ci.exists {
			continue
		}
		for _, v := range s.Variables {
			ss := findSetters(d.reach(s.Context), v, d.f.gen)
			if len(ss) > 0 && allApps(ss, "UserEvent") {
				return true
			}
		}
	}
	return false
}

func allApps(ss []setter, apps ...string) bool {
	for _, s := range ss {
		found := false
		for _, a := range apps {
			if strings.EqualFold(s.App, a) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (d *doctor) readLine(c readCheck) {
	f := &d.f
	name := "read " + c.class
	var granted, known bool
	var src string
	switch {
	case f.show != nil:
		granted, known = hasClass(f.show.Read, c.class), true
		src = fmt.Sprintf("manager show user %s: read %s", d.opts.AMI.Username, classList(f.show.Read))
	case f.conf != nil && f.conf.Read != "":
		granted, known = hasClass(f.conf.Read, c.class), true
		src = fmt.Sprintf("read = %s in %s, as Asterisk read it at its last manager reload", classList(f.conf.Read), f.conf.File)
	}
	// What the connection itself showed.
	switch {
	case c.class == "system" && d.s.w.sawFullyBooted():
		if !known {
			granted, known, src = true, true, "FullyBooted came at login"
		}
	case c.class == "user" && f.probeBack:
		if !known {
			granted, known, src = true, true, "the doctor's own UserEvent came back"
		}
	}
	fix := fmt.Sprintf("add %s to the read= line of [%s] in manager.conf, %s", c.class, d.opts.AMI.Username, reload)
	switch {
	case known && granted:
		d.ok(name, "granted (%s)", src)
	case known:
		d.result(c.st, name, fmt.Sprintf("not granted (%s): %s", src, c.what), fix)
	case c.class == "user" && f.probes["UserEvent"].v == allowed:
		d.warn(name, "not checked ("+f.showWhy+"), and the doctor's own UserEvent did not come back: the user may not read user, or an eventfilter drops UserEvent",
			"check the read= and eventfilter lines of ["+d.opts.AMI.Username+"] (manager.conf), or run the doctor with --manager-conf on the PBX host")
	default:
		d.warn(name, "not checked: "+f.showWhy,
			"run with --watch and place a test call, give the user write=command for the check, or run the doctor on the PBX host with --manager-conf")
	}
}

// classList shows a list of classes: "(none)", "all" for a list that
// holds it (Asterisk 12+ spells out every class before it), or the list.
func classList(s string) string {
	if s == "" {
		return "(none)"
	}
	for _, c := range strings.Split(s, ",") {
		if strings.EqualFold(strings.TrimSpace(c), "all") {
			return "all"
		}
	}
	return s
}

func (d *doctor) checkFilter() {
	f := &d.f
	user := d.opts.AMI.Username
	switch {
	case f.gen == gen14:
		d.ok("eventfilter", "Asterisk 1.4 has no eventfilter: the user gets every event of its read classes")
		return
	case f.conf == nil && f.confWhy != "":
		d.warn("eventfilter", "not checked: "+f.confWhy, "give the manager.conf that Asterisk reads (the files it #includes are read too)")
		return
	case f.conf == nil && d.opts.Watch > 0:
		d.ok("eventfilter", "not read from manager.conf (no --manager-conf): the watch below shows what gets through")
		return
	case f.conf == nil:
		d.warn("eventfilter", "not checked: Asterisk does not show a user's eventfilter lines over the manager interface",
			"run the doctor on the PBX host with --manager-conf /etc/asterisk/manager.conf, or with --watch 60s while you place a test call into a service")
		return
	case len(f.conf.Filters) == 0:
		d.ok("eventfilter", "no eventfilter line in [%s] of %s: every event of the read classes is sent", user, f.conf.File)
		return
	}
	ef, problems := compileFilters(f.conf.Filters, f.gen)
	samples := sampleEvents(f.gen, d.services())
	var required, optional []string
	for _, s := range samples {
		if ef.passes(s.Frame) {
			continue
		}
		if s.Required {
			required = append(required, s.Label)
		} else {
			optional = append(optional, s.Label)
		}
	}
	n := len(f.conf.Filters)
	where := fmt.Sprintf("the %d eventfilter lines of [%s] (%s)", n, user, f.conf.File)
	fix := "change them so that these events pass (docs/asterisk.md has tested lines), " + reload
	switch {
	case len(required) > 0:
		detail := where + " drop " + strings.Join(required, ", ")
		if len(optional) > 0 {
			detail += "; and, which astcti does without, " + strings.Join(optional, ", ")
		}
		d.fail("eventfilter", detail+problemsText(problems), fix)
	case len(optional) > 0 || len(problems) > 0:
		detail := where + " let through every event astcti needs"
		if len(optional) > 0 {
			detail += ", but drop " + strings.Join(optional, ", ") + ", which it does without, less well"
		}
		d.warn("eventfilter", detail+problemsText(problems), "check the lines named")
	default:
		d.ok("eventfilter", "%s let through every event astcti reads (held to %d sample events of the configured services)", where, len(samples))
	}
}

func problemsText(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	return "; lines Asterisk would not use: " + strings.Join(problems, "; ")
}

func (d *doctor) checkWriteTimeout() {
	f := &d.f
	const dflt = "Asterisk's default of 100 ms, which astcti's reader is built for (it never stops reading)"
	switch {
	case f.conf == nil:
		why := "no --manager-conf"
		if f.confWhy != "" {
			why = f.confWhy
		}
		d.ok("writetimeout", "not read (%s): %s; raise it in manager.conf if astcti reaches the PBX over a slow link", why, dflt)
	case f.conf.WriteTimeout == "":
		d.ok("writetimeout", "not set in [%s]: %s", d.opts.AMI.Username, dflt)
	default:
		ms, err := strconv.Atoi(strings.TrimSpace(f.conf.WriteTimeout))
		switch {
		case err != nil || ms < 100:
			d.warn("writetimeout", fmt.Sprintf("writetimeout = %s in [%s]: Asterisk takes only 100 or more and uses its default of 100 ms", f.conf.WriteTimeout, d.opts.AMI.Username),
				"remove the line or set a number of milliseconds of 100 or more")
		default:
			d.ok("writetimeout", "writetimeout = %d ms in [%s]", ms, d.opts.AMI.Username)
		}
	}
}

func (d *doctor) checkClock() {
	f := &d.f
	if f.skewBy == "" {
		d.warn("clock", "not compared: "+f.skewWhy, "give the user write=call (Getvar) for the check")
		return
	}
	s := f.skew
	how := "ahead of"
	if s < 0 {
		how, s = "behind", -s
	}
	detail := fmt.Sprintf("the PBX's clock is %.1f s %s this host's (%s)", s.Seconds(), how, f.skewBy)
	if s > clockSkewMax {
		d.warn("clock", detail, "keep both on NTP (chrony, systemd-timesyncd), so that the times in the PBX's and astcti's logs agree")
		return
	}
	d.ok("clock", "%s", detail)
}

// reach returns a context and the contexts it jumps to, as read.
func (d *doctor) reach(name string) []*dpContext {
	ci := d.f.contexts[name]
	if ci == nil || !ci.exists {
		return nil
	}
	out := []*dpContext{ci.ctx}
	for _, t := range jumpTargets(ci.ctx, d.f.gen) {
		if tc := d.f.contexts[t]; tc != nil && tc.exists {
			out = append(out, tc.ctx)
		}
	}
	return out
}

func (d *doctor) checkServices() {
	if d.model == nil {
		return
	}
	for _, s := range d.model.Services {
		prefix := "service " + s.Name
		if !s.Enabled {
			d.ok(prefix, "disabled: not checked")
			continue
		}
		d.contextLine(s)
		if s.IsQueue {
			d.queueLine(s)
		}
		if ci := d.f.contexts[s.Context]; ci != nil && ci.known && !ci.exists {
			continue // the context's FAIL says it all
		}
		for _, v := range s.Variables {
			d.variableLine(s, v)
		}
	}
}

func (d *doctor) contextLine(s config.Service) {
	name := "service " + s.Name + " context"
	ci := d.f.contexts[s.Context]
	switch {
	case ci == nil || !ci.known:
		why := d.f.dpWhy
		if ci != nil && ci.why != "" {
			why = ci.why
		}
		d.warn(name, fmt.Sprintf("%s not checked: %s", s.Context, why),
			"give the user write=reporting (ShowDialPlan, Asterisk 1.6+) or write=command (dialplan show) for the check")
		return
	case !ci.exists:
		what := "astcti never sees a call of the service"
		if s.Type == config.Outbound {
			what = "the operators' calls (ORIG) are dialled into it"
		}
		d.fail(name, fmt.Sprintf("%s does not exist in the dialplan (%s): %s", s.Context, ci.why, what),
			fmt.Sprintf("create [%s] in extensions.conf and run \"dialplan reload\", or give the service the context its calls reach", s.Context))
		return
	}
	c := ci.ctx
	detail := fmt.Sprintf("%s exists (%s): %s", s.Context, d.f.dpHow, extensText(c))
	if s.Type == config.Inbound && !s.IsQueue && !c.runs("Answer", "Dial") {
		d.warn(name, detail+", with no Answer() or Dial()",
			"astcti recognises a call of a service without a queue by the Answer() or Dial() it runs in the service's context: run one there")
		return
	}
	d.ok(name, "%s", detail)
}

func extensText(c *dpContext) string {
	names := c.extenNames()
	switch len(names) {
	case 0:
		return "no extension"
	case 1:
		return "extension " + names[0]
	}
	if len(names) > 8 {
		return fmt.Sprintf("%d extensions (%s, …)", len(names), strings.Join(names[:8], ", "))
	}
	return fmt.Sprintf("%d extensions (%s)", len(names), strings.Join(names, ", "))
}

func (d *doctor) queueLine(s config.Service) {
	name := "service " + s.Name + " queue"
	qi := d.f.queues[strings.ToLower(s.Queue)]
	switch {
	case qi == nil || !qi.known:
		why := "not asked"
		if qi != nil {
			why = qi.why
		}
		d.warn(name, fmt.Sprintf("%s not checked: %s", s.Queue, why), "run the doctor again; QueueStatus needs no class")
	case !qi.exists:
		d.fail(name, fmt.Sprintf("no queue %s: %s", s.Queue, qi.why),
			fmt.Sprintf("add [%s] to queues.conf and reload app_queue (\"queue reload all\"; 1.4: \"module reload app_queue.so\"), or give the service the queue its calls join", s.Queue))
	default:
		d.ok(name, "%s exists (QueueStatus)", s.Queue)
	}
}

func (d *doctor) variableLine(s config.Service, v string) {
	name := "service " + s.Name + " variable " + v
	ci := d.f.contexts[s.Context]
	if ci == nil || !ci.known {
		d.warn(name, "not checked: the dialplan could not be read", "see the context line above")
		return
	}
	reach := d.reach(s.Context)
	where := s.Context
	if len(reach) > 1 {
		var names []string
		for _, c := range reach[1:] {
			names = append(names, c.Name)
		}
		where += " (and " + strings.Join(names, ", ") + ", where it jumps)"
	}
	ss := findSetters(reach, v, d.f.gen)
	fix := fmt.Sprintf("set it in %s, e.g. Set(%s=…), or remove the variable from the service", s.Context, v)
	switch {
	case len(ss) == 0 && agiIn(reach):
		d.warn(name, fmt.Sprintf("no Set, MSet, Read or UserEvent in %s sets %s; an AGI there may (the doctor cannot tell)", where, v),
			"make sure the AGI sets it; "+fix)
	case len(ss) == 0:
		d.warn(name, fmt.Sprintf("nothing in %s sets %s (no Set, MSet, Read or UserEvent of it; the contexts a call passes before are not read): seats get it empty", where, v), fix)
	case d.f.gen == gen14 && allApps(ss, "Read", "ReadExten"):
		d.warn(name, fmt.Sprintf("set only by %s: Asterisk 1.4 sends no event when Read sets a variable", ss[0]),
			fmt.Sprintf("follow it with Set(%s=${%s})", v, v))
	case d.f.gen == gen14 && allApps(ss, "UserEvent"):
		d.warn(name, fmt.Sprintf("set only by %s: astcti cannot tie a 1.4 UserEvent to its call", ss[0]),
			fmt.Sprintf("set it with Set(%s=…)", v))
	default:
		d.ok(name, "set by %s", ss[0])
	}
}

func agiIn(cs []*dpContext) bool {
	for _, c := range cs {
		if c.runs("AGI", "EAGI", "FastAGI", "DeadAGI") {
			return true
		}
	}
	return false
}

func (d *doctor) checkSeats() {
	if d.model == nil || len(d.model.Seats) == 0 {
		return
	}
	valid, locals, found, unchecked := 0, 0, 0, 0
	for _, s := range d.model.Seats {
		name := "seat " + s.MAC
		if err := config.CheckInterface(s.Interface); err != nil {
			d.fail(name, err.Error(), "give the seat its phone's interface as queues take it: SIP/201, PJSIP/201, Local/201@from-queue/n")
			continue
		}
		valid++
		exten, context, ok := localTarget(s.Interface)
		if !ok {
			continue
		}
		locals++
		ei := d.f.extens[exten+"@"+context]
		switch {
		case ei == nil || !ei.known:
			unchecked++
			if unchecked == 1 {
				why := "not asked"
				if ei != nil {
					why = ei.why
				}
				d.warn(name, fmt.Sprintf("%s: whether %s@%s exists was not checked: %s", s.Interface, exten, context, why),
					"give the user write=reporting or write=command for the check")
			}
		case !ei.exists:
			d.warn(name, fmt.Sprintf("%s: %s@%s is not in the dialplan (%s): a queue ringing this member reaches nothing", s.Interface, exten, context, ei.why),
				fmt.Sprintf("add extension %s to [%s], or give the seat its phone's interface", exten, context))
		default:
			found++
		}
	}
	detail := fmt.Sprintf("%d of %d seat interfaces are forms queues accept", valid, len(d.model.Seats))
	if locals > 0 {
		detail += fmt.Sprintf("; %d of the %d Local ones name an extension that exists", found, locals)
	}
	if unchecked > 1 {
		detail += fmt.Sprintf(" (%d not checked, the first said above)", unchecked)
	}
	d.ok("seats", "%s; SIP, PJSIP and other peers are not looked up", detail)
}
