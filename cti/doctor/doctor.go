package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/config"
)

// Options says which PBX to check, as whom, against which configuration.
type Options struct {
	// AMI is the manager connection, as the server would make it: Addr,
	// Username, Secret, UseMD5Challenge. The doctor chooses the retries
	// and timeouts itself; Logger and Dial are used as given.
	AMI ami.Config
	// ConfigDir is the server's directory of configuration snapshots; the
	// newest valid one is checked, as the server would load it.
	ConfigDir string
	// Model, when set, is checked instead of ConfigDir's snapshot.
	Model *config.Model
	// Watch, when positive, is how long to wait for a call into a
	// configured service after the other checks, to see which of the
	// events astcti needs reach the manager user (the only way to check
	// the eventfilter without manager.conf).
	Watch time.Duration
	// ManagerConf is the path of manager.conf, when the doctor runs on the
	// PBX's host: it then reports the user's writetimeout and checks its
	// eventfilter lines. "" to do without.
	ManagerConf string
	// Logger receives debug logs (every action and answer); nil discards
	// them.
	Logger *slog.Logger
}

// Run runs every check against the PBX and returns the results in their
// stable order. It returns when ctx ends at the latest: give it a
// deadline. It blocks; it is safe to run several at once.
func Run(ctx context.Context, opts Options) []Result {
	var out []Result
	Stream(ctx, opts, func(r Result) { out = append(out, r) })
	return out
}

// Stream is Run that hands each result to emit as soon as it is known,
// in the same order (the watch comes last, after Options.Watch). emit is
// called from Stream's goroutine.
func Stream(ctx context.Context, opts Options, emit func(Result)) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &doctor{opts: opts, emit: emit, log: opts.Logger}
	d.run(ctx)
}

// doctor is one run. Only its goroutine touches it.
type doctor struct {
	opts  Options
	emit  func(Result)
	log   *slog.Logger
	model *config.Model
	s     *session
	f     facts
}

func (d *doctor) ok(name, detail string, args ...any) {
	d.emit(Result{Name: name, Status: OK, Detail: fmt.Sprintf(detail, args...)})
}

func (d *doctor) warn(name, detail, fix string) {
	d.emit(Result{Name: name, Status: Warn, Detail: detail, Fix: fix})
}

func (d *doctor) fail(name, detail, fix string) {
	d.emit(Result{Name: name, Status: Fail, Detail: detail, Fix: fix})
}

// result emits a result of the given status.
func (d *doctor) result(st Status, name, detail, fix string) {
	d.emit(Result{Name: name, Status: st, Detail: detail, Fix: fix})
}

func (d *doctor) run(ctx context.Context) {
	d.loadConfig(ctx)
	token := randomToken()
	w := newWatcher(gen12, d.model, token)
	s, err := connect(ctx, d.opts.AMI, w)
	if err != nil {
		d.connectFailed(err)
		return
	}
	d.s = s
	defer s.close()
	how := "plain secret"
	if d.opts.AMI.UseMD5Challenge {
		how = "MD5 challenge"
	}
	d.ok("connect", "logged in to %s as %s (%s)", d.opts.AMI.Addr, d.opts.AMI.Username, how)

	d.gather(ctx, token)
	d.checkVersion()
	d.checkWrites()
	d.checkReads()
	d.checkFilter()
	d.checkWriteTimeout()
	d.checkClock()
	d.checkServices()
	d.checkSeats()
	if d.opts.Watch > 0 {
		d.watch(ctx)
	}
}

// loadConfig loads the configuration the server would load, and says so.
func (d *doctor) loadConfig(ctx context.Context) {
	if d.opts.Model != nil {
		d.model = d.opts.Model
		d.ok("config", "%s (given)", d.model.Summary())
		return
	}
	snap, err := config.LoadDir(ctx, d.opts.ConfigDir, d.log)
	if err != nil {
		fix := "give the server's directory with --config-dir, or write a snapshot into it (astcti config init or import)"
		if !errors.Is(err, config.ErrNoSnapshot) {
			fix = "astcti config validate " + d.opts.ConfigDir + " says what is wrong"
		}
		d.fail("config", fmt.Sprintf("no configuration from %s: %v", d.opts.ConfigDir, err),
			fix+"; the PBX is checked without the services and seats")
		return
	}
	d.model = snap.Model()
	d.ok("config", "%s, from %s", d.model.Summary(), d.opts.ConfigDir)
}

// connectFailed reports a failed login with what to do about it.
func (d *doctor) connectFailed(err error) {
	addr, user := d.opts.AMI.Addr, d.opts.AMI.Username
	switch {
	case errors.Is(err, ami.ErrAuth):
		d.fail("connect", fmt.Sprintf("%s refused the login as %s: %v", addr, user, err),
			"check --ami-user and --ami-secret against the ["+user+"] section of manager.conf, and that its permit= lines allow this host (Asterisk answers both alike)")
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		d.fail("connect", fmt.Sprintf("no login to %s within the time allowed: %v", addr, err),
			"check --ami, and that a firewall lets this host reach the manager port; raise --timeout on a slow link")
	default:
		d.fail("connect", fmt.Sprintf("cannot log in to %s: %v", addr, err),
			"check --ami: the manager must be enabled (enabled = yes in [general] of manager.conf) on that address and port, and reachable from this host")
	}
}

// randomToken marks the doctor's own probe UserEvent.
func randomToken() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
