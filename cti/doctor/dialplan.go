package doctor

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// dpContext is one dialplan context as `dialplan show` or ShowDialPlan
// list it.
type dpContext struct {
	Name     string
	Extens   []dpExten
	Includes []string
}

// dpExten is an extension and its priorities, in order.
type dpExten struct {
	Name  string
	Prios []dpPriority
}

// dpPriority is one priority: its number, label, application and data
// as the dialplan stores them (1.4: arguments separated by '|').
type dpPriority struct {
	N     int
	Label string
	App   string
	Data  string
}

// Errors of the dialplan parsers.
var (
	// errNoContext: the context asked for does not exist.
	errNoContext = errors.New("no such context")
	// errNoExtension: the context exists, the extension asked for does not.
	errNoExtension = errors.New("no such extension")
)

// showLine matches a priority line of `dialplan show` (main/pbx.c
// show_dialplan_helper: "  %-17s %-45s [%s]"): in the first column the
// extension ("'101' =>", "'101' (CID match '555') =>"), a label
// ("   [again]") or nothing; then "N. App(data)" or "hint: …"; then the
// registrar, "[pbx_config]" or "[extensions.conf:24]".
var showLine = regexp.MustCompile(`^  (?:'(.*?)'(?: \(CID match '.*?'\))? =>|\s*\[([^\]]*)\])?\s*(?:(\d+)\. ([^(]*)\((.*)\)|hint: .*?)\s+\[[^\]]*\]\s*$`)

// contextHeader matches "[ Context 'name' created by 'pbx_config' ]" and
// "[ Included context 'name' created by … ]".
var contextHeader = regexp.MustCompile(`^\[ (?:Included c|C)ontext '(.*)' created by '.*' \]$`)

// includeLine matches "  Include =>        'other'     [pbx_config]".
var includeLine = regexp.MustCompile(`^  Include =>\s+'(.*?)'\s+\[[^\]]*\]\s*$`)

// parseDialplanShow reads the output of `dialplan show [[exten@]context]`
// in the format of Asterisk 1.4 and of 12 and later (they print alike). A
// context or extension that does not exist is errNoContext or
// errNoExtension; output that holds no context at all is an error.
func parseDialplanShow(lines []string) ([]*dpContext, error) {
	var out []*dpContext
	var ctx *dpContext
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "There is no existence of '") && strings.HasSuffix(l, "' context"):
			return nil, errNoContext
		case strings.HasPrefix(l, "There is no existence of ") && strings.HasSuffix(l, " extension"),
			strings.HasPrefix(l, "There is no existence of ") && strings.HasSuffix(l, " extension in all contexts"):
			return nil, errNoExtension
		}
		if m := contextHeader.FindStringSubmatch(l); m != nil {
			ctx = &dpContext{Name: m[1]}
			out = append(out, ctx)
			continue
		}
		if ctx == nil {
			continue
		}
		if m := includeLine.FindStringSubmatch(l); m != nil {
			ctx.Includes = append(ctx.Includes, m[1])
			continue
		}
		m := showLine.FindStringSubmatch(l)
		if m == nil {
			continue // Autohints, ignore patterns, switches, the counts, blank lines
		}
		if m[1] != "" || len(ctx.Extens) == 0 {
			ctx.Extens = append(ctx.Extens, dpExten{Name: m[1]})
		}
		if m[3] == "" {
			continue // a hint
		}
		n, _ := strconv.Atoi(m[3])
		e := &ctx.Extens[len(ctx.Extens)-1]
		e.Prios = append(e.Prios, dpPriority{N: n, Label: m[2], App: strings.TrimSpace(m[4]), Data: m[5]})
	}
	if out == nil {
		return nil, fmt.Errorf("no context in %d lines of output", len(lines))
	}
	return out, nil
}

// parseListDialplan reads the ListDialplan items of a ShowDialPlan answer
// (main/pbx.c manager_show_dialplan_helper), in order.
func parseListDialplan(items []*ami.Frame) []*dpContext {
	var out []*dpContext
	byName := map[string]*dpContext{}
	for _, f := range items {
		if !ami.EqualFold(f.Event(), "ListDialplan") {
			continue
		}
		name := f.Get("Context")
		c := byName[name]
		if c == nil {
			c = &dpContext{Name: name}
			byName[name] = c
			out = append(out, c)
		}
		if inc, ok := f.Lookup("IncludeContext"); ok {
			c.Includes = append(c.Includes, inc)
			continue
		}
		exten, ok := f.Lookup("Extension")
		if !ok {
			continue // an ignore pattern or a switch
		}
		if n := len(c.Extens); n == 0 || c.Extens[n-1].Name != exten {
			c.Extens = append(c.Extens, dpExten{Name: exten})
		}
		prio, err := strconv.Atoi(f.Get("Priority"))
		if err != nil {
			continue // "hint"
		}
		e := &c.Extens[len(c.Extens)-1]
		e.Prios = append(e.Prios, dpPriority{N: prio, Label: f.Get("ExtensionLabel"),
			App: f.Get("Application"), Data: f.Get("AppData")})
	}
	return out
}

// apps returns the applications a context runs, each once, in order.
func (c *dpContext) apps() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range c.Extens {
		for _, p := range e.Prios {
			if k := strings.ToLower(p.App); !seen[k] {
				seen[k] = true
				out = append(out, p.App)
			}
		}
	}
	return out
}

// runs reports whether the context runs one of the applications.
func (c *dpContext) runs(apps ...string) bool {
	for _, e := range c.Extens {
		for _, p := range e.Prios {
			for _, a := range apps {
				if strings.EqualFold(p.App, a) {
					return true
				}
			}
		}
	}
	return false
}

// extenNames returns the names of the context's extensions.
func (c *dpContext) extenNames() []string {
	out := make([]string, len(c.Extens))
	for i, e := range c.Extens {
		out[i] = e.Name
	}
	return out
}
