package config

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrNotFound is returned when a row to update, delete or get does not
// exist.
var ErrNotFound = errors.New("config: not found")

// ErrStale is returned (inside a *StaleError) by a save or delete that names
// a version of the row older than the stored one: someone else changed or
// removed the row since it was read. The caller reads the row again and
// shows it; nothing was written.
var ErrStale = errors.New("config: changed by someone else since it was read")

// StaleError is a save or delete refused because the row changed since it
// was read. errors.Is(err, ErrStale) holds; for a row removed since,
// errors.Is(err, ErrNotFound) holds too.
type StaleError struct {
	Kind Kind
	ID   int64
	// Key is the row's key as stored (MAC, username, service name).
	Key string
	// Version is the version the caller read; Current the stored one, 0
	// when the row was removed.
	Version, Current int64
	Removed          bool
	// By and At are who made the last change and when, from the audit log;
	// empty when it does not say.
	By string
	At time.Time
}

func (e *StaleError) Error() string {
	what := "changed"
	if e.Removed {
		what = "removed"
	}
	kind := string(e.Kind)
	if e.Kind == KindManager {
		kind = "manager user"
	}
	msg := fmt.Sprintf("%s %s was %s", kind, e.Key, what)
	if e.Key == "" {
		msg = fmt.Sprintf("%s %d was %s", kind, e.ID, what)
	}
	if !e.At.IsZero() {
		by := e.By
		if by == "" {
			by = "a program"
		}
		msg += fmt.Sprintf(" by %s at %s", by, e.At.UTC().Format(time.RFC3339))
	}
	return "config: " + msg + " since you read it (version " + fmt.Sprint(e.Version) + "): reload it and make your change again"
}

// Unwrap makes errors.Is see ErrStale, and ErrNotFound for a removed row.
func (e *StaleError) Unwrap() []error {
	if e.Removed {
		return []error{ErrStale, ErrNotFound}
	}
	return []error{ErrStale}
}

// Store is the configurator's working database: an SQLite file edited row
// by row, upgraded in place to the current schema when opened. The server
// never opens it; Apply writes a snapshot of it into the server's directory.
//
// Every change is checked against the whole configuration (Model.Validate,
// with the row saved last), is refused with ErrStale when the row changed
// since it was read (its Version), and is recorded in the audit log with
// who made it (As), when, and the row before and after. Every method takes
// a context and is bounded by QueryTimeout. It is safe to use from any
// goroutine; writes are serialized by SQLite's immediate transactions.
type Store struct {
	db   *sql.DB
	path string
	user string
	now  func() time.Time
}

// Open opens or creates the working database at path and migrates it to
// the current schema. A file of a newer schema (ErrSchemaTooNew) or one that
// is not an astcti configuration (ErrNotAstcti) is refused. Its changes are
// recorded as made by "" (a program); the configurator uses As.
func Open(ctx context.Context, path string) (*Store, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	db, err := openRW(path)
	if err != nil {
		return nil, fmt.Errorf("config: open %s: %w", path, err)
	}
	if err := migrate(ctx, db, configSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("config: open %s: %w", path, err)
	}
	return &Store{db: db, path: path, now: time.Now}, nil
}

// As returns a view of the store whose changes the audit log records as
// made by userid, the manager user logged in. The view shares the database:
// close the Store, not its views. It is cheap; make one per request.
func (s *Store) As(userid string) *Store {
	c := *s
	c.user = userid
	return &c
}

// User returns the userid the store's changes are recorded as made by.
func (s *Store) User() string { return s.user }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database's file name.
func (s *Store) Path() string { return s.path }

// Model reads the whole configuration, IDs and versions included, sorted
// by keys (a service's variables in their declared order).
func (s *Store) Model(ctx context.Context) (*Model, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("config: read: %w", err)
	}
	defer tx.Rollback()
	m, err := readModel(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("config: read: %w", err)
	}
	return m, nil
}

// Replace validates m and replaces the whole configuration with it, in one
// transaction, as an import: rows get new IDs, and the audit log records
// the sizes of the configuration before and after. m is not modified.
func (s *Store) Replace(ctx context.Context, m *Model) error {
	return s.replaceWith(ctx, m, func(before *Model) auditRow {
		return auditRow{action: ActionImport, entity: entityConfig, before: summaryJSON(before), after: summaryJSON(m)}
	})
}

// tx runs f in one immediate transaction bounded by QueryTimeout.
func (s *Store) tx(ctx context.Context, f func(context.Context, *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer tx.Rollback()
	if err := f(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("config: commit: %w", err)
	}
	return nil
}

func updated(res sql.Result, err error, what string, id int64) error {
	if err != nil {
		return dbError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%s %d: %w", what, id, ErrNotFound)
	}
	return nil
}

// checkChange validates after, the stored model with one row changed
// (placed last of its kind, at index idx), and returns the problems of that
// row and those the change causes elsewhere; problems the stored rows
// already had are not the change's (they were written behind the Store's
// back, or by an older astcti).
func checkChange(before, after *Model, kind Kind, idx int) error {
	was := map[Problem]bool{}
	for _, p := range storedProblems(before) {
		was[problemKey(p)] = true
	}
	var out []Problem
	for _, p := range storedProblems(after) {
		mine := p.Index == idx && (p.Kind == kind || kind == KindService && (p.Kind == KindVariable || p.Kind == KindMember))
		if mine || !was[problemKey(p)] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &ValidationError{Problems: out}
}

func storedProblems(m *Model) []Problem {
	v := &validator{m: m, stored: true}
	v.model(m)
	return v.problems
}

// problemKey identifies a problem across two models whose rows moved.
func problemKey(p Problem) Problem {
	return Problem{Msg: p.Msg, Kind: p.Kind, Sub: p.Sub, ID: p.ID, Field: p.Field}
}

// stale returns the error of a save or delete of a row that is not at the
// version read: ErrNotFound for a row that never existed, a *StaleError
// for one changed or removed since.
func (s *Store) stale(ctx context.Context, tx *sql.Tx, kind Kind, id, version, current int64, key string) error {
	e := &StaleError{Kind: kind, ID: id, Key: key, Version: version, Current: current, Removed: current == 0}
	last, err := lastChange(ctx, tx, kind, id)
	if err != nil {
		return err
	}
	if last != nil {
		e.By, e.At = last.User, last.At
		if e.Key == "" {
			e.Key = last.Key
		}
	} else if e.Removed {
		return fmt.Errorf("%s %d: %w", kind, id, ErrNotFound)
	}
	return e
}

// SaveSeat inserts seat (ID 0, and sets its ID and Version) or updates the
// seat of its ID, which must be at seat.Version (ErrStale otherwise), and
// sets the new Version. The MAC may be in any accepted form; it is stored
// canonical. A *ValidationError lists what is wrong, field by field;
// nothing is written then.
func (s *Store) SaveSeat(ctx context.Context, seat *Seat) error {
	c := *seat
	if mac, err := NormalizeMAC(c.MAC); err == nil {
		c.MAC = mac
	}
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		m, err := readModel(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(m.Seats, func(x Seat) bool { return x.ID == c.ID })
		var old *Seat
		if c.ID != 0 {
			if i < 0 {
				return s.stale(ctx, tx, KindSeat, c.ID, c.Version, 0, "")
			}
			old = &m.Seats[i]
			if old.Version != c.Version {
				return s.stale(ctx, tx, KindSeat, c.ID, c.Version, old.Version, old.MAC)
			}
		}
		after := m.Clone()
		if i >= 0 {
			after.Seats = slices.Delete(after.Seats, i, i+1)
			for j := range after.Operators {
				if after.Operators[j].Seat == old.MAC {
					after.Operators[j].Seat = c.MAC
				}
			}
		}
		after.Seats = append(after.Seats, c)
		if err := checkChange(m, after, KindSeat, len(after.Seats)-1); err != nil {
			return err
		}
		return s.writeSeat(ctx, tx, &c, old)
	})
	if err != nil {
		return constraintProblem(err, KindSeat, c.ID, "seat "+c.MAC)
	}
	*seat = c
	return nil
}

func (s *Store) writeSeat(ctx context.Context, tx *sql.Tx, c *Seat, old *Seat) error {
	var err error
	if c.Version, err = nextVersion(ctx, tx); err != nil {
		return err
	}
	if old == nil {
		if err := insertSeat(ctx, tx, c); err != nil {
			return err
		}
		return s.record(ctx, tx, rowChange(ActionAdd, KindSeat, c.ID, c.MAC, nil, c))
	}
	_, err = tx.ExecContext(ctx, "UPDATE seats SET mac = ?, interface = ?, description = ?, version = ? WHERE id = ?",
		c.MAC, c.Interface, c.Description, c.Version, c.ID)
	if err != nil {
		return dbError(err)
	}
	if old.MAC != c.MAC {
		// The operators of this fixed seat read differently now.
		if _, err := tx.ExecContext(ctx, "UPDATE operators SET version = ? WHERE seat_id = ?", c.Version, c.ID); err != nil {
			return err
		}
	}
	return s.record(ctx, tx, rowChange(ActionEdit, KindSeat, c.ID, c.MAC, old, c))
}

// DeleteSeat deletes the seat of id, which must be at version (ErrStale
// otherwise). Operators whose fixed seat it was keep no fixed seat (see
// Dependents).
func (s *Store) DeleteSeat(ctx context.Context, id, version int64) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		m, err := readModel(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(m.Seats, func(x Seat) bool { return x.ID == id })
		if i < 0 {
			return s.stale(ctx, tx, KindSeat, id, version, 0, "")
		}
		old := m.Seats[i]
		if old.Version != version {
			return s.stale(ctx, tx, KindSeat, id, version, old.Version, old.MAC)
		}
		v, err := nextVersion(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE operators SET version = ? WHERE seat_id = ?", v, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM seats WHERE id = ?", id)
		if err := updated(res, err, "seat", id); err != nil {
			return err
		}
		return s.record(ctx, tx, rowChange(ActionRemove, KindSeat, id, old.MAC, &old, nil))
	})
}

// SaveOperator inserts o (ID 0, and sets its ID and Version) or updates the
// operator of its ID at o.Version, as SaveSeat does. Set the password with
// Operator.SetPassword first. Renaming an operator renames its memberships.
func (s *Store) SaveOperator(ctx context.Context, o *Operator) error {
	c := *o
	if c.Seat != "" {
		if mac, err := NormalizeMAC(c.Seat); err == nil {
			c.Seat = mac
		}
	}
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		m, err := readModel(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(m.Operators, func(x Operator) bool { return x.ID == c.ID })
		var old *Operator
		if c.ID != 0 {
			if i < 0 {
				return s.stale(ctx, tx, KindOperator, c.ID, c.Version, 0, "")
			}
			old = &m.Operators[i]
			if old.Version != c.Version {
				return s.stale(ctx, tx, KindOperator, c.ID, c.Version, old.Version, old.Username)
			}
		}
		after := m.Clone()
		if i >= 0 {
			after.Operators = slices.Delete(after.Operators, i, i+1)
			renameMember(after, old.Username, c.Username)
		}
		after.Operators = append(after.Operators, c)
		if err := checkChange(m, after, KindOperator, len(after.Operators)-1); err != nil {
			return err
		}
		return s.writeOperator(ctx, tx, &c, old)
	})
	if err != nil {
		return constraintProblem(err, KindOperator, c.ID, fmt.Sprintf("operator %q", c.Username))
	}
	*o = c
	return nil
}

func renameMember(m *Model, from, to string) {
	for i := range m.Services {
		for j := range m.Services[i].Members {
			if m.Services[i].Members[j].Operator == from {
				m.Services[i].Members[j].Operator = to
			}
		}
	}
}

func (s *Store) writeOperator(ctx context.Context, tx *sql.Tx, c *Operator, old *Operator) error {
	var err error
	if c.Version, err = nextVersion(ctx, tx); err != nil {
		return err
	}
	if old == nil {
		if err := insertOperator(ctx, tx, c); err != nil {
			return err
		}
		return s.record(ctx, tx, rowChange(ActionAdd, KindOperator, c.ID, c.Username, nil, c))
	}
	seatID, err := seatIDOf(ctx, tx, c.Seat)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE operators SET username = ?, fullname = ?, password_hash = ?, seat_id = ?,
		enabled = ?, begin_paused = ?, version = ? WHERE id = ?`,
		c.Username, c.FullName, c.PasswordHash, seatID, c.Enabled, c.BeginPaused, c.Version, c.ID)
	if err != nil {
		return dbError(err)
	}
	if old.Username != c.Username {
		if err := bumpServicesOf(ctx, tx, c.ID, c.Version); err != nil {
			return err
		}
	}
	return s.record(ctx, tx, rowChange(ActionEdit, KindOperator, c.ID, c.Username, old, c))
}

// bumpServicesOf bumps the version of the services an operator is a member
// of: their members read differently once it is renamed or removed.
func bumpServicesOf(ctx context.Context, tx *sql.Tx, operatorID, version int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE services SET version = ?
		WHERE id IN (SELECT service_id FROM services_operators WHERE operator_id = ?)`, version, operatorID)
	return err
}

// DeleteOperator deletes the operator of id at version, and its memberships
// (see Dependents).
func (s *Store) DeleteOperator(ctx context.Context, id, version int64) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		m, err := readModel(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(m.Operators, func(x Operator) bool { return x.ID == id })
		if i < 0 {
			return s.stale(ctx, tx, KindOperator, id, version, 0, "")
		}
		old := m.Operators[i]
		if old.Version != version {
			return s.stale(ctx, tx, KindOperator, id, version, old.Version, old.Username)
		}
		v, err := nextVersion(ctx, tx)
		if err != nil {
			return err
		}
		if err := bumpServicesOf(ctx, tx, id, v); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM operators WHERE id = ?", id)
		if err := updated(res, err, "operator", id); err != nil {
			return err
		}
		return s.record(ctx, tx, rowChange(ActionRemove, KindOperator, id, old.Username, &old, nil))
	})
}

// SaveService inserts svc (ID 0, and sets its ID and Version) or updates the
// service of its ID at svc.Version, as SaveSeat does, replacing its
// variables and members. Members name operators by username.
func (s *Store) SaveService(ctx context.Context, svc *Service) error {
	c := *svc
	c.Variables, c.Members = slices.Clone(c.Variables), slices.Clone(c.Members)
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		m, err := readModel(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(m.Services, func(x Service) bool { return x.ID == c.ID })
		var old *Service
		if c.ID != 0 {
			if i < 0 {
				return s.stale(ctx, tx, KindService, c.ID, c.Version, 0, "")
			}
			old = &m.Services[i]
			if old.Version != c.Version {
				return s.stale(ctx, tx, KindService, c.ID, c.Version, old.Version, old.Name)
			}
		}
		after := m.Clone()
		if i >= 0 {
			after.Services = slices.Delete(after.Services, i, i+1)
		}
		after.Services = append(after.Services, c)
		if err := checkChange(m, after, KindService, len(after.Services)-1); err != nil {
			return err
		}
		return s.writeService(ctx, tx, &c, old)
	})
	if err != nil {
		return constraintProblem(err, KindService, c.ID, fmt.Sprintf("service %q", c.Name))
	}
	*svc = c
	return nil
}

func (s *Store) writeService(ctx context.Context, tx *sql.Tx, c *Service, old *Service) error {
	var err error
	if c.Version, err = nextVersion(ctx, tx); err != nil {
		return err
	}
	if old == nil {
		if err := insertService(ctx, tx, c); err != nil {
			return err
		}
		return s.record(ctx, tx, rowChange(ActionAdd, KindService, c.ID, c.Name, nil, c))
	}
	_, err = tx.ExecContext(ctx, `UPDATE services SET name = ?, type = ?, context = ?, is_queue = ?, queue_name = ?,
		"trigger" = ?, application = ?, param_string = ?, enabled = ?, version = ? WHERE id = ?`,
		c.Name, string(c.Type), c.Context, c.IsQueue, c.Queue, string(c.Trigger),
		c.Application, c.Parameters, c.Enabled, c.Version, c.ID)
	if err != nil {
		return dbError(err)
	}
	for _, t := range []string{"services_variables", "services_operators"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE service_id = ?", c.ID); err != nil {
			return err
		}
	}
	if err := insertServiceChildren(ctx, tx, c); err != nil {
		return err
	}
	return s.record(ctx, tx, rowChange(ActionEdit, KindService, c.ID, c.Name, old, c))
}

// DeleteService deletes the service of id at version, with its variables
// and memberships.
func (s *Store) DeleteService(ctx context.Context, id, version int64) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		m, err := readModel(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(m.Services, func(x Service) bool { return x.ID == id })
		if i < 0 {
			return s.stale(ctx, tx, KindService, id, version, 0, "")
		}
		old := m.Services[i]
		if old.Version != version {
			return s.stale(ctx, tx, KindService, id, version, old.Version, old.Name)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM services WHERE id = ?", id)
		if err := updated(res, err, "service", id); err != nil {
			return err
		}
		return s.record(ctx, tx, rowChange(ActionRemove, KindService, id, old.Name, &old, nil))
	})
}

// Apply writes a snapshot of the working database into the server's
// configuration directory dir (VACUUM INTO a temporary name, then rename)
// and returns its path. The snapshot is validated as the server would
// (ReadFile) before it is renamed into place: an invalid configuration is
// refused and nothing appears in dir. The snapshot carries no audit log;
// the store's log records the apply (Snapshots reads it back).
func (s *Store) Apply(ctx context.Context, dir string) (string, error) {
	return s.ApplyIf(ctx, dir, nil)
}

// ApplyIf is Apply, with check (when not nil) called with the
// configuration exactly as written, before the snapshot is put in place:
// an error of check refuses the snapshot, nothing appears in dir, no apply
// is recorded, and ApplyIf returns that error. So a caller that showed a
// configuration can make sure that what is applied is what it showed,
// whatever was saved meanwhile.
func (s *Store) ApplyIf(ctx context.Context, dir string, check func(*Model) error) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	path, err := vacuumInto(ctx, s.db, dir, check)
	if err != nil {
		return "", err
	}
	if err := s.recordApply(ctx, ActionApply, path, ""); err != nil {
		return path, err
	}
	return path, nil
}

// nextVersion returns the version the rows a change writes get: the id its
// audit entry will have. Versions thus only grow, across the rows of every
// table and across removals, so a row that reuses a removed row's id (SQLite
// reuses the greatest rowid once freed) never has a version a stale form
// could hold, and a row's version names the audit entry of its last change.
func nextVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) + 1 FROM audit").Scan(&v); err != nil {
		return 0, fmt.Errorf("config: audit log: %w", err)
	}
	// Rows migrated from schema version 2 have version 1: stay above it.
	return max(v, 2), nil
}

// setVersions gives every row of m the version of the change writing it.
func setVersions(ctx context.Context, tx *sql.Tx, m *Model) error {
	v, err := nextVersion(ctx, tx)
	if err != nil {
		return err
	}
	for i := range m.Seats {
		m.Seats[i].Version = v
	}
	for i := range m.Operators {
		m.Operators[i].Version = v
	}
	for i := range m.Services {
		m.Services[i].Version = v
	}
	return nil
}

// constraintFields maps the schema's constraints to the field they guard.
var constraintFields = map[string]string{
	"seats.mac": "mac", "seat_mac_format": "mac",
	"seats.interface": "interface", "seat_interface_format": "interface",
	"operators.username": "username", "operator_username_format": "username",
	"operator_password_format": "password-hash", "FOREIGN KEY": "",
	"services.name": "name", "service_name_format": "name", "service_type_enum": "type",
	"services.context": "context", "service_context_format": "context",
	"services.queue_name": "queue", "service_queue_name": "queue", "service_outbound_no_queue": "queue",
	"service_trigger_enum": "trigger", "service_trigger_application": "application",
}

// constraintProblem turns a write the schema refused, which validation
// should have refused first, into a problem of the saved row's field, so
// that a form shows it like any other; other errors pass unchanged.
func constraintProblem(err error, kind Kind, id int64, item string) error {
	var ce *ConstraintError
	if !errors.As(err, &ce) {
		return err
	}
	field, ok := constraintFields[ce.Constraint]
	if !ok {
		return err
	}
	return &ValidationError{Problems: []Problem{{Msg: item + ": " + ce.Msg, Kind: kind, ID: id, Field: field}}}
}
