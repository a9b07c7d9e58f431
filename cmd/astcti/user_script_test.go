package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/configurator"
)

// userCmds are the script commands of the user_*.txtar scripts.
var userCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"managerlogin": cmdManagerLogin,
	"filemode":     cmdFileMode,
	"ptyexec":      cmdPtyExec,
	"workingdb":    cmdWorkingDB,
	"manageraudit": cmdManagerAudit,
}

// cmdWorkingDB creates the configurator's working database in the data
// directory DIR, as a first start of astcti configurator does: workingdb DIR.
func cmdWorkingDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: workingdb DIR")
	}
	st, err := config.Open(context.Background(), filepath.Join(ts.MkAbs(args[0]), configurator.WorkingFile))
	ts.Check(err)
	ts.Check(st.Close())
}

// cmdManagerAudit prints the manager users' entries of the audit log of
// the working database in DIR, oldest first, one a line: USER ACTION KEY
// BEFORE AFTER (the JSON rows): manageraudit DIR.
func cmdManagerAudit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: manageraudit DIR")
	}
	st, err := config.Open(context.Background(), filepath.Join(ts.MkAbs(args[0]), configurator.WorkingFile))
	ts.Check(err)
	defer st.Close()
	log, err := st.Audit(context.Background(), config.AuditFilter{Entity: config.KindManager})
	ts.Check(err)
	for i := len(log) - 1; i >= 0; i-- {
		e := log[i]
		fmt.Fprintf(ts.Stdout(), "%s %s %s %s %s\n", e.User, e.Action, e.Key, e.Before, e.After)
	}
}

// cmdManagerLogin checks a manager user's login in the data directory DIR
// as the configurator would (config.Users.Check): managerlogin DIR USERID
// PASSWORD succeeds when the login is accepted, ! managerlogin when it is
// refused with ErrBadLogin.
func cmdManagerLogin(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: managerlogin DIR USERID PASSWORD")
	}
	users, err := config.OpenUsers(context.Background(), ManagerUsersPath(ts.MkAbs(args[0])))
	ts.Check(err)
	defer users.Close()
	_, err = users.Check(context.Background(), args[1], args[2])
	switch {
	case err == nil && neg:
		ts.Fatalf("manager login of %s accepted, want refused", args[1])
	case errors.Is(err, config.ErrBadLogin) && !neg:
		ts.Fatalf("manager login of %s refused, want accepted", args[1])
	case err != nil && !errors.Is(err, config.ErrBadLogin):
		ts.Fatalf("manager login of %s: %v", args[1], err)
	}
}

// cmdFileMode checks the permission bits of a file: filemode PATH 0600.
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: filemode PATH MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	if err != nil {
		ts.Fatalf("filemode: %q is not an octal mode", args[1])
	}
	info, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := info.Mode().Perm(); got != os.FileMode(want) {
		ts.Fatalf("%s has mode %04o, want %04o", args[0], got, want)
	}
}
