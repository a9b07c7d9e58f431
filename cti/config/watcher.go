package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Tunables of the watcher, package-level so tests can shrink them.
var (
	// WatchDebounce is how long the watcher waits after the last event of a
	// burst before it rescans the directory.
	WatchDebounce = 150 * time.Millisecond
	// WatchMaxDelay bounds the debounce under a continuous stream of events.
	WatchMaxDelay = 500 * time.Millisecond
	// WatchRescan is the period of the rescan that backs up fsnotify (and
	// replaces it where it is not available).
	WatchRescan = 2 * time.Second
)

// ErrNoSnapshot is returned by LoadDir when the directory has no valid
// snapshot.
var ErrNoSnapshot = errors.New("config: no valid configuration snapshot")

// Watcher keeps a Holder on the newest valid snapshot of a configuration
// directory. A snapshot is a file IsSnapshotFile accepts; the newest is the
// one with the latest modification time, ties going to the greater name:
// the one written last (WriteSnapshot sees to it), whatever time its name
// carries. A file that fails to load is refused with a log line naming it
// and every problem, once per version of the file (size and modification
// time), and the configuration in force stays. A valid older file is
// applied when every newer one is refused, but never one older than the
// configuration in force, unless the file in force was deleted: then the
// newest remaining valid one is applied, as LoadDir (and so astcti config
// validate DIR) would choose, and when none is left the configuration in
// force stays, with a log line saying so.
//
// Run is the watcher's only goroutine; OnChange and OnRefused are called on
// it and should return quickly.
type Watcher struct {
	// OnChange, if set, is called after each swap with the previous and the
	// new snapshot (typically: send an event with Diff(old, new) to the hub).
	OnChange func(old, new *Snapshot)
	// OnRefused, if set, is called for each refused file, after the log line.
	OnRefused func(file string, err error)

	dir    string
	holder *Holder
	log    *slog.Logger
	reload chan struct{}

	poll bool // tests: do not use fsnotify

	// Owned by Run.
	applied      fileKey
	hasApplied   bool
	orphaned     string // the deleted file whose configuration is in force, "" when none
	orphanLogged bool   // that no valid file was left to replace it was logged
	failed       map[string]fileStamp
	future       map[string]fileStamp // files whose time ahead of the clock was logged
	lastErr      string
}

type fileKey struct {
	t    time.Time
	name string
}

func (k fileKey) after(o fileKey) bool {
	return k.t.After(o.t) || k.t.Equal(o.t) && k.name > o.name
}

type fileStamp struct {
	size  int64
	mtime time.Time
}

type candidate struct {
	key   fileKey
	stamp fileStamp
}

// NewWatcher returns a watcher of dir that swaps snapshots into h. A nil
// logger discards.
func NewWatcher(dir string, h *Holder, log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{
		dir:    dir,
		holder: h,
		log:    log.With("dir", dir),
		reload: make(chan struct{}, 1),
		failed: map[string]fileStamp{},
		future: map[string]fileStamp{},
	}
}

// LoadDir returns the newest valid snapshot of dir, logging each newer file
// it refuses. It returns ErrNoSnapshot (wrapped) when there is none, a
// missing dir included.
func LoadDir(ctx context.Context, dir string, log *slog.Logger) (*Snapshot, error) {
	h := NewHolder(nil)
	w := NewWatcher(dir, h, log)
	if err := w.scan(ctx); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoSnapshot, dir)
	} else if err != nil {
		return nil, err
	}
	if s := h.Current(); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("%w in %s", ErrNoSnapshot, dir)
}

// Reload asks the watcher to rescan the directory now (on SIGHUP, or after
// writing a snapshot in-process), and to log the result: the snapshot in
// force afterwards, whether it changed, and how many newer files stay
// refused. Requests made while one is pending are served by the same
// rescan. It never blocks and is safe to call from any goroutine.
func (w *Watcher) Reload() {
	select {
	case w.reload <- struct{}{}:
	default:
	}
}

// Run watches the directory until ctx is done, then returns nil. It first
// applies the newest valid snapshot if it is newer than the holder's. It
// uses fsnotify on the directory, debounced, plus a periodic rescan; if
// fsnotify is unavailable it only rescans.
func (w *Watcher) Run(ctx context.Context) error {
	if cur := w.holder.Current(); cur != nil && cur.Source != "" && sameDir(filepath.Dir(cur.Source), w.dir) {
		if info, err := os.Stat(cur.Source); err == nil {
			name := filepath.Base(cur.Source)
			w.applied = fileKey{t: info.ModTime(), name: name}
			w.hasApplied = true
		}
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	fsw, err := fsnotify.NewWatcher()
	if err == nil && w.poll {
		fsw.Close()
		err = errors.New("disabled")
	}
	if err == nil {
		if err = fsw.Add(w.dir); err != nil {
			fsw.Close()
		}
	}
	if err != nil {
		w.log.Warn("config watcher: fsnotify unavailable, rescanning periodically", "every", WatchRescan, "error", err)
	} else {
		defer fsw.Close()
		events, errs = fsw.Events, fsw.Errors
	}
	w.scanLogged(ctx)

	rescan := time.NewTicker(WatchRescan)
	defer rescan.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	var burst time.Time // start of the pending burst, zero when none
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if !IsSnapshotFile(filepath.Base(ev.Name)) || ev.Op == fsnotify.Chmod {
				continue
			}
			now := time.Now()
			if burst.IsZero() {
				burst = now
			}
			debounce.Reset(min(WatchDebounce, max(0, burst.Add(WatchMaxDelay).Sub(now))))
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			w.log.Warn("config watcher: fsnotify", "error", err)
		case <-debounce.C:
			burst = time.Time{}
			w.scanLogged(ctx)
		case <-rescan.C:
			w.scanLogged(ctx)
		case <-w.reload:
			w.rescanOnRequest(ctx)
		}
	}
}

// rescanOnRequest scans at Reload's request and logs the result, which a
// scan that finds nothing new does not: the admin who asked (SIGHUP,
// systemctl reload) learns which snapshot is in force, and whether the
// rescan changed it. A newer file refused before, and unchanged since, is
// not tried or logged again: the line counts it.
func (w *Watcher) rescanOnRequest(ctx context.Context) {
	before := w.holder.Current()
	w.scanLogged(ctx)
	cur := w.holder.Current()
	inForce := ""
	if cur != nil {
		inForce = cur.Source
	}
	refused := 0
	for name, st := range w.failed {
		if !w.hasApplied || (fileKey{t: st.mtime, name: name}).after(w.applied) {
			refused++
		}
	}
	w.log.Info("configuration rescanned on request", "in_force", inForce, "changed", cur != before, "newer_refused", refused)
}

func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// scanLogged scans and logs a directory error once until it changes.
func (w *Watcher) scanLogged(ctx context.Context) {
	err := w.scan(ctx)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg != "" && msg != w.lastErr {
		w.log.Error("config watcher: cannot read the configuration directory", "error", err)
	}
	w.lastErr = msg
}

// futureSkew is how far ahead of the clock a snapshot's modification time
// may be before the watcher warns that it will stay newest.
const futureSkew = time.Minute

// scan applies the newest valid snapshot newer than the one in force, or,
// when the file in force was deleted, the newest valid one.
func (w *Watcher) scan(ctx context.Context) error {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var cands []candidate
	present := map[string]bool{}
	now := time.Now()
	for _, e := range entries {
		name := e.Name()
		if !IsSnapshotFile(name) {
			continue
		}
		info, err := os.Stat(filepath.Join(w.dir, name))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		present[name] = true
		c := candidate{
			key:   fileKey{t: info.ModTime(), name: name},
			stamp: fileStamp{size: info.Size(), mtime: info.ModTime()},
		}
		cands = append(cands, c)
		if info.ModTime().After(now.Add(futureSkew)) && w.future[name] != c.stamp {
			w.future[name] = c.stamp
			w.log.Warn("snapshot modified in the future: it stays the newest until astcti writes another or its time is corrected (touch FILE)",
				"file", filepath.Join(w.dir, name), "mtime", info.ModTime().UTC())
		}
	}
	for name := range w.failed {
		if !present[name] {
			delete(w.failed, name)
		}
	}
	for name := range w.future {
		if !present[name] {
			delete(w.future, name)
		}
	}
	reason := "newest valid snapshot"
	if w.hasApplied && !present[w.applied.name] {
		// The file in force is gone: what an admin deleting it expects,
		// and what LoadDir would load now, is the newest valid one left.
		w.orphaned = filepath.Join(w.dir, w.applied.name)
		w.hasApplied = false
		w.log.Warn("the snapshot in force was deleted; loading the newest remaining valid one", "file", w.orphaned)
	}
	if w.orphaned != "" {
		reason = "the snapshot in force was deleted"
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		switch {
		case a.key.after(b.key):
			return -1
		case b.key.after(a.key):
			return 1
		}
		return 0
	})
	for _, c := range cands {
		if w.hasApplied && !c.key.after(w.applied) {
			break
		}
		if st, ok := w.failed[c.key.name]; ok && st == c.stamp {
			continue
		}
		path := filepath.Join(w.dir, c.key.name)
		snap, err := LoadFile(ctx, path)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.failed[c.key.name] = c.stamp
			w.refuse(path, err)
			continue
		}
		delete(w.failed, c.key.name)
		old := w.holder.Swap(snap)
		w.applied, w.hasApplied, w.orphaned, w.orphanLogged = c.key, true, "", false
		w.log.Info("configuration applied", "file", path, "reason", reason, "config", snap.Summary())
		if w.OnChange != nil {
			w.OnChange(old, snap)
		}
		return nil
	}
	if w.orphaned != "" && !w.orphanLogged {
		// Said once; the next valid file written is applied, whatever its
		// time.
		w.orphanLogged = true
		w.log.Error("the snapshot in force was deleted and no valid snapshot remains: its configuration stays in force (from memory) until a valid one is written",
			"file", w.orphaned)
	}
	return nil
}

func (w *Watcher) refuse(path string, err error) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		probs := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			probs[i] = p.String()
		}
		w.log.Error("configuration refused, the one in force stays", "file", path, "problems", strings.Join(probs, "; "))
	} else {
		w.log.Error("configuration refused, the one in force stays", "file", path, "error", err)
	}
	if w.OnRefused != nil {
		w.OnRefused(path, err)
	}
}
