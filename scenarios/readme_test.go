package scenarios

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// confBlocks returns the code blocks under the headings of a trace README
// that name file ("### extensions.conf", "#### extensions.conf (appended)"),
// joined.
func confBlocks(t *testing.T, readme, file string) string {
	t.Helper()
	re := regexp.MustCompile("(?m)^#+ " + regexp.QuoteMeta(file) + ".*\n```\n((?s:.*?))```")
	var b strings.Builder
	for _, m := range re.FindAllStringSubmatch(readme, -1) {
		b.WriteString(m[1])
	}
	return b.String()
}

// TestTraceConfigs parses the real extensions.conf and queues.conf files
// that the recorded traces come from, verbatim: the language must read
// what Asterisk administrators write.
func TestTraceConfigs(t *testing.T) {
	readmes, err := filepath.Glob("../testdata/ami-traces/*/README.md")
	require.NoError(t, err)
	require.NotEmpty(t, readmes)
	for _, path := range readmes {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			ext := confBlocks(t, string(data), "extensions.conf")
			queues := confBlocks(t, string(data), "queues.conf")
			require.NotEmpty(t, ext)
			require.NotEmpty(t, queues)
			sc, err := Parse("trace", archive(fileExtensions, ext, fileQueues, queues))
			require.NoError(t, err)
			assert.Contains(t, sc.Queues, "astcti-queue")
			assert.Contains(t, sc.Queues, "astcti-queue-2")
			steps, ok := sc.Contexts["astcti-service"].Match("101")
			require.True(t, ok)
			assert.Equal(t, "Dial", steps[2].App)
		})
	}
}

// TestSeedDialplans parses the two services of the original AsteriskCTI
// design document (Asterisk 1.4 syntax, "|" separators, ";" after the
// application).
func TestSeedDialplans(t *testing.T) {
	ext := `[astcti-service]
exten => 101,1,Answer()
exten => 101,2,Read(cdata|/var/lib/asterisk/sounds/astctidemo/enter_five_digits|5|)
exten => 101,3,Set(calldata=${cdata})
exten => 101,4,Dial(SIP/201&SIP/202,30,m);
exten => 101,5,Hangup()

[astcti-queue-service]
exten => 101,1,Answer()
exten => 101,2,Read(cdata|/var/lib/asterisk/sounds/astctidemo/enter_five_digits|5|)
exten => 101,3,Set(calldata=${cdata})
exten => 101,4,Queue(astcti-queue|htw||60);
exten => 101,5,Hangup()
`
	sc, err := Parse("seed", archive(fileExtensions, ext, fileQueues, "[astcti-queue]\n"))
	require.NoError(t, err)
	steps := sc.Contexts["astcti-service"].Extens["101"]
	require.Len(t, steps, 5)
	assert.Equal(t, []string{"cdata", "/var/lib/asterisk/sounds/astctidemo/enter_five_digits", "5", ""}, steps[1].Args)
	r, err := ParseRead(steps[1].Args)
	require.NoError(t, err)
	assert.Equal(t, ReadArgs{Var: "cdata", MaxDigits: 5}, r)
	assert.Equal(t, []string{"calldata=${cdata}"}, steps[2].Args)
	d, err := ParseDial(steps[3].Args)
	require.NoError(t, err)
	assert.Equal(t, DialArgs{Interfaces: []string{"SIP/201", "SIP/202"}, Timeout: 30e9, Options: "m"}, d)
	assert.Equal(t, "SIP/201&SIP/202|30|m", steps[3].AppData("|"))
}
