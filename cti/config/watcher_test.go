package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a log sink safe for the watcher's goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// watchRig runs a Watcher on a directory holding the demo snapshot.
type watchRig struct {
	t       *testing.T
	dir     string
	first   string
	holder  *Holder
	w       *Watcher
	log     *syncBuffer
	mu      sync.Mutex
	changes [][2]*Snapshot
	refused []string
}

func newWatchRig(t *testing.T, poll bool) *watchRig {
	r := &watchRig{t: t, dir: t.TempDir(), log: &syncBuffer{}}
	r.first = writeDemo(t, r.dir)
	logger := slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	snap, err := LoadDir(context.Background(), r.dir, logger)
	require.NoError(t, err)
	require.Equal(t, r.first, snap.Source)
	r.holder = NewHolder(snap)
	r.w = NewWatcher(r.dir, r.holder, logger)
	r.w.poll = poll
	r.w.OnChange = func(old, new *Snapshot) {
		r.mu.Lock()
		r.changes = append(r.changes, [2]*Snapshot{old, new})
		r.mu.Unlock()
	}
	r.w.OnRefused = func(file string, err error) {
		r.mu.Lock()
		r.refused = append(r.refused, filepath.Base(file))
		r.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("Watcher.Run did not return after cancel")
		}
	})
	return r
}

func (r *watchRig) current() string { return filepath.Base(r.holder.Current().Source) }

func (r *watchRig) waitCurrent(name string, within time.Duration) {
	r.t.Helper()
	checkFor(r.t, within, func() error {
		if got := r.current(); got != name {
			return fmt.Errorf("current snapshot %s, want %s", got, name)
		}
		return nil
	})
}

func (r *watchRig) waitRefused(name string) {
	r.t.Helper()
	checkFor(r.t, 5*time.Second, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, f := range r.refused {
			if f == name {
				return nil
			}
		}
		return fmt.Errorf("%s not refused (refused: %v)", name, r.refused)
	})
}

func (r *watchRig) refusedCount(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range r.refused {
		if f == name {
			n++
		}
	}
	return n
}

// demoVariant returns the demo with bob's penalty set to p, to tell
// snapshots apart.
func demoVariant(p int) *Model {
	m := Demo()
	for i := range m.Services {
		m.Services[i].Members[1].Penalty = p
	}
	return m
}

func TestWatcherAppliesWithinOneSecond(t *testing.T) {
	r := newWatchRig(t, false)
	old := r.holder.Current()
	path, err := WriteSnapshot(context.Background(), r.dir, demoVariant(7))
	require.NoError(t, err)
	start := time.Now()
	r.waitCurrent(filepath.Base(path), time.Second)
	t.Logf("applied after %v", time.Since(start))
	assert.Equal(t, 7, r.holder.Current().Queues("bob")[0].Penalty)
	r.mu.Lock()
	require.Len(t, r.changes, 1)
	assert.Same(t, old, r.changes[0][0])
	assert.Same(t, r.holder.Current(), r.changes[0][1])
	r.mu.Unlock()
	assert.Contains(t, r.log.String(), "configuration applied")
}

func TestWatcherRefusesBadSnapshots(t *testing.T) {
	ctx := context.Background()
	r := newWatchRig(t, false)
	good, err := os.ReadFile(r.first)
	require.NoError(t, err)
	// Each bad file is named as a newer snapshot than the one in force.
	truncated := SnapshotName(".db")
	writeWhole(t, r.dir, truncated, good[:3000])
	r.waitRefused(truncated)

	corrupt := bytes.Clone(good)
	for i := 4096; i < len(corrupt); i++ {
		corrupt[i] = 0xff
	}
	corruptName := SnapshotName(".db")
	writeWhole(t, r.dir, corruptName, corrupt)
	r.waitRefused(corruptName)

	invalid := SnapshotName(".xml")
	writeWhole(t, r.dir, invalid, []byte(`<?xml version="1.0"?>
<astcti-config version="1">
  <service name="q" type="inbound" context="c" queue=""/>
  <service name="t" type="inbound" context="d" trigger="popup"/>
  <seat mac="00:11:22:33:44:01" interface="SIP/1"/>
  <seat mac="00:11:22:33:44:01" interface="SIP/2"/>
  <service name="m" type="inbound" context="e"><member operator="nobody"/></service>
</astcti-config>
`))
	r.waitRefused(invalid)

	// A SQLite snapshot that passes the schema but not validation.
	m := Demo()
	m.Services[2].Parameters = "${nope}"
	invalidDB := writeUnchecked(t, r.dir, m)
	r.waitRefused(invalidDB)

	assert.Equal(t, filepath.Base(r.first), r.current(), "the configuration in force stays")
	logs := r.log.String()
	for _, want := range []string{
		truncated, "corrupt or truncated", corruptName, invalid, invalidDB,
		"line 3: service \\\"q\\\": a queue service needs a queue name",
		"line 4: service \\\"t\\\": unknown trigger \\\"popup\\\"",
		"line 6: seat 00:11:22:33:44:01: duplicate MAC",
		"line 7: service \\\"m\\\": member \\\"nobody\\\": no such operator",
		"placeholder ${nope}",
	} {
		assert.Contains(t, logs, want)
	}

	// A refused file is logged once, not at every rescan.
	r.w.Reload()
	r.w.Reload()
	fixed, err := WriteSnapshot(ctx, r.dir, demoVariant(3))
	require.NoError(t, err)
	r.waitCurrent(filepath.Base(fixed), 5*time.Second)
	assert.Equal(t, 1, r.refusedCount(truncated))
	assert.Equal(t, 1, r.refusedCount(invalid))
}

// writeWhole writes a file into dir under a name the watcher ignores, then
// renames it, so that the watcher sees it whole: written in place, it could
// be read empty, refused, then read whole and refused again.
func writeWhole(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, name)))
}

// writeUnchecked writes m as a snapshot without validating it, as a buggy
// or hostile tool would.
func writeUnchecked(t *testing.T, dir string, m *Model) string {
	ctx := context.Background()
	db, conn, err := openMemory(ctx)
	require.NoError(t, err)
	defer db.Close()
	defer conn.Close()
	require.NoError(t, migrate(ctx, conn, configSchema))
	require.NoError(t, writeModel(ctx, conn, m.Clone()))
	name := SnapshotName(".db")
	tmp := filepath.Join(t.TempDir(), name)
	_, err = conn.ExecContext(ctx, "VACUUM INTO ?", tmp)
	require.NoError(t, err)
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, name)))
	return name
}

func TestWatcherHalfWritten(t *testing.T) {
	r := newWatchRig(t, false)
	data, err := os.ReadFile(writeDemo(t, t.TempDir()))
	require.NoError(t, err)
	// A careless copy: written in place, in two steps.
	name := SnapshotName(".db")
	path := filepath.Join(r.dir, name)
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = f.Write(data[:len(data)/2])
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	r.waitRefused(name)
	assert.Equal(t, filepath.Base(r.first), r.current())
	_, err = f.Write(data[len(data)/2:])
	require.NoError(t, err)
	require.NoError(t, f.Close())
	// The complete file is a new version of it: tried again, applied.
	r.waitCurrent(name, 5*time.Second)
}

func TestWatcherIgnoresTempFiles(t *testing.T) {
	r := newWatchRig(t, false)
	data, err := os.ReadFile(writeDemo(t, t.TempDir()))
	require.NoError(t, err)
	next := SnapshotName(".db")
	// Temp files, valid and invalid, named newer than the next snapshot.
	later := SnapshotName(".db")
	for _, name := range []string{"." + later + ".tmp", later + ".tmp", "." + later, later + "-wal", later + "-journal", "notes.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(r.dir, name), data, 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(r.dir, "."+later+".broken.tmp"), data[:100], 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(r.dir, next), data, 0o600))
	r.waitCurrent(next, 5*time.Second)
	// OnChange runs just after the swap that waitCurrent sees.
	checkFor(t, 5*time.Second, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.changes) == 0 {
			return errors.New("no OnChange yet")
		}
		return nil
	})
	r.mu.Lock()
	assert.Empty(t, r.refused, "temp files are never read")
	assert.Len(t, r.changes, 1)
	r.mu.Unlock()
}

func TestWatcherBurstEndsOnNewest(t *testing.T) {
	// A debounce far longer than a write, so that the burst coalesces
	// however slow the machine is (the default 150 ms is less than a
	// snapshot's write under -race on a loaded machine).
	oldDebounce, oldMax := WatchDebounce, WatchMaxDelay
	WatchDebounce, WatchMaxDelay = time.Second, 2*time.Second
	t.Cleanup(func() { WatchDebounce, WatchMaxDelay = oldDebounce, oldMax })
	r := newWatchRig(t, false)
	var last string
	for i := range 12 {
		path, err := WriteSnapshot(context.Background(), r.dir, demoVariant(i))
		require.NoError(t, err)
		last = filepath.Base(path)
	}
	r.waitCurrent(last, 5*time.Second)
	assert.Equal(t, 11, r.holder.Current().Queues("bob")[0].Penalty)
	r.mu.Lock()
	n := len(r.changes)
	r.mu.Unlock()
	assert.Less(t, n, 12, "the debounce coalesces a burst")
}

func TestWatcherIgnoresOlderSnapshot(t *testing.T) {
	r := newWatchRig(t, false)
	data, err := os.ReadFile(r.first)
	require.NoError(t, err)
	// Older by its modification time (a copy that kept it, cp -p), which
	// is what decides, not the time in its name.
	old := "astcti-20000101T000000.000Z-00000000.db"
	require.NoError(t, os.WriteFile(filepath.Join(r.dir, old), data, 0o600))
	past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, os.Chtimes(filepath.Join(r.dir, old), past, past))
	newer, err := WriteSnapshot(context.Background(), r.dir, demoVariant(4))
	require.NoError(t, err)
	r.waitCurrent(filepath.Base(newer), 5*time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.changes, 1)
	assert.Empty(t, r.refused)
}

func TestWatcherHandWrittenXML(t *testing.T) {
	r := newWatchRig(t, false)
	var buf bytes.Buffer
	require.NoError(t, WriteXML(&buf, demoVariant(9)))
	// Not a snapshot name: ordered by modification time, which is now.
	_, err := WriteFileAtomic(r.dir, "site.xml", buf.Bytes())
	require.NoError(t, err)
	r.waitCurrent("site.xml", 5*time.Second)
	assert.Equal(t, 9, r.holder.Current().Queues("bob")[0].Penalty)

	// Edited in place: a newer version of the same file.
	edited := strings.ReplaceAll(buf.String(), `penalty="9"`, `penalty="8"`)
	future := time.Now().Add(time.Second)
	require.NoError(t, os.WriteFile(filepath.Join(r.dir, "site.xml"), []byte(edited), 0o600))
	require.NoError(t, os.Chtimes(filepath.Join(r.dir, "site.xml"), future, future))
	checkFor(t, 5*time.Second, func() error {
		if q := r.holder.Current().Queues("bob"); q[0].Penalty != 8 {
			return fmt.Errorf("penalty %d; log:\n%s", q[0].Penalty, r.log.String())
		}
		return nil
	})
}

func TestWatcherPolling(t *testing.T) {
	old := WatchRescan
	WatchRescan = 50 * time.Millisecond
	t.Cleanup(func() { WatchRescan = old })
	r := newWatchRig(t, true)
	path, err := WriteSnapshot(context.Background(), r.dir, demoVariant(5))
	require.NoError(t, err)
	r.waitCurrent(filepath.Base(path), 5*time.Second)
	assert.Contains(t, r.log.String(), "fsnotify unavailable")
}

func TestWatcherReload(t *testing.T) {
	old := WatchRescan
	WatchRescan = time.Hour
	t.Cleanup(func() { WatchRescan = old })
	r := newWatchRig(t, true)
	path, err := WriteSnapshot(context.Background(), r.dir, demoVariant(6))
	require.NoError(t, err)
	r.w.Reload()
	r.waitCurrent(filepath.Base(path), 5*time.Second)
}

// TestWatcherReloadLogsResult: each rescan asked for (SIGHUP) logs its
// result, the file in force and whether it changed, even when nothing
// did, so that the admin who asked sees it was done.
func TestWatcherReloadLogsResult(t *testing.T) {
	old := WatchRescan
	WatchRescan = time.Hour
	t.Cleanup(func() { WatchRescan = old })
	r := newWatchRig(t, true)
	const line = `msg="configuration rescanned on request" dir=`
	waitLine := func(n int, want string) {
		t.Helper()
		checkFor(t, 5*time.Second, func() error {
			lines := r.linesWith(line)
			if len(lines) < n {
				return fmt.Errorf("%d lines %q in the log, want %d:\n%s", len(lines), line, n, r.log)
			}
			if !strings.Contains(lines[n-1], want) {
				return fmt.Errorf("line %d = %q, want %q in it", n, lines[n-1], want)
			}
			return nil
		})
	}

	r.w.Reload()
	waitLine(1, "in_force="+r.first+" changed=false newer_refused=0")

	path, err := WriteSnapshot(context.Background(), r.dir, demoVariant(7))
	require.NoError(t, err)
	r.w.Reload()
	waitLine(2, "in_force="+path+" changed=true newer_refused=0")
	assert.Equal(t, filepath.Base(path), r.current())

	future := filepath.Join(r.dir, SnapshotName(".db"))
	require.NoError(t, os.WriteFile(future, []byte("not sqlite"), 0o600))
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(future, later, later))
	r.w.Reload()
	waitLine(3, "in_force="+path+" changed=false newer_refused=1")
	r.w.Reload() // refused again without a new line for the file
	waitLine(4, "in_force="+path+" changed=false newer_refused=1")
	assert.Equal(t, 1, r.refusedCount(filepath.Base(future)))
}

// linesWith returns the log lines that contain s.
func (r *watchRig) linesWith(s string) []string {
	var out []string
	for l := range strings.Lines(r.log.String()) {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

func TestLoadDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := LoadDir(ctx, dir, nil)
	assert.ErrorIs(t, err, ErrNoSnapshot)

	good := writeDemo(t, dir)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	bad := SnapshotName(".db")
	require.NoError(t, os.WriteFile(filepath.Join(dir, bad), data[:1000], 0o600))
	log := &syncBuffer{}
	s, err := LoadDir(ctx, dir, slog.New(slog.NewTextHandler(log, nil)))
	require.NoError(t, err)
	assert.Equal(t, good, s.Source, "the newest valid snapshot")
	assert.Contains(t, log.String(), bad)

	_, err = LoadDir(ctx, filepath.Join(dir, "missing"), nil)
	assert.Error(t, err)
}

// A snapshot whose name carries a date far in the future is newest only
// until the next one is written: the one written last is in force, never
// the one with the greatest date in its name (issue 10).
func TestWatcherNewestIsWrittenLast(t *testing.T) {
	ctx := context.Background()
	r := newWatchRig(t, false)
	var buf bytes.Buffer
	require.NoError(t, WriteXML(&buf, demoVariant(2)))
	future := "astcti-20991231T000000.000Z-00000000.xml"
	_, err := WriteFileAtomic(r.dir, future, buf.Bytes())
	require.NoError(t, err)
	r.waitCurrent(future, 5*time.Second)

	later, err := WriteSnapshot(ctx, r.dir, demoVariant(3))
	require.NoError(t, err)
	r.waitCurrent(filepath.Base(later), 5*time.Second)
	assert.Equal(t, 3, r.holder.Current().Queues("bob")[0].Penalty)

	s, err := LoadDir(ctx, r.dir, nil)
	require.NoError(t, err)
	assert.Equal(t, later, s.Source, "LoadDir (astcti config validate DIR) names the file in force")
}

// WriteSnapshot makes the file it writes the newest of its directory even
// when another snapshot's modification time is ahead of the clock (a clock
// set back, a file copied from a machine whose clock is ahead).
func TestWriteSnapshotNewestAfterFutureFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ahead := writeDemo(t, dir)
	future := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(ahead, future, future))
	path, err := WriteSnapshot(ctx, dir, demoVariant(5))
	require.NoError(t, err)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.True(t, info.ModTime().After(future), "mtime %v, want after %v", info.ModTime(), future)
	s, err := LoadDir(ctx, dir, nil)
	require.NoError(t, err)
	assert.Equal(t, path, s.Source)
}

// Deleting the snapshot in force puts the newest remaining valid one in
// force, with a log line saying why, as LoadDir (astcti config validate
// DIR) would choose; deleting the last one keeps its configuration and
// says so once.
func TestWatcherInForceDeleted(t *testing.T) {
	ctx := context.Background()
	r := newWatchRig(t, false)
	second, err := WriteSnapshot(ctx, r.dir, demoVariant(4))
	require.NoError(t, err)
	r.waitCurrent(filepath.Base(second), 5*time.Second)

	require.NoError(t, os.Remove(second))
	r.waitCurrent(filepath.Base(r.first), 5*time.Second)
	assert.Equal(t, 2, r.holder.Current().Queues("bob")[0].Penalty)
	assert.Contains(t, r.log.String(), `msg="the snapshot in force was deleted; loading the newest remaining valid one" dir=`+r.dir+` file=`+second)
	assert.Contains(t, r.log.String(), `reason="the snapshot in force was deleted"`)
	s, err := LoadDir(ctx, r.dir, nil)
	require.NoError(t, err)
	assert.Equal(t, s.Source, r.holder.Current().Source, "the server and LoadDir agree")

	require.NoError(t, os.Remove(r.first))
	want := "no valid snapshot remains: its configuration stays in force"
	checkFor(t, 5*time.Second, func() error {
		if !strings.Contains(r.log.String(), want) {
			return fmt.Errorf("no %q in the log:\n%s", want, r.log.String())
		}
		return nil
	})
	assert.Equal(t, r.first, r.holder.Current().Source)
	r.w.Reload()
	r.w.Reload()
	third, err := WriteSnapshot(ctx, r.dir, demoVariant(6))
	require.NoError(t, err)
	r.waitCurrent(filepath.Base(third), 5*time.Second)
	assert.Equal(t, 1, strings.Count(r.log.String(), want), "said once")
}
