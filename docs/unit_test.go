// Package docs holds the project's documentation. Its tests check the
// files an administrator installs from it: the systemd unit
// (astcti.service) and its environment file (astcti.env.sample), the start
// files of the seat client in client/ (client_test.go), and that the pages
// name only files the repository has (paths_test.go). The manager.conf
// user of asterisk.md is tested against the recorded traces in cti/calls
// (eventfilter_test.go).
package docs

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnitVerifies runs systemd-analyze verify on astcti.service. The unit
// names /usr/local/bin/astcti, which verify requires to be an executable
// file; the test points ExecStart at /bin/true instead and changes nothing
// else. verify exits 0 on many problems it only warns about (an unknown
// Restart= value, a misspelt setting), so any output fails the test too.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("SKIP: systemd-analyze is not installed; the unit was not verified (Debian: apt-get install systemd)")
	}
	data, err := os.ReadFile("astcti.service")
	require.NoError(t, err)
	const bin = "ExecStart=/usr/local/bin/astcti server"
	require.Contains(t, string(data), bin+"\n")
	unit := strings.Replace(string(data), bin, "ExecStart=/bin/true server", 1)
	path := filepath.Join(t.TempDir(), "astcti.service")
	require.NoError(t, os.WriteFile(path, []byte(unit), 0o644))
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	assert.NoError(t, err, "systemd-analyze verify:\n%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify complains")
}

// TestUnitSettings checks what docs/asterisk.md says of the unit.
func TestUnitSettings(t *testing.T) {
	settings := readUnit(t, "astcti.service")
	for key, want := range map[string]string{
		"User":                    "astcti",
		"Group":                   "astcti",
		"ExecStart":               "/usr/local/bin/astcti server",
		"EnvironmentFile":         "/etc/astcti/astcti.env",
		"Environment":             "ASTCTI_CONFIG_DIR=/var/lib/astcti/config",
		"StateDirectory":          "astcti astcti/config",
		"Restart":                 "on-failure",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"WantedBy":                "multi-user.target",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	} {
		assert.Contains(t, settings[key], want, "astcti.service: %s", key)
	}
	for _, key := range []string{"Environment", "ExecStart"} {
		for _, v := range settings[key] {
			assert.NotContains(t, strings.ToUpper(v), "SECRET", "astcti.service: the secret belongs in the environment file, not in %s", key)
		}
	}
}

// TestEnvSample checks that every variable of the sample environment file,
// set or commented out, is one the server reads (its flags' EnvVars in
// cmd/astcti/server.go).
func TestEnvSample(t *testing.T) {
	src, err := os.ReadFile("../cmd/astcti/server.go")
	require.NoError(t, err)
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`EnvVars: \[\]string\{"(ASTCTI_[A-Z0-9_]+)"\}`).FindAllStringSubmatch(string(src), -1) {
		known[m[1]] = true
	}
	require.NotEmpty(t, known)
	f, err := os.Open("astcti.env.sample")
	require.NoError(t, err)
	defer f.Close()
	set := map[string]bool{}
	sc := bufio.NewScanner(f)
	re := regexp.MustCompile(`^#?(ASTCTI_[A-Z0-9_]+)=`)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		m := re.FindStringSubmatch(line)
		if m == nil {
			assert.True(t, line == "" || strings.HasPrefix(line, "# "), "astcti.env.sample: unexpected line %q", line)
			continue
		}
		assert.True(t, known[m[1]], "astcti.env.sample: %s is no variable of astcti server", m[1])
		if !strings.HasPrefix(line, "#") {
			set[m[1]] = true
		}
	}
	require.NoError(t, sc.Err())
	for _, v := range []string{"ASTCTI_AMI", "ASTCTI_AMI_USER", "ASTCTI_AMI_SECRET", "ASTCTI_LISTEN"} {
		assert.True(t, set[v], "astcti.env.sample does not set %s", v)
	}
}

// readUnit returns the settings of a unit file, by key, in order.
func readUnit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q is not key=value", path, line)
		out[k] = append(out[k], v)
	}
	require.NoError(t, sc.Err())
	return out
}
