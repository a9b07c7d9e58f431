package scenariotest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astcti/astcti/cti/seatproto"
)

// Expect is a parsed expect file: who logs in, what the seats and the PBX
// do at which moment, and the events each seat must receive. The format is
// in docs/scenarios.md ("The expect file").
type Expect struct {
	Seats    []SeatDecl     // operators added to the demo configuration
	Services []ServiceDecl  // services added to the demo configuration
	Penalty  map[string]int // "penalty" lines: an operator's penalty in every queue
	Login    []string       // operators logged in before the PBX starts playing
	Steps    []Step         // in file order; the runner takes them by time, file order among equals
	Run      time.Duration  // how long the PBX plays; 0 means until it is idle
	Lines    []Line         // expected events, in file order
}

// SeatDecl is a "seat" line: an operator, named like its password, on a
// seat of its own with a phone.
type SeatDecl struct {
	Name      string
	Interface string   // the seat's phone, e.g. SIP/207
	Paused    bool     // the operator begins paused
	Penalty   int      // in every queue the operator joins
	Services  []string // the services the operator belongs to; none means every service
	Line      int
}

// ServiceDecl is a "service" line: an inbound service added to the
// configuration.
type ServiceDecl struct {
	Name    string
	Context string
	Queue   string   // "" for a service without a queue
	Vars    []string // the service's variables, in order
	Line    int
}

// StepKind says what a Step does.
type StepKind int

const (
	StepLogin    StepKind = iota + 1 // operators log in
	StepCommand                      // a seat sends a command
	StepTransfer                     // a phone transfers its call (blind)
)

func (k StepKind) String() string {
	switch k {
	case StepLogin:
		return "login"
	case StepCommand:
		return "command"
	case StepTransfer:
		return "transfer"
	}
	return "StepKind(" + strconv.Itoa(int(k)) + ")"
}

// Step is an "at" line: something done at a moment of the scenario's time.
type Step struct {
	At   time.Duration
	Kind StepKind
	// StepLogin: the operators.
	Seats []string
	// StepCommand: the seat, its command line, and the final answer it must
	// get ("" means the command's success: 300 OK for PAUSE, 100 OK else).
	Seat    string
	Command string
	Reply   string
	// StepTransfer: the phone whose call is transferred, and where to.
	Interface      string
	Exten, Context string
	Line           int
}

// Line is one expected seat event.
type Line struct {
	Dialect string // "" for both, else "1.4" or "modern"
	Seat    string
	Text    string // the event as Render writes it: "Link caller=200 service=sales calldata=12345 action=browser"
	Line    int
}

// The event ids a seat line may name (docs/protocol.md, section 5).
var eventIDs = []string{"Newchannel", "CallerId", "Link", "Hangup", "OriginateResponse"}

// Dialects are the dialect tags an expected line may carry.
var Dialects = []string{"1.4", "modern"}

// ParseExpect reads an expect file. It reports every line it cannot read,
// each as "expect:LINE: message", joined.
func ParseExpect(text string) (*Expect, error) {
	e := &Expect{}
	var errs []error
	bad := func(n int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("expect:%d: %s", n, fmt.Sprintf(format, args...)))
	}
	for i, raw := range strings.Split(text, "\n") {
		n := i + 1
		line := strings.TrimSpace(strings.ReplaceAll(strings.TrimSuffix(raw, "\r"), "\t", " "))
		if c := strings.Index(line, "#"); c >= 0 {
			line = strings.TrimSpace(line[:c])
		}
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "seat":
			d, err := parseSeat(f[1:])
			if err != nil {
				bad(n, "seat: %v", err)
				continue
			}
			d.Line = n
			e.Seats = append(e.Seats, d)
		case "service":
			d, err := parseService(f[1:])
			if err != nil {
				bad(n, "service: %v", err)
				continue
			}
			d.Line = n
			e.Services = append(e.Services, d)
		case "penalty":
			p := -1
			if len(f) == 3 {
				p, _ = strconv.Atoi(f[2])
			}
			if len(f) != 3 || p < 0 || f[2] != strconv.Itoa(p) {
				bad(n, "penalty: want penalty NAME N")
				continue
			}
			if e.Penalty == nil {
				e.Penalty = map[string]int{}
			}
			e.Penalty[f[1]] = p
		case "login":
			if len(f) < 2 {
				bad(n, "login: name the operators")
				continue
			}
			e.Login = append(e.Login, f[1:]...)
		case "run":
			d, err := parseDuration(f[1:])
			if err != nil {
				bad(n, "run: %v", err)
				continue
			}
			e.Run = d
		case "at":
			s, err := parseStep(line)
			if err != nil {
				bad(n, "at: %v", err)
				continue
			}
			s.Line = n
			e.Steps = append(e.Steps, s)
		default:
			l, err := parseLine(line)
			if err != nil {
				bad(n, "%v", err)
				continue
			}
			l.Line = n
			e.Lines = append(e.Lines, l)
		}
	}
	return e, errors.Join(errs...)
}

func parseDuration(f []string) (time.Duration, error) {
	if len(f) != 1 {
		return 0, errors.New("want one duration (2s, 1m30s)")
	}
	d, err := time.ParseDuration(f[0])
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q (2s, 1m30s)", f[0])
	}
	return d, nil
}

// parseSeat reads NAME INTERFACE [paused] [penalty N] [services A,B].
func parseSeat(f []string) (SeatDecl, error) {
	if len(f) < 2 {
		return SeatDecl{}, errors.New("want NAME INTERFACE [paused] [penalty N] [services A,B]")
	}
	d := SeatDecl{Name: f[0], Interface: f[1]}
	if !strings.Contains(d.Interface, "/") {
		return d, fmt.Errorf("interface %q is not TECH/resource", d.Interface)
	}
	for i := 2; i < len(f); i++ {
		switch f[i] {
		case "paused":
			d.Paused = true
		case "penalty", "services":
			if i+1 >= len(f) {
				return d, fmt.Errorf("%s needs a value", f[i])
			}
			if f[i] == "services" {
				d.Services = strings.Split(f[i+1], ",")
			} else {
				p, err := strconv.Atoi(f[i+1])
				if err != nil || p < 0 {
					return d, fmt.Errorf("bad penalty %q", f[i+1])
				}
				d.Penalty = p
			}
			i++
		default:
			return d, fmt.Errorf("unknown word %q (paused, penalty N, services A,B)", f[i])
		}
	}
	return d, nil
}

// parseService reads NAME context CONTEXT [queue QUEUE] [vars A,B].
func parseService(f []string) (ServiceDecl, error) {
	if len(f) < 1 {
		return ServiceDecl{}, errors.New("want NAME context CONTEXT [queue QUEUE] [vars A,B]")
	}
	d := ServiceDecl{Name: f[0]}
	for i := 1; i < len(f); i += 2 {
		if i+1 >= len(f) {
			return d, fmt.Errorf("%s needs a value", f[i])
		}
		switch v := f[i+1]; f[i] {
		case "context":
			d.Context = v
		case "queue":
			d.Queue = v
		case "vars":
			d.Vars = strings.Split(v, ",")
		default:
			return d, fmt.Errorf("unknown word %q (context, queue, vars)", f[i])
		}
	}
	if d.Context == "" {
		return d, errors.New("a service needs a context")
	}
	return d, nil
}

// parseStep reads "at DURATION ...": login NAME…, transfer INTERFACE to
// EXTEN@CONTEXT, or NAME COMMAND… [=> REPLY].
func parseStep(line string) (Step, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return Step{}, errors.New("want at DURATION login NAME…, at DURATION NAME COMMAND…, or at DURATION transfer INTERFACE to EXTEN@CONTEXT")
	}
	d, err := parseDuration(f[1:2])
	if err != nil {
		return Step{}, err
	}
	s := Step{At: d}
	switch f[2] {
	case "login":
		if len(f) < 4 {
			return s, errors.New("login: name the operators")
		}
		s.Kind, s.Seats = StepLogin, f[3:]
	case "transfer":
		if len(f) != 6 || f[4] != "to" {
			return s, errors.New("want transfer INTERFACE to EXTEN@CONTEXT")
		}
		exten, ctx, ok := strings.Cut(f[5], "@")
		if !ok || exten == "" || ctx == "" {
			return s, fmt.Errorf("transfer target %q is not EXTEN@CONTEXT", f[5])
		}
		s.Kind, s.Interface, s.Exten, s.Context = StepTransfer, f[3], exten, ctx
	default:
		if len(f) < 4 {
			return s, fmt.Errorf("%s: what command?", f[2])
		}
		s.Kind, s.Seat = StepCommand, f[2]
		// The command is the rest of the line, as the seat sends it, up to
		// an optional "=> REPLY".
		rest := line[strings.Index(line, f[2])+len(f[2]):]
		cmd, reply, _ := strings.Cut(rest, "=>")
		s.Command = strings.Join(strings.Fields(cmd), " ")
		s.Reply = strings.Join(strings.Fields(reply), " ")
		if s.Command == "" {
			return s, fmt.Errorf("%s: what command?", f[2])
		}
	}
	return s, nil
}

// parseLine reads [DIALECT:] NAME EVENT [key=value…].
func parseLine(line string) (Line, error) {
	var l Line
	word := func() string {
		w, rest, _ := strings.Cut(line, " ")
		line = strings.TrimSpace(rest)
		return w
	}
	w := word()
	if tag, ok := strings.CutSuffix(w, ":"); ok {
		if !slices.Contains(Dialects, tag) {
			return l, fmt.Errorf("unknown dialect %q (1.4 or modern)", tag)
		}
		l.Dialect = tag
		w = word()
	}
	l.Seat = w
	id := word()
	if l.Seat == "" || id == "" {
		return l, fmt.Errorf("want [DIALECT:] NAME EVENT [key=value…], or one of seat, service, penalty, login, at, run")
	}
	if !slices.Contains(eventIDs, id) {
		return l, fmt.Errorf("unknown event %q (%s)", id, strings.Join(eventIDs, ", "))
	}
	pairs, err := splitPairs(line)
	if err != nil {
		return l, err
	}
	l.Text = strings.Join(append([]string{id}, pairs...), " ")
	return l, nil
}

// splitPairs splits "k=v k2="a b"" into its key=value pairs; a value may be
// double-quoted (Go syntax) to hold spaces.
func splitPairs(s string) ([]string, error) {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\"") {
			w, _, _ := strings.Cut(s, " ")
			return nil, fmt.Errorf("%q is not key=value", w)
		}
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("%s: bad quoted value %s", k, rest)
			}
			out = append(out, k+"="+q)
			s = rest[len(q):]
			if s != "" && s[0] != ' ' {
				return nil, fmt.Errorf("%s: text after the quoted value", k)
			}
			continue
		}
		v, after, _ := strings.Cut(rest, " ")
		out = append(out, k+"="+v)
		s = after
	}
	return out, nil
}

// quoteValue writes a value as an expect line holds it: as it is, or
// double-quoted (Go syntax) when it is empty or holds a space, a quote or
// something unprintable.
func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \"\\") || strconv.Quote(v) != `"`+v+`"` {
		return strconv.Quote(v)
	}
	return v
}

// For returns the expected events of each seat in a dialect, in order.
func (e *Expect) For(dialect string) map[string][]string {
	out := map[string][]string{}
	for _, l := range e.Lines {
		if l.Dialect == "" || l.Dialect == dialect {
			out[l.Seat] = append(out[l.Seat], l.Text)
		}
	}
	return out
}

// Render writes a seat event as an expect line holds it, without the seat:
//
//	CallerId caller=200 service=sales calldata=12345
//	Link caller=200 service=sales calldata=12345 action=browser
//	Hangup caller=200 service=sales calldata=12345
//	OriginateResponse exten=203 response=Success reason=4
//
// A call event names the caller's number, the service, the service's
// variables that have a value (in the service's order) and, on a Link, the
// type of its action. Uniqueids, channels, linkedids and states are left
// out: they change from run to run and between dialects.
func Render(ev *seatproto.Event) string {
	var b strings.Builder
	b.WriteString(ev.ID)
	if ev.Originate != nil {
		fmt.Fprintf(&b, " exten=%s response=%s reason=%s", quoteValue(ev.Call.Exten),
			quoteValue(ev.Originate.Response), quoteValue(ev.Originate.Reason))
		return b.String()
	}
	fmt.Fprintf(&b, " caller=%s service=%s", quoteValue(ev.Call.CallerIDNum), quoteValue(ev.Call.Service))
	for _, d := range ev.Call.AppData {
		if d.Value != "" {
			fmt.Fprintf(&b, " %s=%s", d.Key, quoteValue(d.Value))
		}
	}
	if ev.Action != nil {
		b.WriteString(" action=" + quoteValue(ev.Action.Type))
	}
	return b.String()
}
