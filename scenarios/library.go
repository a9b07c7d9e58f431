package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// library holds the scenario files of this directory.
//
//go:embed *.txtar
var library embed.FS

// ErrNotFound is returned by Load and Source for a name that is not in
// the library.
var ErrNotFound = errors.New("scenarios: no such scenario in the library")

// Names returns the names of the library's scenarios, sorted ("busy",
// "demo", …).
func Names() []string {
	entries, _ := fs.ReadDir(library, ".")
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".txtar") {
			names = append(names, strings.TrimSuffix(e.Name(), ".txtar"))
		}
	}
	sort.Strings(names)
	return names
}

// Source returns the text of a library scenario; name may end in ".txtar".
func Source(name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".txtar")
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("%w: %q (the library has %s)", ErrNotFound, name, strings.Join(Names(), ", "))
	}
	data, err := fs.ReadFile(library, path.Clean(name)+".txtar")
	if err != nil {
		return nil, fmt.Errorf("%w: %q (the library has %s)", ErrNotFound, name, strings.Join(Names(), ", "))
	}
	return data, nil
}

// Load parses a library scenario; name may end in ".txtar". Each call
// returns a new Scenario, which the caller may change.
func Load(name string) (*Scenario, error) {
	data, err := Source(name)
	if err != nil {
		return nil, err
	}
	return Parse(strings.TrimSuffix(name, ".txtar")+".txtar", data)
}

// Library parses every library scenario, in the order of Names.
func Library() ([]*Scenario, error) {
	var (
		scs  []*Scenario
		errs []error
	)
	for _, n := range Names() {
		sc, err := Load(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scs = append(scs, sc)
	}
	return scs, errors.Join(errs...)
}

// Demo returns the demo PBX (demo.txtar): the dialplan, queues and phones
// the SIP traces were recorded with, and no calls. Each call returns a new
// Scenario. It panics if the embedded file does not parse, which the
// package's tests rule out.
func Demo() *Scenario {
	sc, err := Load("demo")
	if err != nil {
		panic(err)
	}
	return sc
}

// Open reads scenarios given on a command line (fakeami --scenario): each
// argument is a file path if such a file exists, else the name of a
// library scenario ("demo", "busy.txtar"). One argument gives that
// scenario, checked as Parse does; several are read as fragments and
// merged in order (see Merge), so that a file of calls can rely on the
// demo dialplan: Open("demo", "mycalls.txtar").
func Open(namesOrPaths ...string) (*Scenario, error) {
	if len(namesOrPaths) == 0 {
		return nil, errors.New("scenarios: no scenario given")
	}
	var (
		scs  []*Scenario
		errs []error
	)
	for _, arg := range namesOrPaths {
		name := arg
		data, err := os.ReadFile(arg)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("scenarios: %w", err))
				continue
			}
			var lerr error
			if data, lerr = Source(arg); lerr != nil {
				errs = append(errs, fmt.Errorf("%w, and no file %s", lerr, arg))
				continue
			}
			name = strings.TrimSuffix(arg, ".txtar") + ".txtar"
		}
		sc, err := ParseFragment(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scs = append(scs, sc)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return Merge(scs...)
}
