package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/loadgen"
)

func TestMain(m *testing.M) {
	// A run starts its parts by running its own executable again: here
	// the test binary, which must play them before testscript sees it.
	if child, err := loadgen.RunChildIfAsked(); child {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	testscript.Main(m, map[string]func(){
		"astcti-loadgen": main,
	})
}

func TestScripts(t *testing.T) {
	// The external mode's script runs the real astcti and fakeami, as the
	// commands of --write-config say: they are built, not mapped to this
	// binary, since their main packages cannot be imported.
	bin := t.TempDir()
	out, err := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "../astcti", "../fakeami").CombinedOutput()
	require.NoError(t, err, "go build ../astcti ../fakeami:\n%s", out)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(filepath.ListSeparator)+env.Getenv("PATH"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"freeport": cmdFreeport,
			"waitfile": cmdWaitFile,
			"waithttp": cmdWaitHTTP,
		},
	})
}

// waitFor is how long a polling command waits.
const waitFor = 30 * time.Second

// cmdFreeport sets each named variable to a free TCP port on 127.0.0.1:
// freeport VAR...
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: freeport VAR...")
	}
	for _, name := range args {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		ts.Setenv(name, fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
		ln.Close()
	}
}

// cmdWaitFile waits until FILE exists: waitfile FILE.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	for deadline := time.Now().Add(waitFor); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no %s within %v", args[0], waitFor)
		}
	}
}

// cmdWaitHTTP polls GET URL until it answers 200: waithttp URL.
func cmdWaitHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waithttp URL")
	}
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(waitFor); ; time.Sleep(20 * time.Millisecond) {
		resp, err := hc.Get(args[0])
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("GET %s: no 200 within %v (last: %v)", args[0], waitFor, err)
		}
	}
}
