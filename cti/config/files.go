package config

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Snapshot files.
//
// A snapshot file is a complete, self-contained configuration in the
// server's configuration directory: an SQLite database (.db) written by
// VACUUM INTO, or an XML file (.xml) in the format of docs/config.md. Its
// name is unique and carries the time it was made, for people:
//
//	astcti-20261125T230000.123Z-1a2b3c4d.db
//
// It is written under a temporary name (".NAME.tmp") in the same directory,
// synced, and renamed, so a reader never sees half a file.
//
// Which snapshot is newest is decided by the files' modification times
// (ties go to the greater name), never by the time in a name: a file named
// with a date in 2099 must not block every later one. The writer makes
// the time of the file it writes later than that of every snapshot
// already there (commitFile), so the snapshot written last is the newest
// even when the clock has been set back.

// maxXMLSize bounds an XML configuration file.
const maxXMLSize = 16 << 20

const snapshotTimeLayout = "20060102T150405.000Z"

var (
	nameMu   sync.Mutex // guards lastName
	lastName time.Time  // the time of the last name made by SnapshotName, for monotonic names
)

// SnapshotName returns a new unique snapshot file name with extension ext
// (".db" or ".xml"). Names made by one process sort in the order they were
// made, even within one millisecond. It is safe to call from any goroutine.
func SnapshotName(ext string) string {
	nameMu.Lock()
	t := time.Now().UTC().Truncate(time.Millisecond)
	if !t.After(lastName) {
		t = lastName.Add(time.Millisecond)
	}
	lastName = t
	nameMu.Unlock()
	var b [4]byte
	rand.Read(b[:])
	return "astcti-" + t.Format(snapshotTimeLayout) + "-" + hex.EncodeToString(b[:]) + ext
}

// IsSnapshotFile reports whether a file of that name in a configuration
// directory is a snapshot the server considers: a .db or .xml file that is
// not hidden (a leading '.') and not a temporary file (.tmp).
func IsSnapshotFile(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") {
		return false
	}
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".db" || ext == ".xml"
}

// LoadFile reads, validates and indexes a configuration file (ReadFile).
func LoadFile(ctx context.Context, path string) (*Snapshot, error) {
	m, err := ReadFile(ctx, path)
	if err != nil {
		return nil, err
	}
	s, err := NewSnapshot(m)
	if err != nil {
		return nil, fileError(path, err)
	}
	s.Source = path
	return s, nil
}

// ReadFile reads a configuration file, an SQLite snapshot or an XML file
// (told apart by their content), and validates it. It returns a
// *ValidationError listing every problem of an invalid one.
//
// An SQLite file is opened read-only and immutable and is never modified.
// One of an older schema version is migrated in a copy in memory; one of a
// newer version is refused (ErrSchemaTooNew).
func ReadFile(ctx context.Context, path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	head = head[:n]
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		f.Close()
		m, err := readSQLite(ctx, path)
		if err != nil && (strings.Contains(err.Error(), "malformed") || strings.Contains(err.Error(), "not a database")) {
			err = fmt.Errorf("corrupt or truncated SQLite snapshot: %w", err)
		}
		return m, fileError(path, err)
	case len(trimmed) > 0 && trimmed[0] == '<', ext == ".xml":
		defer f.Close()
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		m, err := ParseXML(f)
		return m, fileError(path, err)
	case n == 0:
		f.Close()
		return nil, fmt.Errorf("config: %s: empty file", path)
	default:
		f.Close()
		return nil, fmt.Errorf("config: %s: neither an SQLite snapshot nor an XML configuration", path)
	}
}

func fileError(path string, err error) error {
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		ve.File = path
		return ve
	}
	return fmt.Errorf("config: %s: %w", path, err)
}

// readSQLite reads and validates an SQLite snapshot without modifying it.
func readSQLite(ctx context.Context, path string) (*Model, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	dsn, err := sqlURI(path, roQuery)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	version, err := checkVersion(ctx, conn, configSchema)
	if err != nil {
		return nil, err
	}
	if version == 0 {
		return nil, fmt.Errorf("%w: an empty SQLite database, not a configuration snapshot", ErrNotAstcti)
	}
	probs, err := quickCheck(ctx, conn)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	var q execer = conn
	if version < SchemaVersion() {
		// Upgrade a copy in memory; the file stays as it is.
		var data []byte
		err := conn.Raw(func(dc any) error {
			s, ok := dc.(interface{ Serialize() ([]byte, error) })
			if !ok {
				return errors.New("sqlite driver cannot serialize")
			}
			data, err = s.Serialize()
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(data) >= 20 {
			// A copy of a WAL-mode database (a working database read as a
			// snapshot) says so in its header, bytes 18 and 19; an in-memory
			// database cannot use WAL and would refuse to open for the
			// migration. Mark the copy as a rollback-journal database.
			data[18], data[19] = 1, 1
		}
		mdb, mconn, err := openMemory(ctx)
		if err != nil {
			return nil, err
		}
		defer mdb.Close()
		defer mconn.Close()
		err = mconn.Raw(func(dc any) error {
			d, ok := dc.(interface{ Deserialize([]byte) error })
			if !ok {
				return errors.New("sqlite driver cannot deserialize")
			}
			return d.Deserialize(data)
		})
		if err != nil {
			return nil, err
		}
		if err := migrate(ctx, mconn, configSchema); err != nil {
			return nil, err
		}
		q = mconn
	}
	probs, err = foreignKeyProblems(ctx, q)
	if err != nil {
		return nil, err
	}
	m, err := readModel(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		var ve *ValidationError
		errors.As(err, &ve)
		probs = append(probs, ve.Problems...)
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	return m, nil
}

// WriteSnapshot validates m and writes it as a new SQLite snapshot in dir,
// atomically (temporary name, sync, rename). It returns the snapshot's path.
// m itself is not modified.
func WriteSnapshot(ctx context.Context, dir string, m *Model) (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	db, conn, err := openMemory(ctx)
	if err != nil {
		return "", err
	}
	defer db.Close()
	defer conn.Close()
	if err := migrate(ctx, conn, configSchema); err != nil {
		return "", err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if err := writeModel(ctx, tx, m.Clone()); err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	return vacuumInto(ctx, conn, dir, nil)
}

// vacuumInto writes the database of conn as a new snapshot in dir.
func vacuumInto(ctx context.Context, conn execer, dir string, check func(*Model) error) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	name := SnapshotName(".db")
	tmp := filepath.Join(dir, "."+name+".tmp")
	final := filepath.Join(dir, name)
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("config: write snapshot: %w", err)
	}
	if err := rollbackJournal(ctx, tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("config: write snapshot: %w", err)
	}
	if err := dropAudit(ctx, tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("config: write snapshot: %w", err)
	}
	// Check the file exactly as the server will read it.
	m, err := readSQLite(ctx, tmp)
	if err != nil {
		os.Remove(tmp)
		var ve *ValidationError
		if errors.As(err, &ve) {
			return "", ve
		}
		return "", fmt.Errorf("config: write snapshot: %w", err)
	}
	if check != nil {
		if err := check(m); err != nil {
			os.Remove(tmp)
			return "", err
		}
	}
	if err := commitFile(tmp, final); err != nil {
		return "", err
	}
	return final, nil
}

// rollbackJournal makes sure a fresh snapshot is not in WAL mode (VACUUM INTO
// keeps the mode of a WAL database): a reader opening it immutable must not
// need a -wal or -shm file.
func rollbackJournal(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	var hdr [20]byte
	_, err = io.ReadFull(f, hdr[:])
	f.Close()
	if err != nil {
		return err
	}
	// Bytes 18 and 19 are the file format write and read versions: 1 for a
	// rollback journal, 2 for WAL (https://www.sqlite.org/fileformat.html).
	if hdr[18] == 1 && hdr[19] == 1 {
		return nil
	}
	dsn, err := sqlURI(path, "_pragma=journal_mode(DELETE)")
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	err = db.PingContext(ctx)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// dropAudit empties the audit log of a fresh snapshot and vacuums it, so
// that no page of it is left: the log of who changed what (and the rows
// before and after) is the configurator's, never the server's.
func dropAudit(ctx context.Context, path string) error {
	dsn, err := sqlURI(path, "_pragma=journal_mode(DELETE)")
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'audit'").Scan(&n)
	if err != nil || n == 0 {
		return err
	}
	res, err := db.ExecContext(ctx, "DELETE FROM audit")
	if err != nil {
		return err
	}
	if rows, _ := res.RowsAffected(); rows > 0 {
		_, err = db.ExecContext(ctx, "VACUUM")
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// commitFile syncs tmp, makes it readable by its group only (it holds
// password hashes), makes it the newest snapshot of its directory
// (makeNewest), renames it to final and syncs the directory.
func commitFile(tmp, final string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err == nil {
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Chmod(tmp, 0o640)
	}
	if err == nil {
		err = makeNewest(tmp, filepath.Base(final))
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("config: write snapshot: %w", err)
	}
	if d, err := os.Open(filepath.Dir(final)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFileAtomic writes data as the file name in dir the way snapshots are
// written (temporary name, sync, rename).
func WriteFileAtomic(dir, name string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("config: %w", err)
	}
	final := filepath.Join(dir, name)
	return final, commitFile(tmp, final)
}

// makeNewest sets the modification time of tmp, about to be renamed to
// name in the same directory, after that of every other snapshot file
// there, when the clock alone does not: the snapshot written last must be
// the newest (the watcher orders by modification time), although a clock
// set back or a file copied with a time ahead of ours would say otherwise.
// It is a no-op in the usual case, where the file just written is already
// the latest.
func makeNewest(tmp, name string) error {
	info, err := os.Stat(tmp)
	if err != nil {
		return err
	}
	dir := filepath.Dir(tmp)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var latest time.Time
	for _, e := range entries {
		if e.Name() == name || !IsSnapshotFile(e.Name()) {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().After(latest) {
			latest = fi.ModTime()
		}
	}
	// A file system that keeps coarse times rounds the first steps down;
	// the later ones are more than any rounds away.
	for _, step := range []time.Duration{time.Millisecond, time.Second, 2 * time.Second} {
		if info.ModTime().After(latest) {
			return nil
		}
		t := latest.Add(step)
		if err := os.Chtimes(tmp, t, t); err != nil {
			return err
		}
		if info, err = os.Stat(tmp); err != nil {
			return err
		}
	}
	if !info.ModTime().After(latest) {
		return fmt.Errorf("cannot make %s newer than the snapshots of %s", name, dir)
	}
	return nil
}
