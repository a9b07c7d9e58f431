package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
)

// The files a scenario archive may hold, in the order errors are reported.
const (
	fileExtensions = "extensions.conf"
	fileQueues     = "queues.conf"
	filePhones     = "phones"
	fileCalls      = "calls"
	fileTraffic    = "traffic"
	fileExpect     = "expect"
)

var fileRank = map[string]int{
	"":             0,
	fileExtensions: 1,
	fileQueues:     2,
	filePhones:     3,
	fileCalls:      4,
	fileTraffic:    5,
	fileExpect:     6,
}

// Error is one problem found in a scenario. Parse, ParseFragment, Validate
// and Merge return every problem they find, each as an *Error, joined with
// errors.Join; use errors.As to get at the first one.
type Error struct {
	Scenario string // the name given to Parse (a path for ParseFile)
	File     string // "extensions.conf", "phones", …; "" for the archive itself
	Line     int    // line in File, from 1; 0 if the problem has no line
	Msg      string
}

func (e *Error) Error() string {
	switch {
	case e.File == "":
		return e.Scenario + ": " + e.Msg
	case e.Line == 0:
		return e.Scenario + ":" + e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%s:%d: %s", e.Scenario, e.File, e.Line, e.Msg)
}

// errList collects the problems found in one scenario.
type errList struct {
	name string // default Error.Scenario
	errs []*Error
}

func (l *errList) add(file string, line int, format string, args ...any) {
	l.addIn(l.name, file, line, format, args...)
}

func (l *errList) addIn(scenario, file string, line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{Scenario: scenario, File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err returns the problems in file order (extensions.conf first), then by
// line, joined; nil if there are none.
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if fileRank[a.File] != fileRank[b.File] {
			return fileRank[a.File] < fileRank[b.File]
		}
		return a.Line < b.Line
	})
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Parse reads a scenario archive and checks it completely: the syntax of
// each file and every reference between them (a call into an extension
// that does not exist, a Queue() of an unknown queue, a Goto to a missing
// context …). The file must be self-contained; use ParseFragment and Merge
// for files that rely on another one.
//
// name names the scenario in error messages ("demo.txtar",
// "scenarios/demo.txtar"); Scenario.Name is its base name without
// ".txtar". The error, if any, joins one *Error per problem found.
func Parse(name string, data []byte) (*Scenario, error) {
	l := &errList{name: name}
	sc := parse(l, name, data)
	sc.validate(l)
	if err := l.err(); err != nil {
		return nil, err
	}
	return sc, nil
}

// ParseFragment is Parse without the checks of references between
// contexts, queues and calls, for a file that is only a part of a PBX: a
// file of calls to be merged with the demo dialplan, say. Merge checks the
// references of the result.
func ParseFragment(name string, data []byte) (*Scenario, error) {
	l := &errList{name: name}
	sc := parse(l, name, data)
	if err := l.err(); err != nil {
		return nil, err
	}
	return sc, nil
}

// ParseFile reads the scenario archive at path with Parse; error messages
// name it by path.
func ParseFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	return Parse(path, data)
}

// Validate checks the references between the parts of a scenario: Goto
// targets, Queue() queue names, Local/exten@context interfaces, and the
// exten@context of calls and traffic. Parse and Merge call it.
func (sc *Scenario) Validate() error {
	l := &errList{name: sc.Name}
	sc.validate(l)
	return l.err()
}

func newScenario(name string) *Scenario {
	return &Scenario{
		Name:     name,
		Contexts: map[string]*Context{},
		Queues:   map[string]*Queue{},
		Phones:   map[string]*Phone{},
		Globals:  map[string]string{},
	}
}

func baseName(name string) string {
	return strings.TrimSuffix(filepath.Base(name), ".txtar")
}

// parse reads the archive and each file in it, adding syntax problems to l.
// It always returns a scenario, holding whatever could be read.
func parse(l *errList, name string, data []byte) *Scenario {
	sc := newScenario(baseName(name))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")) // files edited on Windows
	// go-internal's txtar (v1.16.0) panics on a marker line without a
	// name; x/tools' txtar does not see one there.
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSuffix(line, "\r") == "-- --" {
			l.add("", 0, "line %d: \"-- --\" is a file marker without a file name", i+1)
			return sc
		}
	}
	ar := txtar.Parse(data)
	sc.Comment = strings.TrimSpace(string(ar.Comment))
	seen := map[string]bool{}
	for _, f := range ar.Files {
		if seen[f.Name] {
			l.add("", 0, "file %q appears twice in the archive", f.Name)
			continue
		}
		seen[f.Name] = true
		text := string(f.Data)
		switch f.Name {
		case fileExtensions:
			parseExtensions(l, sc, text)
		case fileQueues:
			parseQueues(l, sc, text)
		case filePhones:
			parsePhones(l, sc, text)
		case fileCalls:
			parseCalls(l, sc, text)
		case fileTraffic:
			parseTraffic(l, sc, text)
		case fileExpect:
			sc.Expect = text
		default:
			l.add("", 0, "unknown file %q in the archive (a scenario holds %s, %s, %s, %s, %s and %s)",
				f.Name, fileExtensions, fileQueues, filePhones, fileCalls, fileTraffic, fileExpect)
		}
	}
	sc.setSource(name)
	return sc
}

// setSource sets the Source of every part that has none.
func (sc *Scenario) setSource(src string) {
	for _, c := range sc.Contexts {
		if c.Source == "" {
			c.Source = src
		}
	}
	for _, q := range sc.Queues {
		if q.Source == "" {
			q.Source = src
		}
	}
	for _, p := range sc.Phones {
		if p.Source == "" {
			p.Source = src
		}
	}
	for i := range sc.Calls {
		if sc.Calls[i].Source == "" {
			sc.Calls[i].Source = src
		}
	}
	if sc.Traffic != nil && sc.Traffic.Source == "" {
		sc.Traffic.Source = src
	}
}
