package scenarios

import (
	"fmt"
	"sort"
	"strings"
)

// validate adds to l the references between the parts of sc that do not
// resolve. Expressions (${…}) are not checked: only the running PBX can
// expand them.
func (sc *Scenario) validate(l *errList) {
	src := func(s string) string {
		if s == "" {
			return sc.Name
		}
		return s
	}
	for _, name := range sortedKeys(sc.Contexts) {
		c := sc.Contexts[name]
		if c == nil {
			continue
		}
		for _, exten := range c.keys() {
			steps := c.Extens[exten]
			for _, st := range steps {
				if msg := sc.checkStep(c, steps, st); msg != "" {
					l.addIn(src(c.sourceOf(exten)), fileExtensions, st.Line, "%s", msg)
				}
			}
		}
	}
	for _, name := range sortedKeys(sc.Queues) {
		q := sc.Queues[name]
		if q == nil {
			continue
		}
		for _, m := range q.Members {
			if msg := sc.checkLocal(m.Interface); msg != "" {
				l.addIn(src(q.Source), fileQueues, m.Line, "[%s] member %s", q.Name, msg)
			}
		}
	}
	for _, c := range sc.Calls {
		if msg := sc.checkTarget(c.Exten, c.Context); msg != "" {
			l.addIn(src(c.Source), fileCalls, c.Line, "call to %s@%s: %s", c.Exten, c.Context, msg)
		}
	}
	if t := sc.Traffic; t != nil {
		for _, tg := range t.Targets {
			if msg := sc.checkTarget(tg.Exten, tg.Context); msg != "" {
				l.addIn(src(t.Source), fileTraffic, t.Line, "traffic to %s@%s: %s", tg.Exten, tg.Context, msg)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkStep checks what a step refers to: Goto targets, Queue() queues and
// Local/ interfaces of Dial().
func (sc *Scenario) checkStep(c *Context, steps []Step, st Step) string {
	switch st.App {
	case "Goto":
		g, err := ParseGoto(st.Args)
		if err != nil {
			return "" // reported by the parser
		}
		return sc.checkGoto(c, steps, g)
	case "Queue":
		q, err := ParseQueue(st.Args)
		if err != nil || hasVar(q.Queue) {
			return ""
		}
		if sc.Queues[q.Queue] == nil {
			return fmt.Sprintf("Queue: no queue [%s] in queues.conf%s", q.Queue, sc.have("queues", sortedKeys(sc.Queues)))
		}
	case "Dial":
		d, err := ParseDial(st.Args)
		if err != nil {
			return ""
		}
		for _, i := range d.Interfaces {
			if msg := sc.checkLocal(i); msg != "" {
				return "Dial: " + msg
			}
		}
	}
	return ""
}

func (sc *Scenario) checkGoto(c *Context, steps []Step, g GotoArgs) string {
	if g.Context != "" && hasVar(g.Context) || hasVar(g.Exten) {
		return ""
	}
	if g.Context != "" {
		c = sc.Contexts[g.Context]
		if c == nil {
			return fmt.Sprintf("Goto: no context [%s]%s", g.Context, sc.have("contexts", sortedKeys(sc.Contexts)))
		}
	}
	where := c.Name
	if g.Exten != "" {
		var ok bool
		if steps, ok = c.Match(g.Exten); !ok {
			return fmt.Sprintf("Goto: no extension %s in [%s]%s", g.Exten, c.Name, sc.have("extensions", c.keys()))
		}
		where = g.Exten + "@" + c.Name
	}
	if hasVar(g.Priority) {
		return ""
	}
	if _, ok := FindPriority(steps, g.Priority); !ok {
		return fmt.Sprintf("Goto: no priority %s in %s", g.Priority, where)
	}
	return ""
}

// checkLocal checks that a Local/exten@context[/n] interface leads
// somewhere. Other interfaces are phones: any may be dialled.
func (sc *Scenario) checkLocal(iface string) string {
	tech, res, _ := strings.Cut(iface, "/")
	if !strings.EqualFold(tech, "Local") || hasVar(res) {
		return ""
	}
	res, _, _ = strings.Cut(res, "/") // options such as /n
	exten, context, ok := strings.Cut(res, "@")
	if !ok || exten == "" || context == "" {
		return fmt.Sprintf("%s: a Local channel needs exten@context", iface)
	}
	if msg := sc.checkTarget(exten, context); msg != "" {
		return iface + ": " + msg
	}
	return ""
}

// checkTarget checks that dialling exten in context runs something.
func (sc *Scenario) checkTarget(exten, context string) string {
	c := sc.Contexts[context]
	if c == nil {
		return fmt.Sprintf("no context [%s] in extensions.conf%s", context, sc.have("contexts", sortedKeys(sc.Contexts)))
	}
	if _, ok := c.Match(exten); !ok {
		return fmt.Sprintf("no extension matches %s in [%s]%s", exten, context, sc.have("extensions", c.keys()))
	}
	return ""
}

// have lists what there is, for a message: " (contexts: a, b)".
func (sc *Scenario) have(what string, names []string) string {
	if len(names) == 0 {
		return " (there are no " + what + ")"
	}
	if len(names) > 8 {
		names = append(names[:8:8], "…")
	}
	return " (" + what + ": " + strings.Join(names, ", ") + ")"
}
