package doctor

import (
	"strconv"
	"strings"
)

// generation is the family of manager events a PBX speaks, which decides
// what astcti needs of it (docs/asterisk.md).
type generation int

const (
	// gen14 is Asterisk 1.4 (manager 1.0): Link, Join, no dialplan class,
	// no eventfilter, no CoreStatus, CoreShowChannels or ShowDialPlan.
	gen14 generation = iota
	// gen18 is Asterisk 1.6 to 11 (manager 1.1 to 1.3): Dial with
	// SubEvent, Bridge, Join, the dialplan class, eventfilter lines.
	gen18
	// gen12 is Asterisk 12 and later (manager 2.0 and later): DialBegin,
	// BridgeEnter, QueueCallerJoin.
	gen12
)

func (g generation) String() string {
	switch g {
	case gen14:
		return "the events of Asterisk 1.4"
	case gen18:
		return "the events of Asterisk 1.6 to 11"
	}
	return "the events of Asterisk 12 and later"
}

// generationOf reads the manager version of the banner ("Asterisk Call
// Manager/1.0" on 1.4, 1.1 on 1.6 and 1.8, 1.2 on 10, 1.3 on 11, 2.x on 12
// and 13, 9.0.0 on 20, 11.0.0 on 22). ok is false for a version it does
// not know.
func generationOf(banner string) (g generation, ok bool) {
	major, minor, ok := versionNumbers(banner)
	switch {
	case !ok:
		return gen12, false
	case major == 1 && minor == 0:
		return gen14, true
	case major == 1 && minor <= 3:
		return gen18, true
	case major >= 2:
		return gen12, true
	}
	return gen12, false
}

// versionNumbers returns the first two numbers of a dotted version.
func versionNumbers(v string) (major, minor int, ok bool) {
	parts := strings.Split(strings.TrimSpace(v), ".")
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return major, minor, err1 == nil && err2 == nil
}

// asteriskVersion finds the version in the first line of `core show
// version` ("Asterisk 22.10.1 built by root @ vm on …"), or "".
func asteriskVersion(lines []string) string {
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "Asterisk" {
			return f[1]
		}
	}
	return ""
}

// tooOld reports whether an Asterisk version is older than 1.4, which
// astcti does not support (1.2 also announces manager 1.0).
func tooOld(version string) bool {
	major, minor, ok := versionNumbers(version)
	return ok && major == 1 && minor < 4
}
