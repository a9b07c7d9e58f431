package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/fakeami"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"astcti": main,
	})
}

// TestScripts runs every script against the modern dialect of the fake
// PBX, and TestScripts14 runs again, against Asterisk 1.4's, the scripts
// that start it with `fakeami -dialect $DIALECT`. A script tells the two
// apart with the conditions [dialect:1.4] and [dialect:modern].
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(fakeami.DialectModern, nil))
}

func TestScripts14(t *testing.T) {
	files, err := filepath.Glob("testdata/script/*.txtar")
	require.NoError(t, err)
	var both []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if bytes.Contains(b, []byte("-dialect $DIALECT")) {
			both = append(both, f)
		}
	}
	require.NotEmpty(t, both)
	testscript.Run(t, scriptParams(fakeami.Dialect14, both))
}

func scriptParams(d fakeami.Dialect, files []string) testscript.Params {
	p := testscript.Params{
		Dir:                 "testdata/script",
		Files:               files,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			env.Setenv("DIALECT", d.String())
			return setupState(env)
		},
		Cmds: scriptCmds(),
		Condition: func(cond string) (bool, error) {
			name, ok := strings.CutPrefix(cond, "dialect:")
			if !ok {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			want, err := fakeami.ParseDialect(name)
			if err != nil {
				return false, err
			}
			return want == d, nil
		},
	}
	if files != nil {
		p.Dir = ""
	}
	return p
}

func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"firstfile": cmdFirstFile,
		"httpget":   cmdHTTPGet,
		"signal":    cmdSignal,
		"waitlog":   cmdWaitLog,
		"waiturl":   cmdWaitURL,
	}
	maps.Copy(cmds, e2eCmds)
	maps.Copy(cmds, userCmds)
	return cmds
}

// cmdFirstFile sets the variable VAR to the path of the first file listed
// in DIR, as `ls DIR | head -1` would: firstfile DIR VAR.
func cmdFirstFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: firstfile DIR VAR")
	}
	entries, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	if len(entries) == 0 {
		ts.Fatalf("%s is empty", args[0])
	}
	ts.Setenv(args[1], filepath.Join(ts.MkAbs(args[0]), entries[0].Name()))
}
