package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/seatproto"
)

// Kind names the kind of item of a Model a Problem is about.
type Kind string

// The kinds of items; KindNone is for a problem about no one item (an XML
// syntax error, an unknown element, a broken reference in a file).
const (
	KindNone     Kind = ""
	KindSeat     Kind = "seat"
	KindOperator Kind = "operator"
	KindService  Kind = "service"
	KindVariable Kind = "variable" // a service's variable: Index is the service's, Sub the variable's
	KindMember   Kind = "member"   // a service's member: Index is the service's, Sub the member's
)

func (k Kind) String() string { return string(k) }

// Problem is one thing wrong with a configuration. Besides its message it
// says which item and which field it is about, so that a form can show it
// next to its field (see FieldKey).
type Problem struct {
	// Line is the line of the XML file the problem is on, 0 when the
	// configuration did not come from XML.
	Line int
	// Msg names the item and says what is wrong with it.
	Msg string
	// Kind is the kind of item the problem is about, KindNone when it is
	// about no one item.
	Kind Kind
	// Index is the item's index in Model.Seats, Model.Operators or
	// Model.Services; for a variable or a member, the index of its service.
	// For a Store save it is the index of the edited row in the model the
	// save would make, which is the row given to the save.
	Index int
	// Sub is the index of a variable in its service's Variables or of a
	// member in its Members, 0 otherwise.
	Sub int
	// ID is the item's row id in the Store (Seat.ID, Operator.ID,
	// Service.ID; for a variable or a member, its service's ID): 0 for a
	// new row or one that came from XML.
	ID int64
	// Field is the attribute the problem is about, as the XML format and
	// the configurator's forms name it ("mac", "interface", "username",
	// "password-hash", "seat", "name", "queue", "application",
	// "parameters", "penalty", "operator", ...), or "" for the item as a
	// whole.
	Field string
}

// FieldKey names the problem's field within the form of its item: the
// Field itself ("mac"), or for a service's variable or member
// "variable.SUB.FIELD" and "member.SUB.FIELD" ("member.2.penalty"), so
// that a service's form can put the message beside the right row. It is ""
// for a problem about no field.
func (p Problem) FieldKey() string {
	switch p.Kind {
	case KindVariable, KindMember:
		return string(p.Kind) + "." + strconv.Itoa(p.Sub) + "." + p.Field
	}
	return p.Field
}

func (p Problem) String() string {
	if p.Line > 0 {
		return "line " + strconv.Itoa(p.Line) + ": " + p.Msg
	}
	return p.Msg
}

// ValidationError is a configuration refused for one or more problems. It
// lists every problem found, not only the first.
type ValidationError struct {
	// File is the file the configuration came from, if any.
	File     string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if len(e.Problems) == 1 {
		b.WriteString(e.Problems[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}

// refKind and ref name an item of a Model (and an attribute of it), so that
// the XML reader can map a problem to the line of the element or attribute.
type refKind int

const (
	refNone refKind = iota
	refSeat
	refOperator
	refService
	refVariable // service i, variable j
	refMember   // service i, member j
)

type ref struct {
	kind refKind
	i, j int
	attr string // the XML attribute name, "" for the element
}

// locator maps a ref to a line; nil means no line information.
type locator func(ref) int

type validator struct {
	problems []Problem
	loc      locator
	m        *Model // for the IDs of the items, nil for a lone row
	// stored words the uniqueness problems for a Store save, which names
	// the row being saved, not the n-th element of a file.
	stored bool
}

var refKinds = [...]Kind{refNone: KindNone, refSeat: KindSeat, refOperator: KindOperator,
	refService: KindService, refVariable: KindVariable, refMember: KindMember}

func (v *validator) add(r ref, format string, args ...any) {
	line := 0
	if v.loc != nil {
		line = v.loc(r)
	}
	p := Problem{Line: line, Msg: fmt.Sprintf(format, args...), Kind: refKinds[r.kind], Index: r.i, Sub: r.j, Field: r.attr}
	p.ID = v.id(r)
	v.problems = append(v.problems, p)
}

// id returns the row id of the item r names, 0 when unknown.
func (v *validator) id(r ref) int64 {
	if v.m == nil || r.i < 0 {
		return 0
	}
	switch r.kind {
	case refSeat:
		if r.i < len(v.m.Seats) {
			return v.m.Seats[r.i].ID
		}
	case refOperator:
		if r.i < len(v.m.Operators) {
			return v.m.Operators[r.i].ID
		}
	case refService, refVariable, refMember:
		if r.i < len(v.m.Services) {
			return v.m.Services[r.i].ID
		}
	}
	return 0
}

// Validate checks m completely and returns a *ValidationError listing every
// problem, or nil. It checks each field (formats, lengths, enumerations) and
// the model as a whole: unique MACs, interfaces, usernames, service names
// and queues; no two enabled-or-not non-queue services on one context;
// members and fixed seats that exist; placeholders that name a variable of
// the service or a built-in, and none in the program of an application
// trigger, which is never expanded. Each Problem names its item and field.
func (m *Model) Validate() error {
	return m.validate(nil)
}

func (m *Model) validate(loc locator) error {
	v := &validator{loc: loc, m: m}
	v.model(m)
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func (v *validator) model(m *Model) {
	seats := map[string]int{}
	ifaces := map[string]int{}
	for i, s := range m.Seats {
		r := ref{kind: refSeat, i: i}
		v.seat(r, s)
		if s.MAC != "" {
			if j, dup := seats[s.MAC]; dup && v.stored {
				v.add(ref{kind: refSeat, i: i, attr: "mac"}, "seat %s: a seat with this MAC address already exists", s.MAC)
			} else if dup {
				v.add(ref{kind: refSeat, i: i, attr: "mac"}, "seat %s: duplicate MAC (also seat %d)", s.MAC, j+1)
			} else {
				seats[s.MAC] = i
			}
		}
		if s.Interface != "" {
			k := InterfaceKey(s.Interface)
			if j, dup := ifaces[k]; dup && v.stored {
				v.add(ref{kind: refSeat, i: i, attr: "interface"}, "seat %s: another seat already has this interface (seat %s has %s)", s.MAC, m.Seats[j].MAC, m.Seats[j].Interface)
			} else if dup {
				v.add(ref{kind: refSeat, i: i, attr: "interface"}, "seat %s: interface %s is also the interface of seat %s", s.MAC, s.Interface, m.Seats[j].MAC)
			} else {
				ifaces[k] = i
			}
		}
	}
	users := map[string]bool{}
	for i, o := range m.Operators {
		v.operator(ref{kind: refOperator, i: i}, o)
		if o.Username != "" {
			if users[o.Username] && v.stored {
				v.add(ref{kind: refOperator, i: i, attr: "username"}, "operator %q: an operator with this username already exists", o.Username)
			} else if users[o.Username] {
				v.add(ref{kind: refOperator, i: i, attr: "username"}, "operator %q: duplicate username", o.Username)
			}
			users[o.Username] = true
		}
		if o.Seat != "" {
			if _, ok := seats[o.Seat]; !ok {
				v.add(ref{kind: refOperator, i: i, attr: "seat"}, "operator %q: seat %s: no such seat", o.Username, o.Seat)
			}
		}
	}
	names := map[string]bool{}
	contexts := map[string]string{}
	queues := map[string]string{}
	for i, s := range m.Services {
		v.service(i, s, users)
		if s.Name != "" {
			if names[s.Name] && v.stored {
				v.add(ref{kind: refService, i: i, attr: "name"}, "service %q: a service with this name already exists", s.Name)
			} else if names[s.Name] {
				v.add(ref{kind: refService, i: i, attr: "name"}, "service %q: duplicate name", s.Name)
			}
			names[s.Name] = true
		}
		switch {
		case s.IsQueue && s.Queue != "":
			if other, dup := queues[s.Queue]; dup && v.stored {
				v.add(ref{kind: refService, i: i, attr: "queue"}, "service %q: another service already uses this queue (service %q)", s.Name, other)
			} else if dup {
				v.add(ref{kind: refService, i: i, attr: "queue"}, "service %q: queue %s is also the queue of service %q (a queue call's service is decided by its queue)", s.Name, s.Queue, other)
			} else {
				queues[s.Queue] = s.Name
			}
		case !s.IsQueue && s.Context != "":
			if other, dup := contexts[s.Context]; dup && v.stored {
				v.add(ref{kind: refService, i: i, attr: "context"}, "service %q: another service without a queue already uses this context (service %q): a call there would be ambiguous", s.Name, other)
			} else if dup {
				v.add(ref{kind: refService, i: i, attr: "context"}, "service %q: context %s is also the context of service %q: two services without a queue on one context are ambiguous", s.Name, s.Context, other)
			} else {
				contexts[s.Context] = s.Name
			}
		}
	}
}

func (v *validator) seat(r ref, s Seat) {
	name := s.MAC
	if name == "" {
		name = fmt.Sprintf("%d", r.i+1)
	}
	if s.MAC == "" {
		v.add(ref{kind: refSeat, i: r.i, attr: "mac"}, "seat %s: missing MAC", name)
	} else if mac, err := NormalizeMAC(s.MAC); err != nil {
		v.add(ref{kind: refSeat, i: r.i, attr: "mac"}, "seat: %v", err)
	} else if mac != s.MAC {
		v.add(ref{kind: refSeat, i: r.i, attr: "mac"}, "seat %s: MAC not in canonical form %s", s.MAC, mac)
	}
	if s.Interface == "" {
		v.add(ref{kind: refSeat, i: r.i, attr: "interface"}, "seat %s: missing interface", name)
	} else if err := CheckInterface(s.Interface); err != nil {
		v.add(ref{kind: refSeat, i: r.i, attr: "interface"}, "seat %s: %v", name, err)
	}
	if err := checkText(s.Description, 256); err != nil {
		v.add(ref{kind: refSeat, i: r.i, attr: "description"}, "seat %s: description %v", name, err)
	}
}

func (v *validator) operator(r ref, o Operator) {
	at := func(attr string) ref { return ref{kind: refOperator, i: r.i, attr: attr} }
	name := fmt.Sprintf("%q", o.Username)
	switch {
	case o.Username == "":
		v.add(at("username"), "operator %d: missing username", r.i+1)
		name = fmt.Sprintf("%d", r.i+1)
	case len(o.Username) > 64 || !usernameRE.MatchString(o.Username):
		v.add(at("username"), "operator %q: invalid username (letters, digits and . _ @ -, at most 64, no spaces)", o.Username)
	}
	if err := checkText(o.FullName, 128); err != nil {
		v.add(at("fullname"), "operator %s: full name %v", name, err)
	}
	if o.PasswordHash == "" {
		v.add(at("password-hash"), "operator %s: missing password", name)
	} else if err := checkPasswordHash(o.PasswordHash); err != nil {
		v.add(at("password-hash"), "operator %s: %v", name, err)
	}
	if o.Seat != "" {
		if mac, err := NormalizeMAC(o.Seat); err != nil {
			v.add(at("seat"), "operator %s: seat: %v", name, err)
		} else if mac != o.Seat {
			v.add(at("seat"), "operator %s: seat MAC not in canonical form %s", name, mac)
		}
	}
}

// service checks one service; users, when not nil, are the usernames members
// must name.
func (v *validator) service(i int, s Service, users map[string]bool) {
	at := func(attr string) ref { return ref{kind: refService, i: i, attr: attr} }
	name := fmt.Sprintf("%q", s.Name)
	if s.Name == "" {
		v.add(at("name"), "service %d: missing name", i+1)
		name = fmt.Sprintf("%d", i+1)
	} else if err := checkText(s.Name, 64); err != nil || strings.TrimSpace(s.Name) != s.Name {
		v.add(at("name"), "service %q: invalid name (at most 64 bytes, no control characters or surrounding spaces)", s.Name)
	}
	if s.Type == "" {
		v.add(at("type"), "service %s: missing type (inbound or outbound)", name)
	} else if !s.Type.valid() {
		v.add(at("type"), "service %s: unknown type %q (inbound or outbound)", name, s.Type)
	}
	if s.Context == "" {
		v.add(at("context"), "service %s: missing context", name)
	} else if len(s.Context) > 79 || !dialTokenRE.MatchString(s.Context) {
		v.add(at("context"), "service %s: invalid context %q (letters, digits and _ . + -, at most 79)", name, s.Context)
	}
	switch {
	case s.IsQueue && s.Queue == "":
		v.add(at("queue"), "service %s: a queue service needs a queue name", name)
	case !s.IsQueue && s.Queue != "":
		v.add(at("queue"), "service %s: queue name %q on a service that is not a queue service", name, s.Queue)
	case s.IsQueue && (len(s.Queue) > 79 || !dialTokenRE.MatchString(s.Queue)):
		v.add(at("queue"), "service %s: invalid queue name %q (letters, digits and _ . + -, at most 79)", name, s.Queue)
	}
	if s.IsQueue && s.Type == Outbound {
		v.add(at("queue"), "service %s: an outbound service cannot have a queue", name)
	}
	if !s.Trigger.valid() {
		v.add(at("trigger"), "service %s: unknown trigger %q (none, application or browser)", name, s.Trigger)
	}
	if err := checkText(s.Application, 1024); err != nil {
		v.add(at("application"), "service %s: application %v", name, err)
	}
	if err := checkText(s.Parameters, 1024); err != nil {
		v.add(at("parameters"), "service %s: parameters %v", name, err)
	}
	switch s.Trigger {
	case TriggerApplication:
		v.program(at("application"), name, s.Application)
	case TriggerBrowser:
		lower := strings.ToLower(s.Application)
		if s.Application == "" {
			v.add(at("application"), "service %s: trigger browser needs a URL in application", name)
		} else if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			v.add(at("application"), "service %s: trigger browser needs an http:// or https:// URL, not %q", name, s.Application)
		} else if err := checkURLTemplate(s.Application); err != nil {
			v.add(at("application"), "service %s: application: %v", name, err)
		}
	}
	vars := map[string]bool{}
	for j, vn := range s.Variables {
		r := ref{kind: refVariable, i: i, j: j, attr: "name"}
		switch {
		case vn == "":
			v.add(r, "service %s: variable with no name", name)
		case len(vn) > 64 || !varNameRE.MatchString(vn):
			v.add(r, "service %s: invalid variable name %q (letters, digits and _, not starting with a digit)", name, vn)
		case IsBuiltin(strings.ToLower(vn)):
			v.add(r, "service %s: variable %q has the name of a built-in placeholder", name, vn)
		case vars[vn]:
			v.add(r, "service %s: duplicate variable %q", name, vn)
		}
		vars[vn] = true
	}
	for _, f := range []struct{ attr, val string }{{"application", s.Application}, {"parameters", s.Parameters}} {
		if f.attr == "application" && s.Trigger == TriggerApplication {
			continue // never expanded: v.program refuses any placeholder
		}
		names, err := Placeholders(f.val)
		if err != nil {
			v.add(at(f.attr), "service %s: %s: %v", name, f.attr, err)
		}
		for _, p := range names {
			if !vars[p] && !IsBuiltin(p) {
				v.add(at(f.attr), "service %s: %s: placeholder ${%s} names no variable of the service and no built-in", name, f.attr, p)
			}
		}
	}
	members := map[string]bool{}
	for j, mb := range s.Members {
		r := ref{kind: refMember, i: i, j: j, attr: "operator"}
		switch {
		case mb.Operator == "":
			v.add(r, "service %s: member with no operator", name)
		case users != nil && !users[mb.Operator]:
			v.add(r, "service %s: member %q: no such operator", name, mb.Operator)
		case members[mb.Operator]:
			v.add(r, "service %s: operator %q is a member twice", name, mb.Operator)
		}
		members[mb.Operator] = true
		if mb.Penalty < 0 || mb.Penalty > math.MaxInt32 {
			v.add(ref{kind: refMember, i: i, j: j, attr: "penalty"}, "service %s: member %q: penalty %d out of range 0..%d", name, mb.Operator, mb.Penalty, math.MaxInt32)
		}
	}
}

// program checks the program of an application trigger. The server never
// expands it (cti/notify.go: only the parameters are, so a caller cannot
// choose what runs), so a placeholder there would reach the seat as the
// literal text "${name}" in the program's path: refused, with where to put
// it instead.
func (v *validator) program(r ref, service, prog string) {
	switch {
	case strings.TrimSpace(prog) == "":
		v.add(r, "service %s: trigger application needs an application", service)
	case strings.Contains(prog, "${"):
		v.add(r, "service %s: application %q: a placeholder in the program is never expanded (only the parameters are, so a caller cannot choose what runs): name a fixed program and put the placeholder in parameters", service, prog)
	case strings.TrimSpace(prog) != prog:
		v.add(r, "service %s: application %q: spaces around the program name (the seat would look for a program of that name, spaces included)", service, prog)
	}
}

// checkURLTemplate refuses a browser URL the seat would refuse to open
// whatever the call's values (seatproto.CheckURL, the seat client's own
// check): the server escapes the placeholders' values, but the URL's own
// text reaches the seat as written, so a space or a quote there, or a URL
// with no host, failed every pop.
func checkURLTemplate(tmpl string) error {
	return seatproto.CheckURL(Expand(tmpl, func(string) string { return "x" }))
}
