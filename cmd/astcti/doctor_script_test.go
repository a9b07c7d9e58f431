package main

import (
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/astcti/astcti/fakeami"
)

// fakeUsers takes the leading -user and -eventfilter options of the
// fakeami script command and returns the manager users they give, and the
// arguments after them:
//
//	-user NAME:SECRET:READ:WRITE     a manager user, READ and WRITE its
//	                                 classes as manager.conf lists them
//	                                 (system,call,agent,user; all)
//	-eventfilter NAME:LINE           an eventfilter line of user NAME, in
//	                                 manager.conf's syntax (!REGEX excludes)
//
// For the doctor's scripts: `fakeami -dialect $DIALECT -user
// lim:x:system,agent,user:all` gives a user that may not read call.
func fakeUsers(ts *testscript.TestScript, args []string) ([]fakeami.User, []string) {
	var users []fakeami.User
	for len(args) >= 2 && (args[0] == "-user" || args[0] == "-eventfilter") {
		switch args[0] {
		case "-user":
			f := strings.SplitN(args[1], ":", 4)
			if len(f) != 4 || f[0] == "" {
				ts.Fatalf("fakeami: -user wants NAME:SECRET:READ:WRITE, not %q", args[1])
			}
			users = append(users, fakeami.User{Name: f[0], Secret: f[1], Read: []string{f[2]}, Write: []string{f[3]}})
		case "-eventfilter":
			name, line, ok := strings.Cut(args[1], ":")
			i := -1
			for j := range users {
				if users[j].Name == name {
					i = j
				}
			}
			if !ok || i < 0 {
				ts.Fatalf("fakeami: -eventfilter wants NAME:LINE of a -user before it, not %q", args[1])
			}
			users[i].EventFilters = append(users[i].EventFilters, line)
		}
		args = args[2:]
	}
	return users, args
}
