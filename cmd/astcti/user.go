package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/configurator"
	"github.com/astcti/astcti/cti/stopsignal"
)

// ConfiguratorDataEnv is the environment variable of --data, the
// configurator's data directory, for astcti user as for astcti
// configurator.
const ConfiguratorDataEnv = "ASTCTI_CONFIGURATOR_DATA"

// ManagerUsersPath returns the path of the manager users' database in the
// configurator's data directory dir: the file astcti configurator opens.
func ManagerUsersPath(dir string) string { return filepath.Join(dir, configurator.UsersFile) }

// dataFlag is astcti user's --data. It has no default, as the
// configurator's has none: a default here could add the first user in a
// directory that the configurator does not read.
func dataFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name:    "data",
		Usage:   "the configurator's data `DIR`ectory (its --data); the manager users are in its " + configurator.UsersFile + " (required)",
		EnvVars: []string{ConfiguratorDataEnv},
	}
}

// maxPasswordLine bounds the line --password-stdin reads; bcrypt takes 72
// bytes at most, and a longer line is refused rather than cut.
const maxPasswordLine = 1024

var userDescription = `The manager users are the logins of the web configurator (astcti
configurator). They live in their own SQLite file, ` + configurator.UsersFile + ` in the
configurator's data directory: --data DIR, or ` + ConfiguratorDataEnv + ` in the
environment, the same as astcti configurator's (required: there is no
default). They never reach a configuration snapshot: the server never sees
them. Passwords are stored as bcrypt hashes.

Where the configurator has run (its working database is in --data), every
change made here is written to its audit log as made by shell:USER, the
system user running the command (or SUDO_USER, who ran sudo): the
configurator's Audit module shows it, never a password or a hash. A new
password or a disabled account ends that user's configurator sessions at
their next request.

Use these commands to create the first account, and to get back in when a
password is lost or every account is disabled. They are safe to run while
the configurator runs. Run them as the configurator's system user (sudo -u
astcti astcti user ...), so that the configurator can still open the files
they create.

A password is never given on the command line (the shell history and ps
would show it): it is asked for twice on the terminal, without echo, or read
as one line from standard input with --password-stdin, for scripts. It needs
at least ` + minPasswordText + `.

Exit status:
  0  done
  1  it failed: the message says why and what to do next
  2  bad flags or arguments

Examples:
  sudo -u astcti astcti user add --data /var/lib/astcti/configurator admin --name "Ada Admin"
  sudo -u astcti astcti user list --data /var/lib/astcti/configurator
  sudo -u astcti astcti user passwd --data /var/lib/astcti/configurator admin
  printf '%s\n' "$PASSWORD" | astcti user add --password-stdin --data /srv/cfg ops --name "Ops Robot"`

var minPasswordText = fmt.Sprintf("%d characters (at most 72 bytes: bcrypt's limit)", config.MinManagerPassword)

func userCommand() *cli.Command {
	return &cli.Command{
		Name:        "user",
		Usage:       "manage the web configurator's manager users: add, passwd, disable, enable, list",
		Description: userDescription,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return userUsage(c, "unknown command %q: add, passwd, disable, enable or list", c.Args().First())
			}
			return cli.ShowSubcommandHelp(c)
		},
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "add an enabled manager user, asking for its password",
				ArgsUsage: `USERID [--name "Full Name"]`,
				Description: `add creates the manager user USERID (letters, digits and . _ @ -, at most
64), enabled, with its full name (--name; none if not given) and a password
asked for twice on the terminal, or read from standard input with
--password-stdin.
The data directory is created (mode 0700) if missing, and the users' file
is made readable by its owner only.

The first account of a new configurator is made this way; then log in to
the configurator with it.

Examples:
  sudo -u astcti astcti user add --data /var/lib/astcti/configurator admin --name "Ada Admin"
  astcti user add --data /srv/cfg ops --name "Ops Robot" --password-stdin < ops-password.txt`,
				Flags: []cli.Flag{
					dataFlag(),
					&cli.StringFlag{Name: "name", Usage: "the user's full `NAME`, shown in the configurator and its audit log"},
					passwordStdinFlag(),
				},
				OnUsageError: userOnUsageError,
				Action:       userAdd,
			},
			{
				Name:      "passwd",
				Usage:     "set a manager user's password (a lost password: set a new one here)",
				ArgsUsage: "USERID",
				Description: `passwd sets a new password for the manager user USERID, asked for twice on
the terminal, or read from standard input with --password-stdin. The old
password is not needed: this is the way back in when it is lost. A disabled
user stays disabled (astcti user enable USERID).

Examples:
  sudo -u astcti astcti user passwd --data /var/lib/astcti/configurator admin
  astcti user passwd --data /srv/cfg admin --password-stdin < new-password.txt`,
				Flags:        []cli.Flag{dataFlag(), passwordStdinFlag()},
				OnUsageError: userOnUsageError,
				Action:       userPasswd,
			},
			{
				Name:      "disable",
				Usage:     "stop a manager user from logging in, keeping it and its password",
				ArgsUsage: "USERID",
				Description: `disable keeps the manager user USERID, its password and its name in the
audit log, but refuses its logins until astcti user enable USERID. It warns
when no enabled manager user is left. A session the user already has open
in a running configurator ends at its next request.

Example:
  sudo -u astcti astcti user disable --data /var/lib/astcti/configurator bob`,
				Flags:        []cli.Flag{dataFlag()},
				OnUsageError: userOnUsageError,
				Action:       func(c *cli.Context) error { return userSetEnabled(c, false) },
			},
			{
				Name:      "enable",
				Usage:     "let a disabled manager user log in again",
				ArgsUsage: "USERID",
				Description: `enable lets the manager user USERID log in again, with the password it had
(astcti user passwd USERID sets a new one).

Example:
  sudo -u astcti astcti user enable --data /var/lib/astcti/configurator bob`,
				Flags:        []cli.Flag{dataFlag()},
				OnUsageError: userOnUsageError,
				Action:       func(c *cli.Context) error { return userSetEnabled(c, true) },
			},
			{
				Name:      "list",
				Usage:     "list the manager users: user id, full name, enabled, created",
				ArgsUsage: " ",
				Description: `list prints the manager users, sorted by user id: their user id, full
name, whether they are enabled and when they were created (UTC). Passwords
and their hashes are never shown. --json prints a JSON array of objects
with the fields userid, full_name, enabled and created (RFC 3339) instead.

Examples:
  sudo -u astcti astcti user list --data /var/lib/astcti/configurator
  ASTCTI_CONFIGURATOR_DATA=/srv/cfg astcti user list --json`,
				Flags: []cli.Flag{
					dataFlag(),
					&cli.BoolFlag{Name: "json", Usage: "print a JSON array instead of a table (for scripts)"},
				},
				OnUsageError: userOnUsageError,
				Action:       userList,
			},
		},
	}
}

func passwordStdinFlag() *cli.BoolFlag {
	return &cli.BoolFlag{Name: "password-stdin", Usage: "read the password as one line from standard input instead of asking for it (for scripts)"}
}

func userOnUsageError(c *cli.Context, err error, _ bool) error {
	return userUsage(c, "%v", err)
}

// userUsage is a bad flag or argument: exit status 2.
func userUsage(c *cli.Context, format string, args ...any) error {
	name := userCmdName(c)
	return cli.Exit(fmt.Sprintf("astcti %s: %s (see astcti %s --help)", name, fmt.Sprintf(format, args...), name), exitUsage)
}

// userFail is a failure: exit status 1. The message says what to do next.
func userFail(c *cli.Context, format string, args ...any) error {
	return cli.Exit(fmt.Sprintf("astcti %s: %s", userCmdName(c), fmt.Sprintf(format, args...)), exitError)
}

// userCmdName is "user" or "user SUBCOMMAND", for messages (FullName
// says only the subcommand's name within its action).
func userCmdName(c *cli.Context) string {
	if c.Command.Name == "user" {
		return "user"
	}
	return "user " + c.Command.Name
}

// userPositional is positional with its errors as usage errors.
func userPositional(c *cli.Context) ([]string, error) {
	args, err := positional(c)
	if err != nil {
		return nil, userUsage(c, "%s", strings.TrimSuffix(err.Error(), " (see --help)"))
	}
	return args, nil
}

// userArg returns the single USERID argument, applying the flags written
// after it.
func userArg(c *cli.Context) (string, error) {
	args, err := userPositional(c)
	if err != nil {
		return "", err
	}
	if len(args) != 1 {
		return "", userUsage(c, "want one argument, the USERID")
	}
	return args[0], nil
}

// cmdline is how a hint names a command to run next: with --data when the
// directory came from the flag (the environment, if that is where it came
// from, is still set for the next command).
func cmdline(c *cli.Context, cmd string) string {
	dir := c.String("data")
	if !c.IsSet("data") || os.Getenv(ConfiguratorDataEnv) == dir {
		return cmd
	}
	return cmd + " --data " + shellQuote(dir)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./@:+=,-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// findUsers returns the path of the manager users' database of --data,
// and whether it exists; a missing directory or file is an error that
// says how to make the first user, unless missingOK (add makes them).
func findUsers(c *cli.Context, missingOK bool) (path string, exists bool, err error) {
	dir := c.String("data")
	if dir == "" {
		return "", false, userUsage(c, "--data DIR (or %s) is required: the configurator's data directory, its --data", ConfiguratorDataEnv)
	}
	first := cmdline(c, `astcti user add USERID`)
	path = ManagerUsersPath(dir)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && missingOK:
		return path, false, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", false, userFail(c, "no manager users: the data directory %s does not exist (create the first user with: %s)", dir, first)
	case err != nil:
		return "", false, userFail(c, "%v%s", err, permissionHint(err))
	case !info.IsDir():
		return "", false, userFail(c, "--data %s is not a directory", dir)
	}
	// Opened here, read-write, so that a file of another user is named as
	// such, where SQLite would say only "unable to open database file".
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist) && missingOK:
		return path, false, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", false, userFail(c, "no manager users: %s does not exist (create the first user with: %s)", path, first)
	case err != nil:
		return "", false, userFail(c, "%v%s", err, permissionHint(err))
	}
	f.Close()
	return path, true, nil
}

// permissionHint is what to do about a file the command may not open.
func permissionHint(err error) string {
	if !errors.Is(err, fs.ErrPermission) {
		return ""
	}
	return " (run it as the configurator's system user, who owns the data directory: sudo -u astcti astcti user ...)"
}

// openUsers opens the manager users' database of --data, which must exist.
func openUsers(c *cli.Context) (*config.Users, error) {
	path, _, err := findUsers(c, false)
	if err != nil {
		return nil, err
	}
	return openUsersFile(c, path)
}

func openUsersFile(c *cli.Context, path string) (*config.Users, error) {
	users, err := config.OpenUsers(c.Context, path)
	if err != nil {
		return nil, userFail(c, "%v", err)
	}
	return users.As(shellActor()), nil
}

// shellActor is who the changes of astcti user are recorded as made by,
// in the users' database and the audit log: "shell:" and the operating
// system's user running the command (sudo -u astcti shows as
// shell:astcti; SUDO_USER, when set, names who ran sudo).
func shellActor() string {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = "unknown"
	}
	return "shell:" + name
}

// auditShell records a change made to a manager user in the audit log of
// the configurator's working database, when --data holds one (the
// configurator has run there): the Audit module shows it beside the
// changes made in the browser. The change is made: a failure to record it
// is a warning, not an error.
func auditShell(c *cli.Context, users *config.Users, a config.Action, before *config.User, userid string, password bool) {
	path := filepath.Join(c.String("data"), configurator.WorkingFile)
	if _, err := os.Stat(path); err != nil {
		return // no configurator has run here: no audit log yet
	}
	warn := func(err error) {
		fmt.Fprintf(c.App.ErrWriter, "astcti %s: warning: done, but the audit log (%s) could not record it: %v\n", c.Command.FullName(), path, err)
	}
	after, err := users.Get(c.Context, userid)
	if err != nil {
		warn(err)
		return
	}
	st, err := config.Open(c.Context, path)
	if err != nil {
		warn(err)
		return
	}
	defer st.Close()
	if err := st.As(shellActor()).RecordManager(c.Context, a, before, &after, password); err != nil {
		warn(err)
	}
}

// createUsers creates the data directory (0700) and the manager users'
// database at path, readable by its owner only: it holds password hashes
// (SQLite gives its -wal and -shm files the database's mode).
func createUsers(c *cli.Context, path string) (*config.Users, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, userFail(c, "create the data directory: %v%s", err, permissionHint(err))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = f.Close()
	} else if errors.Is(err, fs.ErrExist) {
		err = nil // made meanwhile, by another add or the configurator
	}
	if err != nil {
		return nil, userFail(c, "%v%s", err, permissionHint(err))
	}
	return openUsersFile(c, path)
}

// getUser returns the user of userid, or the error that names the list.
// openUser opens the manager users' database and reads the user the
// command's USERID argument names; the caller closes users.
func openUser(c *cli.Context) (users *config.Users, usr config.User, err error) {
	userid, err := userArg(c)
	if err != nil {
		return nil, usr, err
	}
	if users, err = openUsers(c); err != nil {
		return nil, usr, err
	}
	usr, err = users.Get(c.Context, userid)
	switch {
	case errors.Is(err, config.ErrNotFound):
		err = userFail(c, "no manager user %q (see: %s)", userid, cmdline(c, "astcti user list"))
	case err != nil:
		err = userFail(c, "%v", err)
	}
	if err != nil {
		users.Close()
		return nil, usr, err
	}
	return users, usr, nil
}

// readPassword returns the new password of userid: one line of standard
// input with --password-stdin, else asked twice on the terminal without
// echo. It checks the length here, so the message says what to do.
func readPassword(c *cli.Context, userid string) (string, error) {
	var password string
	if c.Bool("password-stdin") {
		p, err := readPasswordLine(c.App.Reader)
		if err != nil {
			return "", userFail(c, "--password-stdin: %v (nothing changed)", err)
		}
		password = p
	} else {
		f, ok := c.App.Reader.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", userUsage(c, "standard input is not a terminal, so the password cannot be asked for: give it as one line on standard input with --password-stdin")
		}
		fd := int(f.Fd())
		p1, err := promptPassword(c, fd, fmt.Sprintf("New password for %s: ", userid))
		if err != nil {
			return "", userFail(c, "read the password: %v (nothing changed)", err)
		}
		if err := checkPasswordLength(p1); err != nil {
			return "", userFail(c, "%v (nothing changed)", err)
		}
		p2, err := promptPassword(c, fd, "Again: ")
		if err != nil {
			return "", userFail(c, "read the password: %v (nothing changed)", err)
		}
		if p1 != p2 {
			return "", userFail(c, "the two passwords differ (nothing changed): run the command again")
		}
		password = p1
	}
	if err := checkPasswordLength(password); err != nil {
		return "", userFail(c, "%v (nothing changed)", err)
	}
	return password, nil
}

func checkPasswordLength(p string) error {
	if p == "" {
		return errors.New("the password is empty")
	}
	if n := utf8.RuneCountInString(p); n < config.MinManagerPassword {
		return fmt.Errorf("the password is too short: it needs at least %d characters, it has %d", config.MinManagerPassword, n)
	}
	if len(p) > 72 {
		return fmt.Errorf("the password is too long: %d bytes, bcrypt takes at most 72", len(p))
	}
	return nil
}

// promptPassword asks for a password on the terminal fd with echo off.
// A signal that stops the program (Ctrl-C) while it waits gives the
// terminal its echo back before the program dies of it: term.ReadPassword
// restores it only when the read returns, and a blocked read of a
// terminal cannot be cancelled.
func promptPassword(c *cli.Context, fd int, prompt string) (string, error) {
	w := c.App.ErrWriter
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	var sigs []os.Signal
	for _, s := range stopsignal.Stops() {
		if !signal.Ignored(s) { // an ignored one stays ignored (nohup)
			sigs = append(sigs, s)
		}
	}
	caught := make(chan os.Signal, 1)
	if len(sigs) > 0 { // none would be every signal
		signal.Notify(caught, sigs...)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
		case sig := <-caught:
			term.Restore(fd, state)
			fmt.Fprintf(w, "\nastcti %s: %v: nothing changed\n", userCmdName(c), stopsignal.Error{Signal: sig})
			signal.Stop(caught)
			// Die of it, as the program would have without this watch;
			// where a signal cannot be sent to oneself, exit as a shell
			// reports a death by signal.
			if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(sig) == nil {
				<-done // the signal ends the process first
				return
			}
			code := 1
			if n, ok := sig.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			os.Exit(code)
		}
	}()
	fmt.Fprint(w, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(w) // the Enter was not echoed
	signal.Stop(caught)
	close(done)
	wg.Wait()
	return string(b), err
}

// readPasswordLine reads one line (its end, \n or \r\n, removed) of at
// most maxPasswordLine bytes; the rest of r is not read.
func readPasswordLine(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLine+2), maxPasswordLine+2)
	line, err := br.ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("the line is longer than %d bytes", maxPasswordLine)
		}
		return "", err
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if len(line) > maxPasswordLine {
		return "", fmt.Errorf("the line is longer than %d bytes", maxPasswordLine)
	}
	if len(line) == 0 {
		return "", errors.New("no password on standard input (one line is read)")
	}
	return string(line), nil
}

func userAdd(c *cli.Context) error {
	userid, err := userArg(c)
	if err != nil {
		return err
	}
	name := c.String("name")
	path, exists, err := findUsers(c, true)
	if err != nil {
		return err
	}
	var users *config.Users
	if exists {
		if users, err = openUsersFile(c, path); err != nil {
			return err
		}
		defer users.Close()
		// Refuse a known userid before asking for a password.
		if _, err := users.Get(c.Context, userid); err == nil {
			return userExists(c, userid)
		} else if !errors.Is(err, config.ErrNotFound) {
			return userFail(c, "%v", err)
		}
	}
	password, err := readPassword(c, userid)
	if err != nil {
		return err
	}
	if !exists {
		if users, err = createUsers(c, path); err != nil {
			return err
		}
		defer users.Close()
	}
	usr, err := users.Create(c.Context, userid, name, password)
	var ce *config.ConstraintError
	if errors.As(err, &ce) && ce.Constraint == "users.userid" {
		return userExists(c, userid)
	}
	if err != nil {
		return userFail(c, "%v (nothing changed)", err)
	}
	auditShell(c, users, config.ActionAdd, nil, usr.UserID, true)
	full := ""
	if usr.FullName != "" {
		full = " (" + usr.FullName + ")"
	}
	fmt.Fprintf(c.App.Writer, "manager user %q%s added: log in to the configurator as %s\n", usr.UserID, full, usr.UserID)
	return nil
}

func userExists(c *cli.Context, userid string) error {
	return userFail(c, "manager user %q already exists (set its password with: %s)", userid, cmdline(c, "astcti user passwd "+shellQuote(userid)))
}

func userPasswd(c *cli.Context) error {
	users, usr, err := openUser(c)
	if err != nil {
		return err
	}
	defer users.Close()
	userid := usr.UserID
	password, err := readPassword(c, userid)
	if err != nil {
		return err
	}
	if err := users.SetPassword(c.Context, userid, password); errors.Is(err, config.ErrNotFound) {
		return userFail(c, "no manager user %q (see: %s)", userid, cmdline(c, "astcti user list"))
	} else if err != nil {
		return userFail(c, "%v (nothing changed)", err)
	}
	auditShell(c, users, config.ActionEdit, &usr, userid, true)
	fmt.Fprintf(c.App.Writer, "password of manager user %q changed\n", userid)
	if !usr.Enabled {
		fmt.Fprintf(c.App.ErrWriter, "astcti user passwd: %q is disabled and cannot log in until: %s\n", userid, cmdline(c, "astcti user enable "+shellQuote(userid)))
	}
	return nil
}

func userSetEnabled(c *cli.Context, enabled bool) error {
	users, usr, err := openUser(c)
	if err != nil {
		return err
	}
	defer users.Close()
	userid := usr.UserID
	state := "disabled"
	if enabled {
		state = "enabled"
	}
	if usr.Enabled == enabled {
		fmt.Fprintf(c.App.Writer, "manager user %q was already %s\n", userid, state)
	} else {
		before := usr
		if enabled {
			usr.Enabled = true
			err = users.Update(c.Context, usr)
		} else {
			err = users.Disable(c.Context, userid)
		}
		if errors.Is(err, config.ErrNotFound) {
			return userFail(c, "no manager user %q (see: %s)", userid, cmdline(c, "astcti user list"))
		} else if err != nil {
			return userFail(c, "%v", err)
		}
		auditShell(c, users, config.ActionEdit, &before, userid, false)
		if enabled {
			fmt.Fprintf(c.App.Writer, "manager user %q enabled: it can log in to the configurator again\n", userid)
		} else {
			fmt.Fprintf(c.App.Writer, "manager user %q disabled: it can no longer log in to the configurator\n", userid)
		}
	}
	if enabled {
		return nil
	}
	all, err := users.List(c.Context)
	if err != nil {
		return userFail(c, "%v", err)
	}
	for _, u := range all {
		if u.Enabled {
			return nil
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "astcti user disable: warning: no manager user is enabled: nobody can log in to the configurator (enable one with: %s)\n", cmdline(c, "astcti user enable USERID"))
	return nil
}

// userJSON is a manager user as list --json prints it.
type userJSON struct {
	UserID   string    `json:"userid"`
	FullName string    `json:"full_name"`
	Enabled  bool      `json:"enabled"`
	Created  time.Time `json:"created"`
}

func userList(c *cli.Context) error {
	args, err := userPositional(c)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return userUsage(c, "unexpected argument %q", args[0])
	}
	users, err := openUsers(c)
	if err != nil {
		return err
	}
	defer users.Close()
	all, err := users.List(c.Context)
	if err != nil {
		return userFail(c, "%v", err)
	}
	if c.Bool("json") {
		out := make([]userJSON, 0, len(all))
		for _, u := range all {
			out = append(out, userJSON{UserID: u.UserID, FullName: u.FullName, Enabled: u.Enabled, Created: u.Created.UTC()})
		}
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(all) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "no manager users yet (create the first with: %s)\n", cmdline(c, `astcti user add USERID`))
		return nil
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "USERID\tFULL NAME\tENABLED\tCREATED")
	for _, u := range all {
		enabled := "yes"
		if !u.Enabled {
			enabled = "no"
		}
		full := u.FullName
		if full == "" {
			full = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.UserID, full, enabled, u.Created.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return tw.Flush()
}
