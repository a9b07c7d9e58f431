package scenarios

import (
	"maps"
	"slices"
	"strings"
)

// Merge builds one PBX out of several scenarios, in order: the demo
// dialplan, then a file of calls, say. A later scenario
//
//   - adds its contexts; where a context of the same name exists, it adds
//     its extensions to it, and an extension of the same name (101, _X.)
//     replaces the earlier one with all its priorities, as if the two
//     files were one extensions.conf that opens the context twice;
//   - replaces a queue or a phone of the same name as a whole;
//   - adds its calls after the earlier ones (each keeps its own "at");
//   - replaces the traffic and the expect file, if it has them;
//   - adds its [globals], replacing variables of the same name.
//
// The result is named "a+b", its comment joins the comments, and it is
// checked with Validate; its parts keep their Source for messages. The
// scenarios given are not changed. Nil scenarios are skipped.
func Merge(scs ...*Scenario) (*Scenario, error) {
	out := newScenario("")
	var names, comments []string
	for _, sc := range scs {
		if sc == nil {
			continue
		}
		c := sc.Clone()
		c.setSource(c.Name)
		names = append(names, c.Name)
		if c.Comment != "" {
			comments = append(comments, c.Comment)
		}
		for name, ctx := range c.Contexts {
			if ctx != nil {
				out.mergeContext(name, ctx)
			}
		}
		maps.Copy(out.Queues, c.Queues)
		maps.Copy(out.Phones, c.Phones)
		maps.Copy(out.Globals, c.Globals)
		out.Calls = append(out.Calls, c.Calls...)
		if c.Traffic != nil {
			out.Traffic = c.Traffic
		}
		if c.Expect != "" {
			out.Expect = c.Expect
		}
	}
	out.Name = strings.Join(names, "+")
	out.Comment = strings.Join(comments, "\n\n")
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// mergeContext adds the extensions of c to the context of the same name.
func (sc *Scenario) mergeContext(name string, c *Context) {
	dst := sc.Contexts[name]
	if dst == nil {
		sc.Contexts[name] = c
		return
	}
	if dst.extenSource == nil {
		dst.extenSource = map[string]string{}
	}
	for _, exten := range c.keys() {
		if _, ok := dst.Extens[exten]; !ok {
			dst.Order = append(dst.Order, exten)
		}
		dst.Extens[exten] = c.Extens[exten]
		dst.extenSource[exten] = c.sourceOf(exten)
	}
}

// sourceOf names the scenario that extension exten of c comes from.
func (c *Context) sourceOf(exten string) string {
	if s, ok := c.extenSource[exten]; ok {
		return s
	}
	return c.Source
}

// Clone returns a deep copy of sc, which the caller may change freely.
func (sc *Scenario) Clone() *Scenario {
	if sc == nil {
		return nil
	}
	c := *sc
	c.Contexts = make(map[string]*Context, len(sc.Contexts))
	for k, v := range sc.Contexts {
		if v == nil {
			continue
		}
		cc := *v
		cc.Order = slices.Clone(v.Order)
		cc.extenSource = maps.Clone(v.extenSource)
		cc.Extens = make(map[string][]Step, len(v.Extens))
		for e, steps := range v.Extens {
			ns := slices.Clone(steps)
			for i := range ns {
				ns[i].Args = slices.Clone(ns[i].Args)
			}
			cc.Extens[e] = ns
		}
		c.Contexts[k] = &cc
	}
	c.Queues = make(map[string]*Queue, len(sc.Queues))
	for k, v := range sc.Queues {
		if v == nil {
			continue
		}
		q := *v
		q.Members = slices.Clone(v.Members)
		c.Queues[k] = &q
	}
	c.Phones = make(map[string]*Phone, len(sc.Phones))
	for k, v := range sc.Phones {
		if v == nil {
			continue
		}
		p := *v
		c.Phones[k] = &p
	}
	c.Calls = slices.Clone(sc.Calls)
	if sc.Traffic != nil {
		t := *sc.Traffic
		t.Targets = slices.Clone(sc.Traffic.Targets)
		c.Traffic = &t
	}
	c.Globals = maps.Clone(sc.Globals)
	if c.Globals == nil {
		c.Globals = map[string]string{}
	}
	return &c
}

// PhoneFor says how the PBX's call to iface goes: the phone listed for it,
// else, for a dial string through a peer such as SIP/trunk/0612345678,
// the phone listed for the peer (SIP/trunk), else an unlisted phone that
// answers after DefaultAnswerAfter and never hangs up. Local/ channels are
// not phones: the PBX runs their dialplan instead.
func (sc *Scenario) PhoneFor(iface string) Phone {
	if p := sc.Phones[iface]; p != nil {
		return *p
	}
	if i := strings.IndexByte(iface, '/'); i >= 0 {
		if j := strings.IndexByte(iface[i+1:], '/'); j >= 0 {
			if p := sc.Phones[iface[:i+1+j]]; p != nil {
				ph := *p
				ph.Interface = iface
				return ph
			}
		}
	}
	return Phone{Interface: iface, Behaviour: Answers, AnswerAfter: DefaultAnswerAfter}
}
