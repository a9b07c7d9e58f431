package doctor

import (
	"fmt"
	"strings"
)

// setter is a priority that sets a variable.
type setter struct {
	Context, Exten string
	Prio           int
	App            string // Set, MSet, Read, ReadExten, UserEvent
	Data           string
}

func (s setter) String() string {
	return fmt.Sprintf("%s(%s) at %s,%d in %s", s.App, s.Data, s.Exten, s.Prio, s.Context)
}

// sameVar compares variable names as astcti does: without regard to case,
// and without the '_' or '__' that makes a variable inherited.
func sameVar(a, b string) bool {
	return strings.EqualFold(bareVar(a), bareVar(b))
}

func bareVar(name string) string {
	name = strings.TrimSpace(name)
	if strings.HasPrefix(name, "__") {
		return name[2:]
	}
	return strings.TrimPrefix(name, "_")
}

// separator is the argument separator of the dialplan: '|' in 1.4, ','
// from 1.6 on.
func separator(g generation) byte {
	if g == gen14 {
		return '|'
	}
	return ','
}

// splitArgs splits application data on sep outside quotes and (), [] and
// {}, as Asterisk's standard argument parser does, keeping empty
// arguments.
func splitArgs(data string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	quoted := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '[' || c == '{':
			depth++
		case (c == ')' || c == ']' || c == '}') && depth > 0:
			depth--
		case c == sep && depth == 0:
			out = append(out, data[start:i])
			start = i + 1
		}
	}
	return append(out, data[start:])
}

// setsVar returns the names a priority sets: Set(name=…) (1.4 takes
// several name=value pairs), MSet(a=…,b=…), Read(name,…),
// ReadExten(name,…), and the "name: value" headers of UserEvent(event,…).
// A name that holds an expression (${…}) or is a function (CDR(x)) is not
// a variable and is left out.
func setsVar(p dpPriority, g generation) []string {
	sep := separator(g)
	var names []string
	pair := func(s string) {
		if k, _, ok := strings.Cut(s, "="); ok {
			names = append(names, k)
		}
	}
	switch strings.ToLower(p.App) {
	case "set":
		if g == gen14 {
			for _, a := range splitArgs(p.Data, sep) {
				pair(a)
			}
		} else {
			pair(p.Data)
		}
	case "mset":
		for _, a := range splitArgs(p.Data, sep) {
			pair(a)
		}
	case "read", "readexten":
		names = append(names, splitArgs(p.Data, sep)[0])
	case "userevent":
		for _, a := range splitArgs(p.Data, sep)[1:] {
			if k, _, ok := strings.Cut(a, ":"); ok {
				names = append(names, k)
			}
		}
	}
	out := names[:0]
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n != "" && !strings.ContainsAny(n, "${}()[] ") {
			out = append(out, n)
		}
	}
	return out
}

// findSetters returns the priorities of the contexts that set the
// variable name.
func findSetters(contexts []*dpContext, name string, g generation) []setter {
	var out []setter
	for _, c := range contexts {
		for _, e := range c.Extens {
			for _, p := range e.Prios {
				for _, n := range setsVar(p, g) {
					if sameVar(n, name) {
						out = append(out, setter{Context: c.Name, Exten: e.Name, Prio: p.N, App: p.App, Data: p.Data})
						break
					}
				}
			}
		}
	}
	return out
}

// jumpTargets returns the contexts a context sends calls to by name:
// Goto(context,exten,priority), GotoIf(cond?context,exten,prio:…),
// Gosub(context,exten,priority(args)), GosubIf, Macro(name) (context
// macro-name). Targets written with ${…} are not known before the call
// and are left out, and so is the context itself.
func jumpTargets(c *dpContext, g generation) []string {
	sep := separator(g)
	var out []string
	seen := map[string]bool{c.Name: true}
	add := func(t string) {
		t = strings.TrimSpace(t)
		if t == "" || strings.ContainsAny(t, "${}") || seen[t] {
			return
		}
		seen[t] = true
		out = append(out, t)
	}
	// A label is [[context,]exten,]priority: the context is there only
	// when all three are.
	label := func(s string) {
		if args := splitArgs(s, sep); len(args) == 3 {
			add(args[0])
		}
	}
	for _, e := range c.Extens {
		for _, p := range e.Prios {
			switch strings.ToLower(p.App) {
			case "goto", "gosub":
				label(p.Data)
			case "gotoif", "gosubif", "execif":
				_, branches, ok := strings.Cut(p.Data, "?")
				if !ok || strings.EqualFold(p.App, "execif") {
					continue
				}
				for _, b := range strings.Split(branches, ":") {
					label(b)
				}
			case "macro":
				add("macro-" + splitArgs(p.Data, sep)[0])
			}
		}
	}
	return out
}
