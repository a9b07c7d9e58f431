package direct

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astcti/astcti/cti/calls"
)

// DefaultLoginParallel is the number of logins in progress at once when
// Options.LoginParallel is 0.
const DefaultLoginParallel = 64

// Options configures a Fleet.
type Options struct {
	Addr, Username, Secret string   // the PBX's manager interface and a manager user
	Phones                 []string // one client per phone interface, e.g. "SIP/1001"
	LoginParallel          int      // logins in progress at once; 0 means DefaultLoginParallel
	Logger                 *slog.Logger
}

// Link is one notification of the direct approach: the client of Phone
// (as calls.NormalizeInterface writes it: "SIP/1001") read, at ReadAt, the
// event that links its phone to the caller whose channel has Uniqueid (the
// uniqueid fakeami's GET /links gives).
type Link struct {
	Phone    string
	Uniqueid string
	ReadAt   time.Time
}

// Stats are a fleet's counters.
type Stats struct {
	BytesRead  int64 // bytes read from the PBX by every client, banner and login included
	EventsRead int64 // events read by every client
	Clients    int   // clients logged in and reading now
	Lost       int   // clients whose connection ended before Close; they are not reconnected
	Links      int64 // links reported to onLink
}

// Fleet is N mini-CTIs: one manager session per phone, each reading the
// PBX's whole event stream and keeping its own phone's links. Start makes
// one; Close ends it. Its methods are safe to call from any goroutine.
type Fleet struct {
	clients []*client
	log     *slog.Logger
	onLink  func(Link)

	links   atomic.Int64
	running atomic.Int64 // reader goroutines that have not ended
	lost    atomic.Int64
	closing atomic.Bool // Close has begun: a read error is the end, not a loss

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup // the reader goroutines
}

// Start logs in one client per phone, LoginParallel at a time, and returns
// once every client is logged in. Each client starts reading as soon as it
// is logged in (the PBX drops a session that does not read), so onLink may
// be called before Start returns. onLink is called from the clients'
// reader goroutines, concurrently: it must be safe for concurrent use and
// return quickly, since a client that stops reading falls behind the PBX.
//
// ctx bounds the logins only; the fleet runs until Close. If any login
// fails, Start logs off the clients already in and returns an error naming
// the first failure.
func Start(ctx context.Context, opts Options, onLink func(Link)) (*Fleet, error) {
	phones, err := opts.check()
	if err != nil {
		return nil, err
	}
	if onLink == nil {
		onLink = func(Link) {}
	}
	f := &Fleet{clients: make([]*client, len(phones)), log: opts.Logger, onLink: onLink}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if err := f.loginAll(ctx, &opts, phones); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// check validates the options and returns the phones, normalised as the
// project's call tracking compares interfaces.
func (o *Options) check() ([]string, error) {
	if o.Addr == "" {
		return nil, errors.New("direct: no manager address")
	}
	if len(o.Phones) == 0 {
		return nil, errors.New("direct: no phones")
	}
	if o.LoginParallel < 0 {
		return nil, fmt.Errorf("direct: login parallelism %d is negative", o.LoginParallel)
	}
	phones := make([]string, len(o.Phones))
	seen := make(map[string]bool, len(o.Phones))
	for i, p := range o.Phones {
		p = calls.NormalizeInterface(p)
		if p == "" {
			return nil, fmt.Errorf("direct: phone %d is empty", i+1)
		}
		if seen[p] {
			return nil, fmt.Errorf("direct: phone %s given twice", p)
		}
		seen[p] = true
		phones[i] = p
	}
	return phones, nil
}

// loginAll logs the clients in with a bounded number of workers, starting
// each one's reader as soon as it is in. It stops at the first failure.
func (f *Fleet) loginAll(ctx context.Context, opts *Options, phones []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := opts.LoginParallel
	if workers == 0 {
		workers = DefaultLoginParallel
	}
	next := make(chan int, len(phones))
	for i := range phones {
		next <- i
	}
	close(next)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range min(workers, len(phones)) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					continue // a login failed, or the caller gave up
				}
				c, err := dial(ctx, opts, phones[i], i)
				if err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
					cancel()
					continue
				}
				f.clients[i] = c
				f.startReader(c)
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("direct: %w", ctx.Err())
	}
	if first != nil {
		return fmt.Errorf("direct: logging in %d clients: %w", len(phones), first)
	}
	return nil
}

// startReader starts the goroutine that reads c's stream until it ends.
func (f *Fleet) startReader(c *client) {
	f.running.Add(1)
	f.wg.Go(func() {
		defer f.running.Add(-1)
		err := f.readSafely(c)
		c.ended.Store(true)
		c.conn.Close()
		if f.closing.Load() {
			return
		}
		// When the PBX goes, every client goes: say it once, not N times.
		level := slog.LevelDebug
		if f.lost.Add(1) == 1 {
			level = slog.LevelWarn
		}
		f.log.Log(context.Background(), level, "direct: client lost its manager session; not reconnecting", "phone", c.phone, "err", err)
	})
}

// readSafely runs c's reader, turning a panic (in onLink, most likely)
// into the loss of that one client instead of the whole load generator.
func (f *Fleet) readSafely(c *client) (err error) {
	defer func() {
		if p := recover(); p != nil {
			f.log.Error("direct: panic in client reader", "phone", c.phone, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("direct: panic: %v", p)
		}
	}()
	if err := c.read(f.onLink, &f.links); err != nil {
		return err
	}
	return errors.New("direct: logged off by the PBX")
}

// Stats returns the fleet's counters. It takes no lock.
func (f *Fleet) Stats() Stats {
	s := Stats{
		Clients: int(f.running.Load()),
		Lost:    int(f.lost.Load()),
		Links:   f.links.Load(),
	}
	for _, c := range f.clients {
		if c != nil {
			s.BytesRead += c.bytes.Load()
			s.EventsRead += c.events.Load()
		}
	}
	return s
}

// Close logs every client off, waits for the PBX's Goodbye (or at most
// logoffWait) and for every reader goroutine. Every event the PBX sent
// before it handled a client's Logoff has been read by then. It is
// idempotent; the error tells how many Logoffs could not be sent to
// clients that were still connected.
func (f *Fleet) Close() error {
	f.closeOnce.Do(func() {
		f.closing.Store(true)
		var (
			failed int
			first  error
		)
		for _, c := range f.clients {
			if c == nil || c.ended.Load() {
				continue // never logged in, or lost already
			}
			if err := c.logoff(); err != nil && !c.ended.Load() {
				failed++
				first = cmp.Or(first, err)
			}
		}
		f.wg.Wait()
		if failed > 0 {
			f.closeErr = fmt.Errorf("direct: %d logoffs failed; first: %w", failed, first)
		}
	})
	return f.closeErr
}
