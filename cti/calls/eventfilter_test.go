package calls

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
)

// The manager.conf user of docs/asterisk.md is tested here, against every
// recorded trace: its read classes and eventfilter lines must leave every
// event astcti uses, so that the tracker's changes do not change, and must
// cut the noise it never reads.
//
// What Asterisk does with them (main/manager.c, as documented in
// configs/samples/manager.conf.sample, "eventfilter"), and what this test
// does the same way:
//
//   - A filter is a POSIX extended regular expression (regcomp with
//     REG_EXTENDED | REG_NOSUB), unanchored, run (regexec) on the whole text
//     of the event as it would be written to the session: "Event: Name\r\n"
//     then every "Key: Value\r\n" line. Without REG_NEWLINE, "." matches a
//     line end too and "^" and "$" only match at the start and end of the
//     text: here Go's regexp with the s flag and without m.
//   - A filter starting with "!" is a black filter (the rest is the
//     expression); any other is white. No filters: every event passes.
//     White only: an event passes if a white filter matches. Black only:
//     if no black filter matches. Both: if a white one matches and no black
//     one does.
//   - Before the filters, an event passes only if the user may read every
//     class of its category (process_events: (readperm & category) ==
//     category); its Privilege header names them ("call,all": call).
//   - Filters and read classes apply to the events Asterisk broadcasts
//     (manager_event, stasis), among them OriginateResponse. They do not
//     apply to what an action writes to its own session with astman_append:
//     the Response, and list items such as CoreShowChannel, Status or
//     QueueMember, which carry the action's ActionID. astcti's resync
//     (CoreShowChannels, Status) is therefore never filtered.
//
// The test does not run POSIX regular expressions but Go's: the filters of
// the guide must stay in the syntax both read alike (no backslash, no
// back-references; bracket expressions with [:space:]-style classes).

// managerUser is the [astcti] block of the guide.
type managerUser struct {
	read    map[string]bool // read classes
	write   []string
	filters []string // eventfilter values, in order
	white   []*regexp.Regexp
	black   []*regexp.Regexp
}

// guidePath is the administrator's guide, relative to this package.
const guidePath = "../../docs/asterisk.md"

// loadGuideUser reads the first ``` block of the guide that holds a
// "[astcti]" section, and in it the read, write and eventfilter lines of
// that section, as Asterisk's config parser reads them: "name = value",
// ";" starts a comment, spaces around the value are dropped.
func loadGuideUser(t testing.TB) *managerUser {
	t.Helper()
	f, err := os.Open(guidePath)
	require.NoError(t, err)
	defer f.Close()
	u := &managerUser{read: map[string]bool{}}
	var inBlock, inUser, found bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			if inBlock && found {
				break
			}
			inBlock, inUser = !inBlock, false
			continue
		}
		if !inBlock {
			continue
		}
		if c := strings.IndexByte(line, ';'); c >= 0 {
			require.False(t, c > 0 && line[c-1] == '\\', "the guide's filters must not need \\;")
			line = line[:c]
		}
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			inUser = line == "[astcti]"
			found = found || inUser
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !inUser || !ok {
			continue
		}
		value = strings.TrimSpace(strings.TrimPrefix(value, ">"))
		switch strings.TrimSpace(name) {
		case "read":
			for _, c := range strings.Split(value, ",") {
				u.read[strings.TrimSpace(c)] = true
			}
		case "write":
			for _, c := range strings.Split(value, ",") {
				u.write = append(u.write, strings.TrimSpace(c))
			}
		case "eventfilter":
			u.filters = append(u.filters, value)
		}
	}
	require.NoError(t, sc.Err())
	require.True(t, found, "%s has no ``` block with an [astcti] section", guidePath)
	require.NotEmpty(t, u.read, "the guide's [astcti] has no read line")
	require.NotEmpty(t, u.filters, "the guide's [astcti] has no eventfilter line")
	for _, flt := range u.filters {
		require.NotContains(t, flt, `\`, "eventfilter %q: keep to what POSIX ERE and Go read alike", flt)
		expr, black := strings.CutPrefix(flt, "!")
		re, err := regexp.Compile("(?s)" + expr)
		require.NoError(t, err, "eventfilter %q", flt)
		if black {
			u.black = append(u.black, re)
		} else {
			u.white = append(u.white, re)
		}
	}
	return u
}

// eventText is the event as Asterisk writes it to a session.
func eventText(f *ami.Frame) string {
	var b strings.Builder
	for _, fl := range f.Fields {
		b.WriteString(fl.Key + ": " + fl.Value + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// broadcast reports whether Asterisk sends f as a broadcast event, which
// read classes and filters apply to, rather than as an action's own output.
func broadcast(f *ami.Frame) bool {
	if f.Event() == "" {
		return false // a Response
	}
	return f.ActionID() == "" || f.Event() == "OriginateResponse"
}

// readable is the read-class check of process_events.
func (u *managerUser) readable(f *ami.Frame) bool {
	priv := f.Get("Privilege")
	if priv == "" {
		return true
	}
	for _, c := range strings.Split(priv, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "all" && !u.read[c] {
			return false
		}
	}
	return true
}

// matchFilter is main/manager.c match_filter.
func (u *managerUser) matchFilter(text string) bool {
	matches := func(res []*regexp.Regexp) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(text) })
	}
	switch {
	case len(u.white) == 0 && len(u.black) == 0:
		return true
	case len(u.black) == 0:
		return matches(u.white)
	case len(u.white) == 0:
		return !matches(u.black)
	}
	return matches(u.white) && !matches(u.black)
}

// passes reports whether the session of the guide's user receives f.
func (u *managerUser) passes(f *ami.Frame) bool {
	if !broadcast(f) {
		return true
	}
	return u.readable(f) && u.matchFilter(eventText(f))
}

// hubEvents are the events the server reads besides the tracker's
// (cti/hub.go and the AMI client): every one of them must pass, always.
var hubEvents = []string{
	"QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberPaused",
	"OriginateResponse", "FullyBooted", "Shutdown",
}

// actionClasses are the write classes that allow each action astcti sends
// (any one of them: process_message tests writeperm & authority), as
// main/manager.c and apps/app_queue.c register them in Asterisk 1.6–22.
// Login, Logoff, Challenge and Ping need none. (1.4 registers Originate and
// Status as call actions; the guide says so.)
var actionClasses = map[string][]string{
	"QueueAdd":         {"agent"},
	"QueueRemove":      {"agent"},
	"QueuePause":       {"agent"},
	"Originate":        {"originate"},
	"CoreShowChannels": {"system", "reporting"},
	"CoreStatus":       {"system", "reporting"},
}

func TestGuideWriteClasses(t *testing.T) {
	u := loadGuideUser(t)
	for action, classes := range actionClasses {
		ok := slices.ContainsFunc(u.write, func(c string) bool { return slices.Contains(classes, c) })
		assert.True(t, ok, "the guide's write = %v does not allow %s (%v)", u.write, action, classes)
	}
	assert.NotContains(t, u.write, "system", "system allows Restart and Reload: reporting is enough")
	assert.NotContains(t, u.write, "command")
}

func TestMatchFilterSemantics(t *testing.T) {
	ev := func(name string, kv ...string) *ami.Frame {
		f := &ami.Frame{}
		f.Add("Event", name).Add("Privilege", "call,all")
		for i := 0; i+1 < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		return f
	}
	user := func(filters ...string) *managerUser {
		u := &managerUser{read: map[string]bool{"call": true}}
		for _, flt := range filters {
			expr, black := strings.CutPrefix(flt, "!")
			re := regexp.MustCompile("(?s)" + expr)
			if black {
				u.black = append(u.black, re)
			} else {
				u.white = append(u.white, re)
			}
		}
		return u
	}
	newchan := ev("Newchannel", "Channel", "DAHDI/1-1")
	sipchan := ev("Newchannel", "Channel", "SIP/201-00000001")
	hangup := ev("Hangup", "Channel", "DAHDI/1-1")
	tests := []struct {
		name    string
		filters []string
		f       *ami.Frame
		want    bool
	}{
		{"no filters", nil, hangup, true},
		{"white match", []string{"Event: Newchannel"}, newchan, true},
		{"white no match", []string{"Event: Newchannel"}, hangup, false},
		{"white unanchored", []string{"Channel: DAHDI"}, hangup, true},
		{"black only", []string{"!Channel: DAHDI/"}, hangup, false},
		{"black only, other", []string{"!Channel: DAHDI/"}, sipchan, true},
		{"white and black", []string{"Event: Newchannel", "!Channel: DAHDI/"}, newchan, false},
		{"white and black, passes", []string{"Event: Newchannel", "!Channel: DAHDI/"}, sipchan, true},
		{"white and black, not white", []string{"Event: Newchannel", "!Channel: DAHDI/"}, hangup, false},
		{"^ is the start of the text", []string{"^Channel: DAHDI"}, hangup, false},
		{". crosses lines", []string{"^Event: Hangup.*DAHDI"}, hangup, true},
		{"end of the name", []string{"^Event: New[[:space:]]"}, newchan, false},
		{"the read classes first", nil, &ami.Frame{Fields: []ami.Field{{Key: "Event", Value: "SuccessfulAuth"}, {Key: "Privilege", Value: "security,all"}}}, false},
		{"responses are never filtered", []string{"Event: Newchannel"}, &ami.Frame{Fields: []ami.Field{{Key: "Response", Value: "Success"}}}, true},
		{"list items are never filtered", []string{"Event: Newchannel"}, &ami.Frame{Fields: []ami.Field{{Key: "Event", Value: "CoreShowChannel"}, {Key: "ActionID", Value: "1"}}}, true},
		{"OriginateResponse is", []string{"Event: Newchannel"}, ev("OriginateResponse", "ActionID", "1"), false},
	}
	for _, tc := range tests {
		if got := user(tc.filters...).passes(tc.f); got != tc.want {
			t.Errorf("%s: passes(%v) with %q = %v, want %v", tc.name, tc.f.Event(), tc.filters, got, tc.want)
		}
	}
}

// TestGuideEventFilter replays every trace through the guide's user and
// holds the result to the unfiltered stream: the tracker's changes are the
// same, every event the server reads outside the tracker passes, and every
// kind of event the tracker reads still comes in some trace.
func TestGuideEventFilter(t *testing.T) {
	u := loadGuideUser(t)
	paths, err := amitrace.All()
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var report []string
	// Over all the traces, each kind of event the tracker reads must still
	// come (a black filter may drop some of them: DialEnd ANSWER).
	seen, passed := map[string]int{}, map[string]int{}
	for _, path := range paths {
		name := filepath.Base(filepath.Dir(path)) + "/" + strings.TrimSuffix(filepath.Base(path), ".ami")
		t.Run(name, func(t *testing.T) {
			tr, err := amitrace.Load(path)
			require.NoError(t, err)
			frames := readFrames(t, tr.Received)
			all, kept := NewTracker(traceCatalog()), NewTracker(traceCatalog())
			var want, got []Change
			events, dropped := 0, 0
			for _, f := range frames {
				want = append(want, all.Apply(f)...)
				ok := u.passes(f)
				if ok {
					got = append(got, kept.Apply(f)...)
				}
				if f.Event() != "" && broadcast(f) {
					events++
					if !ok {
						dropped++
					}
				}
				name := f.Event()
				if slices.Contains(hubEvents, name) {
					assert.True(t, ok, "the filter drops %s, which the server reads:\n%s", name, eventText(f))
				}
				if lookupEvent(name) != evNone {
					seen[name]++
					if ok {
						passed[name]++
					}
				}
			}
			assert.Equal(t, want, got, "the tracker's changes differ with the filter")
			if events > 0 {
				report = append(report, fmt.Sprintf("%-45s %5d events, %5d dropped (%.1f%%)", name, events, dropped, 100*float64(dropped)/float64(events)))
			}
		})
	}
	for ev, n := range seen {
		assert.NotZero(t, passed[ev], "the filter drops all %d %s events of the traces, which the tracker reads", n, ev)
	}
	t.Logf("events astcti's manager user is spared, by trace:\n%s", strings.Join(report, "\n"))
}
