package scenarios

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Asterisk's queue defaults (apps/app_queue.c, init_queue).
const (
	defaultQueueTimeout = 15 * time.Second
	defaultQueueRetry   = 5 * time.Second
)

// strategies are the queue strategies the fake PBX runs.
var strategies = []string{"ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear"}

// queueGeneralKeys are the [general] settings of queues.conf (Asterisk
// 1.4 to 22); the fake PBX accepts and ignores them.
var queueGeneralKeys = setOf(
	"persistentmembers", "autofill", "monitor-type", "updatecdr",
	"shared_lastcall", "negative_penalty_invalid", "log_membername_as_agent",
	"keepstats", "log-restricted-caller-id", "force_longest_waiting_caller",
)

// queueIgnoredKeys are queue settings that Asterisk has and the fake PBX
// accepts and ignores (queues.conf.sample, Asterisk 1.4 to 22).
var queueIgnoredKeys = setOf(
	"musicclass", "musiconhold", "announce", "context", "servicelevel",
	"weight", "autofill", "autopause", "autopausedelay", "autopausebusy",
	"autopauseunavail", "maxlen", "setinterfacevar", "setqueueentryvar",
	"setqueuevar", "membermacro", "membergosub", "announce-frequency",
	"min-announce-frequency", "announce-holdtime", "announce-position",
	"announce-position-limit", "announce-position-only-up",
	"announce-round-seconds", "announce-to-first-user", "periodic-announce",
	"periodic-announce-frequency", "periodic-announce-startdelay",
	"random-periodic-announce", "relative-periodic-announce",
	"queue-youarenext", "queue-thereare", "queue-callswaiting",
	"queue-holdtime", "queue-minute", "queue-minutes", "queue-seconds",
	"queue-thankyou", "queue-callerannounce", "queue-reporthold",
	"monitor-format", "monitor-type", "joinempty", "leavewhenempty",
	"eventwhencalled", "eventmemberstatus", "reportholdtime", "memberdelay",
	"timeoutrestart", "timeoutpriority", "defaultrule",
	"penaltymemberslimit", "log-restricted-caller-id",
)

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// confBool reads a yes/no value as Asterisk's ast_true and ast_false do.
func confBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "yes", "true", "y", "t", "1", "on":
		return true, true
	case "no", "false", "n", "f", "0", "off":
		return false, true
	}
	return false, false
}

type queueEntry struct {
	key, value string
	line       int
	inherited  bool // from a template: its problems are reported there
}

type queueSection struct {
	name     string
	line     int
	template bool
	entries  []queueEntry
}

func parseQueues(l *errList, sc *Scenario, text string) {
	lines, open := confLines(text)
	if open != 0 {
		l.add(fileQueues, open, "a ;-- comment is never closed with --;")
	}
	var (
		sections = map[string]*queueSection{}
		order    []*queueSection
		cur      *queueSection // nil in [general]
		section  string
		skip     bool
	)
	for _, ln := range lines {
		if strings.HasPrefix(ln.text, "#") {
			l.add(fileQueues, ln.n, "%s is not supported: a scenario file holds the whole configuration", strings.Fields(ln.text)[0])
			continue
		}
		if name, opts, ok, problem := sectionHeader(ln.text); ok {
			cur, section, skip = nil, "", true
			switch {
			case problem != "":
				l.add(fileQueues, ln.n, "%s", problem)
			case name == "general":
				if opts != "" {
					l.add(fileQueues, ln.n, "[general] takes no options")
				}
				section, skip = name, false
			case sections[name] != nil:
				l.add(fileQueues, ln.n, "queue [%s] is already defined at line %d", name, sections[name].line)
			default:
				cur = &queueSection{name: name, line: ln.n}
				section, skip = name, false
				for _, o := range strings.Split(opts, ",") {
					switch o = strings.TrimSpace(o); {
					case opts == "":
					case o == "!":
						cur.template = true
					case sections[o] == nil:
						l.add(fileQueues, ln.n, "template [%s] of [%s] is not defined above it", o, name)
					default:
						for _, e := range sections[o].entries {
							e.inherited = true
							cur.entries = append(cur.entries, e)
						}
					}
				}
				sections[name] = cur
				order = append(order, cur)
			}
			continue
		}
		if skip {
			continue
		}
		key, value, ok := keyValue(ln.text)
		switch {
		case section == "":
			l.add(fileQueues, ln.n, "%q is outside any [queue]", ln.text)
		case !ok:
			l.add(fileQueues, ln.n, "expected \"setting = value\", not %q", ln.text)
		case cur == nil: // [general]
			if !queueGeneralKeys[strings.ToLower(key)] {
				l.add(fileQueues, ln.n, "unknown [general] setting %q", key)
			}
		default:
			cur.entries = append(cur.entries, queueEntry{key: key, value: value, line: ln.n})
		}
	}
	for _, s := range order {
		q := buildQueue(l, s)
		if !s.template {
			sc.Queues[q.Name] = q
		}
	}
}

// buildQueue applies the settings of a section to Asterisk's defaults.
func buildQueue(l *errList, s *queueSection) *Queue {
	q := &Queue{
		Name:      s.name,
		Strategy:  "ringall",
		Timeout:   defaultQueueTimeout,
		Retry:     defaultQueueRetry,
		RingInUse: true,
		Line:      s.line,
	}
	members := map[string]bool{} // interfaces already in q.Members: a queue may have 10,000
	for _, e := range s.entries {
		errorf := func(format string, args ...any) {
			if !e.inherited {
				l.add(fileQueues, e.line, format, args...)
			}
		}
		secs := func() time.Duration {
			d, err := seconds(e.key, e.value, true)
			if err != nil {
				errorf("%v", err)
			}
			return d
		}
		switch k := strings.ToLower(e.key); k {
		case "strategy":
			v := strings.ToLower(e.value)
			if v == "roundrobin" { // the old name, as app_queue reads it
				v = "rrmemory"
			}
			if !slices.Contains(strategies, v) {
				errorf("unknown strategy %q (the fake PBX runs %s)", e.value, strings.Join(strategies, ", "))
				continue
			}
			q.Strategy = v
		case "timeout":
			q.Timeout = secs()
		case "retry":
			if q.Retry = secs(); q.Retry <= 0 {
				q.Retry = defaultQueueRetry // as app_queue does
			}
		case "wrapuptime":
			q.WrapupTime = secs()
		case "ringinuse":
			v, ok := confBool(e.value)
			if !ok {
				errorf("ringinuse = %q: want yes or no", e.value)
			}
			q.RingInUse = v
		case "member":
			m, problem := parseMember(e.value)
			m.Line = e.line
			if problem != "" {
				errorf("%s", problem)
				continue
			}
			if members[m.Interface] {
				errorf("member %s is already in [%s]", m.Interface, q.Name)
				continue
			}
			members[m.Interface] = true
			q.Members = append(q.Members, m)
		default:
			if !queueIgnoredKeys[k] {
				errorf("unknown queues.conf setting %q", e.key)
			}
		}
	}
	return q
}

// parseMember reads "SIP/203,penalty,name[,state_interface[,…]]".
func parseMember(v string) (Member, string) {
	f := strings.Split(v, ",")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	m := Member{Interface: f[0], Name: f[0]}
	if !validInterface(m.Interface) {
		return m, "member => " + quote(v) + ": want interface[,penalty[,name]], as in member => SIP/203,0,Operator 203"
	}
	if len(f) > 7 {
		return m, "member => " + quote(v) + " has too many fields"
	}
	if len(f) > 1 && f[1] != "" {
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return m, "member " + m.Interface + ": penalty " + quote(f[1]) + " is not a whole number"
		}
		m.Penalty = n
	}
	if len(f) > 2 && f[2] != "" {
		m.Name = f[2]
	}
	return m, ""
}
