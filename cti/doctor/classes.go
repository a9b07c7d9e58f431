package doctor

import (
	"errors"
	"fmt"
	"strings"
)

// userClasses is what `manager show user NAME` tells of a manager user:
// its read and write classes as printed.
type userClasses struct {
	Name  string
	Read  string // "system,call,agent,user"; "" when unset
	Write string
}

// errNoSuchManager is the answer of `manager show user` for a name
// manager.conf does not have.
var errNoSuchManager = errors.New("no such manager user")

// parseManagerShowUser reads the output of `manager show user NAME`
// (main/manager.c handle_showmanager). Asterisk 12 and later print
// "read perm: …" and "write perm: …" with the classes the lines give, in a
// fixed order; 1.4 prints "read: …" and "write: …" as manager.conf has them,
// "(N/A)" when unset. Every other line (secret, ACL, variables) is passed
// over.
func parseManagerShowUser(lines []string) (userClasses, error) {
	var u userClasses
	var read, write bool
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "There is no manager called") {
			return u, errNoSuchManager
		}
		key, value, ok := strings.Cut(t, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if value == "(N/A)" || value == "<none>" {
			value = ""
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "username":
			u.Name = value
		case "read perm", "read":
			u.Read, read = value, true
		case "write perm", "write":
			u.Write, write = value, true
		}
	}
	if !read || !write {
		return u, fmt.Errorf("no read and write lines in %d lines of output", len(lines))
	}
	return u, nil
}

// hasClass reports whether a read= or write= value ("system,call", "all")
// holds class, as Asterisk's get_perm reads it: names between commas,
// without regard to case; "all" is every class.
func hasClass(list, class string) bool {
	for _, c := range strings.Split(list, ",") {
		c = strings.TrimSpace(c)
		if strings.EqualFold(c, class) || strings.EqualFold(c, "all") {
			return true
		}
	}
	return false
}

// actionClasses are the write classes of the actions astcti sends, by
// generation: the action runs when the user has one of them (Asterisk
// 1.6 and later; 1.4 has one class per action). From the
// ast_manager_register calls of main/manager.c and apps/app_queue.c.
var actionClasses = map[generation]map[string][]string{
	gen14: {
		"QueueAdd": {"agent"}, "QueueRemove": {"agent"}, "QueuePause": {"agent"},
		"Originate": {"call"}, "Getvar": {"call"}, "Status": {"call"}, "Command": {"command"},
		"UserEvent": {"user"},
	},
	gen18: {
		"QueueAdd": {"agent"}, "QueueRemove": {"agent"}, "QueuePause": {"agent"},
		"Originate": {"originate"}, "Getvar": {"call", "reporting"}, "Status": {"system", "call", "reporting"},
		"CoreShowChannels": {"system", "reporting"}, "CoreStatus": {"system", "reporting"},
		"Command": {"command"}, "UserEvent": {"user"}, "ShowDialPlan": {"config", "reporting"},
		"CoreSettings": {"system", "reporting"},
	},
}

func init() {
	actionClasses[gen12] = actionClasses[gen18]
}

// classesText lists an action's classes for people: "agent", "call or
// reporting".
func classesText(g generation, action string) string {
	return strings.Join(actionClasses[g][action], " or ")
}
