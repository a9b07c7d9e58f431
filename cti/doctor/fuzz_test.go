package doctor

import (
	"strings"
	"testing"

	"github.com/astcti/astcti/cti/ami"
)

// The parsers read what a PBX (or a manager.conf) says: none may panic or
// loop on any input. The seeds are the recorded answers of real Asterisk
// and the tables' cases.

func FuzzParseManagerShowUser(f *testing.F) {
	for _, id := range []string{"d-3", "d-4", "d-5"} {
		f.Add(strings.Join(output(f, full22, id), "\n"))
		f.Add(strings.Join(output(f, full14, id), "\n"))
	}
	f.Add("read: (N/A)\nwrite: all")
	f.Fuzz(func(t *testing.T, text string) {
		u, err := parseManagerShowUser(strings.Split(text, "\n"))
		if err == nil {
			hasClass(u.Read, "call")
			hasClass(u.Write, "agent")
		}
	})
}

func FuzzParseDialplanShow(f *testing.F) {
	for _, id := range []string{"d-21", "d-22", "d-23", "d-24", "d-25", "d-26", "d-27"} {
		f.Add(strings.Join(output(f, full22, id), "\n"))
		f.Add(strings.Join(output(f, full14, id), "\n"))
	}
	f.Add("[ Context 'x' created by 'r' ]\n  'a' (CID match 'b') => 1. A(b)) [r]\n     [l]  2. B((() [r]\n  Include =>  'y' [r]")
	f.Fuzz(func(t *testing.T, text string) {
		cs, err := parseDialplanShow(strings.Split(text, "\n"))
		if err != nil {
			return
		}
		for _, c := range cs {
			c.apps()
			jumpTargets(c, gen12)
			findSetters([]*dpContext{c}, "x", gen14)
		}
	})
}

func FuzzParseListDialplan(f *testing.F) {
	f.Add("Context", "c", "Extension", "1", "Priority", "1")
	f.Add("Context", "c", "IncludeContext", "d", "Priority", "hint")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		fr := &ami.Frame{}
		fr.Add("Event", "ListDialplan").Add(k1, v1).Add(k2, v2).Add(k3, v3)
		parseListDialplan([]*ami.Frame{fr, fr})
	})
}

func FuzzSetsVar(f *testing.F) {
	for _, s := range []struct{ app, data string }{
		{"Set", "customer_id=98765"}, {"Set", "a=1|b=2|g"}, {"MSet", "a=1,b=${X(1,2)}"},
		{"Read", "customer_id,,,,1,10"}, {"UserEvent", "AstCTI,customer_id: ${customer_id},order: ${order}"},
		{"GotoIf", "$[${X}=1]?sub,s,1:other,s,1"}, {"Macro", "crm"}, {"Set", `"a,(b",c\`},
	} {
		f.Add(s.app, s.data)
	}
	f.Fuzz(func(t *testing.T, app, data string) {
		p := dpPriority{App: app, Data: data}
		for _, g := range []generation{gen14, gen18, gen12} {
			for _, n := range setsVar(p, g) {
				if n == "" {
					t.Fatalf("setsVar(%s(%s)) gave an empty name", app, data)
				}
			}
			jumpTargets(&dpContext{Name: "c", Extens: []dpExten{{Name: "s", Prios: []dpPriority{p}}}}, g)
		}
		if got := strings.Join(splitArgs(data, ','), ","); got != data {
			t.Fatalf("splitArgs(%q) joined again is %q", data, got)
		}
	})
}

func FuzzManagerConf(f *testing.F) {
	f.Add("[general]\nenabled = yes\n[astcti](tmpl,+)\nread = call ; c\neventfilter = !a\\;b\n;-- x\n--;\n")
	f.Add("[t](!)\nwrite => agent\n[astcti](t)\n#exec x\n[astcti\n")
	f.Fuzz(func(t *testing.T, text string) {
		r := &confReader{seen: map[string]bool{}}
		// #include is not followed: the directory is empty.
		_ = r.parse(t.TempDir()+"/manager.conf", []byte(text), maxIncludeDepth)
		for _, s := range r.sections {
			if _, err := compileFilters(s.Lines, gen12); err != nil {
				continue
			}
		}
	})
}

func FuzzCompileFilter(f *testing.F) {
	f.Add("eventfilter", "^Event: (Newchannel|Hangup)[[:space:]]")
	f.Add("eventfilter", "!^Event: VarSet[[:space:]].*Variable: (DIALSTATUS)")
	f.Add("eventfilter(action(exclude),name(VarSet),header(Variable),method(starts_with))", "DIAL")
	f.Add("eventfilter(method(none))", "")
	f.Fuzz(func(t *testing.T, name, value string) {
		ef, _ := compileFilters([]confLine{{Name: name, Value: value}}, gen12)
		for _, s := range sampleEvents(gen12, nil) {
			ef.passes(s.Frame)
		}
		ef.passes(event("VarSet", "dialplan,all", "Variable", value))
	})
}
