package ami

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Run connects to Asterisk and keeps the link up until ctx ends or Close is
// called, then logs off, closes the connection and returns nil. Each
// connection is set up in order: TCP connect, banner, login (plain or MD5
// challenge), FullyBooted (where the PBX sends it), CoreStatus for the PBX
// start time; then subscribers get a LinkUp and the events flow. When the
// link drops, every pending action fails with ErrDisconnected, subscribers
// get a LinkDown, and Run tries again after RetryPause. A failed attempt
// is followed by a pause twice the last one, up to RetryMaxPause, each
// less up to a quarter at random. Every failed attempt is logged with its
// number and error. When Retries attempts in a row have failed (the first
// one counts), Run gives up and returns a *RetriesError, which wraps
// ErrRetriesExhausted and the last attempt's error.
//
// Every goroutine Run starts has ended when it returns, and every
// subscription is closed (ErrClosed). Run may be called once; the owner
// runs it in its own goroutine and waits for it.
func (c *Client) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return fmt.Errorf("run called twice: %w", ErrClosed)
	}
	c.started = true
	if c.closed {
		c.mu.Unlock()
		close(c.runDone)
		c.pub.closeAll(ErrClosed)
		return nil
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.mu.Unlock()
	defer close(c.runDone)
	defer c.pub.closeAll(ErrClosed)
	defer c.cancel()

	failures := 0 // consecutive failed attempts
	for {
		attempt := failures + 1
		up, err := c.runConn(ctx, attempt)
		if ctx.Err() != nil {
			c.log.Info("ami: stopped")
			return nil
		}
		if up {
			failures = 0
			c.log.Warn("ami: link down", "err", err)
		} else {
			failures++
			if c.cfg.Retries > 0 && failures >= c.cfg.Retries {
				c.log.Error("ami: connection attempt failed, giving up", "attempt", attempt, "err", err)
				return &RetriesError{Addr: c.cfg.Addr, Attempts: failures, Err: err}
			}
		}
		pause := c.retryPause(failures)
		if !up {
			c.log.Warn("ami: connection attempt failed", "attempt", attempt, "err", err, "retry_in", pause)
		}
		if !c.wait(ctx, pause) {
			c.log.Info("ami: stopped")
			return nil
		}
	}
}

// retryPause is the pause before the next attempt after failures failed
// ones (0 after a link that was up): RetryPause, doubled per failure after
// the first up to RetryMaxPause, less up to a quarter of it at random (so
// that it never exceeds RetryMaxPause), as seatclient's backoff does.
func (c *Client) retryPause(failures int) time.Duration {
	d := c.cfg.RetryPause
	for i := 1; i < failures && d < c.cfg.RetryMaxPause; i++ {
		d *= 2
	}
	d = min(d, c.cfg.RetryMaxPause)
	d -= time.Duration(rand.Int64N(int64(d)/4 + 1))
	return max(d, time.Millisecond)
}

// sleep waits d, or until ctx ends: then it returns false.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// runConn makes one connection attempt and, if the link comes up, serves it
// until it drops or ctx ends. It reports whether the link came up, and why
// it ended. Both goroutines of the connection have ended when it returns.
func (c *Client) runConn(ctx context.Context, attempt int) (up bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	nc, err := c.cfg.Dial(dctx, "tcp", c.cfg.Addr)
	cancel()
	if err != nil {
		return false, err // "dial tcp ADDR: …": the address is there already
	}
	cn := newConn(c, nc)
	nc.SetReadDeadline(time.Now().Add(bannerTimeout))
	c.pub.hold()
	cn.start()

	info, err := c.setup(ctx, cn)
	if err != nil {
		cn.fail(err)
		cn.finish()
		c.pub.discard()
		return false, err
	}

	// The link is up: let actions through, then publish LinkUp and after
	// it the events held back while logging in.
	c.links++
	info.Link, info.Attempt = c.links, attempt
	info.Restarted = c.restarted(info.StartTime)
	c.cur.Store(cn)
	c.pub.release(Item{Up: &info})
	c.log.Info("ami: link up", "link", info.Link, "attempt", attempt, "version", info.Version,
		"pbx_start", info.StartTime, "restarted", info.Restarted)

	select {
	case <-cn.dead:
	case <-ctx.Done():
		c.cur.Store(nil)
		cn.logoff()
	}
	c.cur.Store(nil)
	cn.finish()
	if cn.sawShutdown.Load() {
		c.shutdownSeen = true
	}
	c.pub.publish(Item{Down: &LinkDown{Err: cn.err}})
	return true, cn.err
}

// restarted tells whether the PBX restarted since the last link: a
// Shutdown event seen before the drop says so for certain (every channel
// and dynamic member is gone, even if the restart took less than the one
// second that CoreStatus start times resolve); otherwise the start times
// are compared.
func (c *Client) restarted(start time.Time) Restart {
	key := ""
	if !start.IsZero() {
		key = start.Format(time.DateTime)
	}
	prev, first, shutdown := c.lastStart, c.links == 1, c.shutdownSeen
	c.lastStart, c.shutdownSeen = key, false
	switch {
	case first:
		return RestartUnknown
	case shutdown:
		return RestartYes
	case key != "" && prev != "":
		if key != prev {
			return RestartYes
		}
		return RestartNo
	}
	return RestartUnknown
}

// logoff sends Logoff and waits a little for Goodbye, then closes the
// connection. The link is no longer offered to callers.
func (cn *conn) logoff() {
	cn.closing.Store(true)
	call := cn.c.newCall(NewAction("Logoff"), nil, logoffTimeout)
	cn.send(call)
	t := time.NewTimer(logoffTimeout)
	defer t.Stop()
	select {
	case <-call.Done:
	case <-cn.dead:
	case <-t.C:
	}
	cn.fail(ErrClosed)
}
