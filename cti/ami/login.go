package ami

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// setup takes a new connection from banner to ready: login, FullyBooted,
// CoreStatus. It returns what the LinkUp item will tell.
func (c *Client) setup(ctx context.Context, cn *conn) (LinkUp, error) {
	var info LinkUp
	select {
	case info.Version = <-cn.bannerCh:
	case <-cn.dead:
		return info, cn.err
	case <-ctx.Done():
		return info, ctx.Err()
	}
	if err := c.login(ctx, cn); err != nil {
		return info, err
	}
	if err := c.waitBooted(ctx, cn, info.Version); err != nil {
		return info, err
	}
	start, err := c.coreStatus(ctx, cn)
	if err != nil {
		return info, err
	}
	info.StartTime = start
	return info, nil
}

// login logs in with the secret, or with an MD5 key over the challenge
// (Asterisk main/manager.c authenticate: key = md5(challenge + secret) in
// lower-case hex).
func (c *Client) login(ctx context.Context, cn *conn) error {
	login := NewAction("Login", "Username", c.cfg.Username, "Secret", c.cfg.Secret)
	if c.cfg.UseMD5Challenge {
		call, err := cn.call(ctx, NewAction("Challenge", "AuthType", "MD5"))
		if err != nil {
			return fmt.Errorf("login: challenge: %w", err)
		}
		challenge := call.Reply.Get("Challenge")
		if challenge == "" {
			return fmt.Errorf("login: challenge: no challenge in the answer: %w", ErrAuth)
		}
		sum := md5.Sum([]byte(challenge + c.cfg.Secret))
		login = NewAction("Login", "AuthType", "MD5", "Username", c.cfg.Username, "Key", hex.EncodeToString(sum[:]))
	}
	call, err := cn.call(ctx, login)
	var ae *ActionError
	if errors.As(err, &ae) {
		// "Authentication failed"; Asterisk closes the socket after it.
		return &LoginError{Username: c.cfg.Username, MD5: c.cfg.UseMD5Challenge, SecretFrom: c.cfg.SecretFrom, Message: ae.Message}
	}
	if err != nil {
		return fmt.Errorf("login as %q: %w", c.cfg.Username, err)
	}
	c.log.Debug("ami: logged in", "user", c.cfg.Username, "message", call.Reply.Get("Message"))
	return nil
}

// waitBooted waits for FullyBooted, which Asterisk 1.6 and later send right
// after login once the PBX has booted. Asterisk 1.4 (banner "1.0") never
// sends it and is not waited for; for others the wait is bounded by
// FullyBootedWait, after which the client goes on.
func (c *Client) waitBooted(ctx context.Context, cn *conn, version string) error {
	if version == "1.0" || c.cfg.FullyBootedWait < 0 {
		return nil
	}
	t := time.NewTimer(c.cfg.FullyBootedWait)
	defer t.Stop()
	select {
	case <-cn.booted:
	case <-t.C:
		c.log.Info("ami: no FullyBooted event, going on", "waited", c.cfg.FullyBootedWait)
	case <-cn.dead:
		return cn.err
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// coreStatus asks when the PBX started, to notice restarts. Asterisk 1.4
// has no CoreStatus ("Invalid/unknown command"): the time is then zero.
func (c *Client) coreStatus(ctx context.Context, cn *conn) (time.Time, error) {
	call, err := cn.call(ctx, NewAction("CoreStatus"))
	if errors.Is(err, ErrActionFailed) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("core status: %w", err)
	}
	date, clock := call.Reply.Get("CoreStartupDate"), call.Reply.Get("CoreStartupTime")
	t, err := time.Parse(time.DateTime, date+" "+clock)
	if err != nil {
		c.log.Warn("ami: unreadable PBX start time", "date", date, "time", clock)
		return time.Time{}, nil
	}
	return t, nil
}

// call sends an action on cn during setup, before the link is offered to
// Go callers, and waits for its answer.
func (cn *conn) call(ctx context.Context, action *Frame) (*Call, error) {
	call := cn.c.newCall(action, nil, cn.c.cfg.ActionTimeout)
	cn.send(call)
	select {
	case <-call.Done:
		return call, call.Err
	case <-cn.dead:
		select {
		case <-call.Done: // answered just before the end, as a bad login is
			return call, call.Err
		default:
		}
		return nil, cn.err // the caller names the step
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
