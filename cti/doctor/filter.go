package doctor

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// matchMethod is how an eventfilter compares (Asterisk 20+'s method()).
type matchMethod int

const (
	matchRegex matchMethod = iota
	matchExact
	matchStartsWith
	matchEndsWith
	matchContains
	matchNone
)

// filterEntry is one eventfilter line, compiled.
type filterEntry struct {
	exclude bool
	name    string // only events of this name (advanced name()); "" for any
	header  string // only this header's value, "Name:" (advanced header()); "" for the whole event
	method  matchMethod
	pattern string
	re      *regexp.Regexp
	src     confLine
}

// eventFilter is a manager user's eventfilter lines as Asterisk applies
// them (main/manager.c should_send_event): with include lines only, an
// event must match one; with exclude lines only, none; with both, one
// include and no exclude.
type eventFilter struct {
	include, exclude []*filterEntry
}

// compileFilters compiles the eventfilter lines of a manager.conf user the
// way Asterisk reads them (main/manager.c manager_add_filter). The legacy
// line, "eventfilter = REGEX" ("!REGEX" excludes), is a POSIX extended
// expression matched against the whole text of the event. Asterisk 20
// and later also read "eventfilter(action(include|exclude),name(Event),
// header(Name),method(regex|exact|starts_with|ends_with|contains|none)) =
// PATTERN"; Asterisk 1.6 to 11 only know the legacy line. A line Asterisk
// would refuse is left out, as Asterisk leaves it out, and reported in
// problems.
//
// The expressions run as Go regular expressions, which read the POSIX
// syntax of the usual filters alike (bracket classes such as
// [[:space:]], no back-references); like regcomp without REG_NEWLINE, "."
// matches a line end and ^ and $ only match at the ends of the text.
func compileFilters(lines []confLine, g generation) (ef *eventFilter, problems []string) {
	ef = &eventFilter{}
	for _, l := range lines {
		e, err := compileFilter(l, g)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s line %d: %v", l.File, l.Line, err))
			continue
		}
		if e == nil {
			continue
		}
		if e.exclude {
			ef.exclude = append(ef.exclude, e)
		} else {
			ef.include = append(ef.include, e)
		}
	}
	return ef, problems
}

func compileFilter(l confLine, g generation) (*filterEntry, error) {
	e := &filterEntry{src: l, method: matchRegex, pattern: l.Value}
	if strings.HasPrefix(e.pattern, "!") {
		e.exclude, e.pattern = true, e.pattern[1:]
	}
	criteria := l.Name
	open := strings.IndexByte(criteria, '(')
	switch {
	case open < 0 && !strings.EqualFold(criteria, "eventfilter"):
		return nil, nil // eventfilterX: not a filter line
	case open >= 0 && g != gen12:
		return nil, fmt.Errorf("%s: the advanced eventfilter syntax needs Asterisk 20 or later: this Asterisk ignores the line", criteria)
	case open >= 0:
		if err := e.advanced(criteria[open+1:]); err != nil {
			return nil, fmt.Errorf("%s: %w", criteria, err)
		}
	case e.pattern == "":
		return nil, fmt.Errorf("eventfilter with no expression")
	}
	if e.pattern != "" && e.method == matchRegex {
		re, err := regexp.Compile("(?s)" + e.pattern)
		if err != nil {
			return nil, fmt.Errorf("expression %q does not compile: %v", e.pattern, err)
		}
		e.re = re
	}
	return e, nil
}

// advanced reads the options of "eventfilter(…)", whose ')' is still on
// opts.
func (e *filterEntry) advanced(opts string) error {
	opts = strings.TrimSpace(opts)
	if !strings.HasSuffix(opts, ")") {
		return fmt.Errorf("options not formatted correctly")
	}
	e.method = matchNone
	found := false
	named := false
	for _, o := range strings.FieldsFunc(opts, func(r rune) bool { return r == ' ' || r == ',' || r == ')' }) {
		key, arg, ok := strings.Cut(o, "(")
		if !ok || strings.TrimSpace(arg) == "" {
			return fmt.Errorf("option %q not formatted correctly", o)
		}
		arg = strings.TrimSpace(arg)
		found = true
		switch key {
		case "action":
			switch arg {
			case "include":
				e.exclude = false
			case "exclude":
				e.exclude = true
			default:
				return fmt.Errorf("unknown action %q", arg)
			}
		case "name":
			e.name, named = arg, true
		case "header":
			if !strings.HasSuffix(arg, ":") {
				arg += ":"
			}
			e.header, named = arg, true
		case "method":
			m, ok := map[string]matchMethod{"regex": matchRegex, "exact": matchExact, "starts_with": matchStartsWith,
				"ends_with": matchEndsWith, "contains": matchContains, "none": matchNone}[arg]
			if !ok {
				return fmt.Errorf("unknown method %q", arg)
			}
			e.method = m
		default:
			return fmt.Errorf("unknown option %q", key)
		}
	}
	switch {
	case !found:
		return fmt.Errorf("no action, name, header or method")
	case e.pattern != "" && e.method == matchNone:
		return fmt.Errorf("method none with a pattern")
	case e.pattern == "" && e.method != matchNone:
		return fmt.Errorf("a method with no pattern")
	case !named && e.method == matchNone:
		return fmt.Errorf("no name or header option and no pattern")
	}
	return nil
}

// passes reports whether the event reaches the user.
func (ef *eventFilter) passes(f *ami.Frame) bool {
	if len(ef.include) == 0 && len(ef.exclude) == 0 {
		return true
	}
	text := eventText(f)
	name := f.Event()
	if len(ef.include) > 0 && !anyMatch(ef.include, name, text) {
		return false
	}
	return !anyMatch(ef.exclude, name, text)
}

func anyMatch(es []*filterEntry, name, text string) bool {
	for _, e := range es {
		if e.matches(name, text) {
			return true
		}
	}
	return false
}

// matches is filter_cmp_fn: the event's name first, then the whole text
// or the value of each line of the header.
func (e *filterEntry) matches(name, text string) bool {
	if e.name != "" && e.name != name {
		return false
	}
	if e.header == "" {
		return e.matchData(text)
	}
	for _, line := range strings.Split(text, "\r\n") {
		if v, ok := strings.CutPrefix(line, e.header); ok {
			if v = strings.TrimLeft(v, " \t"); v != "" && e.matchData(v) {
				return true
			}
		}
	}
	return false
}

func (e *filterEntry) matchData(s string) bool {
	switch e.method {
	case matchRegex:
		return e.re.MatchString(s)
	case matchExact:
		return s == e.pattern
	case matchStartsWith:
		return strings.HasPrefix(s, e.pattern)
	case matchEndsWith:
		return strings.HasSuffix(s, e.pattern)
	case matchContains:
		return strings.Contains(s, e.pattern)
	}
	return true
}

// eventText is an event as Asterisk matches the filters against it (the
// eventdata of __manager_event_sessions_va): its lines as written to the
// wire, each ending in "\r\n", then the empty line.
func eventText(f *ami.Frame) string {
	// An event never holds a line end in a field (the reader splits lines
	// there), so AppendFrame writes it whole.
	b, _ := ami.AppendFrame(nil, f)
	return string(b)
}
