package seatclient

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/astcti/astcti/cti/seatproto"
)

// Outcome says what the Runner did with an action.
type Outcome uint8

// The outcomes of Runner.Perform.
const (
	// Started: the application was started (not waited for).
	Started Outcome = iota + 1
	// Opened: the URL was handed to the platform's opener.
	Opened
	// Printed: the URL was not opened (Runner.NoOpen), only reported.
	Printed
	// Skipped: the action of this call on this channel was performed
	// already (the server re-sends a live call's Link on a new login).
	Skipped
	// Refused: the action is not one the client performs (a URL that is
	// not http or https, parameters that do not split, a batch file on
	// Windows, an unknown type).
	Refused
	// Failed: the program or the opener could not be started.
	Failed
)

var outcomeNames = [...]string{
	Started: "started", Opened: "opened", Printed: "printed",
	Skipped: "skipped", Refused: "refused", Failed: "failed",
}

// String returns the outcome in lower case, as the JSON output names it.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// ActionResult is what Runner.Perform did with a Link's action.
type ActionResult struct {
	// UniqueID is the call's uniqueid.
	UniqueID string
	// Type is the action's type (seatproto.ActionApplication or
	// ActionBrowser, or what the server sent).
	Type string
	// Program and Args are the program run and its arguments, for an
	// application.
	Program string
	Args    []string
	// URL is the URL, for a browser action.
	URL     string
	Outcome Outcome
	// PID is the started process's id (the application's, or the opener's).
	PID int
	// Err says why the action was refused or failed.
	Err error
}

// Runner performs the actions of Link events: it starts the application
// with the parameters split into arguments by seatproto.SplitArgs — never
// through a shell — or opens the URL with the platform's opener
// (OpenerCommand), only for http and https URLs (seatproto.CheckURL). It does not wait
// for what it starts: one goroutine per process waits for it and logs its
// exit; Wait waits for them.
//
// The zero Runner is ready to use. Its methods are safe to call from any
// goroutine. Set the fields before the first Perform.
type Runner struct {
	// NoOpen makes browser actions print the URL (Printed) instead of
	// opening it.
	NoOpen bool
	// GOOS chooses the opener and the Windows rules; "" is runtime.GOOS.
	GOOS string
	// Logger receives a line per action and per process exit; nil
	// discards them.
	Logger *slog.Logger

	mu   sync.Mutex
	seen []string // recent call keys, oldest first (mu)
	wg   sync.WaitGroup
}

// maxSeen is how many calls the Runner remembers, to skip a re-popped Link.
const maxSeen = 128

// Perform performs ev's action, once per call and seat channel: a Link the
// server sends again for the same call on the same channel (a re-pop after
// a reconnection) is Skipped. It returns at once, without waiting for the
// program it starts.
func (r *Runner) Perform(ev *seatproto.Event) ActionResult {
	a := ev.Action
	res := ActionResult{UniqueID: ev.Call.UniqueID}
	if a == nil {
		res.Outcome, res.Err = Refused, errors.New("the event has no action")
		return res
	}
	res.Type = a.Type
	log := r.logger().With("uniqueid", ev.Call.UniqueID, "action", a.Type)
	if r.again(ev.Call.UniqueID + "\x00" + ev.Call.Channel) {
		res.Outcome = Skipped
		log.Info("action already performed for this call")
		return res
	}
	switch a.Type {
	case seatproto.ActionApplication:
		r.application(&res, a, ev.Call.Service)
	case seatproto.ActionBrowser:
		r.browser(&res, a, ev.Call.Service)
	default:
		res.Outcome, res.Err = Refused, fmt.Errorf("unknown action type %q", a.Type)
	}
	switch res.Outcome {
	case Refused, Failed:
		// The caller reports the result (the client as a NoteAction,
		// which astcti client prints): said once, there, not here too.
		log.Debug("action not performed", "outcome", res.Outcome, "err", res.Err)
	case Started:
		log.Info("action performed", "outcome", res.Outcome, "program", res.Program, "pid", res.PID)
	case Opened:
		log.Info("action performed", "outcome", res.Outcome, "url", res.URL, "pid", res.PID)
	case Printed:
		log.Info("action performed", "outcome", res.Outcome, "url", res.URL)
	}
	return res
}

func (r *Runner) application(res *ActionResult, a *seatproto.Action, service string) {
	res.Program = a.Application
	if a.Application == "" {
		res.Outcome, res.Err = Refused, errors.New("no program")
		return
	}
	args, err := seatproto.SplitArgs(a.Parameters)
	if err != nil {
		res.Outcome, res.Err = Refused, err
		return
	}
	res.Args = args
	cmd := exec.Command(a.Application, args...)
	// On Windows CreateProcess runs a .bat or .cmd file through cmd.exe,
	// which reads its own meaning into the arguments: no shell, ever.
	if r.goos() == "windows" && (isBatch(a.Application) || isBatch(cmd.Path)) {
		res.Outcome, res.Err = Refused, errors.New("batch files (.bat, .cmd) run through cmd.exe and are not started")
		return
	}
	r.start(res, cmd, a.Application, service)
}

func (r *Runner) browser(res *ActionResult, a *seatproto.Action, service string) {
	res.URL = a.Application
	if err := seatproto.CheckURL(a.Application); err != nil {
		res.Outcome, res.Err = Refused, err
		return
	}
	if r.NoOpen {
		res.Outcome = Printed
		return
	}
	name, args, err := OpenerCommand(r.goos(), a.Application)
	if err != nil {
		res.Outcome, res.Err = Failed, err
		return
	}
	res.Outcome = Opened
	r.start(res, exec.Command(name, args...), name, service)
}

// start starts cmd, detached from the client's terminal signals and with
// no standard streams, and a goroutine that waits for it. A program that
// is not there fails with a *NotFoundError.
func (r *Runner) start(res *ActionResult, cmd *exec.Cmd, name, service string) {
	detach(cmd)
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			err = &NotFoundError{Program: name, Service: service, Opener: res.Type == seatproto.ActionBrowser, Err: err}
		}
		res.Outcome, res.Err = Failed, err
		return
	}
	if res.Outcome == 0 {
		res.Outcome = Started
	}
	res.PID = cmd.Process.Pid
	log := r.logger().With("program", name, "pid", res.PID, "uniqueid", res.UniqueID)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := cmd.Wait(); err != nil {
			log.Warn("program ended", "err", err)
			return
		}
		log.Info("program ended", "status", 0)
	}()
}

// NotFoundError is the error of an action whose program is not on this
// PC: the service's application, or the platform's URL opener (Opener)
// for a browser action. Its message says which program, for which
// service, and what to change.
type NotFoundError struct {
	Program string
	Service string // the call's service, "" when the server sent none
	Opener  bool
	Err     error // os/exec's
}

func (e *NotFoundError) Error() string {
	where := "not in the PATH"
	if strings.ContainsAny(e.Program, `/\`) {
		where = "no such file"
	}
	service := "the service"
	if e.Service != "" {
		service = "service " + strconv.Quote(e.Service)
	}
	if e.Opener {
		return fmt.Sprintf("%q, which opens the URLs of browser actions, is not on this PC (%s): install it, or start the client with --no-open to print the URLs of %s instead",
			e.Program, where, service)
	}
	return fmt.Sprintf("the program %q of %s is not on this PC (%s): install it, or change the application of %s in the configuration",
		e.Program, service, where, service)
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// Wait waits until every process the Runner started has ended, or until
// ctx is done (a program the operator still uses keeps running; only its
// waiting goroutine is abandoned, and ends with the client). It returns
// ctx's error in that case.
func (r *Runner) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// again reports whether key was seen, and remembers it.
func (r *Runner) again(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.seen {
		if k == key {
			return true
		}
	}
	if len(r.seen) == maxSeen {
		r.seen = append(r.seen[:0], r.seen[1:]...)
	}
	r.seen = append(r.seen, key)
	return false
}

func (r *Runner) goos() string {
	if r.GOOS != "" {
		return r.GOOS
	}
	return runtime.GOOS
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func isBatch(path string) bool {
	// Windows ignores trailing dots and spaces: "crm.bat." is crm.bat.
	ext := strings.ToLower(filepath.Ext(strings.TrimRight(path, ". ")))
	return ext == ".bat" || ext == ".cmd"
}

// OpenerCommand returns the program and arguments that open url with the
// user's default browser on goos: xdg-open on Linux and the BSDs, open on
// macOS, rundll32 url.dll,FileProtocolHandler on Windows (none of them a
// shell). Check the URL with seatproto.CheckURL first.
func OpenerCommand(goos, url string) (name string, args []string, err error) {
	switch goos {
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler", url}, nil
	case "darwin":
		return "open", []string{url}, nil
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "solaris", "illumos":
		return "xdg-open", []string{url}, nil
	}
	return "", nil, fmt.Errorf("no URL opener known for %s", goos)
}
