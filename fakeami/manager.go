package fakeami

import (
	"fmt"
	"strings"

	"github.com/astcti/astcti/cti/ami"
)

// This file holds what the manager module itself answers for a logged-in
// session, as opposed to the PBX: who the users are, what they may do,
// and the CLI command about them, `manager show user NAME`.

// user returns the manager user named name: one of cfg.Users, or the
// full-rights user of cfg.Username. It is safe to call from any goroutine.
func (s *Server) user(name string) (User, bool) {
	for _, u := range s.cfg.Users {
		if u.Name == name {
			return u, true
		}
	}
	if s.cfg.Username != "" && name == s.cfg.Username {
		return FullRights(s.cfg.Username, s.cfg.Secret), true
	}
	return User{}, false
}

// mayWrite reports whether the session's user may run the action.
func (ss *session) mayWrite(action string) bool {
	p := ss.perms.Load()
	return p == nil || p.mayWrite(action)
}

// wants reports whether a broadcast event goes to the session: the
// classes of its Privilege header (all of them but "all") must be among
// the user's read classes and the session's Events mask (process_events),
// and, when filtered, the user's eventfilter lines must let it through.
// An event with no Privilege is always sent. It is safe to call from any
// goroutine.
func (ss *session) wants(f *ami.Frame, filtered bool) bool {
	p := ss.perms.Load()
	mask := classMask(ss.mask.Load())
	if p != nil && p.read == allClasses(p.dialect) && p.filter == nil && mask == ^classMask(0) {
		return true // the common case, at no cost
	}
	priv, ok := f.Lookup("Privilege")
	if !ok {
		return true
	}
	category := categoryOf(ss.srv.cfg.Dialect, priv)
	if mask&category != category {
		return false
	}
	return p == nil || p.mayRead(f, category, filtered)
}

// managerCommand answers a Command that the manager module handles itself
// (`manager show user NAME`) and reports whether it did.
func (ss *session) managerCommand(f *ami.Frame) bool {
	if !ami.EqualFold(f.Action(), "Command") {
		return false
	}
	words := strings.Fields(f.Get("Command"))
	if len(words) != 4 || !strings.EqualFold(strings.Join(words[:3], " "), "manager show user") {
		return false
	}
	d := ss.srv.cfg.Dialect
	ss.Send(commandResponse(d, f.ActionID(), showManagerUser(ss.srv, d, words[3]), true))
	return true
}

// showManagerUser is the output of `manager show user NAME`
// (main/manager.c handle_showmanager). 1.4 prints the read= and write=
// lines as configured; 12 and later print the classes they give, in
// perms[] order. The fake's users have no ACL, no channel variables.
func showManagerUser(s *Server, d Dialect, name string) []string {
	u, ok := s.user(name)
	if !ok {
		return []string{"There is no manager called " + name}
	}
	if d == Dialect14 {
		raw := func(list []string) string {
			if len(list) == 0 {
				return "(N/A)"
			}
			return strings.Join(list, ",")
		}
		return []string{
			"",
			"       username: " + u.Name,
			"         secret: " + secretShown(u),
			"           deny: (N/A)",
			"         permit: (N/A)",
			"           read: " + raw(u.Read),
			"          write: " + raw(u.Write),
			"displayconnects: no",
		}
	}
	return []string{
		"",
		"          username: " + u.Name,
		"            secret: " + secretShown(u),
		"               ACL: no",
		"         read perm: " + maskOf(d, u.Read).names(d),
		"        write perm: " + maskOf(d, u.Write).names(d),
		"   displayconnects: yes",
		"allowmultiplelogin: yes",
		"         Variables: ",
	}
}

func secretShown(u User) string {
	if u.Secret == "" {
		return "(N/A)"
	}
	return "<Set>"
}

// commandResponse is the answer to a Command action with its output
// (manager.c action_command): 1.4 says "Response: Follows" and writes the
// raw lines up to "--END COMMAND--"; 12 and later write one Output header
// per line, with "Response: Error" when the command failed.
func commandResponse(d Dialect, id string, out []string, ok bool) *ami.Frame {
	r := &ami.Frame{}
	if d == Dialect14 {
		r.Add("Response", "Follows").Add("Privilege", "Command")
		addActionID(r, id)
		r.Output = out
		if r.Output == nil {
			r.Output = []string{}
		}
		return r
	}
	kind := "Success"
	if !ok {
		kind = "Error"
	}
	r.Add("Response", kind)
	addActionID(r, id)
	r.Add("Message", "Command output follows")
	for _, line := range out {
		r.Add("Output", line)
	}
	return r
}

// noSuchCommand is the CLI's answer to a command it does not know
// (main/cli.c ast_cli_command_full). Asterisk names the longest known
// prefix of the command as the help topic; the fake names the first word.
func noSuchCommand(d Dialect, cmd string) string {
	topic := cmd
	if f := strings.Fields(cmd); len(f) > 0 {
		topic = f[0]
	}
	if d == Dialect14 {
		return fmt.Sprintf("No such command '%s' (type 'help %s' for other possible commands)", cmd, topic)
	}
	return fmt.Sprintf("No such command '%s' (type 'core show help %s' for other possible commands)", cmd, topic)
}
