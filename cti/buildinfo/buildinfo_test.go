package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestResolve(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/astcti/astcti", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123abcd"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
	dirty := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/astcti/astcti", Version: "(devel)"},
		Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"}},
	}
	tests := []struct {
		name              string
		ldVersion, commit string
		bi                *debug.BuildInfo
		want              Info
	}{
		{"linker wins", "v1.2.0", "feedbeef", stamped, Info{"v1.2.0", "feedbeef", "go1.26.8"}},
		{"go install of a tagged module", "", "", stamped, Info{"v0.3.0", "0123abcd", "go1.26.8"}},
		{"go build in a changed tree", "", "", dirty, Info{Unknown, "0123abcd-dirty", "go1.26.8"}},
		{"nothing recorded", "", "", &debug.BuildInfo{}, Info{Unknown, Unknown, runtime.Version()}},
		{"no build info at all", "", "", nil, Info{Unknown, Unknown, runtime.Version()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.ldVersion, tc.commit, tc.bi)
			assert.Equal(t, tc.want, got, "resolve(%q, %q, …)", tc.ldVersion, tc.commit)
		})
	}
}

func TestString(t *testing.T) {
	in := Info{Version: "v1.2.0", Commit: "0123abcd", GoVersion: "go1.26.8"}
	assert.Equal(t, "v1.2.0 (commit 0123abcd, go1.26.8)", in.String())
}
