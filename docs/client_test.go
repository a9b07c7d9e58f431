package docs

// The start files of astcti client in client/ (docs/asterisk.md, "Operators'
// PCs"): each is checked for what its system needs, the shell scripts of
// the XDG autostart file and of the LaunchAgent are run against a fake
// client, and every flag and environment variable they and the page use is
// checked against the real client's --help.

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The start files, and what each does with the client's exit status: it
// starts the client again after restartStatus, and leaves it stopped after
// any other (0: quit; 2, 3, 4, 6: starting again cannot help).
const (
	clientUnit    = "client/astcti-client.service"
	clientDesktop = "client/astcti-client.desktop"
	clientPlist   = "client/io.github.astcti.client.plist"
	clientTask    = "client/install-astcti-client.ps1"
	clientEnv     = "client/client.env.sample"
	clientBin     = "/usr/local/bin/astcti"
)

var (
	restartStatus = []int{1, 5}
	stopStatus    = []int{0, 2, 3, 4, 6}
)

// TestClientUnitVerifies runs systemd-analyze verify --user on the user
// unit, with ExecStart pointed at /bin/true (verify wants an executable).
// Any output fails the test: verify exits 0 on what it only warns about.
func TestClientUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("SKIP: systemd-analyze is not installed; the client's user unit was not verified (Debian: apt-get install systemd)")
	}
	data, err := os.ReadFile(clientUnit)
	require.NoError(t, err)
	const bin = "ExecStart=" + clientBin + " client"
	require.Contains(t, string(data), bin+"\n")
	unit := strings.Replace(string(data), bin, "ExecStart=/bin/true client", 1)
	path := filepath.Join(t.TempDir(), "astcti-client.service")
	require.NoError(t, os.WriteFile(path, []byte(unit), 0o644))
	cmd := exec.Command(analyze, "verify", "--user", "--man=no", path)
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		// verify --user needs a runtime directory, which a CI job or a
		// container has none of.
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	}
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "systemd-analyze verify --user:\n%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify --user complains")
}

// TestClientUnitSettings checks what docs/asterisk.md says of the user unit.
func TestClientUnitSettings(t *testing.T) {
	settings := readUnit(t, clientUnit)
	for key, want := range map[string]string{
		"ExecStart":       clientBin + " client",
		"EnvironmentFile": "%h/.config/astcti/client.env",
		"Restart":         "on-failure",
		"PartOf":          "graphical-session.target",
		"After":           "graphical-session.target",
		"WantedBy":        "graphical-session.target",
	} {
		assert.Equal(t, []string{want}, settings[key], "%s: %s", clientUnit, key)
	}
	// Restart=on-failure restarts after any status but 0; these are kept.
	require.Len(t, settings["RestartPreventExitStatus"], 1)
	var prevent []int
	for _, f := range strings.Fields(settings["RestartPreventExitStatus"][0]) {
		var n int
		_, err := fmt.Sscan(f, &n)
		require.NoError(t, err, "RestartPreventExitStatus %q", f)
		prevent = append(prevent, n)
	}
	assert.ElementsMatch(t, without(stopStatus, 0), prevent, "%s: RestartPreventExitStatus", clientUnit)
	for _, v := range settings["Environment"] {
		assert.NotContains(t, v, "PASSWORD", "%s: the password belongs in the environment file", clientUnit)
	}
}

// TestClientDesktopEntry checks the XDG autostart file: the keys a desktop
// needs, and an Exec line that parses by the Desktop Entry rules into
// sh -c SCRIPT.
func TestClientDesktopEntry(t *testing.T) {
	entry := readDesktopEntry(t, clientDesktop)
	assert.Equal(t, "Application", entry["Type"])
	assert.NotEmpty(t, entry["Name"])
	argv, err := splitExec(entry["Exec"])
	require.NoError(t, err, "%s: Exec", clientDesktop)
	require.Len(t, argv, 3, "%s: Exec is sh -c SCRIPT", clientDesktop)
	assert.Equal(t, []string{"sh", "-c"}, argv[:2])
	assert.Contains(t, argv[2], ". ~/.config/astcti/client.env;", "%s: reads the settings file", clientDesktop)

	validate, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Log("desktop-file-validate is not installed (Debian: desktop-file-utils): only the checks above were made")
		return
	}
	out, err := exec.Command(validate, clientDesktop).CombinedOutput()
	assert.NoError(t, err, "desktop-file-validate:\n%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "desktop-file-validate complains")
}

// TestClientStartScripts runs the shell scripts of the autostart file and
// of the LaunchAgent with a fake client that exits with the given status,
// the settings file being client.env.sample. The autostart script loops
// itself; the LaunchAgent's leaves the restart to launchd's KeepAlive
// (SuccessfulExit false), so it must end with 0 exactly when the client
// must stay stopped.
func TestClientStartScripts(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil || runtime.GOOS == "windows" {
		t.Skip("SKIP: no POSIX sh here; the start scripts were not run")
	}
	env, err := os.ReadFile(clientEnv)
	require.NoError(t, err)

	desktop, err := splitExec(readDesktopEntry(t, clientDesktop)["Exec"])
	require.NoError(t, err)
	plist := readPlist(t, clientPlist)
	args := plist.strings(t, "ProgramArguments")
	require.Len(t, args, 3, "%s: ProgramArguments is /bin/sh -c SCRIPT", clientPlist)
	require.Equal(t, []string{"/bin/sh", "-c"}, args[:2])

	scripts := []struct {
		name, script, envFile, log string
		loops                      bool
	}{
		{name: "autostart", script: desktop[2], envFile: ".config/astcti/client.env", loops: true},
		{name: "launchagent", script: args[2], envFile: "Library/Application Support/astcti/client.env", log: "Library/Logs/astcti-client.log"},
	}
	tests := []struct {
		name  string
		codes []int // the fake client's exit status, run after run
	}{
		{"quit", []int{0}},
		{"error", []int{1}},
		{"usage", []int{2}},
		{"login refused", []int{3}},
		{"seat refused", []int{4}},
		{"unreachable", []int{5}},
		{"replaced", []int{6}},
		{"error then quit", []int{1, 0}},
		{"unreachable twice then quit", []int{5, 5, 0}},
		{"seat refused after unreachable", []int{5, 4}},
		{"replaced after an error", []int{1, 6}},
	}
	for _, sc := range scripts {
		for _, tc := range tests {
			t.Run(sc.name+"/"+tc.name, func(t *testing.T) {
				codes := tc.codes
				if sc.loops && slices.Contains(restartStatus, codes[len(codes)-1]) {
					codes = append(slices.Clone(codes), 0) // the loop needs an end
				}
				home := t.TempDir()
				fake := writeFakeClient(t, codes)
				script := sc.script
				require.Contains(t, script, clientBin+" client")
				script = strings.ReplaceAll(script, clientBin, fake)
				if sc.loops {
					require.Contains(t, script, "sleep 30")
					script = strings.ReplaceAll(script, "sleep 30", "sleep 0")
				}
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(home, sc.envFile)), 0o700))
				require.NoError(t, os.WriteFile(filepath.Join(home, sc.envFile), env, 0o600))
				if sc.log != "" {
					require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(home, sc.log)), 0o700))
				}
				runs := filepath.Join(home, "runs")
				cmd := exec.Command(sh, "-c", script)
				cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "RUNS=" + runs}
				out, err := cmd.CombinedOutput()
				status := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					status = ee.ExitCode()
				} else {
					require.NoError(t, err, "%s", out)
				}

				// How many times the client ran: until a status that stops it.
				want := len(codes)
				for i, c := range codes {
					if !slices.Contains(restartStatus, c) {
						want = i + 1
						break
					}
				}
				if !sc.loops {
					want = 1 // launchd does the restarting
				}
				lines := readLines(t, runs)
				assert.Len(t, lines, want, "client runs:\n%s\noutput:\n%s", strings.Join(lines, "\n"), out)
				for _, l := range lines {
					// The password comes from client.env.sample, in the
					// environment, never on the command line.
					assert.Equal(t, "args=client password=change me server=cti.example:5039 user=alice", l)
				}
				last := codes[want-1]
				switch {
				case sc.loops:
					assert.Equal(t, last, status, "the autostart script's exit status")
				case slices.Contains(restartStatus, last):
					assert.Equal(t, last, status, "a status launchd must restart after")
				default:
					assert.Equal(t, 0, status, "status %d: launchd must not restart", last)
				}
				if sc.log != "" {
					log, err := os.ReadFile(filepath.Join(home, sc.log))
					require.NoError(t, err)
					assert.Contains(t, string(log), "fake client ran", "the client's output goes to the log")
					if slices.Contains(without(stopStatus, 0), last) {
						assert.Contains(t, string(log), fmt.Sprintf("exit status %d: not started again", last))
					}
				}
			})
		}
	}
}

// writeFakeClient writes a program that records its arguments and
// environment in $RUNS and exits with codes[n] on its n-th run.
func writeFakeClient(t *testing.T, codes []int) string {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("#!/bin/sh\n")
	sb.WriteString(`echo "args=$* password=$ASTCTI_PASSWORD server=$ASTCTI_SERVER user=$ASTCTI_USER" >>"$RUNS"` + "\n")
	sb.WriteString("echo fake client ran\n")
	sb.WriteString(`n=$(wc -l <"$RUNS")` + "\ncase $n in\n")
	for i, c := range codes {
		fmt.Fprintf(&sb, "%d) exit %d;;\n", i+1, c)
	}
	sb.WriteString("esac\nexit 99\n")
	path := filepath.Join(t.TempDir(), "astcti")
	require.NoError(t, os.WriteFile(path, []byte(sb.String()), 0o755))
	return path
}

// TestClientLaunchAgent checks the LaunchAgent: a well-formed property list
// with the keys launchd needs to start the client at login and restart it.
func TestClientLaunchAgent(t *testing.T) {
	p := readPlist(t, clientPlist)
	label := p.value(t, "Label", "string")
	assert.Equal(t, strings.TrimSuffix(filepath.Base(clientPlist), ".plist"), label, "the Label names the file")
	args := p.strings(t, "ProgramArguments")
	require.NotEmpty(t, args)
	assert.True(t, filepath.IsAbs(args[0]), "launchd does not search PATH for ProgramArguments[0]: %q", args[0])
	assert.Equal(t, "true", p.node(t, "RunAtLoad").XMLName.Local)
	keep := p.node(t, "KeepAlive")
	require.Equal(t, "dict", keep.XMLName.Local, "KeepAlive: restart only after a failure")
	ka := plistDict(t, keep)
	require.Contains(t, ka, "SuccessfulExit")
	assert.Equal(t, "false", ka["SuccessfulExit"].XMLName.Local, "KeepAlive: SuccessfulExit false restarts after a non-zero status only")
	assert.Equal(t, "30", p.value(t, "ThrottleInterval", "integer"))
	assert.Equal(t, "Aqua", p.value(t, "LimitLoadToSessionType", "string"), "only in the operator's graphical session")
}

// TestClientTask checks the Windows script statically (PowerShell is not
// on this machine; where pwsh is, it also parses the script): a Scheduled
// Task at logon for the current user with a restart setting and no time
// limit, a DPAPI-protected password handed over in ASTCTI_PASSWORD, and the
// exit status policy of the other start files.
func TestClientTask(t *testing.T) {
	data, err := os.ReadFile(clientTask)
	require.NoError(t, err)
	src := string(data)
	for _, want := range []string{
		"Register-ScheduledTask",
		"New-ScheduledTaskTrigger -AtLogOn -User $me",
		"-LogonType Interactive",
		"-RestartCount",
		"-RestartInterval",
		"-ExecutionTimeLimit ([TimeSpan]::Zero)",
		"ConvertFrom-SecureString",
		"ConvertTo-SecureString",
		"$env:ASTCTI_PASSWORD =",
		"-WindowStyle', 'Hidden'",
	} {
		assert.Contains(t, src, want, "%s", clientTask)
	}
	m := regexp.MustCompile(`(?m)^\$RestartOn = @\(([0-9, ]+)\)$`).FindStringSubmatch(src)
	require.NotNil(t, m, "%s: $RestartOn = @(...)", clientTask)
	var restart []int
	for _, f := range strings.Split(m[1], ",") {
		var n int
		_, err := fmt.Sscan(strings.TrimSpace(f), &n)
		require.NoError(t, err)
		restart = append(restart, n)
	}
	assert.ElementsMatch(t, restartStatus, restart, "%s: $RestartOn", clientTask)
	for _, c := range stopStatus {
		assert.Regexp(t, fmt.Sprintf(`(?m)^\s+%d \{ ['"]`, c), src, "%s: Get-StopReason says why status %d stops", clientTask, c)
	}

	pwsh, err := exec.LookPath("pwsh")
	if err != nil {
		t.Log("pwsh is not installed: the PowerShell syntax was not parsed")
		return
	}
	abs, err := filepath.Abs(clientTask)
	require.NoError(t, err)
	out, err := exec.Command(pwsh, "-NoProfile", "-NonInteractive", "-Command",
		`$e = $null; [void][System.Management.Automation.Language.Parser]::ParseFile('`+abs+`', [ref]$null, [ref]$e); if ($e) { $e; exit 1 }`).CombinedOutput()
	assert.NoError(t, err, "PowerShell parser:\n%s", out)
}

// TestClientEnvSample checks the operator's settings file: every variable,
// set or commented out, is one the client reads.
func TestClientEnvSample(t *testing.T) {
	_, known := clientOptions(t)
	set := map[string]bool{}
	re := regexp.MustCompile(`^#?(ASTCTI_[A-Z0-9_]+)=`)
	for _, line := range readLines(t, clientEnv) {
		line = strings.TrimSpace(line)
		m := re.FindStringSubmatch(line)
		if m == nil {
			assert.True(t, line == "" || strings.HasPrefix(line, "# "), "%s: unexpected line %q", clientEnv, line)
			continue
		}
		assert.True(t, known[m[1]], "%s: %s is no variable of astcti client", clientEnv, m[1])
		if !strings.HasPrefix(line, "#") {
			set[m[1]] = true
		}
	}
	for _, v := range []string{"ASTCTI_SERVER", "ASTCTI_USER", "ASTCTI_PASSWORD"} {
		assert.True(t, set[v], "%s does not set %s", clientEnv, v)
	}
}

// TestClientFlags checks that every flag of astcti client that the start
// files and the pages use, and every ASTCTI_ variable of the start files
// and of the page's section on operators' PCs, is one the client has: the
// flags and variables of `astcti client --help`.
func TestClientFlags(t *testing.T) {
	flags, env := clientOptions(t)

	uses := map[string][]string{} // where → flags
	unit := readUnit(t, clientUnit)
	uses[clientUnit] = flagsIn(strings.Join(unit["ExecStart"], "\n"))
	uses[clientDesktop] = flagsIn(readDesktopEntry(t, clientDesktop)["Exec"])
	uses[clientPlist] = flagsIn(strings.Join(readPlist(t, clientPlist).strings(t, "ProgramArguments"), "\n"))
	task, err := os.ReadFile(clientTask)
	require.NoError(t, err)
	uses[clientTask] = flagsIn(string(task)) // PowerShell's own parameters have one dash

	pages, err := filepath.Glob("*.md")
	require.NoError(t, err)
	pages = append(pages, "../README.md")
	invocation := regexp.MustCompile(`astcti(?:\.exe)?"?\s+client\b`)
	for _, page := range pages {
		lines := readLines(t, page)
		for i := 0; i < len(lines); i++ {
			if !invocation.MatchString(lines[i]) {
				continue
			}
			cmd := lines[i]
			for strings.HasSuffix(strings.TrimSpace(lines[i]), `\`) && i+1 < len(lines) {
				i++
				cmd += "\n" + lines[i]
			}
			where := fmt.Sprintf("%s:%d", page, i+1)
			uses[where] = flagsIn(cmd[invocation.FindStringIndex(cmd)[0]:])
		}
	}
	section := pageSection(t, "asterisk.md", "## 11. Operators' PCs")
	spans, _ := codeSpans(section)
	for _, span := range spans {
		if strings.HasPrefix(span, "--") {
			uses["asterisk.md, section 11: `"+span+"`"] = flagsIn(strings.Fields(span)[0])
		}
	}

	seen := map[string]bool{}
	for where, fs := range uses {
		for _, f := range fs {
			seen[f] = true
			assert.True(t, flags[f], "%s: --%s is no flag of astcti client", where, f)
		}
	}
	for _, f := range []string{"server", "user", "mac", "tls", "no-open", "password"} {
		assert.True(t, seen[f], "the pages no longer show --%s: is this test still reading them?", f)
	}
	for _, f := range []string{clientUnit, clientDesktop, clientPlist, clientTask} {
		assert.NotContains(t, uses[f], "password", "%s: the password goes in ASTCTI_PASSWORD, never on a command line", f)
	}
	assert.Subset(t, uses[clientTask], []string{"server", "user", "mac", "tls"})

	vars := regexp.MustCompile(`\bASTCTI_[A-Z0-9_]+`)
	for _, f := range []string{clientUnit, clientDesktop, clientPlist, clientTask, clientEnv} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, v := range vars.FindAllString(string(data), -1) {
			assert.True(t, env[v], "%s: %s is no variable of astcti client", f, v)
		}
	}
	for _, v := range vars.FindAllString(section, -1) {
		assert.True(t, env[v], "asterisk.md, section 11: %s is no variable of astcti client", v)
	}
}

// flagsIn returns the names of the --flags in s.
func flagsIn(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?:^|[^-\w])--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

var clientHelp struct {
	once       sync.Once
	flags, env map[string]bool
	err        error
}

// clientOptions builds astcti and returns the flags (without --) and the
// environment variables that `astcti client --help` lists.
func clientOptions(t *testing.T) (flags, env map[string]bool) {
	t.Helper()
	clientHelp.once.Do(func() {
		clientHelp.flags, clientHelp.env, clientHelp.err = readClientHelp()
	})
	require.NoError(t, clientHelp.err)
	return clientHelp.flags, clientHelp.env
}

func readClientHelp() (flags, env map[string]bool, err error) {
	dir, err := os.MkdirTemp("", "astcti-docs-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "astcti")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	args := []string{"build", "-o", bin}
	if raceBuild {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, "../cmd/astcti")...).CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("go build ../cmd/astcti: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "client", "--help").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("astcti client --help: %v", err)
	}
	flags, env = map[string]bool{}, map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(help), -1) {
		flags[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`\[\$(ASTCTI_[A-Z0-9_]+)\]`).FindAllStringSubmatch(string(help), -1) {
		env[m[1]] = true
	}
	if !flags["server"] || !flags["password"] || !env["ASTCTI_PASSWORD"] {
		return nil, nil, fmt.Errorf("astcti client --help lists no --server, --password or $ASTCTI_PASSWORD:\n%s", help)
	}
	return flags, env, nil
}

// readDesktopEntry returns the keys of the [Desktop Entry] group of a
// desktop file, their values unescaped as the specification's strings
// (\s \n \t \r \\).
func readDesktopEntry(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	group := ""
	for _, line := range readLines(t, path) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '[':
			group = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q is not Key=Value", path, line)
		if group != "[Desktop Entry]" {
			continue
		}
		k = strings.TrimSpace(k)
		require.NotContains(t, out, k, "%s: %s twice", path, k)
		out[k] = strings.NewReplacer(`\s`, " ", `\n`, "\n", `\t`, "\t", `\r`, "\r", `\\`, `\`).Replace(strings.TrimSpace(v))
	}
	return out
}

// splitExec splits an Exec value (already unescaped as a string) into its
// arguments by the Desktop Entry Specification's rules: arguments are
// separated by spaces; a reserved character must be inside double quotes,
// where a backslash escapes " ` $ and \; field codes (%f…) are refused
// here, since the file uses none.
func splitExec(s string) ([]string, error) {
	var (
		args   []string
		cur    strings.Builder
		inArg  bool
		quoted bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\':
			if i+1 >= len(s) || !strings.ContainsRune("\"`$\\", rune(s[i+1])) {
				return nil, fmt.Errorf("Exec: bad escape at %d in %q", i, s)
			}
			i++
			cur.WriteByte(s[i])
		case quoted && c == '"':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == ' ':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case c == '"':
			quoted, inArg = true, true
		case c == '%':
			return nil, fmt.Errorf("Exec: field code at %d in %q", i, s)
		case strings.IndexByte("\t\n'\\><~|&;$*?#()`", c) >= 0:
			return nil, fmt.Errorf("Exec: reserved character %q outside quotes at %d in %q", c, i, s)
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("Exec: unclosed quote in %q", s)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

// plistNode is an element of a property list.
type plistNode struct {
	XMLName xml.Name
	Text    string      `xml:",chardata"`
	Nodes   []plistNode `xml:",any"`
}

// plist is the top dictionary of a property list, by key.
type plist map[string]plistNode

// readPlist parses a property list file strictly and returns its top
// dictionary.
func readPlist(t *testing.T, path string) plist {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var root plistNode
	d := xml.NewDecoder(f)
	d.Strict = true
	require.NoError(t, d.Decode(&root), "%s: not well-formed XML", path)
	require.Equal(t, "plist", root.XMLName.Local)
	require.Len(t, root.Nodes, 1, "%s: <plist> holds one <dict>", path)
	require.Equal(t, "dict", root.Nodes[0].XMLName.Local)
	return plistDict(t, root.Nodes[0])
}

// plistDict returns the entries of a <dict>: <key> then value, in turn.
func plistDict(t *testing.T, dict plistNode) plist {
	t.Helper()
	out := plist{}
	require.Zero(t, len(dict.Nodes)%2, "a <dict> alternates <key> and value")
	for i := 0; i < len(dict.Nodes); i += 2 {
		k := dict.Nodes[i]
		require.Equal(t, "key", k.XMLName.Local, "<dict> entry %d", i/2)
		require.NotContains(t, out, k.Text, "key %s twice", k.Text)
		out[k.Text] = dict.Nodes[i+1]
	}
	return out
}

func (p plist) node(t *testing.T, key string) plistNode {
	t.Helper()
	n, ok := p[key]
	require.True(t, ok, "the property list has no %s", key)
	return n
}

// value returns the text of key's value, which must be of type typ.
func (p plist) value(t *testing.T, key, typ string) string {
	t.Helper()
	n := p.node(t, key)
	require.Equal(t, typ, n.XMLName.Local, "%s: type", key)
	return n.Text
}

// strings returns key's value, an <array> of <string>.
func (p plist) strings(t *testing.T, key string) []string {
	t.Helper()
	n := p.node(t, key)
	require.Equal(t, "array", n.XMLName.Local, "%s: type", key)
	var out []string
	for _, s := range n.Nodes {
		require.Equal(t, "string", s.XMLName.Local, "%s: an array of strings", key)
		out = append(out, s.Text)
	}
	return out
}

// readLines returns the lines of a file.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	require.NoError(t, sc.Err())
	return out
}

// pageSection returns the section of a page that starts with the heading
// line prefix, up to the next heading of the same level.
func pageSection(t *testing.T, page, prefix string) string {
	t.Helper()
	data, err := os.ReadFile(page)
	require.NoError(t, err)
	text := string(data)
	i := strings.Index(text, "\n"+prefix)
	require.GreaterOrEqual(t, i, 0, "%s has no heading %q", page, prefix)
	level := prefix[:strings.IndexByte(prefix, ' ')+1]
	rest := text[i+1:]
	if j := strings.Index(rest[len(prefix):], "\n"+level); j >= 0 {
		rest = rest[:len(prefix)+j]
	}
	return rest
}

// without returns s without v.
func without(s []int, v int) []int {
	return slices.DeleteFunc(slices.Clone(s), func(x int) bool { return x == v })
}
