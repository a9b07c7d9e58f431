package doctor

import (
	"fmt"
	"strings"
)

// Status is the verdict of one check.
type Status int

const (
	// OK means the check passed: nothing to do.
	OK Status = iota
	// Warn means astcti works, but something is missing or could not be
	// checked; the result says what to do.
	Warn
	// Fail means astcti will not work as configured; the result says what
	// to do.
	Fail
)

func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the outcome of one check: its name ("read dialplan", "service
// sales context"), its status, what was found and, unless it is OK, what
// to do about it.
type Result struct {
	Name   string
	Status Status
	Detail string
	Fix    string
}

// String returns the result as one line: "OK   name: detail", "WARN name:
// detail: what to do", "FAIL name: detail: what to do". Line ends and
// other control characters (which a PBX's answers might carry) are
// written as spaces.
func (r Result) String() string {
	line := fmt.Sprintf("%-4s %s: %s", r.Status, r.Name, r.Detail)
	if r.Status != OK && r.Fix != "" {
		line += ": " + r.Fix
	}
	return oneLine(line)
}

// oneLine replaces control characters by spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// Summary counts results by status.
type Summary struct {
	OK, Warn, Fail int
}

// Summarize counts the results.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Status {
		case OK:
			s.OK++
		case Warn:
			s.Warn++
		default:
			s.Fail++
		}
	}
	return s
}

// String returns the summary line: "doctor: 12 OK, 2 WARN, 1 FAIL".
func (s Summary) String() string {
	return fmt.Sprintf("doctor: %d OK, %d WARN, %d FAIL", s.OK, s.Warn, s.Fail)
}
