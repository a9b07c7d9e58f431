package scenarios

import (
	"slices"
	"strconv"
	"strings"
)

// generalKeys are the [general] settings of extensions.conf; the fake PBX
// accepts and ignores them.
var generalKeys = map[string]bool{
	"static": true, "writeprotect": true, "autofallthrough": true,
	"clearglobalvars": true, "extenpatternmatchnew": true,
	"userscontext": true, "priorityjumping": true,
}

// dialplanParser reads extensions.conf, as pbx_config does.
type dialplanParser struct {
	l       *errList
	sc      *Scenario
	section string   // the current [section]; "" before the first
	ctx     *Context // the current context; nil in [general] and [globals]
	skip    bool     // the current section header was bad: skip its lines
	last    string   // extension of the last exten line in this section, for same =>
}

func parseExtensions(l *errList, sc *Scenario, text string) {
	lines, open := confLines(text)
	if open != 0 {
		l.add(fileExtensions, open, "a ;-- comment is never closed with --;")
	}
	p := &dialplanParser{l: l, sc: sc}
	for _, ln := range lines {
		p.line(ln)
	}
}

func (p *dialplanParser) errorf(ln confLine, format string, args ...any) {
	p.l.add(fileExtensions, ln.n, format, args...)
}

func (p *dialplanParser) line(ln confLine) {
	if strings.HasPrefix(ln.text, "#") {
		p.errorf(ln, "%s is not supported: a scenario file holds the whole dialplan", strings.Fields(ln.text)[0])
		return
	}
	if name, opts, ok, problem := sectionHeader(ln.text); ok {
		p.header(ln, name, opts, problem)
		return
	}
	if p.skip {
		return
	}
	key, value, ok := keyValue(ln.text)
	switch {
	case p.section == "":
		p.errorf(ln, "%q is outside any [context]", ln.text)
	case !ok:
		p.errorf(ln, "expected \"exten => …\" or \"same => …\", not %q", ln.text)
	case p.section == "general":
		if !generalKeys[strings.ToLower(key)] {
			p.errorf(ln, "unknown [general] setting %q", key)
		}
	case p.section == "globals":
		p.sc.Globals[key] = value
	default:
		p.contextLine(ln, key, value)
	}
}

func (p *dialplanParser) header(ln confLine, name, opts, problem string) {
	p.section, p.ctx, p.last, p.skip = "", nil, "", true
	switch {
	case problem != "":
		p.errorf(ln, "%s", problem)
		return
	case opts != "":
		p.errorf(ln, "[%s](%s): context templates and options are not supported by the fake PBX", name, opts)
		return
	}
	p.section, p.skip = name, false
	if name == "general" || name == "globals" {
		return
	}
	// A context may be opened again further down; pbx_config merges the
	// two, and so do we.
	c := p.sc.Contexts[name]
	if c == nil {
		c = &Context{Name: name, Line: ln.n, Extens: map[string][]Step{}}
		p.sc.Contexts[name] = c
	}
	p.ctx = c
}

func (p *dialplanParser) contextLine(ln confLine, key, value string) {
	switch k := strings.ToLower(key); k {
	case "exten":
		p.exten(ln, value, false)
	case "same":
		p.exten(ln, value, true)
	case "include":
		p.errorf(ln, "include => %s is not supported by the fake PBX: copy the extensions of [%s] into [%s]", value, value, p.section)
	case "switch", "lswitch", "eswitch", "ignorepat":
		p.errorf(ln, "%s => is not supported by the fake PBX", k)
	default:
		p.errorf(ln, "unknown line %q in [%s] (want exten => or same =>)", key, p.section)
	}
}

// exten reads the value of "exten => 101,1,Answer()" or of
// "same => n,Dial(…)".
func (p *dialplanParser) exten(ln confLine, value string, same bool) {
	var exten, rest string
	if same {
		if p.last == "" {
			p.errorf(ln, "same => needs an exten => line before it in [%s]", p.section)
			return
		}
		exten, rest = p.last, value
	} else {
		e, r, ok := strings.Cut(value, ",")
		exten, rest = strings.TrimSpace(e), r
		if !ok {
			p.errorf(ln, "exten => needs extension,priority,application, not %q", value)
			return
		}
		if !p.checkExten(ln, exten) {
			p.last = ""
			return
		}
		p.last = exten
	}
	prio, app, ok := strings.Cut(rest, ",")
	prio, app = strings.TrimSpace(prio), strings.TrimSpace(app)
	if !ok {
		p.errorf(ln, "extension %s needs priority,application, not %q", exten, rest)
		return
	}
	if prio == "hint" {
		return // a device hint: not a priority, and the fake has no use for it
	}
	step, ok := p.priority(ln, exten, prio)
	if !ok {
		return
	}
	if !p.application(ln, &step, app) {
		step.App = app // keep the numbering going, so that one mistake gives one error
	}
	if _, ok := p.ctx.Extens[exten]; !ok {
		p.ctx.Order = append(p.ctx.Order, exten)
	}
	p.ctx.Extens[exten] = append(p.ctx.Extens[exten], step)
}

func (p *dialplanParser) checkExten(ln confLine, exten string) bool {
	switch {
	case exten == "":
		p.errorf(ln, "empty extension")
		return false
	case strings.Contains(exten, "/"):
		p.errorf(ln, "extension %s: caller id matching (exten/callerid) is not supported by the fake PBX", exten)
		return false
	case strings.ContainsAny(exten, " \t\"()"):
		p.errorf(ln, "bad extension %q", exten)
		return false
	case IsPattern(exten):
		if _, err := compilePattern(exten[1:]); err != nil {
			p.errorf(ln, "extension %s: %v", exten, err)
			return false
		}
	}
	return true
}

// priority reads "1", "n", "2(label)" or "n(label)" and numbers the step.
func (p *dialplanParser) priority(ln confLine, exten, prio string) (Step, bool) {
	step := Step{Line: ln.n}
	if i := strings.IndexByte(prio, '('); i >= 0 {
		step.Label = strings.TrimSpace(strings.TrimSuffix(prio[i+1:], ")"))
		if !strings.HasSuffix(prio, ")") || step.Label == "" || strings.ContainsAny(step.Label, "(), \t") {
			p.errorf(ln, "bad priority label %q (want n(label))", prio)
			return step, false
		}
		prio = strings.TrimSpace(prio[:i])
	}
	steps := p.ctx.Extens[exten]
	last := 0
	if len(steps) > 0 {
		last = steps[len(steps)-1].Priority
	}
	switch n, err := strconv.Atoi(prio); {
	case prio == "n":
		if last == 0 {
			p.errorf(ln, "the first priority of extension %s must be 1, not n", exten)
			return step, false
		}
		step.Priority = last + 1
	case err != nil || n < 1:
		p.errorf(ln, "bad priority %q of extension %s (want 1, 2, … or n)", prio, exten)
		return step, false
	case n <= last:
		at := steps[slices.IndexFunc(steps, func(s Step) bool { return s.Priority == n })].Line
		p.errorf(ln, "priority %d of extension %s is already defined at line %d", n, exten, at)
		return step, false
	case last == 0 && n != 1:
		p.errorf(ln, "the first priority of extension %s must be 1, not %d", exten, n)
		return step, false
	case n > last+1:
		p.errorf(ln, "priority %d of extension %s follows priority %d: Asterisk would end the call at the gap", n, exten, last)
		return step, false
	default:
		step.Priority = n
	}
	if step.Label != "" {
		for _, s := range steps {
			if s.Label == step.Label {
				p.errorf(ln, "label %q of extension %s is already used at line %d", step.Label, exten, s.Line)
				return step, false
			}
		}
	}
	return step, true
}

// application reads "Dial(SIP/201&SIP/202,30)" into step and checks its
// arguments. It reports false if the application is not one the fake
// PBX knows or its text is malformed.
func (p *dialplanParser) application(ln confLine, step *Step, app string) bool {
	name, data := app, ""
	if i := strings.IndexByte(app, '('); i >= 0 {
		if !strings.HasSuffix(app, ")") {
			p.errorf(ln, "missing ) at the end of %q", app)
			return false
		}
		name, data = strings.TrimSpace(app[:i]), app[i+1:len(app)-1]
	}
	if name == "" || strings.ContainsAny(name, ", \t\"") {
		if before, after, ok := strings.Cut(name, ","); ok && before != "" {
			p.errorf(ln, "write %s(%s), not %s", before, after, app)
		} else {
			p.errorf(ln, "bad application %q", app)
		}
		return false
	}
	spec, ok := appSpecs[strings.ToLower(name)]
	if !ok {
		p.errorf(ln, "unknown application %s (the fake PBX runs %s)", name, strings.Join(Apps, ", "))
		return false
	}
	step.App = spec.name
	if spec.name == "Set" {
		if data != "" {
			step.Args = []string{data}
		}
	} else {
		step.Args = splitArgs(data)
	}
	switch {
	case spec.max >= 0 && len(step.Args) > spec.max:
		p.errorf(ln, "%s takes at most %d argument(s), not %d", spec.name, spec.max, len(step.Args))
	case spec.check != nil:
		if err := spec.check(step.Args); err != nil {
			p.errorf(ln, "%s: %v", spec.name, err)
		}
	}
	return true
}
