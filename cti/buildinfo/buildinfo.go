// Package buildinfo tells which build of astcti is running: its version,
// the commit it was built from, and the Go toolchain. Every binary prints
// it for --version, and the server shows it in /healthz and as the metric
// astcti_build_info.
//
// make build and make release set the version and the commit from git
// with the linker:
//
//	go build -ldflags "-X github.com/astcti/astcti/cti/buildinfo.version=v1.2.0 \
//	    -X github.com/astcti/astcti/cti/buildinfo.commit=0123abc…" ./cmd/...
//
// Without them (go run, go install, a plain go build) the module version
// and the VCS revision that the go command records in the binary are used,
// so that what is printed is still true; "unknown" is printed for what
// nobody recorded (go build -buildvcs=false).
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are set with -ldflags -X at link time (see the package
// documentation); the linker can only set package-level string variables,
// and nothing writes them at run time.
var (
	version string
	commit  string
)

// Unknown is the value of a field nobody recorded in the binary.
const Unknown = "unknown"

// Info describes one build.
type Info struct {
	Version   string `json:"version"`    // v1.2.0, v1.2.0-3-g0123abc-dirty (git describe), or the module version
	Commit    string `json:"commit"`     // the full commit hash, with "-dirty" when the tree had changes
	GoVersion string `json:"go_version"` // go1.26.8
}

// Get returns the running binary's build information. It is safe to call
// from any goroutine.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, bi)
}

// resolve prefers what the linker set, then what the go command recorded.
func resolve(ldVersion, ldCommit string, bi *debug.BuildInfo) Info {
	in := Info{Version: ldVersion, Commit: ldCommit, GoVersion: runtime.Version()}
	if bi != nil {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		if in.Commit == "" {
			in.Commit = vcsCommit(bi.Settings)
		}
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
	}
	if in.Version == "" {
		in.Version = Unknown
	}
	if in.Commit == "" {
		in.Commit = Unknown
	}
	return in
}

// vcsCommit is the revision the go command stamped (vcs.revision), marked
// "-dirty" as git describe marks it when the tree had changes.
func vcsCommit(settings []debug.BuildSetting) string {
	var rev string
	modified := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	return rev
}

// String is the --version line: "v1.2.0 (commit 0123abc…, go1.26.8)". The
// program's name is printed before it.
func (in Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s)", in.Version, in.Commit, in.GoVersion)
}
