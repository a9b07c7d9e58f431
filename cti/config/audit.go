package config

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Action is what a change recorded in the audit log did.
type Action string

// The actions of the audit log.
const (
	ActionAdd      Action = "add"
	ActionEdit     Action = "edit"
	ActionRemove   Action = "remove"
	ActionApply    Action = "apply"    // a snapshot written into the server's directory
	ActionRollback Action = "rollback" // the previous snapshot applied again
	ActionImport   Action = "import"   // the whole configuration replaced (Replace)
)

func (a Action) String() string { return string(a) }

// KindConfig is the entity of the audit entries about the configuration as
// a whole: import, apply, rollback.
const KindConfig Kind = "config"

const entityConfig = KindConfig

// Audit page sizes: Audit returns at most MaxAuditPage entries, and
// DefaultAuditPage when the filter asks for none.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 500
)

// auditTimeLayout is fixed-width, so the stored times sort as text.
const auditTimeLayout = "2006-01-02T15:04:05.000000000Z"

// AuditEntry is one change recorded in the audit log.
type AuditEntry struct {
	// ID increases with every entry: the newest has the greatest.
	ID int64
	At time.Time
	// User is the userid of the manager user who made the change (Store.As),
	// "" for a program.
	User   string
	Action Action
	// Entity is KindSeat, KindOperator, KindService, KindConfig or
	// KindManager (a manager user, whose row is in the users' database).
	Entity Kind
	// EntityID is the row's id (0 for KindConfig); Key its key when the
	// change was made (MAC, username, service name, a manager's userid,
	// or a snapshot's file name).
	EntityID int64
	Key      string
	// Before and After are the row as JSON (the model's field names; an
	// operator's password hash is replaced by a fingerprint that tells a
	// changed password, not the hash), nil for none. For KindConfig they
	// hold a summary ({"summary": ..., "file": ...}).
	Before, After json.RawMessage
}

// AuditFilter selects entries of the audit log. Its zero value selects the
// newest DefaultAuditPage entries.
type AuditFilter struct {
	// User, when set, is the exact userid.
	User string
	// Entity, when set, is the kind of entry (KindSeat, ..., KindConfig);
	// EntityID, when not 0, the row's id too.
	Entity   Kind
	EntityID int64
	// Text, when set, must occur in the key or the rows before or after,
	// ignoring case.
	Text string
	// Since and Until, when not zero, bound the time: Since <= At < Until.
	Since, Until time.Time
	// Before, when not 0, selects entries older than the entry of that ID:
	// the next page starts Before the last entry of the previous one.
	Before int64
	// Limit is the page size, at most MaxAuditPage (0: DefaultAuditPage).
	Limit int
}

// auditRow is an entry to record.
type auditRow struct {
	action        Action
	entity        Kind
	id            int64
	key           string
	before, after []byte
}

// record writes the audit entry of the change made in tx, with the id
// nextVersion gave the rows it wrote.
func (s *Store) record(ctx context.Context, tx *sql.Tx, r auditRow) error {
	id, err := nextVersion(ctx, tx)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit (id, at, userid, action, entity, entity_id, key, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, s.now().UTC().Format(auditTimeLayout), s.user, string(r.action), string(r.entity), r.id, r.key,
		string(r.before), string(r.after))
	if err != nil {
		return fmt.Errorf("config: audit log: %w", err)
	}
	return nil
}

// rowChange is the audit entry of a change to one row; before or after is
// nil for an add or a remove.
func rowChange[T any](a Action, k Kind, id int64, key string, before, after *T) auditRow {
	return auditRow{action: a, entity: k, id: id, key: key, before: rowJSON(before), after: rowJSON(after)}
}

func rowJSON[T any](row *T) []byte {
	if row == nil {
		return nil
	}
	var v any = row
	if o, ok := any(row).(*Operator); ok {
		c := *o
		c.PasswordHash = fingerprint(c.PasswordHash)
		v = &c
	}
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("config: audit: %v", err)) // plain structs always marshal
	}
	return data
}

// fingerprint stands for a password hash in the audit log: a changed
// password shows as a changed fingerprint, and the log never holds a hash
// an attacker could start guessing from.
func fingerprint(hash string) string {
	if hash == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(hash))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// managerJSON is a manager user as the audit log shows it: never its
// password or hash, only that one was set.
type managerJSON struct {
	UserID   string `json:"userid"`
	FullName string `json:"fullname"`
	Enabled  bool   `json:"enabled"`
	Password string `json:"password,omitempty"` // "set" (an add) or "changed"
}

// RecordManager records a change made to a manager user (Users, whose
// database holds no log) as made by the store's user (As): before is nil
// for an add; password says that the change set a password, which the
// entry says as "password": "set" or "changed", never the password or its
// hash. The users' database and this one are two files: the caller records
// the change once it is made, and reports a failure to record it.
func (s *Store) RecordManager(ctx context.Context, a Action, before, after *User, password bool) error {
	if after == nil {
		return errors.New("config: audit log: a manager user's change without the user")
	}
	var b *managerJSON
	if before != nil {
		b = &managerJSON{UserID: before.UserID, FullName: before.FullName, Enabled: before.Enabled}
	}
	aj := &managerJSON{UserID: after.UserID, FullName: after.FullName, Enabled: after.Enabled}
	if password {
		aj.Password = "changed"
		if before == nil {
			aj.Password = "set"
		}
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.record(ctx, tx, rowChange(a, KindManager, after.ID, after.UserID, b, aj))
	})
}

func summaryJSON(m *Model) []byte {
	data, _ := json.Marshal(map[string]string{"summary": m.Summary()})
	return data
}

// recordApply records a snapshot written into the server's directory.
func (s *Store) recordApply(ctx context.Context, a Action, path, from string) error {
	info := map[string]string{"file": filepath.Base(path), "dir": filepath.Dir(path)}
	if from != "" {
		info["from"] = filepath.Base(from)
	}
	after, _ := json.Marshal(info)
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.record(ctx, tx, auditRow{action: a, entity: entityConfig, key: filepath.Base(path), after: after})
	})
}

// Audit returns the entries of the audit log that f selects, newest first,
// at most f.Limit (bounded by MaxAuditPage).
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	q, args := auditQuery(f)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("config: audit log: %w", err)
	}
	var out []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("config: audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("config: audit log: %w", err)
	}
	return out, nil
}

const auditColumns = "id, at, userid, action, entity, entity_id, key, before, after"

func auditQuery(f AuditFilter) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.User != "" {
		add("userid = ?", f.User)
	}
	if f.Entity != "" {
		add("entity = ?", string(f.Entity))
	}
	if f.EntityID != 0 {
		add("entity_id = ?", f.EntityID)
	}
	if f.Text != "" {
		pat := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(f.Text) + "%"
		add(`(key LIKE ? ESCAPE '\' OR before LIKE ? ESCAPE '\' OR after LIKE ? ESCAPE '\')`, pat, pat, pat)
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UTC().Format(auditTimeLayout))
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UTC().Format(auditTimeLayout))
	}
	if f.Before != 0 {
		add("id < ?", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditPage
	}
	limit = min(limit, MaxAuditPage)
	q := "SELECT " + auditColumns + " FROM audit"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit), args
}

func scanAudit(rows interface{ Scan(...any) error }) (AuditEntry, error) {
	var e AuditEntry
	var at, action, entity, before, after string
	if err := rows.Scan(&e.ID, &at, &e.User, &action, &entity, &e.EntityID, &e.Key, &before, &after); err != nil {
		return e, err
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return e, fmt.Errorf("entry %d: time %q: %w", e.ID, at, err)
	}
	e.At, e.Action, e.Entity = t, Action(action), Kind(entity)
	if before != "" {
		e.Before = json.RawMessage(before)
	}
	if after != "" {
		e.After = json.RawMessage(after)
	}
	return e, nil
}

// lastChange returns the newest audit entry of a row, nil when there is
// none.
func lastChange(ctx context.Context, q execer, kind Kind, id int64) (*AuditEntry, error) {
	row := q.QueryRowContext(ctx, "SELECT "+auditColumns+" FROM audit WHERE entity = ? AND entity_id = ? ORDER BY id DESC LIMIT 1", string(kind), id)
	e, err := scanAudit(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: audit log: %w", err)
	}
	return &e, nil
}
