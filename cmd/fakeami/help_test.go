package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/scenarios"
)

// TestHelpIsTrue compares --help with what fakeami has: every --flag it
// names exists, it offers no command, and it names every queue and
// context of the demo PBX it runs with no --scenario.
func TestHelpIsTrue(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	require.NoError(t, app.Run([]string{"fakeami", "--help"}))
	help := out.String()

	flags := map[string]bool{"help": true, "h": true}
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			flags[n] = true
		}
	}
	for _, m := range regexp.MustCompile(`--([a-z][a-z-]*)`).FindAllStringSubmatch(help, -1) {
		assert.True(t, flags[m[1]], "--help names --%s, which fakeami does not have", m[1])
	}
	assert.NotContains(t, help, "COMMANDS:", "fakeami has no commands")
	demo := scenarios.Demo()
	for name := range demo.Queues {
		assert.Contains(t, help, name)
	}
	for name := range demo.Contexts {
		assert.Contains(t, help, name)
	}
	for iface := range demo.Phones {
		assert.Contains(t, help, iface+" ")
	}
}
