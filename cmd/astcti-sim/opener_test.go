package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCanOpen: the printed client command drops --no-open only where a
// screen pop can open a browser: the opener installed and, for xdg-open,
// a desktop (or a BROWSER) to open it on.
func TestCanOpen(t *testing.T) {
	installed := func(string) (string, error) { return "/usr/bin/x", nil }
	missing := func(string) (string, error) { return "", errors.New("not found") }
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name   string
		goos   string
		look   func(string) (string, error)
		getenv func(string) string
		want   bool
	}{
		{"linux desktop", "linux", installed, env("DISPLAY", ":0"), true},
		{"linux wayland", "linux", installed, env("WAYLAND_DISPLAY", "wayland-0"), true},
		{"linux over ssh", "linux", installed, env(), false},
		{"linux over ssh, a text browser", "linux", installed, env("BROWSER", "w3m"), true},
		{"linux without xdg-open", "linux", missing, env("DISPLAY", ":0"), false},
		{"macOS", "darwin", installed, env(), true},
		{"windows", "windows", installed, env(), true},
		{"unknown system", "plan9", installed, env("DISPLAY", ":0"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, canOpen(tt.goos, tt.look, tt.getenv), tt.name)
	}
}
