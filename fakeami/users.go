package fakeami

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// User is one manager user of the fake PBX, a [name] section of
// manager.conf: its secret, its read and write classes, and its
// eventfilter lines. The Server enforces them as Asterisk does
// (main/manager.c):
//
//   - an action needs a write class (the table authority below, from the
//     ast_manager_register calls of each version). Asterisk 12 and later
//     run it when the user has any one of its classes; 1.4 wants all of
//     them (process_message). Otherwise the answer is "Response: Error",
//     "Message: Permission denied". Actions of no class (Ping, Events,
//     QueueStatus, …) are always allowed, and an action the PBX does not
//     have is "Invalid/unknown command" whatever the classes;
//   - a broadcast event reaches the user only if it may read every class
//     its Privilege header names ("call,all": call; process_events:
//     (readperm & category) == category). Responses, and the list items
//     an action writes to its own session, are never held back;
//   - in the modern dialect, the eventfilter lines then choose among those
//     events (should_send_event; see eventFilter). Asterisk 1.4 has no
//     eventfilter and ignores the lines: so does the 1.4 dialect.
//
// Read and Write list class names as manager.conf's read= and write= lines
// do: system, call, log, verbose, command, agent, user, config and, in 1.6
// and later, dtmf, reporting, cdr, dialplan, originate, agi, cc, aoc, test,
// security, message; "all" is every class. Names a version does not know
// are ignored, as that version ignores them (1.4 knows no dialplan,
// originate or reporting).
type User struct {
	Name   string
	Secret string
	Read   []string
	Write  []string
	// EventFilters are the values of the user's eventfilter lines, in
	// order, in the legacy syntax: a POSIX extended regular expression
	// matched against the whole text of the event, "!" first for an
	// exclude filter. The advanced syntax of Asterisk 20 and later
	// (eventfilter(action(…),name(…)) = …) is not modelled.
	EventFilters []string
}

// FullRights returns a user with every read and write class and no
// filter: the Username and Secret of a Config.
func FullRights(name, secret string) User {
	return User{Name: name, Secret: secret, Read: []string{"all"}, Write: []string{"all"}}
}

// classes lists the manager classes in the order of Asterisk's perms[]
// table (main/manager.c), which is the order `manager show user` prints
// them in. The first eight are all that Asterisk 1.4 knows.
var classes = []string{
	"system", "call", "log", "verbose", "command", "agent", "user", "config",
	"dtmf", "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc", "test", "security", "message",
}

// classes14 is how many of classes Asterisk 1.4 knows.
const classes14 = 8

// classMask is a set of classes, one bit per entry of classes.
type classMask uint32

// allClasses returns the mask of every class the dialect knows.
func allClasses(d Dialect) classMask {
	n := len(classes)
	if d == Dialect14 {
		n = classes14
	}
	return classMask(1)<<n - 1
}

// maskOf returns the classes named in list (entries may themselves hold
// commas, as a read= line does), as get_perm reads them: "all" is every
// class, unknown names count for nothing.
func maskOf(d Dialect, list []string) classMask {
	var m classMask
	for _, item := range list {
		for _, name := range strings.Split(item, ",") {
			name = strings.TrimSpace(name)
			if strings.EqualFold(name, "all") {
				m |= allClasses(d)
				continue
			}
			for i, c := range classes {
				if strings.EqualFold(c, name) {
					m |= classMask(1) << i
				}
			}
		}
	}
	return m & allClasses(d)
}

// categoryOf returns the classes of an event's Privilege header. Asterisk
// writes every class of the event's category and then "all"
// (authority_to_str), which is not a class of the event: "call,all" is
// call alone.
func categoryOf(d Dialect, privilege string) classMask {
	var m classMask
	for _, name := range strings.Split(privilege, ",") {
		if name = strings.TrimSpace(name); !strings.EqualFold(name, "all") {
			m |= maskOf(d, []string{name})
		}
	}
	return m
}

// names returns the classes of m in perms[] order, as Asterisk 12+ prints
// a mask (user_authority_to_str): every class, then "all" if m holds them
// all; "<none>" for none.
func (m classMask) names(d Dialect) string {
	var out []string
	for i, c := range classes {
		if m&(classMask(1)<<i) != 0 {
			out = append(out, c)
		}
	}
	if m == allClasses(d) {
		out = append(out, "all")
	}
	if len(out) == 0 {
		return "<none>"
	}
	return strings.Join(out, ",")
}

// authority gives the write classes of each action, by lower-case name,
// as each version registers them (ast_manager_register in main/manager.c,
// apps/app_queue.c, main/pbx.c). Actions missing here need no class.
var authority = map[Dialect]map[string][]string{
	Dialect14: {
		"hangup": {"call"}, "status": {"call"}, "setvar": {"call"}, "getvar": {"call"},
		"originate": {"call"}, "command": {"command"}, "userevent": {"user"},
		"queueadd": {"agent"}, "queueremove": {"agent"}, "queuepause": {"agent"},
	},
	DialectModern: {
		"hangup": {"system", "call"}, "status": {"system", "call", "reporting"},
		"setvar": {"call"}, "getvar": {"call", "reporting"}, "originate": {"originate"},
		"command": {"command"}, "userevent": {"user"},
		"coresettings": {"system", "reporting"}, "corestatus": {"system", "reporting"},
		"coreshowchannels": {"system", "reporting"}, "blindtransfer": {"call"},
		"queueadd": {"agent"}, "queueremove": {"agent"}, "queuepause": {"agent"},
		"showdialplan": {"config", "reporting"},
	},
}

// perms is what a logged-in session may do: its user's classes and
// filters, fixed at login.
type perms struct {
	user    User
	dialect Dialect
	read    classMask
	write   classMask
	filter  *eventFilter // nil: every event passes
}

func newPerms(u User, d Dialect) *perms {
	p := &perms{user: u, dialect: d, read: maskOf(d, u.Read), write: maskOf(d, u.Write)}
	if d == DialectModern && len(u.EventFilters) > 0 {
		p.filter = newEventFilter(u.EventFilters)
	}
	return p
}

// mayWrite reports whether the session may run the action.
func (p *perms) mayWrite(action string) bool {
	need := maskOf(p.dialect, authority[p.dialect][strings.ToLower(action)])
	if need == 0 {
		return true
	}
	if p.dialect == Dialect14 {
		return p.write&need == need
	}
	return p.write&need != 0
}

// mayRead reports whether the user may have a broadcast event of the
// given classes (its category), and whether the event filter lets it
// through when filtered is set.
func (p *perms) mayRead(f *ami.Frame, category classMask, filtered bool) bool {
	if p.read&category != category {
		return false
	}
	return !filtered || p.filter == nil || p.filter.passes(f)
}

// eventsMask reads an Events mask as Asterisk's strings_to_mask does: a
// number is the mask itself, a true word (on, yes, …) every class, a
// false one (off, no, …) none, anything else a list of classes.
func eventsMask(d Dialect, v string) classMask {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return classMask(n)
	}
	switch strings.ToLower(v) {
	case "", "on", "yes", "true", "y", "t", "1":
		return ^classMask(0)
	case "off", "no", "false", "n", "f", "0":
		return 0
	}
	return maskOf(d, []string{v})
}

// eventFilter is a user's eventfilter lines as Asterisk applies them
// (should_send_event): with include lines only, an event must match one;
// with exclude lines only, none; with both, one include and no exclude.
// A line whose expression does not compile is dropped, as Asterisk drops
// it with a warning. Expressions are Go's regexp, which reads the POSIX
// extended syntax of the usual filters alike (bracket classes such as
// [[:space:]], no back-references); like regcomp without REG_NEWLINE, "."
// matches a line end and ^ and $ only the ends of the text.
type eventFilter struct {
	include, exclude []*regexp.Regexp
}

func newEventFilter(lines []string) *eventFilter {
	ef := &eventFilter{}
	for _, l := range lines {
		exclude := strings.HasPrefix(l, "!")
		re, err := regexp.Compile("(?s)" + strings.TrimPrefix(l, "!"))
		if err != nil {
			continue
		}
		if exclude {
			ef.exclude = append(ef.exclude, re)
		} else {
			ef.include = append(ef.include, re)
		}
	}
	return ef
}

func (ef *eventFilter) passes(f *ami.Frame) bool {
	if len(ef.include) == 0 && len(ef.exclude) == 0 {
		return true
	}
	text := eventText(f)
	if len(ef.include) > 0 && !anyMatch(ef.include, text) {
		return false
	}
	return !anyMatch(ef.exclude, text)
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// eventText is an event as Asterisk keeps it for the filters (the
// eventdata of __manager_event_sessions_va): its lines as written to the
// wire, "\r\n" after each, and the empty line that ends it.
func eventText(f *ami.Frame) string {
	// An event never holds a line end in a field (the reader splits lines
	// there), so AppendFrame writes it whole.
	b, _ := ami.AppendFrame(nil, f)
	return string(b)
}

// ReadManagerUsers reads the users of a manager.conf: each section but
// [general], with its secret, read, write and eventfilter lines (';'
// comments, "=" or "=>"). Templates, #include and the other settings are
// not read. It is for tests and demos that load a real PBX's
// configuration into the fake (testdata/realpbx).
func ReadManagerUsers(path string) ([]User, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fakeami: %w", err)
	}
	var users []User
	var cur *User
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			cur = nil
			name, _, _ := strings.Cut(line[1:], "]")
			if name = strings.TrimSpace(name); name != "general" && name != "" {
				users = append(users, User{Name: name})
				cur = &users[len(users)-1]
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if cur == nil || !ok {
			continue
		}
		v = strings.TrimSpace(strings.TrimPrefix(v, ">"))
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "secret":
			cur.Secret = v
		case "read":
			cur.Read = []string{v}
		case "write":
			cur.Write = []string{v}
		case "eventfilter":
			cur.EventFilters = append(cur.EventFilters, v)
		}
	}
	return users, nil
}
