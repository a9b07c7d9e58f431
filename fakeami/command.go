package fakeami

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/scenarios"
)

// This file holds the CLI commands and manager actions that show the
// dialplan (`dialplan show`, ShowDialPlan), the UserEvent action and the
// built-in variables a Getvar without a channel reads, as the recorded
// builds answer them (testdata/ami-lists/asterisk-*-doctor.ami).

// cliStatus is how a CLI command ended.
type cliStatus int

const (
	cliSuccess cliStatus = iota
	cliFailure           // the command ran and failed (CLI_FAILURE): "Command '…' failed." on 12+
	cliUnknown           // no such command
)

// commandOutput runs the CLI commands this file knows. cmd has its words
// separated by single spaces. p.mu must be held.
func (p *PBX) commandOutput(cmd string) ([]string, cliStatus) {
	words := strings.Fields(cmd)
	if len(words) >= 2 && len(words) <= 3 && strings.EqualFold(words[0], "dialplan") && strings.EqualFold(words[1], "show") {
		arg := ""
		if len(words) == 3 {
			arg = words[2]
		}
		return p.dialplanShow(arg)
	}
	return []string{noSuchCommand(p.opts.Dialect, cmd)}, cliUnknown
}

// cliCommandOutput is commandOutput in the form actionCommand answers with:
// the lines, and whether the command succeeded. On 12 and later a failed
// command ends with "Command '…' failed." (main/cli.c).
func (p *PBX) cliCommandOutput(cmd string) ([]string, bool) {
	out, st := p.commandOutput(cmd)
	if st == cliFailure && p.opts.Dialect == DialectModern {
		out = append(out, fmt.Sprintf("Command '%s' failed.", cmd))
	}
	return out, st == cliSuccess
}

// dialplanShow is `dialplan show [[exten@]context]` (main/pbx.c
// handle_show_dialplan, show_dialplan_helper). Extensions come as Asterisk
// sorts them, literal ones first (in strcmp order; 12+ ignores '-'), then
// the patterns, which the fake leaves in file order (Asterisk sorts them
// by how much they match). Contexts come in name order. The registrar is
// "pbx_config" on 1.4 and "extensions.conf:LINE" on 12+, with the step's
// line in the scenario's extensions.conf.
func (p *PBX) dialplanShow(arg string) ([]string, cliStatus) {
	var exten, context string
	if e, c, ok := strings.Cut(arg, "@"); ok {
		exten, context = e, c
	} else {
		context = arg
	}
	var out []string
	var totalExten, totalPrio, totalContext int
	contextFound, extenFound := false, false
	for _, name := range p.contextNames() {
		if context != "" && name != context {
			continue
		}
		contextFound = true
		ctx := p.contexts[name]
		printed := false
		if exten == "" {
			totalContext++
			out = append(out, fmt.Sprintf("[ Context '%s' created by 'pbx_config' ]", name))
			printed = true
		}
		for _, key := range p.sortedExtens(ctx) {
			if exten != "" && !extenMatches(key, exten) {
				continue
			}
			extenFound = true
			if !printed {
				totalContext++
				out = append(out, fmt.Sprintf("[ Context '%s' created by 'pbx_config' ]", name))
				printed = true
			}
			totalExten++
			for i, st := range ctx.Extens[key] {
				totalPrio++
				col := ""
				switch {
				case i == 0:
					col = "'" + key + "' =>"
				case st.Label != "":
					col = "   [" + st.Label + "]"
				}
				out = append(out, fmt.Sprintf("  %-17s %-45s [%s]", col,
					fmt.Sprintf("%d. %s(%s)", st.Priority, st.App, p.stepData(st)), p.registrar(st)))
			}
		}
		if printed {
			out = append(out, "")
		}
	}
	if context != "" && !contextFound {
		return []string{fmt.Sprintf("There is no existence of '%s' context", context)}, cliFailure
	}
	if exten != "" && !extenFound {
		if context != "" {
			return []string{fmt.Sprintf("There is no existence of %s@%s extension", exten, context)}, cliFailure
		}
		return []string{fmt.Sprintf("There is no existence of '%s' extension in all contexts", exten)}, cliFailure
	}
	out = append(out, fmt.Sprintf("-= %d %s (%d %s) in %d %s. =-",
		totalExten, plural(totalExten, "extension", "extensions"),
		totalPrio, plural(totalPrio, "priority", "priorities"),
		totalContext, plural(totalContext, "context", "contexts")))
	return out, cliSuccess
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// contextNames returns the dialplan's contexts in name order.
// p.mu must be held.
func (p *PBX) contextNames() []string {
	names := make([]string, 0, len(p.contexts))
	for name, c := range p.contexts {
		if c != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// sortedExtens returns the extensions of ctx as Asterisk orders them
// (ext_cmp): literal extensions first, sorted, then the patterns.
func (p *PBX) sortedExtens(ctx *scenarios.Context) []string {
	var lit, pat []string
	seen := map[string]bool{}
	add := func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		if scenarios.IsPattern(k) {
			pat = append(pat, k)
		} else {
			lit = append(lit, k)
		}
	}
	for _, k := range ctx.Order {
		if _, ok := ctx.Extens[k]; ok {
			add(k)
		}
	}
	rest := make([]string, 0)
	for k := range ctx.Extens {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(k)
	}
	modern := p.opts.Dialect == DialectModern
	sort.SliceStable(lit, func(i, j int) bool {
		a, b := lit[i], lit[j]
		if modern { // ext_cmp_exten: '-' is eye candy
			a, b = strings.ReplaceAll(a, "-", ""), strings.ReplaceAll(b, "-", "")
		}
		return a < b
	})
	return append(lit, pat...)
}

// extenMatches is ast_extension_match(key, exten): the literal extension
// itself, or a pattern that matches it.
func extenMatches(key, exten string) bool {
	if !scenarios.IsPattern(key) {
		return key == exten
	}
	one := &scenarios.Context{Extens: map[string][]scenarios.Step{key: nil}, Order: []string{key}}
	_, ok := one.MatchKey(exten)
	return ok
}

// stepData is a step's application data as the dialplan keeps it: the
// arguments joined with the dialect's separator. 1.4's pbx_config turns
// every ',' outside quotes into '|' (ast_process_quotes_and_slashes),
// inside a Set value too.
func (p *PBX) stepData(st scenarios.Step) string {
	data := p.joinArgs(st.Args)
	if p.opts.Dialect == Dialect14 {
		data = strings.ReplaceAll(data, ",", "|")
	}
	return data
}

func (p *PBX) registrar(st scenarios.Step) string {
	if p.opts.Dialect == Dialect14 || st.Line == 0 {
		return "pbx_config"
	}
	return "extensions.conf:" + strconv.Itoa(st.Line)
}

// actionShowDialPlan is Asterisk 1.6+'s ShowDialPlan (main/pbx.c
// manager_show_dialplan): one ListDialplan event per priority, the list
// opened only with the first item, and an error when the context or the
// extension asked for does not exist.
func (p *PBX) actionShowDialPlan(s Sink, a *ami.Frame) {
	id := a.ActionID()
	context, exten := strings.TrimSpace(a.Get("Context")), strings.TrimSpace(a.Get("Extension"))
	var items []*ami.Frame
	var totalExten, totalPrio, totalContext int
	contextFound, extenFound := false, false
	for _, name := range p.contextNames() {
		if context != "" && name != context {
			continue
		}
		contextFound = true
		totalContext++
		ctx := p.contexts[name]
		for _, key := range p.sortedExtens(ctx) {
			if exten != "" && !extenMatches(key, exten) {
				continue
			}
			extenFound = true
			totalExten++
			for _, st := range ctx.Extens[key] {
				totalPrio++
				f := ev("ListDialplan", "")
				addActionID(f, id)
				f.Add("Context", name).Add("Extension", key)
				if st.Label != "" {
					f.Add("ExtensionLabel", st.Label)
				}
				f.Add("Priority", itoa(st.Priority)).Add("Application", st.App).
					Add("AppData", p.stepData(st)).Add("Registrar", "pbx_config")
				items = append(items, f)
			}
		}
	}
	switch {
	case context != "" && !contextFound:
		p.respond(s, id, "Error", "Did not find context "+context)
		return
	case exten != "" && !extenFound && context != "":
		p.respond(s, id, "Error", "Did not find extension "+exten+"@"+context)
		return
	case exten != "" && !extenFound:
		p.respond(s, id, "Error", "Did not find extension "+exten+" in any context")
		return
	}
	p.respondList(s, id, "DialPlan list will follow")
	for _, f := range items {
		s.Send(f)
	}
	p.listComplete(s, "ShowDialPlanComplete", id, len(items),
		"ListExtensions", itoa(totalExten), "ListPriorities", itoa(totalPrio), "ListContexts", itoa(totalContext))
}

// actionUserEvent is the UserEvent action (main/manager.c
// action_userevent): "Event Sent", then a UserEvent broadcast to every
// session that may read "user", with the action's other headers in their
// order: all of them on 1.4 (Action: UserEvent and the ActionID too), all
// but Action on 12+.
func (p *PBX) actionUserEvent(s Sink, a *ami.Frame) {
	p.respond(s, a.ActionID(), "Success", "Event Sent")
	f := ev("UserEvent", "user,all")
	f.Add("UserEvent", a.Get("UserEvent"))
	for _, fl := range a.Fields {
		if ami.EqualFold(fl.Key, "UserEvent") || (p.opts.Dialect == DialectModern && ami.EqualFold(fl.Key, "Action")) {
			continue
		}
		f.Add(fl.Key, fl.Value)
	}
	p.broadcast(f)
}

// globalVariable is what a Getvar without a channel reads: a builtin
// variable that needs no channel (EPOCH, main/pbx_variables.c
// ast_str_retrieve_variable), or a global one. p.mu must be held.
func (p *PBX) globalVariable(name string) string {
	if strings.EqualFold(name, "EPOCH") {
		return strconv.FormatInt(p.now().Unix(), 10)
	}
	v, _ := p.globals.get(name)
	return v
}

// actionCoreSettings is Asterisk 1.6+'s CoreSettings (main/manager.c
// action_coresettings), with the values of the recorded 22.10.1 build.
func (p *PBX) actionCoreSettings(s Sink, a *ami.Frame) {
	r := &ami.Frame{}
	r.Add("Response", "Success")
	addActionID(r, a.ActionID())
	version := strings.TrimPrefix(strings.Fields(versionModern)[1], "Asterisk ")
	r.Add("AMIversion", DialectModern.ManagerVersion()).Add("AsteriskVersion", version).
		Add("SystemName", "").Add("CoreMaxCalls", "0").Add("CoreMaxLoadAvg", "0.000000").
		Add("CoreRunUser", "").Add("CoreRunGroup", "").Add("CoreMaxFilehandles", "0").
		Add("CoreRealTimeEnabled", "No").Add("CoreCDRenabled", "Yes").Add("CoreHTTPenabled", "No").
		Add("SoundsSearchCustomDir", "No")
	s.Send(r)
}
