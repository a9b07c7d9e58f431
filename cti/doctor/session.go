package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/astcti/astcti/cti/ami"
)

// Tunables of the doctor's manager connection, in one block so that tests
// can shrink them.
var (
	// actionTimeout bounds the wait for one answer.
	actionTimeout = 5 * time.Second
	// retryPause is the pause before the one retry of a failed login.
	retryPause = 200 * time.Millisecond
	// probeWait bounds the wait for the probe UserEvent to come back.
	probeWait = 2 * time.Second
	// inFlight bounds the actions sent at once when many are needed (one
	// `dialplan show` per Local seat).
	inFlight = 16
)

// session is the doctor's manager connection: an ami.Client, logged in,
// and the goroutine that hands its events to the watcher. Its methods are
// called from the doctor's goroutine only.
type session struct {
	c      *ami.Client
	up     ami.LinkUp
	w      *watcher
	cancel context.CancelFunc
	runErr chan error
	wg     sync.WaitGroup
}

// connect logs in as the server would (plain secret or MD5 challenge),
// trying twice, and starts handing events to w. It returns when the link
// is up, or with the login's error.
func connect(ctx context.Context, cfg ami.Config, w *watcher) (*session, error) {
	cfg.Retries = 1
	cfg.RetryPause = retryPause
	if cfg.ActionTimeout == 0 {
		cfg.ActionTimeout = actionTimeout
	}
	cfg.PingInterval = -1 // the run is short; every action shows the link alive
	s := &session{c: ami.New(cfg), w: w, runErr: make(chan error, 1)}
	sub := s.c.Subscribe(0)
	rctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runErr <- s.c.Run(rctx)
	}()
	select {
	case it, ok := <-sub.C():
		if !ok || it.Up == nil {
			err := <-s.runErr
			s.close()
			if err == nil {
				err = ctx.Err()
			}
			return nil, err
		}
		s.up = *it.Up
	case <-ctx.Done():
		s.close()
		return nil, ctx.Err()
	}
	g, _ := generationOf(s.up.Version)
	w.setGeneration(g)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for it := range sub.C() {
			if it.Frame != nil {
				w.observe(it.Frame)
			}
		}
	}()
	return s, nil
}

// close logs off and waits for the client's goroutines and the
// collector's.
func (s *session) close() {
	s.c.Close()
	s.cancel()
	s.wg.Wait()
}

// do sends an action and waits for its answer.
func (s *session) do(ctx context.Context, name string, kv ...string) (*ami.Call, error) {
	return s.c.Do(ctx, ami.NewAction(name, kv...))
}

// verdict is what an answer says about the right to run an action.
type verdict int

const (
	notAsked verdict = iota // the doctor did not send it
	allowed                 // Asterisk ran it (the answer may be an error of its own)
	denied                  // "Permission denied": the user lacks the class
	absent                  // "Invalid/unknown command": this Asterisk has no such action
	noAnswer                // timeout, disconnection
)

// judge reads the answer to an action.
func judge(call *ami.Call, err error) (verdict, string) {
	var ae *ami.ActionError
	switch {
	case err == nil:
		if msg := call.Reply.Get("Message"); msg != "" {
			return allowed, msg
		}
		return allowed, call.Reply.Response()
	case errors.As(err, &ae) && ae.Message == "Permission denied":
		return denied, ae.Message
	case errors.As(err, &ae) && strings.HasPrefix(ae.Message, "Invalid/unknown command"):
		return absent, ae.Message
	case errors.As(err, &ae):
		return allowed, ae.Message
	}
	return noAnswer, err.Error()
}

// command runs a CLI command and returns its output lines: 1.4's raw
// "Response: Follows" text, or the Output headers of 12 and later (whose
// answer is "Response: Error" when the command failed, output and all).
func (s *session) command(ctx context.Context, cli string) ([]string, verdict, error) {
	call, err := s.do(ctx, "Command", "Command", cli)
	v, msg := judge(call, err)
	switch {
	case v == denied || v == absent:
		return nil, v, fmt.Errorf("command %q: %s", cli, msg)
	case v == noAnswer:
		return nil, v, fmt.Errorf("command %q: %w", cli, err)
	case call == nil || call.Reply == nil:
		return nil, noAnswer, fmt.Errorf("command %q: no answer", cli)
	}
	lines := call.Reply.Output
	if lines == nil {
		lines = call.Reply.Values("Output")
	}
	return lines, allowed, nil
}
