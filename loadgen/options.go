package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"
)

// Options configure a load run. Zero values mean the defaults of
// DefaultOptions where it has one.
type Options struct {
	Seats         int           // simulated operators, each at a seat with a phone
	Queues        int           // queue services; every operator is a member of each
	Rate          float64       // calls offered a second
	Duration      time.Duration // of the traffic
	DirectPercent int           // share of the calls dialled to a phone directly, not queued
	AnswerAfter   time.Duration // a phone's ringing time before it answers
	Talk          time.Duration // a call's talk time
	Strategy      string        // the queues' strategy (queues.conf)
	Dialect       string        // the fake PBX's: "modern" or "1.4"
	PauseRate     float64       // PAUSE IN a second, to random seats
	PauseHold     time.Duration // how long a pause lasts
	Keepalive     time.Duration // NOOP period of every seat
	Restart       bool          // restart the server after the traffic: the reconnect storm
	Resume        bool          // seats log in again with a resume token (TOKEN, RESUME), not the password
	StormTimeout  time.Duration // bound of a login storm
	Seed          int64         // of the traffic; 0 picks one
	// CompareDirect runs the traffic a second time, the way the design
	// argues against: one manager session per phone, no server.
	CompareDirect bool
	// RefusedSeats of the seats (the first ones) are also members of a
	// queue the PBX does not have: each must be told so with one 202.
	RefusedSeats int

	// Faults are injected during the traffic, one every FaultEvery, in
	// this order round and round (faults.go: FaultAMIDrop, …); none when
	// empty. Each is followed to the server's recovery, and the calls
	// linked in its outage need not pop (but must not pop twice).
	Faults     []string
	FaultEvery time.Duration
	// ChurnPercent of the seats log out and in again at a FaultChurn.
	ChurnPercent int
	// BurstConns connections that never log in are opened at a FaultBurst.
	BurstConns int
	// AMIPing is the server's AMI keepalive Ping interval (its timeout is
	// half of it): the bound within which it notices a stalled link. 0 is
	// the server's default.
	AMIPing time.Duration

	// Server is the seat address (host:port) of a running astcti server
	// and PBXControl the control API's base URL of a running fake PBX
	// (fakeami --control): the external mode, in which the load generator
	// starts no part of its own. Both or neither. The two must run the
	// world of WriteSetup with the same options.
	Server     string
	PBXControl string
	// ServerAdmin is the admin base URL of the external server (its
	// --admin-listen, e.g. http://127.0.0.1:9090); "" leaves its
	// resources unknown.
	ServerAdmin string

	// Dir keeps the parts' specs, configuration and logs; "" is a
	// temporary directory removed at the end.
	Dir string
	// Log receives the parts' logs (their stderr); nil discards them.
	Log io.Writer
	// LogLevel of the parts: debug, info, warn, error; "" is warn.
	LogLevel string
	// Progress, when set, is called about once a second.
	Progress func(Progress)
}

// DefaultOptions are the defaults of a run: a thousand seats, 50 calls a
// second for 30 seconds.
func DefaultOptions() Options {
	return Options{
		Seats: 1000, Queues: 1, Rate: 50, Duration: 30 * time.Second, DirectPercent: 10,
		AnswerAfter: 500 * time.Millisecond, Talk: 5 * time.Second, Strategy: "rrmemory",
		Dialect: "modern", PauseRate: 1, PauseHold: 2 * time.Second, Keepalive: 20 * time.Second,
		Restart: true, Resume: true, StormTimeout: 2 * time.Minute, LogLevel: "warn",
		FaultEvery: 30 * time.Second, ChurnPercent: 10, BurstConns: 1000,
	}
}

// MaxSeats bounds a run: the phones' numbers are five digits from
// firstPhone, and each seat is two file descriptors on this machine.
const MaxSeats = 89_999

// validate checks o, with every error at once.
func (o *Options) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(o.Seats >= 1 && o.Seats <= MaxSeats, "seats: %d is not between 1 and %d", o.Seats, MaxSeats)
	check(o.Queues >= 1 && o.Queues <= 20, "queues: %d is not between 1 and 20", o.Queues)
	check(o.Rate >= 0 && o.Rate <= 100_000, "rate: %g calls/s is not between 0 and 100000", o.Rate)
	check(o.Duration >= 0, "duration: %v is negative", o.Duration)
	check(o.DirectPercent >= 0 && o.DirectPercent <= 100, "direct: %d%% is not between 0 and 100", o.DirectPercent)
	check(o.AnswerAfter >= 0 && o.Talk > 0, "answer-after must not be negative and talk must be positive")
	check(o.PauseRate >= 0 && o.PauseHold >= 0, "pause-rate and pause-hold cannot be negative")
	check(o.Keepalive >= time.Second, "keepalive: %v is under a second", o.Keepalive)
	check(o.StormTimeout > 0, "storm-timeout must be positive")
	check(o.Dialect == "modern" || o.Dialect == "1.4", "dialect: %q is neither modern nor 1.4", o.Dialect)
	check(o.Strategy != "", "strategy: empty")
	check(!o.CompareDirect || (o.Rate > 0 && o.Duration > 0), "compare-direct needs traffic to compare: a rate and a duration")
	check(o.RefusedSeats >= 0 && o.RefusedSeats <= o.Seats, "refused: %d is not between 0 and the seats, %d", o.RefusedSeats, o.Seats)
	check((o.Server == "") == (o.PBXControl == ""), "server and pbx-control go together: the external mode needs a running server and a running fake PBX")
	check(o.ServerAdmin == "" || o.Server != "", "server-admin is the admin endpoints of an external server: it needs --server")
	for _, k := range o.Faults {
		check(faultKnown(k), "faults: %q is not one of %v", k, Faults)
	}
	if len(o.Faults) > 0 {
		check(!o.external(), "faults: the load generator injects them into parts it started, not with --server")
		check(o.Rate > 0 && o.Duration > 0, "faults: they are injected during the traffic, which needs a rate and a duration")
		check(o.FaultEvery >= time.Second, "fault-every: %v is under a second", o.FaultEvery)
		check(o.ChurnPercent >= 1 && o.ChurnPercent <= 100, "churn: %d%% is not between 1 and 100", o.ChurnPercent)
		check(o.BurstConns >= 1 && o.BurstConns <= 20_000, "burst: %d connections is not between 1 and 20000", o.BurstConns)
	}
	check(o.AMIPing == 0 || o.AMIPing >= 100*time.Millisecond, "ami-ping: %v is under 100ms", o.AMIPing)
	if o.external() {
		check(!o.Restart, "restart: the load generator cannot restart a server it did not start (--server)")
		check(!o.CompareDirect, "compare-direct: the comparison starts fake PBXs of its own, not with --server")
		check(o.PBXControl == "" || validURL(o.PBXControl), "pbx-control: %q is not an http URL such as http://127.0.0.1:5080", o.PBXControl)
		check(o.ServerAdmin == "" || validURL(o.ServerAdmin), "server-admin: %q is not an http URL such as http://127.0.0.1:9090", o.ServerAdmin)
		_, _, err := net.SplitHostPort(o.Server)
		check(err == nil, "server: %q is not host:port", o.Server)
	}
	return errors.Join(errs...)
}

// external reports whether the run uses a server and a fake PBX that it
// did not start.
func (o *Options) external() bool { return o.Server != "" }

// validURL reports whether s is an http URL with a host.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// patience is how long a caller waits before hanging up: long enough for
// a queued call to be answered and talked through, so that calls end by
// the phone's hang-up.
func (o *Options) patience() time.Duration {
	return 2*(o.AnswerAfter+o.Talk) + 20*time.Second
}

// Progress is a run's state, for a progress bar.
type Progress struct {
	Phase     string        // "login storm", "traffic", "draining", "restart storm", "stopping"
	Elapsed   time.Duration // in the phase
	Total     time.Duration // the phase's expected length, 0 if unknown
	Seats     int           // seats in the run
	Confirmed int           // seats logged in and confirmed in all their queues
	Offered   int64         // calls offered so far
	Linked    int           // calls linked so far
	Notified  int           // Link lines read so far
}
