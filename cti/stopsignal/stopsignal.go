// Package stopsignal stops a program of astcti cleanly on a signal and
// names that signal the same way in every binary: "stopped on a signal
// (SIGHUP)", with the names admins write (SIGHUP, SIGINT, SIGTERM), the
// ones the server logs as it stops. astcti (server, client, doctor),
// fakeami, astcti-sim and astcti-loadgen use it; it depends on the
// standard library only, so that any of them may.
//
// os/signal.NotifyContext ends its context with a cause that only says
// "hangup signal received", which the programs used to print as it was
// or to tell from context.Canceled by comparing errors; here the cause
// keeps the signal.
package stopsignal

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Stops returns the signals that stop a program cleanly: SIGINT
// (Ctrl-C), SIGTERM (kill, systemctl stop) and SIGHUP (the terminal it
// ran in went away, an SSH session ended), which would otherwise kill it
// with status 129 and no word. The server is the exception: SIGHUP
// rescans its configuration.
func Stops() []os.Signal {
	return []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
}

// Name returns the name of sig as admins write it and the server logs
// it: SIGHUP, SIGINT, SIGTERM, SIGQUIT; another signal by its
// description.
func Name(sig os.Signal) string {
	switch sig {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	}
	return sig.String()
}

// Error is the cause of a context that NotifyContext ended: the signal
// that arrived. Like the cause of os/signal.NotifyContext, it Is
// context.Canceled.
type Error struct {
	Signal os.Signal
}

// Error says "stopped on a signal (SIGHUP)"; a program adds what that
// means for it ("astcti-loadgen: stopped on a signal (SIGHUP): the run
// was cut short, no report").
func (e Error) Error() string {
	return "stopped on a signal (" + Name(e.Signal) + ")"
}

// Is reports whether target is context.Canceled, so that a signal's stop
// is a cancellation to code that checks for one.
func (e Error) Is(target error) bool { return target == context.Canceled }

// NotifyContext is os/signal.NotifyContext (Stops when no signal is
// given) whose context, when one of the signals arrives, ends with an
// Error naming it as its cause. stop releases the signals (a later one
// has its default effect again) and waits for the goroutine that watches
// them; call it once the context has done its work, as with
// os/signal.NotifyContext. stop may be called more than once, from any
// goroutine (context.AfterFunc(ctx, stop) lets a second signal have its
// default effect).
func NotifyContext(parent context.Context, sigs ...os.Signal) (ctx context.Context, stop func()) {
	if len(sigs) == 0 {
		sigs = Stops()
	}
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case s := <-ch:
			cancel(Error{Signal: s})
		case <-done:
		case <-ctx.Done():
		}
	}()
	return ctx, sync.OnceFunc(func() {
		signal.Stop(ch)
		close(done)
		<-exited
		cancel(nil)
	})
}

// Cause returns the Error that ended ctx (a context of NotifyContext, or
// one derived from it), and whether a signal ended it: not when ctx is
// still running, was cancelled otherwise, or passed its deadline.
func Cause(ctx context.Context) (Error, bool) {
	var e Error
	ok := errors.As(context.Cause(ctx), &e)
	return e, ok
}

// Log logs "stopped on a signal" with signal=SIGHUP at info level, if a
// signal ended ctx, and reports whether one did.
func Log(ctx context.Context, log *slog.Logger) bool {
	e, ok := Cause(ctx)
	if ok {
		log.Info("stopped on a signal", "signal", Name(e.Signal))
	}
	return ok
}
