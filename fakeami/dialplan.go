package fakeami

import (
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// thread is a channel running the dialplan (the PBX thread of
// main/pbx.c __ast_pbx_run), one priority at a time.
type thread struct {
	ch      *channel
	timer   *task // a pending Wait() or similar
	stopped bool  // the channel left the dialplan
	// interrupt, when set, is how the running application gives up when
	// the channel must hang up (Dial cancels its legs, Queue leaves).
	interrupt func(cause int)
	// appOnly: the channel runs one application for an Originate, not the
	// dialplan; when it returns the channel hangs up.
	appOnly bool
}

func (t *thread) stop() {
	t.stopped = true
	t.interrupt = nil
	if t.timer != nil {
		t.timer.dead = true
	}
}

// appResult tells the dialplan loop what to do after an application.
type appResult int

const (
	appNext  appResult = iota // go on with the next priority
	appJump                   // the application moved the channel (Goto)
	appAsync                  // the application continues later and will resume the thread
	appStop                   // the channel left the dialplan (hung up)
)

// findStep returns the step at context/exten/priority.
// p.mu must be held.
func (p *PBX) findStep(context, exten string, prio int) (scenarios.Step, bool) {
	steps, ok := p.extension(context, exten)
	if !ok {
		return scenarios.Step{}, false
	}
	for _, s := range steps {
		if s.Priority == prio {
			return s, true
		}
	}
	if prio >= 1 && prio <= len(steps) && steps[prio-1].Priority == 0 {
		return steps[prio-1], true
	}
	return scenarios.Step{}, false
}

// extension returns the priorities of exten in context, chosen the way
// Asterisk chooses (scenarios.Context.Match). p.mu must be held.
func (p *PBX) extension(context, exten string) ([]scenarios.Step, bool) {
	return p.contexts[context].Match(exten)
}

// extensionExists reports whether exten@context has a priority 1.
func (p *PBX) extensionExists(context, exten string) bool {
	_, ok := p.findStep(context, exten, 1)
	return ok
}

// startDialplan makes c run the dialplan from context/exten/priority.
// p.mu must be held.
func (p *PBX) startDialplan(c *channel, context, exten string, prio int) {
	c.context, c.exten, c.priority = context, exten, prio
	c.th = &thread{ch: c}
	p.runThread(c)
}

// runThread runs c's dialplan until an application has to wait.
// p.mu must be held.
func (p *PBX) runThread(c *channel) {
	th := c.th
	for th != nil && !th.stopped && !c.gone && c.th == th {
		st, ok := p.findStep(c.context, c.exten, c.priority)
		if !ok {
			p.dialplanEnd(c)
			return
		}
		args := make([]string, len(st.Args))
		for i, a := range st.Args {
			args[i] = p.expand(c, a)
		}
		p.newExten(c, st.App, p.joinArgs(args))
		switch p.runApp(c, st.App, args) {
		case appNext:
			c.priority++
		case appJump:
		case appAsync, appStop:
			return
		}
	}
}

// newExten announces the step c runs now (Newexten) and remembers it as
// the channel's application, for CoreShowChannels and Status. p.mu must be
// held.
func (p *PBX) newExten(c *channel, app, data string) {
	c.app, c.appData = app, data
	p.em.newExten(c, app, data)
}

// pseudoStep is the "(Outgoing Line)" step Asterisk 12+ shows for a
// channel that app_dial (AppDial), app_queue (AppQueue) or an Originate
// (AppDial2) is ringing. 1.4 shows none. p.mu must be held.
func (p *PBX) pseudoStep(c *channel, app string) {
	c.app, c.appData = app, "(Outgoing Line)"
	if p.opts.Dialect == DialectModern {
		p.em.newExten(c, app, c.appData)
	}
}

// resume continues c's dialplan after an asynchronous application.
// p.mu must be held.
func (p *PBX) resume(c *channel) {
	if c.gone || c.th == nil || c.th.stopped {
		return
	}
	c.th.interrupt = nil
	c.th.timer = nil
	if c.th.appOnly {
		p.appOnlyDone(c)
		return
	}
	c.priority++
	p.runThread(c)
}

// dialplanEnd: the channel ran off the end of its extension, or into one
// that does not exist; Asterisk hangs it up. p.mu must be held.
func (p *PBX) dialplanEnd(c *channel) {
	cause := c.hangupCause
	if cause == 0 {
		cause = causeNormal
	}
	if !p.extensionExists(c.context, c.exten) {
		cause = causeUnknown // nothing to run at all
	}
	c.th.stop()
	p.softHangupChan(c, causeNormal, cause)
}

// joinArgs renders application arguments as the dialect shows AppData.
func (p *PBX) joinArgs(args []string) string {
	sep := ","
	if p.opts.Dialect == Dialect14 {
		sep = "|"
	}
	return strings.Join(args, sep)
}

// expand substitutes ${VAR} and ${FUNC(arg)} references.
// p.mu must be held.
func (p *PBX) expand(c *channel, s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		depth, j := 1, i+2
		for ; j < len(s) && depth > 0; j++ {
			switch {
			case strings.HasPrefix(s[j:], "${"):
				depth++
				j++
			case s[j] == '}':
				depth--
			}
		}
		if depth > 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		name := p.expand(c, s[i+2:j-1])
		b.WriteString(p.variable(c, name))
		s = s[j:]
	}
}

// variable returns the value of a variable or function reference.
func (p *PBX) variable(c *channel, name string) string {
	switch strings.ToUpper(name) {
	case "CALLERID(NUM)", "CALLERID(NUMBER)", "CALLERIDNUM":
		return c.cidNum
	case "CALLERID(NAME)", "CALLERIDNAME":
		return c.cidName
	case "CALLERID(ALL)":
		if c.cidName == "" {
			return c.cidNum
		}
		return `"` + c.cidName + `" <` + c.cidNum + ">"
	case "EXTEN":
		return c.exten
	case "CONTEXT":
		return c.context
	case "PRIORITY":
		return strconv.Itoa(c.priority)
	case "CHANNEL":
		return c.name
	case "UNIQUEID":
		return c.uniqueid
	case "LINKEDID", "CHANNEL(LINKEDID)":
		return c.linkedid
	case "EPOCH":
		return strconv.FormatInt(p.now().Unix(), 10)
	}
	if v, ok := c.vars.get(name); ok {
		return v
	}
	if v, ok := p.globals.get(name); ok {
		return v
	}
	return ""
}

// runApp runs one dialplan application. p.mu must be held.
func (p *PBX) runApp(c *channel, app string, args []string) appResult {
	arg := func(i int) string {
		if i < len(args) {
			return strings.TrimSpace(args[i])
		}
		return ""
	}
	switch strings.ToLower(app) {
	case "answer":
		p.answer(c)
		return appNext
	case "ringing":
		p.indicateRinging(c)
		return appNext
	case "progress", "noop", "verbose", "log", "set", "setvar", "playback",
		"background", "read", "userevent", "goto", "gotoif", "wait", "hangup",
		"busy", "congestion", "dial", "queue", "echo", "musiconhold", "senddtmf",
		"playtones", "progresstones", "execif":
	default:
		p.log.Warn("dialplan: no such application, hanging up", "app", app, "channel", c.name)
		c.th.stop()
		p.destroy(c, causeUnknown)
		return appStop
	}
	switch strings.ToLower(app) {
	case "progress", "noop", "verbose", "log", "playback", "background", "senddtmf", "playtones", "progresstones", "execif":
		return appNext
	case "set", "setvar":
		if name, value, ok := strings.Cut(strings.Join(args, ","), "="); ok {
			p.dialplanSet(c, strings.TrimSpace(name), value)
		}
		return appNext
	case "read":
		return p.readApp(c, args)
	case "userevent":
		ue, err := scenarios.ParseUserEvent(args)
		if err != nil {
			p.log.Warn("dialplan: UserEvent", "err", err, "channel", c.name)
		}
		kv := make([]ami.Field, 0, len(ue.Fields))
		for _, f := range ue.Fields {
			kv = append(kv, ami.Field{Key: f.Key, Value: f.Value})
		}
		p.em.userEvent(c, ue.Name, kv)
		return appNext
	case "goto":
		return p.gotoApp(c, args)
	case "gotoif":
		cond, dest, _ := strings.Cut(strings.Join(args, ","), "?")
		yes, no, _ := strings.Cut(dest, ":")
		target := no
		if t := strings.TrimSpace(cond); t != "" && t != "0" {
			target = yes
		}
		if target == "" {
			return appNext
		}
		return p.gotoApp(c, strings.Split(target, ","))
	case "wait":
		d := parseSeconds(arg(0))
		c.th.timer = p.after(d, func() { p.waitDone(c) })
		th := c.th
		th.interrupt = func(int) { th.timer.cancel(p) }
		return appAsync
	case "echo", "musiconhold":
		return appAsync // until the caller hangs up
	case "hangup":
		cause := causeNormal
		if n, err := strconv.Atoi(arg(0)); err == nil {
			cause = n
		} else if c.hangupCause != 0 {
			cause = c.hangupCause
		}
		c.th.stop()
		p.softHangupChan(c, causeNormal, cause)
		return appStop
	case "busy", "congestion":
		cause := causeBusy
		if strings.EqualFold(app, "congestion") {
			cause = 34
		}
		p.indicateBusy(c, cause)
		if c.gone {
			return appStop
		}
		th := c.th
		d := parseSeconds(arg(0))
		if d == 0 {
			d = 20 * time.Second
		}
		th.timer = p.after(d, func() {
			th.stop()
			p.softHangupChan(c, causeNormal, cause)
		})
		th.interrupt = func(int) { th.timer.cancel(p) }
		return appAsync
	case "dial":
		return p.dialApp(c, args)
	case "queue":
		return p.queueApp(c, args)
	}
	return appNext
}

// waitDone ends a Wait().
func (p *PBX) waitDone(c *channel) {
	p.resume(c)
}

// dialplanSet runs Set(name=value).
func (p *PBX) dialplanSet(c *channel, name, value string) {
	name = strings.TrimLeft(name, "_")
	switch strings.ToUpper(name) {
	case "CALLERID(NUM)", "CALLERID(NUMBER)":
		c.cidNum = value
		p.em.newCallerID(c)
		return
	case "CALLERID(NAME)":
		c.cidName = value
		p.em.newCallerID(c)
		return
	}
	p.setVar(c, name, value)
}

// gotoApp runs Goto([[context,]exten,]priority).
func (p *PBX) gotoApp(c *channel, args []string) appResult {
	ctx, exten, prio := c.context, c.exten, ""
	switch len(args) {
	case 1:
		prio = args[0]
	case 2:
		exten, prio = args[0], args[1]
	default:
		ctx, exten, prio = args[0], args[1], args[2]
	}
	n, err := strconv.Atoi(strings.TrimSpace(prio))
	if err != nil {
		n = p.findLabel(strings.TrimSpace(ctx), strings.TrimSpace(exten), strings.TrimSpace(prio))
	}
	c.context, c.exten, c.priority = strings.TrimSpace(ctx), strings.TrimSpace(exten), n
	return appJump
}

func (p *PBX) findLabel(ctx, exten, label string) int {
	steps, _ := p.extension(ctx, exten)
	if i, ok := scenarios.FindPriority(steps, label); ok {
		return steps[i].Priority
	}
	return 1
}

// readApp runs Read(var,,maxdigits,…): it takes the digits the caller keys
// in (the call's Digits); with none, it times out with an empty value.
// The variables are set as Asterisk 22 sets them (j_userevent_vars):
// READSTATUS=ERROR first, then the variable, then READSTATUS.
func (p *PBX) readApp(c *channel, args []string) appResult {
	r, err := scenarios.ParseRead(args)
	if err != nil {
		p.log.Warn("dialplan: Read", "err", err, "channel", c.name)
		return appNext
	}
	got, rest := scenarios.TakeDigits(c.digits, r.MaxDigits)
	c.digits = rest
	p.setVar(c, "READSTATUS", "ERROR")
	finish := func() {
		p.setVar(c, r.Var, got)
		status := "OK"
		if got == "" {
			status = "TIMEOUT"
		}
		p.setVar(c, "READSTATUS", status)
	}
	if got != "" || r.Timeout <= 0 {
		finish()
		return appNext
	}
	th := c.th
	th.timer = p.after(r.Timeout, func() {
		finish()
		p.resume(c)
	})
	th.interrupt = func(int) { th.timer.cancel(p) }
	return appAsync
}

// parseSeconds reads an application's seconds argument ("2", "1.5").
func parseSeconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func seconds(d time.Duration) int { return int((d + time.Second/2) / time.Second) }

func unixOrZero(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}
