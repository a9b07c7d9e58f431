package config

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// Tunables, package-level so tests can shrink them (STYLE 3).
var (
	// QueryTimeout bounds every Store and Users method.
	QueryTimeout = 10 * time.Second
)

// The configuration schema. Migration i takes a database from user_version i
// to i+1; the schema version of a database is its PRAGMA user_version and
// the current one is len(configMigrations). Adding version N+1 is one line:
// append the embedded config_vN+1.sql here (and freeze a copy of the full
// schema of that version in testdata/schema). A migration never edits an
// earlier one.
var configMigrations = []string{
	configV1,
	configV2, // services_variables.position: variables keep their declared order
	configV3, // rows' versions (stale edits refused) and the audit log
	configV4, // the audit log records manager users' changes too
}

var (
	//go:embed schema/config_v1.sql
	configV1 string
	//go:embed schema/config_v2.sql
	configV2 string
	//go:embed schema/config_v3.sql
	configV3 string
	//go:embed schema/config_v4.sql
	configV4 string
)

// SchemaVersion returns the configuration schema version this build writes
// and reads: the number of migrations.
func SchemaVersion() int { return len(configSchema.migrations) }

const (
	configAppID = 0x41535443 // 'ASTC', PRAGMA application_id of configurations
	usersAppID  = 0x41535455 // 'ASTU', PRAGMA application_id of manager users
)

// ErrSchemaTooNew is returned for a database written by a newer astcti.
var ErrSchemaTooNew = errors.New("schema version newer than this astcti supports: upgrade astcti")

// ErrNotAstcti is returned for an SQLite file that is not an astcti database
// of the expected kind.
var ErrNotAstcti = errors.New("not an astcti database")

type schemaSpec struct {
	what       string // "configuration" or "manager users"
	appID      int64
	migrations []string
}

var configSchema = schemaSpec{what: "configuration", appID: configAppID, migrations: configMigrations}

// sqlURI returns a file: URI for path with the given query, escaping what
// SQLite URIs give a meaning to.
func sqlURI(path, query string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(abs)) + "?" + query, nil
}

// rwQuery is the DSN query of read-write databases (STYLE 4).
const rwQuery = "_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// roQuery opens a snapshot file read-only and immutable: SQLite takes no
// lock, writes no journal and never modifies the file.
const roQuery = "mode=ro&immutable=1&_defensive=1"

// openRW opens (creating it if missing) a read-write database.
func openRW(path string) (*sql.DB, error) {
	dsn, err := sqlURI(path, rwQuery)
	if err != nil {
		return nil, err
	}
	return sql.Open("sqlite", dsn)
}

// openMemory opens a private in-memory database on a single connection.
func openMemory(ctx context.Context) (*sql.DB, *sql.Conn, error) {
	db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, conn, nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type beginner interface {
	execer
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// schemaVersion returns PRAGMA application_id and user_version.
func schemaVersion(ctx context.Context, q execer) (appID int64, version int, err error) {
	if err := q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, 0, err
	}
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, err
	}
	return appID, version, nil
}

// checkVersion refuses a database that is not of spec's kind or newer than
// this build. An empty database (version 0, no tables) is fine.
func checkVersion(ctx context.Context, q execer, spec schemaSpec) (int, error) {
	appID, version, err := schemaVersion(ctx, q)
	if err != nil {
		return 0, err
	}
	if version == 0 {
		var n int
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 || appID != 0 {
			return 0, fmt.Errorf("%w: an SQLite database with tables but no astcti %s schema", ErrNotAstcti, spec.what)
		}
		return 0, nil
	}
	if appID != spec.appID {
		return 0, fmt.Errorf("%w: application_id %#x is not that of an astcti %s (%#x)", ErrNotAstcti, appID, spec.what, spec.appID)
	}
	if version > len(spec.migrations) {
		return 0, fmt.Errorf("%s schema version %d, this astcti supports up to %d: %w", spec.what, version, len(spec.migrations), ErrSchemaTooNew)
	}
	return version, nil
}

// migrate brings the database up to the latest version of spec in one
// transaction, in place. A migration that rebuilds a table must follow
// SQLite's "12 steps" (https://www.sqlite.org/lang_altertable.html); the
// foreign keys are checked before the commit.
func migrate(ctx context.Context, db beginner, spec schemaSpec) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	version, err := checkVersion(ctx, tx, spec)
	if err != nil {
		return err
	}
	if version == len(spec.migrations) {
		return tx.Rollback()
	}
	for v := version; v < len(spec.migrations); v++ {
		if _, err := tx.ExecContext(ctx, spec.migrations[v]); err != nil {
			return fmt.Errorf("migrate %s schema from version %d to %d: %w", spec.what, v, v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(spec.migrations))); err != nil {
		return err
	}
	if probs, err := foreignKeyProblems(ctx, tx); err != nil {
		return err
	} else if len(probs) > 0 {
		return fmt.Errorf("migrate %s schema: %s", spec.what, probs[0].Msg)
	}
	return tx.Commit()
}

// foreignKeyProblems runs PRAGMA foreign_key_check.
func foreignKeyProblems(ctx context.Context, q execer) ([]Problem, error) {
	rows, err := q.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var probs []Problem
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return nil, err
		}
		probs = append(probs, Problem{Msg: fmt.Sprintf("table %s row %d refers to a missing row of %s", table, rowid.Int64, parent)})
	}
	return probs, rows.Err()
}

// quickCheck runs PRAGMA quick_check: a truncated or corrupt file fails here
// (or earlier) rather than half-loading.
func quickCheck(ctx context.Context, q execer) ([]Problem, error) {
	rows, err := q.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var probs []Problem
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if s != "ok" {
			probs = append(probs, Problem{Msg: "corrupt database: " + s})
		}
	}
	return probs, rows.Err()
}

// readModel reads the whole configuration. Rows whose references are broken
// are skipped here and reported by foreignKeyProblems.
func readModel(ctx context.Context, q execer) (*Model, error) {
	m := &Model{}
	rows, err := q.QueryContext(ctx, "SELECT id, version, mac, interface, description FROM seats ORDER BY mac")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var s Seat
		if err := rows.Scan(&s.ID, &s.Version, &s.MAC, &s.Interface, &s.Description); err != nil {
			rows.Close()
			return nil, err
		}
		m.Seats = append(m.Seats, s)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT o.id, o.version, o.username, o.fullname, o.password_hash, coalesce(s.mac, ''), o.enabled, o.begin_paused
		FROM operators o LEFT JOIN seats s ON s.id = o.seat_id ORDER BY o.username`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var o Operator
		if err := rows.Scan(&o.ID, &o.Version, &o.Username, &o.FullName, &o.PasswordHash, &o.Seat, &o.Enabled, &o.BeginPaused); err != nil {
			rows.Close()
			return nil, err
		}
		m.Operators = append(m.Operators, o)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT id, version, name, type, context, is_queue, queue_name, "trigger", application, param_string, enabled
		FROM services ORDER BY name`)
	if err != nil {
		return nil, err
	}
	byID := map[int64]int{}
	for rows.Next() {
		var s Service
		if err := rows.Scan(&s.ID, &s.Version, &s.Name, &s.Type, &s.Context, &s.IsQueue, &s.Queue, &s.Trigger, &s.Application, &s.Parameters, &s.Enabled); err != nil {
			rows.Close()
			return nil, err
		}
		byID[s.ID] = len(m.Services)
		m.Services = append(m.Services, s)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, "SELECT service_id, name FROM services_variables ORDER BY service_id, position, id")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := byID[id]; ok {
			m.Services[i].Variables = append(m.Services[i].Variables, name)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT so.service_id, o.username, so.penalty
		FROM services_operators so JOIN operators o ON o.id = so.operator_id ORDER BY so.service_id, o.username`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var mb Member
		if err := rows.Scan(&id, &mb.Operator, &mb.Penalty); err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := byID[id]; ok {
			m.Services[i].Members = append(m.Services[i].Members, mb)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	return m, nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeModel inserts m into empty tables, setting the IDs in m.
func writeModel(ctx context.Context, tx execer, m *Model) error {
	for i := range m.Seats {
		if err := insertSeat(ctx, tx, &m.Seats[i]); err != nil {
			return err
		}
	}
	for i := range m.Operators {
		if err := insertOperator(ctx, tx, &m.Operators[i]); err != nil {
			return err
		}
	}
	for i := range m.Services {
		if err := insertService(ctx, tx, &m.Services[i]); err != nil {
			return err
		}
	}
	return nil
}

func insertSeat(ctx context.Context, tx execer, s *Seat) error {
	err := tx.QueryRowContext(ctx, "INSERT INTO seats (mac, interface, description, version) VALUES (?, ?, ?, ?) RETURNING id, version",
		s.MAC, s.Interface, s.Description, max(s.Version, 1)).Scan(&s.ID, &s.Version)
	return dbError(err)
}

func insertOperator(ctx context.Context, tx execer, o *Operator) error {
	seatID, err := seatIDOf(ctx, tx, o.Seat)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO operators (username, fullname, password_hash, seat_id, enabled, begin_paused, version)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, version`,
		o.Username, o.FullName, o.PasswordHash, seatID, o.Enabled, o.BeginPaused, max(o.Version, 1)).Scan(&o.ID, &o.Version)
	return dbError(err)
}

func seatIDOf(ctx context.Context, tx execer, mac string) (sql.NullInt64, error) {
	if mac == "" {
		return sql.NullInt64{}, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM seats WHERE mac = ?", mac).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return sql.NullInt64{}, fmt.Errorf("seat %s: no such seat", mac)
	}
	return sql.NullInt64{Int64: id, Valid: true}, err
}

func insertService(ctx context.Context, tx execer, s *Service) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO services (name, type, context, is_queue, queue_name, "trigger", application, param_string, enabled, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, version`,
		s.Name, string(s.Type), s.Context, s.IsQueue, s.Queue, string(s.Trigger), s.Application, s.Parameters, s.Enabled, max(s.Version, 1)).Scan(&s.ID, &s.Version)
	if err != nil {
		return dbError(err)
	}
	return insertServiceChildren(ctx, tx, s)
}

func insertServiceChildren(ctx context.Context, tx execer, s *Service) error {
	for i, v := range s.Variables {
		if _, err := tx.ExecContext(ctx, "INSERT INTO services_variables (service_id, name, position) VALUES (?, ?, ?)", s.ID, v, i); err != nil {
			return dbError(err)
		}
	}
	for _, mb := range s.Members {
		res, err := tx.ExecContext(ctx, `INSERT INTO services_operators (service_id, operator_id, penalty)
			SELECT ?, id, ? FROM operators WHERE username = ?`, s.ID, mb.Penalty, mb.Operator)
		if err != nil {
			return dbError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("service %q: member %q: no such operator", s.Name, mb.Operator)
		}
	}
	return nil
}

// constraintMessages turns the names of the schema's constraints into
// messages for people. SQLite reports a failed CHECK by constraint name and a
// failed UNIQUE by table.column.
var constraintMessages = map[string]string{
	"seats.mac":                   "a seat with this MAC address already exists",
	"seat_mac_format":             "invalid MAC address (want lower-case 00:11:22:33:44:55)",
	"seats.interface":             "another seat already has this interface",
	"seat_interface_format":       "invalid interface (want TECH/resource, e.g. SIP/201)",
	"operators.username":          "an operator with this username already exists",
	"operator_username_format":    "invalid username (letters, digits and . _ @ -)",
	"operator_password_format":    "invalid password hash (want $pbkdf2-sha256$...)",
	"operator_enabled_bool":       "enabled must be 0 or 1",
	"operator_begin_paused_bool":  "begin_paused must be 0 or 1",
	"services.name":               "a service with this name already exists",
	"service_name_format":         "a service needs a name",
	"service_type_enum":           "unknown service type (inbound or outbound)",
	"service_context_format":      "invalid context (letters, digits and _ . + -)",
	"service_is_queue_bool":       "is_queue must be 0 or 1",
	"service_trigger_enum":        "unknown trigger (none, application or browser)",
	"service_enabled_bool":        "enabled must be 0 or 1",
	"service_queue_name":          "a queue service needs a valid queue name, and only a queue service has one",
	"service_outbound_no_queue":   "an outbound service cannot have a queue",
	"service_trigger_application": "a trigger needs an application",
	"services.context":            "another service without a queue already uses this context (ambiguous)",
	"services.queue_name":         "another service already uses this queue",
	"variable_name_format":        "invalid variable name (letters, digits and _)",
	"services_variables.service_id, services_variables.name":        "the service already has this variable",
	"services_operators.service_id, services_operators.operator_id": "the operator is already a member of the service",
	"member_penalty_range": "penalty must be between 0 and 2147483647",
	"users.userid":         "a manager user with this userid already exists",
	"user_userid_format":   "invalid userid (letters, digits and . _ @ -)",
	"user_password_bcrypt": "invalid password hash (want bcrypt)",
	"user_enabled_bool":    "enabled must be 0 or 1",
	"FOREIGN KEY":          "refers to a seat, operator or service that does not exist",
}

// ConstraintError is a write refused by a constraint of the schema.
type ConstraintError struct {
	// Constraint is the constraint's name, or table.column for UNIQUE.
	Constraint string
	// Msg says what is wrong, for people.
	Msg string
	Err error
}

func (e *ConstraintError) Error() string { return e.Msg + " (" + e.Constraint + ")" }
func (e *ConstraintError) Unwrap() error { return e.Err }

var constraintRE = regexp.MustCompile(`(UNIQUE|CHECK|NOT NULL|FOREIGN KEY|PRIMARY KEY) constraint failed(?:: (.+?))?(?: \(\d+\))?$`)

// dbError translates SQLite constraint failures into *ConstraintError.
func dbError(err error) error {
	if err == nil {
		return nil
	}
	m := constraintRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	kind, name := m[1], m[2]
	if kind == "NOT NULL" {
		return &ConstraintError{Constraint: name, Msg: name + ": a required value is missing", Err: err}
	}
	if name == "" {
		name = kind
	}
	if msg, ok := constraintMessages[name]; ok {
		return &ConstraintError{Constraint: name, Msg: msg, Err: err}
	}
	return &ConstraintError{Constraint: name, Msg: strings.ToLower(kind) + " constraint " + name + " failed", Err: err}
}
