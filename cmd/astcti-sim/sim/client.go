package sim

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// The user's own seat client: the command the simulation prints for it
// must run as shown, from where the demo was started (`make demo` builds
// every binary into bin/, but bin/ is not on the PATH).

// BuildClient is the command that builds the astcti program into bin/,
// printed when there is none beside astcti-sim.
const BuildClient = "go build -o bin/ ./cmd/astcti"

// ClientProgram returns the astcti program beside exe (the running
// astcti-sim), as a user in the working directory wd types it: relative
// to wd when that is shorter ("bin/astcti"), with "./" when it is in wd
// itself, quoted for a POSIX shell when it has to be. It returns "" when
// there is no astcti beside exe (astcti-sim built alone, or run with go
// run).
func ClientProgram(exe, wd string) string {
	name := "astcti"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	path := filepath.Join(filepath.Dir(exe), name)
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	if wd != "" {
		if rel, err := filepath.Rel(wd, path); err == nil && len(rel) < len(path) {
			path = rel
			if !strings.ContainsRune(path, filepath.Separator) {
				path = "." + string(filepath.Separator) + path
			}
		}
	}
	return shellQuote(path)
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and -_./:, so that a path with spaces runs as shown.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
