package scenarios

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Apps lists the dialplan applications the fake PBX runs, spelled as
// Step.App spells them. Any other application is an error.
var Apps = []string{
	"Answer", "Busy", "Dial", "Goto", "Hangup", "NoOp", "Playback",
	"Queue", "Read", "Ringing", "Set", "UserEvent", "Wait",
}

// appSpec says how many arguments an application takes and checks them.
type appSpec struct {
	name  string
	max   int // most arguments it takes; < 0: no limit
	check func(args []string) error
}

var appSpecs = map[string]appSpec{
	"answer": {"Answer", 1, func(a []string) error {
		return checkInt("delay (ms)", arg(a, 0), 0)
	}},
	"busy": {"Busy", 1, func(a []string) error {
		return checkInt("timeout (s)", arg(a, 0), 0)
	}},
	"dial":   {"Dial", 4, func(a []string) error { _, err := ParseDial(a); return err }},
	"goto":   {"Goto", 3, func(a []string) error { _, err := ParseGoto(a); return err }},
	"hangup": {"Hangup", 1, func(a []string) error { return checkInt("cause", arg(a, 0), 0) }},
	"noop":   {"NoOp", -1, nil},
	"playback": {"Playback", 2, func(a []string) error {
		if arg(a, 0) == "" {
			return errors.New("needs a file name, as in Playback(hello-world)")
		}
		return nil
	}},
	"queue":     {"Queue", 10, func(a []string) error { _, err := ParseQueue(a); return err }},
	"read":      {"Read", 6, func(a []string) error { _, err := ParseRead(a); return err }},
	"ringing":   {"Ringing", 0, nil},
	"set":       {"Set", 1, func(a []string) error { _, _, err := ParseSet(a); return err }},
	"userevent": {"UserEvent", -1, func(a []string) error { _, err := ParseUserEvent(a); return err }},
	"wait":      {"Wait", 1, func(a []string) error { _, err := ParseWait(a); return err }},
}

// splitArgs splits application data on "," and "|" (the 1.4 separator)
// outside double quotes and (), [], {}, as ast_app_separate_args does. A
// backslash before a separator makes it part of the argument.
// Empty data has no arguments.
func splitArgs(data string) []string {
	if data == "" {
		return nil
	}
	var (
		args    []string
		b       strings.Builder
		depth   int
		inQuote bool
	)
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\\' && i+1 < len(data) && (data[i+1] == ',' || data[i+1] == '|'):
			b.WriteByte(data[i+1])
			i++
		case c == '"':
			inQuote = !inQuote
			b.WriteByte(c)
		case inQuote:
			b.WriteByte(c)
		case c == '(' || c == '[' || c == '{':
			depth++
			b.WriteByte(c)
		case (c == ')' || c == ']' || c == '}') && depth > 0:
			depth--
			b.WriteByte(c)
		case (c == ',' || c == '|') && depth == 0:
			args = append(args, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(args, b.String())
}

// AppData is the application data of s as Asterisk shows it in Newexten's
// AppData: the arguments joined by sep ("," for Asterisk 1.6 and later,
// "|" for 1.4).
func (s Step) AppData(sep string) string { return strings.Join(s.Args, sep) }

// hasVar reports whether s holds a ${…} or $[…] expression, which only
// the running PBX can expand, so that the parser cannot check it.
func hasVar(s string) bool { return strings.Contains(s, "${") || strings.Contains(s, "$[") }

func arg(args []string, i int) string {
	if i < len(args) {
		return strings.TrimSpace(args[i])
	}
	return ""
}

// checkInt checks that s is empty, an expression, or a whole number >= least.
func checkInt(what, s string, least int) error {
	if s == "" || hasVar(s) {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < least {
		return fmt.Errorf("%s: %q is not a whole number >= %d", what, s, least)
	}
	return nil
}

// seconds reads whole seconds (whole = true) or decimal seconds; "" is 0.
func seconds(what, s string, whole bool) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if whole {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1e6 {
			return 0, fmt.Errorf("%s: %q is not a whole number of seconds", what, s)
		}
		return time.Duration(n) * time.Second, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e6 || math.IsNaN(f) {
		return 0, fmt.Errorf("%s: %q is not a number of seconds", what, s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// validInterface reports whether s looks like TECH/resource, as in
// SIP/201, PJSIP/201, SIP/trunk/0612345678 or Local/201@phones/n.
func validInterface(s string) bool {
	tech, res, ok := strings.Cut(s, "/")
	if !ok || tech == "" || res == "" || strings.ContainsAny(res, " \t&,|\"") {
		return false
	}
	for _, c := range tech {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// DialArgs are the arguments of Dial(interfaces[,timeout[,options[,URL]]]).
type DialArgs struct {
	Interfaces []string      // the interfaces joined by "&", rung together
	Timeout    time.Duration // 0: ring until one answers or the caller hangs up
	Options    string        // as written, e.g. "m" or "tT"
}

// ParseDial reads the (expanded) arguments of Dial. Like the other Parse
// functions for application arguments, it leaves ${…} expressions alone
// and its errors do not name the application.
func ParseDial(args []string) (DialArgs, error) {
	var d DialArgs
	ifs := arg(args, 0)
	if ifs == "" {
		return d, errors.New("needs an interface, as in Dial(SIP/201)")
	}
	for _, i := range strings.Split(ifs, "&") {
		i = strings.TrimSpace(i)
		if !hasVar(i) && !validInterface(i) {
			return d, fmt.Errorf("%q is not an interface like SIP/201", i)
		}
		d.Interfaces = append(d.Interfaces, i)
	}
	var err error
	if t := arg(args, 1); !hasVar(t) {
		d.Timeout, err = seconds("timeout", t, true)
	}
	d.Options = arg(args, 2)
	return d, err
}

// QueueArgs are the arguments of
// Queue(queuename[,options[,URL[,announceoverride[,timeout[,…]]]]]).
type QueueArgs struct {
	Queue   string
	Options string        // as written, e.g. "t"
	Timeout time.Duration // 0: wait until answered or the caller hangs up
}

// ParseQueue reads the (expanded) arguments of Queue.
func ParseQueue(args []string) (QueueArgs, error) {
	q := QueueArgs{Queue: arg(args, 0), Options: arg(args, 1)}
	if q.Queue == "" {
		return q, errors.New("needs a queue name, as in Queue(astcti-queue)")
	}
	var err error
	if t := arg(args, 4); !hasVar(t) {
		q.Timeout, err = seconds("timeout", t, true)
	}
	return q, err
}

// GotoArgs are the arguments of Goto([[context,]extension,]priority). An
// empty Context or Exten means the current one.
type GotoArgs struct {
	Context, Exten string
	Priority       string // a number or a label
}

// ParseGoto reads the (expanded) arguments of Goto.
func ParseGoto(args []string) (GotoArgs, error) {
	var g GotoArgs
	for i := range args {
		if arg(args, i) == "" {
			return g, errors.New("empty argument: write Goto(context,exten,priority)")
		}
	}
	switch len(args) {
	case 1:
		g.Priority = arg(args, 0)
	case 2:
		g.Exten, g.Priority = arg(args, 0), arg(args, 1)
	case 3:
		g.Context, g.Exten, g.Priority = arg(args, 0), arg(args, 1), arg(args, 2)
	default:
		return g, errors.New("takes [[context,]exten,]priority")
	}
	if p := g.Priority; !hasVar(p) {
		if n, err := strconv.Atoi(p); err == nil && n < 1 || strings.ContainsAny(p, " \t()") {
			return g, fmt.Errorf("bad priority %q", p)
		}
	}
	return g, nil
}

// FindPriority returns the index in steps of priority p, a number ("1") or
// a label ("start").
func FindPriority(steps []Step, p string) (int, bool) {
	n, err := strconv.Atoi(p)
	for i, s := range steps {
		if err == nil && s.Priority == n || err != nil && s.Label != "" && s.Label == p {
			return i, true
		}
	}
	return 0, false
}

// ReadArgs are the arguments of
// Read(variable[,filename[,maxdigits[,options[,attempts[,timeout]]]]]).
type ReadArgs struct {
	Var       string
	MaxDigits int           // 0: read until "#"
	Timeout   time.Duration // 0: the PBX's default
}

// ParseRead reads the (expanded) arguments of Read.
func ParseRead(args []string) (ReadArgs, error) {
	r := ReadArgs{Var: arg(args, 0)}
	if r.Var == "" {
		return r, errors.New("needs a variable name, as in Read(cdata,,5)")
	}
	if m := arg(args, 2); m != "" && !hasVar(m) {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > 255 {
			return r, fmt.Errorf("maxdigits %q is not a number from 0 to 255", m)
		}
		r.MaxDigits = n
	}
	if err := checkInt("attempts", arg(args, 4), 0); err != nil {
		return r, err
	}
	var err error
	if t := arg(args, 5); !hasVar(t) {
		r.Timeout, err = seconds("timeout", t, false)
	}
	return r, err
}

// TakeDigits is how the fake PBX's Read() takes the caller's digits (the
// call's "digits"): up to max digits (no limit if max is 0), stopping at
// "#", which is consumed and not returned. rest is what is left for the
// next Read.
func TakeDigits(digits string, max int) (got, rest string) {
	for i := 0; i < len(digits); i++ {
		if digits[i] == '#' {
			return digits[:i], digits[i+1:]
		}
		if max > 0 && i+1 == max {
			return digits[:i+1], digits[i+1:]
		}
	}
	return digits, ""
}

// ParseSet reads the argument of Set(name=value).
func ParseSet(args []string) (name, value string, err error) {
	name, value, ok := strings.Cut(arg(args, 0), "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", "", fmt.Errorf("needs name=value, not %q", arg(args, 0))
	}
	return name, value, nil
}

// ParseWait reads the argument of Wait(seconds); seconds may be decimal.
func ParseWait(args []string) (time.Duration, error) {
	s := arg(args, 0)
	if s == "" {
		return 0, errors.New("needs a number of seconds, as in Wait(2)")
	}
	if hasVar(s) {
		return 0, nil
	}
	return seconds("duration", s, false)
}

// Field is one "key: value" header of a UserEvent.
type Field struct{ Key, Value string }

// UserEvent holds the arguments of UserEvent(name,key: value,…), the
// Asterisk 12+ syntax (the fake reads 1.4 files the same way).
type UserEvent struct {
	Name   string
	Fields []Field
}

// ParseUserEvent reads the (expanded) arguments of UserEvent.
func ParseUserEvent(args []string) (UserEvent, error) {
	u := UserEvent{Name: arg(args, 0)}
	if u.Name == "" {
		return u, errors.New("needs an event name, as in UserEvent(AstCTI,key: value)")
	}
	for _, a := range args[1:] {
		k, v, ok := strings.Cut(a, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return u, fmt.Errorf("%q is not a \"key: value\" header", a)
		}
		u.Fields = append(u.Fields, Field{Key: k, Value: strings.TrimSpace(v)})
	}
	return u, nil
}
