package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	return dir
}

func TestReadManagerConf(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		user  string
		want  *managerUser // File and Filters' lines are checked apart
		lines []string     // the eventfilter values, in order
		err   string
	}{
		{"plain", map[string]string{"manager.conf": `
[general]
enabled = yes
[astcti]
secret = x ; a comment
read = system,call,agent,user,dialplan
write => agent,originate,reporting
writetimeout = 500
eventfilter = ^Event: (Newchannel|Hangup)[[:space:]]
eventfilter = !^Event: VarSet[[:space:]].*Variable: (DIALSTATUS)[[:space:]]
[other]
read = all
`}, "astcti", &managerUser{Read: "system,call,agent,user,dialplan", Write: "agent,originate,reporting", WriteTimeout: "500"},
			[]string{"^Event: (Newchannel|Hangup)[[:space:]]", "!^Event: VarSet[[:space:]].*Variable: (DIALSTATUS)[[:space:]]"}, ""},
		{"template, include, block comment, escaped ;", map[string]string{
			"manager.conf": "[general]\n#include \"users.d/*.conf\"\n",
			"users.d/a.conf": `[base](!)
read = system,call
eventfilter = ^Event: Newchannel
;-- a block
read = nothing
--;
[astcti](base)
write = agent
eventfilter = !Value: a\;b
`}, "astcti", &managerUser{Read: "system,call", Write: "agent"}, []string{"^Event: Newchannel", "!Value: a;b"}, ""},
		{"advanced filter key", map[string]string{"manager.conf": "[astcti]\neventfilter(action(exclude),name(VarSet)) = \n"},
			"astcti", &managerUser{}, []string{""}, ""},
		{"the last read wins", map[string]string{"manager.conf": "[astcti]\nread = call\nread = agent\n"}, "astcti", &managerUser{Read: "agent"}, nil, ""},
		{"appended section", map[string]string{"manager.conf": "[astcti]\nread = call\n[astcti](+)\nwrite = agent\n"}, "astcti", &managerUser{Read: "call", Write: "agent"}, nil, ""},
		{"no such user", map[string]string{"manager.conf": "[other]\nread = all\n"}, "astcti", nil, nil, ""},
		{"missing include", map[string]string{"manager.conf": "#include nosuch.conf\n"}, "astcti", nil, nil, "no such file"},
		{"tryinclude", map[string]string{"manager.conf": "#tryinclude nosuch.conf\n[astcti]\nread=call\n"}, "astcti", &managerUser{Read: "call"}, nil, ""},
		{"include loop", map[string]string{"manager.conf": "#include manager.conf\n[astcti]\nread=call\n"}, "astcti", &managerUser{Read: "call"}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tc.files {
				p := filepath.Join(dir, name)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
			}
			got, err := readManagerConf(filepath.Join(dir, "manager.conf"), tc.user)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			if tc.want == nil {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			var lines []string
			for _, l := range got.Filters {
				lines = append(lines, l.Value)
				assert.NotZero(t, l.Line)
			}
			assert.Equal(t, tc.lines, lines, "eventfilter lines")
			got.Filters, got.File, got.Name = nil, "", ""
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestReadManagerConfBounds(t *testing.T) {
	defer func(n int64) { maxConfBytes = n }(maxConfBytes)
	maxConfBytes = 100
	dir := writeFiles(t, map[string]string{"manager.conf": "[astcti]\n" + strings.Repeat("; padding\n", 20)})
	_, err := readManagerConf(filepath.Join(dir, "manager.conf"), "astcti")
	assert.ErrorContains(t, err, "more than 100 bytes")
}

// guideUser reads the manager user of docs/asterisk.md: the ``` block
// that holds [astcti], written out as a manager.conf.
func guideUser(t *testing.T) *managerUser {
	t.Helper()
	b, err := os.ReadFile("../../docs/asterisk.md")
	require.NoError(t, err)
	var block []string
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "```") {
			if in && strings.Contains(strings.Join(block, "\n"), "[astcti]") {
				break
			}
			in, block = !in, nil
			continue
		}
		if in {
			block = append(block, l)
		}
	}
	dir := writeFiles(t, map[string]string{"manager.conf": strings.Join(block, "\n")})
	u, err := readManagerConf(filepath.Join(dir, "manager.conf"), "astcti")
	require.NoError(t, err)
	require.NotNil(t, u, "docs/asterisk.md has no [astcti] block")
	require.NotEmpty(t, u.Filters)
	return u
}

// TestGuideFilters: the eventfilter lines of docs/asterisk.md let through
// every sample event of the demo services, on 1.6–11 and 12+.
func TestGuideFilters(t *testing.T) {
	u := guideUser(t)
	for _, g := range []generation{gen18, gen12} {
		ef, problems := compileFilters(u.Filters, g)
		assert.Empty(t, problems)
		for _, s := range sampleEvents(g, config.Demo().Services) {
			assert.True(t, ef.passes(s.Frame), "%v: the guide drops %s:\n%s", g, s.Label, s.Frame)
		}
	}
}

func TestFilters(t *testing.T) {
	newchannel := event("Newchannel", "call,all", "Channel", "SIP/1-00000001", "Context", "in")
	varset := event("VarSet", "dialplan,all", "Channel", "SIP/1-00000001", "Variable", "DIALSTATUS", "Value", "ANSWER")
	tests := []struct {
		name     string
		gen      generation
		lines    []confLine
		pass     []*ami.Frame
		drop     []*ami.Frame
		problems int
	}{
		{"none", gen12, nil, []*ami.Frame{newchannel, varset}, nil, 0},
		{"include only", gen12, []confLine{{Name: "eventfilter", Value: "^Event: Newchannel[[:space:]]"}},
			[]*ami.Frame{newchannel}, []*ami.Frame{varset}, 0},
		{"exclude only", gen12, []confLine{{Name: "eventfilter", Value: "!Variable: DIALSTATUS"}},
			[]*ami.Frame{newchannel}, []*ami.Frame{varset}, 0},
		{"both", gen12, []confLine{{Name: "eventfilter", Value: "Event: (Newchannel|VarSet)"}, {Name: "eventfilter", Value: "!Value: ANSWER\r\n"}},
			[]*ami.Frame{newchannel}, []*ami.Frame{varset}, 0},
		{"dot matches line ends", gen12, []confLine{{Name: "eventfilter", Value: "^Event: VarSet.*DIALSTATUS"}},
			[]*ami.Frame{varset}, []*ami.Frame{newchannel}, 0},
		{"^ is the start of the event", gen12, []confLine{{Name: "eventfilter", Value: "^Channel:"}},
			nil, []*ami.Frame{newchannel, varset}, 0},
		{"advanced name", gen12, []confLine{{Name: "eventfilter(action(exclude),name(VarSet))", Value: ""}},
			[]*ami.Frame{newchannel}, []*ami.Frame{varset}, 0},
		{"advanced header", gen12, []confLine{{Name: "eventfilter(header(Variable),method(exact))", Value: "!DIALSTATUS"}},
			[]*ami.Frame{newchannel}, []*ami.Frame{varset}, 0},
		{"advanced starts_with", gen12, []confLine{{Name: "eventfilter(method(starts_with))", Value: "Event: Newchannel"}},
			[]*ami.Frame{newchannel}, []*ami.Frame{varset}, 0},
		{"advanced on 1.8 is ignored", gen18, []confLine{{Name: "eventfilter(name(VarSet))", Value: ""}},
			[]*ami.Frame{newchannel, varset}, nil, 1},
		{"bad regex is dropped", gen12, []confLine{{Name: "eventfilter", Value: "("}, {Name: "eventfilter", Value: "!VarSet"}},
			[]*ami.Frame{newchannel}, []*ami.Frame{varset}, 1},
		{"bad advanced", gen12, []confLine{{Name: "eventfilter(action(maybe))", Value: "x"}}, []*ami.Frame{newchannel}, nil, 1},
		{"other keys are not filters", gen12, []confLine{{Name: "eventfilters", Value: "x"}}, []*ami.Frame{newchannel}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ef, problems := compileFilters(tc.lines, tc.gen)
			assert.Len(t, problems, tc.problems, "%q", problems)
			for _, f := range tc.pass {
				assert.True(t, ef.passes(f), "must pass: %s", f)
			}
			for _, f := range tc.drop {
				assert.False(t, ef.passes(f), "must be dropped: %s", f)
			}
		})
	}
}
