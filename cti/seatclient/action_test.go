package seatclient

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/seatproto"
)

// helperProgram returns the path of the test binary, which records its
// arguments into the file named by $SEATCLIENT_TEST_ARGV_FILE (TestMain),
// and sets that variable for the programs the test starts.
func helperProgram(t *testing.T) (prog, argvFile string) {
	t.Helper()
	prog, err := os.Executable()
	require.NoError(t, err)
	argvFile = filepath.Join(t.TempDir(), "argv.json")
	t.Setenv(argvEnv, argvFile)
	// A program built with -race sleeps 1 s at exit unless told not to.
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	return prog, argvFile
}

// recordedArgv waits for the runner's programs to end and returns the
// arguments the helper program received.
func recordedArgv(t *testing.T, r *Runner, argvFile string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, r.Wait(ctx), "the helper program did not end")
	b, err := os.ReadFile(argvFile)
	require.NoError(t, err, "the helper program recorded no arguments")
	var argv []string
	require.NoError(t, json.Unmarshal(b, &argv))
	return argv
}

// TestRunnerHostileCallerID sends hostile caller ids and variables the
// whole way: the server's expansion of the service's parameters
// (seatproto.Expand), the event line on the wire (AppendEvent, ParseEvent),
// and the client's Runner, which starts a helper program that records the
// argv it got. Each value must arrive as plain argument text, in its
// place, whatever shell syntax it holds: no shell ever sees it.
func TestRunnerHostileCallerID(t *testing.T) {
	hostile := []struct{ name, value string }{
		{"command separator", "; rm -rf /"},
		{"command substitution", "$(id)"},
		{"backquotes", "`id` `touch /tmp/pwned`"},
		{"double quotes", `"; echo "pwned`},
		{"single quotes", `it's 'quoted' '`},
		{"newline", "Rossi\nrm -rf /"},
		{"carriage return and tab", "a\rb\tc"},
		{"option injection", "--config=/etc/passwd"},
		{"short options", "-rf"},
		{"double dash", "--"},
		{"backslashes", `C:\temp\"x\\`},
		{"spaces", "  Rossi   Mario  "},
		{"empty", ""},
		{"placeholder in a value", "${calleridnum}"},
		{"shell metacharacters", "| & > /tmp/x < * ? ~ # !"},
		{"non-ASCII", "Müller ☎ 日本"},
	}
	const template = `--customer ${customer_id} --name=${calleridname} "--num=${calleridnum}" '${calleridname}' --last`
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			prog, argvFile := helperProgram(t)
			call := seatproto.Call{
				UniqueID: "1700000000.12", Channel: "SIP/201-0000000a",
				CallerIDNum: h.value, CallerIDName: h.value,
				AppData: []seatproto.Data{{Key: "customer_id", Value: h.value}},
				State:   "Up",
			}
			params, err := seatproto.Expand(template, call.Value, false)
			require.NoError(t, err)
			line := seatproto.AppendEvent(nil, &seatproto.Event{ID: seatproto.EventLink, Call: call,
				Action: &seatproto.Action{Type: seatproto.ActionApplication, Application: prog, Parameters: params}})
			ev, err := seatproto.ParseEvent(line)
			require.NoError(t, err)

			r := &Runner{}
			res := r.Perform(ev)
			require.Equal(t, Started, res.Outcome, "Perform: %v", res.Err)
			want := []string{"--customer", h.value, "--name=" + h.value, "--num=" + h.value, h.value, "--last"}
			assert.Equal(t, want, res.Args, "the arguments the Runner started the program with")
			assert.Equal(t, want, recordedArgv(t, r, argvFile), "the argv the program received")
		})
	}
}

func TestRunnerApplicationArgs(t *testing.T) {
	tests := []struct {
		name   string
		params string
		want   []string
	}{
		{"none", "", nil},
		{"words", "--customer 98765 --caller 555", []string{"--customer", "98765", "--caller", "555"}},
		{"quotes kept together", `--name="Rossi Mario" 'a b' "" x\ y`, []string{"--name=Rossi Mario", "a b", "", "x y"}},
		{"shell syntax is text", "; | & $(id) `id` > out", []string{";", "|", "&", "$(id)", "`id`", ">", "out"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prog, argvFile := helperProgram(t)
			r := &Runner{}
			res := r.Perform(link("1", seatproto.ActionApplication, prog, tc.params))
			require.Equal(t, Started, res.Outcome, "Perform: %v", res.Err)
			assert.Positive(t, res.PID)
			got := recordedArgv(t, r, argvFile)
			if tc.want == nil {
				tc.want = []string{}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func link(uid, typ, app, params string) *seatproto.Event {
	return &seatproto.Event{ID: seatproto.EventLink,
		Call:   seatproto.Call{UniqueID: uid, Channel: "SIP/201-0000000a"},
		Action: &seatproto.Action{Type: typ, Application: app, Parameters: params}}
}

func TestRunnerRefuses(t *testing.T) {
	tests := []struct {
		name    string
		goos    string
		ev      *seatproto.Event
		outcome Outcome
		err     string
	}{
		{"unclosed quote", "linux", link("1", seatproto.ActionApplication, "crm", `--name "Rossi`), Refused, "unclosed quote"},
		{"trailing backslash", "linux", link("2", seatproto.ActionApplication, "crm", `--name x\`), Refused, "backslash at the end"},
		{"no program", "linux", link("3", seatproto.ActionApplication, "", "--x"), Refused, "no program"},
		{"batch file on windows", "windows", link("4", seatproto.ActionApplication, `C:\crm\lookup.bat`, "--x"), Refused, "cmd.exe"},
		{"cmd file on windows", "windows", link("5", seatproto.ActionApplication, `crm.CMD`, "--x"), Refused, "cmd.exe"},
		{"batch file with a trailing dot", "windows", link("6", seatproto.ActionApplication, `crm.bat.`, ""), Refused, "cmd.exe"},
		{"missing program", "linux", link("7", seatproto.ActionApplication, "/nonexistent/astcti-crm", ""), Failed, "no such file"},
		{"unknown type", "linux", link("8", "shell", "rm", "-rf /"), Refused, `unknown action type "shell"`},
		{"file URL", "linux", link("9", seatproto.ActionBrowser, "file:///etc/passwd", ""), Refused, "only http and https"},
		{"javascript URL", "linux", link("10", seatproto.ActionBrowser, "javascript:alert(1)", ""), Refused, "only http and https"},
		{"no opener", "plan9", link("11", seatproto.ActionBrowser, "http://crm.example/", ""), Failed, "no URL opener"},
		{"no action", "linux", &seatproto.Event{ID: seatproto.EventLink, Call: seatproto.Call{UniqueID: "12"}}, Refused, "no action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Runner{GOOS: tc.goos}
			res := r.Perform(tc.ev)
			assert.Equal(t, tc.outcome, res.Outcome, "Perform: outcome")
			if assert.Error(t, res.Err) {
				assert.Contains(t, res.Err.Error(), tc.err)
			}
			assert.Zero(t, res.PID)
			require.NoError(t, r.Wait(context.Background()))
		})
	}
}

func TestRunnerBrowser(t *testing.T) {
	r := &Runner{NoOpen: true}
	const u = "http://crm.example/?caller=%2B390212345&data=12345"
	res := r.Perform(link("1.1", seatproto.ActionBrowser, u, ""))
	assert.Equal(t, ActionResult{UniqueID: "1.1", Type: seatproto.ActionBrowser, URL: u, Outcome: Printed}, res)
}

// TestRunnerOnce checks that a Link re-sent for the same call and channel
// (the re-pop after a reconnection) is not performed twice, while the same
// call on a new channel of the seat (transferred back to it) is.
func TestRunnerOnce(t *testing.T) {
	r := &Runner{NoOpen: true}
	ev := link("1.1", seatproto.ActionBrowser, "https://crm.example/", "")
	assert.Equal(t, Printed, r.Perform(ev).Outcome)
	assert.Equal(t, Skipped, r.Perform(ev).Outcome)
	ev.Call.Channel = "SIP/201-0000000b"
	assert.Equal(t, Printed, r.Perform(ev).Outcome)
	for i := range maxSeen {
		r.Perform(link(strings.Repeat("x", i+1), seatproto.ActionBrowser, "https://crm.example/", ""))
	}
	ev.Call.Channel = "SIP/201-0000000a"
	assert.Equal(t, Printed, r.Perform(ev).Outcome, "forgotten after maxSeen other calls")
}

func TestOpenerCommand(t *testing.T) {
	const u = "https://crm.example/?a=1&b=2"
	tests := []struct {
		goos string
		name string
		args []string
	}{
		{"linux", "xdg-open", []string{u}},
		{"freebsd", "xdg-open", []string{u}},
		{"openbsd", "xdg-open", []string{u}},
		{"netbsd", "xdg-open", []string{u}},
		{"dragonfly", "xdg-open", []string{u}},
		{"solaris", "xdg-open", []string{u}},
		{"illumos", "xdg-open", []string{u}},
		{"darwin", "open", []string{u}},
		{"windows", "rundll32", []string{"url.dll,FileProtocolHandler", u}},
		{"plan9", "", nil},
		{"js", "", nil},
		{"android", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.goos, func(t *testing.T) {
			name, args, err := OpenerCommand(tc.goos, u)
			if tc.name == "" {
				assert.Error(t, err, "OpenerCommand(%q)", tc.goos)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.name, name, "OpenerCommand(%q): program", tc.goos)
			assert.Equal(t, tc.args, args, "OpenerCommand(%q): arguments", tc.goos)
		})
	}
}

// TestRunnerNotFound: a program that is not on this PC (the service's
// application, or the URL opener) is said once, by the result the client
// prints, and clearly: which program, which service, what to change. The
// Runner's own log does not say it again (it used to: a warning, then
// the same error in the client's output).
func TestRunnerNotFound(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		name string
		typ  string
		app  string
		want string
	}{
		{"application", seatproto.ActionApplication, "crm-lookup",
			`the program "crm-lookup" of service "support" is not on this PC (not in the PATH): install it, or change the application of service "support" in the configuration`},
		{"application by its path", seatproto.ActionApplication, "/nonexistent/crm-lookup",
			`the program "/nonexistent/crm-lookup" of service "support" is not on this PC (no such file): install it, or change the application of service "support" in the configuration`},
		{"URL opener", seatproto.ActionBrowser, "http://crm.example/",
			`"xdg-open", which opens the URLs of browser actions, is not on this PC (not in the PATH): install it, or start the client with --no-open to print the URLs of service "support" instead`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := &Runner{GOOS: "linux", Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			ev := link("1", tc.typ, tc.app, "--customer 98765")
			ev.Call.Service = "support"
			res := r.Perform(ev)
			assert.Equal(t, Failed, res.Outcome)
			var nf *NotFoundError
			require.ErrorAs(t, res.Err, &nf)
			assert.Equal(t, tc.want, res.Err.Error())
			assert.Empty(t, logs.String(), "the client's output says it; the log does not say it again")
			assert.Equal(t, "15:04:05 action: failed "+tc.typ+" "+map[bool]string{true: tc.app + " --customer 98765", false: tc.app}[tc.typ == seatproto.ActionApplication]+": "+tc.want,
				FormatText(Note{Kind: NoteAction, Time: time.Date(2026, 1, 1, 15, 4, 5, 0, time.Local), Action: &res}))
		})
	}
}
