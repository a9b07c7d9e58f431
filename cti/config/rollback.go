package config

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ErrNoPrevious is returned by Rollback when the server's directory has no
// valid snapshot older than the one in force.
var ErrNoPrevious = errors.New("config: no valid snapshot before the one in force to roll back to")

// SnapshotFile is a snapshot file of the server's configuration directory,
// as Store.Snapshots lists it.
type SnapshotFile struct {
	Name    string
	Path    string
	ModTime time.Time
	Size    int64
	// Checked files were read and validated: every file from the newest to
	// the previous valid one before the one in force. Older files are
	// listed unchecked (a directory keeps every snapshot ever applied).
	Checked bool
	// InForce is the newest valid snapshot: the one the server loads
	// (docs/config.md, "Which one": the latest modification time, never the
	// date in the name). At most one file is in force.
	InForce bool
	// Previous is the valid snapshot before the one in force: what
	// Rollback applies again.
	Previous bool
	// Err says why a checked file is refused, nil for a valid one.
	Err error
	// Summary is a valid checked file's size ("2 seats, ...").
	Summary string
	// By, At and Action say who wrote the file through a Store (Apply or
	// Rollback) and when, from the store's audit log; empty for a file
	// written otherwise (astcti config import, by hand, another store).
	By     string
	At     time.Time
	Action Action
}

// Snapshots lists the snapshot files of the server's directory dir, newest
// first, with the one in force and who applied each. A missing directory
// has none.
func (s *Store) Snapshots(ctx context.Context, dir string) ([]SnapshotFile, error) {
	files, err := listSnapshots(dir)
	if err != nil {
		return nil, err
	}
	checkSnapshots(ctx, files)
	applied, err := s.applied(ctx)
	if err != nil {
		return nil, err
	}
	for i := range files {
		if e, ok := applied[files[i].Name]; ok {
			files[i].By, files[i].At, files[i].Action = e.User, e.At, e.Action
		}
	}
	return files, nil
}

// listSnapshots returns the snapshot files of dir, newest first, by the
// watcher's order (modification time, ties to the greater name).
func listSnapshots(dir string) ([]SnapshotFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: snapshots: %w", err)
	}
	var files []SnapshotFile
	for _, e := range entries {
		if !IsSnapshotFile(e.Name()) {
			continue
		}
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		files = append(files, SnapshotFile{Name: e.Name(), Path: filepath.Join(dir, e.Name()), ModTime: info.ModTime(), Size: info.Size()})
	}
	slices.SortFunc(files, func(a, b SnapshotFile) int {
		ka, kb := fileKey{t: a.ModTime, name: a.Name}, fileKey{t: b.ModTime, name: b.Name}
		switch {
		case ka.after(kb):
			return -1
		case kb.after(ka):
			return 1
		}
		return 0
	})
	return files, nil
}

// checkSnapshots validates files, newest first, until it has found the one
// in force and the valid one before it.
func checkSnapshots(ctx context.Context, files []SnapshotFile) {
	found := 0
	for i := range files {
		if found == 2 {
			return
		}
		f := &files[i]
		f.Checked = true
		m, err := ReadFile(ctx, f.Path)
		if err != nil {
			f.Err = err
			continue
		}
		f.Summary = m.Summary()
		f.InForce, f.Previous = found == 0, found == 1
		found++
	}
}

// applied returns the newest apply or rollback entry of each file name.
func (s *Store) applied(ctx context.Context) (map[string]AuditEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, "SELECT "+auditColumns+" FROM audit WHERE entity = 'config' AND action IN ('apply', 'rollback') ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("config: audit log: %w", err)
	}
	out := map[string]AuditEntry{}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("config: audit log: %w", err)
		}
		out[e.Key] = e
	}
	return out, closeRows(rows)
}

// Rollback applies again the valid snapshot before the one in force in
// dir: it writes that configuration as a new snapshot, which is the newest
// (files are never renamed, nor their times changed), then makes it the
// working database's content too, so that the next Apply does not bring
// back what was rolled back (the rows get new IDs: forms open on the old
// ones are refused, ErrNotFound). It returns the new snapshot's path; the
// audit log records the rollback with the file rolled back to.
func (s *Store) Rollback(ctx context.Context, dir string) (string, error) {
	files, err := listSnapshots(dir)
	if err != nil {
		return "", err
	}
	checkSnapshots(ctx, files)
	i := slices.IndexFunc(files, func(f SnapshotFile) bool { return f.Previous })
	if i < 0 {
		return "", ErrNoPrevious
	}
	prev, current := files[i], files[slices.IndexFunc(files, func(f SnapshotFile) bool { return f.InForce })]
	m, err := ReadFile(ctx, prev.Path)
	if err != nil {
		return "", fmt.Errorf("config: rollback: %w", err)
	}
	path, err := WriteSnapshot(ctx, dir, m)
	if err != nil {
		return "", fmt.Errorf("config: rollback to %s: %w", prev.Name, err)
	}
	info, _ := json.Marshal(map[string]string{"file": filepath.Base(path), "from": prev.Name, "replaced": current.Name, "summary": m.Summary()})
	err = s.replaceWith(ctx, m, func(before *Model) auditRow {
		return auditRow{action: ActionRollback, entity: entityConfig, key: filepath.Base(path), before: summaryJSON(before), after: info}
	})
	if err != nil {
		return path, fmt.Errorf("config: rolled back to %s as %s, but the working database keeps its content: %w", prev.Name, filepath.Base(path), err)
	}
	return path, nil
}

// replaceWith replaces the whole configuration with m, validated, and
// records the audit entry rec makes of the configuration before.
func (s *Store) replaceWith(ctx context.Context, m *Model, rec func(before *Model) auditRow) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		before, err := readModel(ctx, tx)
		if err != nil {
			return err
		}
		for _, t := range []string{"services_operators", "services_variables", "services", "operators", "seats"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		c := m.Clone()
		c.ClearIDs()
		if err := setVersions(ctx, tx, c); err != nil {
			return err
		}
		if err := writeModel(ctx, tx, c); err != nil {
			return err
		}
		return s.record(ctx, tx, rec(before))
	})
}
