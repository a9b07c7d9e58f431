package config

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNotFound is returned when a row to update, delete or get does not
// exist.
var ErrNotFound = errors.New("config: not found")

// Store is the configurator's working database: an SQLite file edited row
// by row, upgraded in place to the current schema when opened. The server
// never opens it; Apply writes a snapshot of it into the server's directory.
// Every method takes a context and is bounded by QueryTimeout. It is safe to
// use from any goroutine.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens or creates the working database at path and migrates it to
// the current schema. A file of a newer schema (ErrSchemaTooNew) or one that
// is not an astcti configuration (ErrNotAstcti) is refused.
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
	return &Store{db: db, path: path}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database's file name.
func (s *Store) Path() string { return s.path }

// Model reads the whole configuration, IDs included, sorted by keys (a
// service's variables in their declared order).
func (s *Store) Model(ctx context.Context) (*Model, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return readModel(ctx, tx)
}

// Replace validates m and replaces the whole configuration with it, in one
// transaction. m is not modified.
func (s *Store) Replace(ctx context.Context, m *Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range []string{"services_operators", "services_variables", "services", "operators", "seats"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		c := m.Clone()
		c.ClearIDs()
		return writeModel(ctx, tx, c)
	})
}

func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func problemsError(v *validator) error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

// SaveSeat inserts seat (ID 0, and sets its ID) or updates the seat of its
// ID. The MAC may be in any accepted form; it is stored canonical.
func (s *Store) SaveSeat(ctx context.Context, seat *Seat) error {
	if mac, err := NormalizeMAC(seat.MAC); err == nil {
		seat.MAC = mac
	}
	v := &validator{}
	v.seat(ref{kind: refSeat}, *seat)
	if err := problemsError(v); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if seat.ID == 0 {
			return insertSeat(ctx, tx, seat)
		}
		res, err := tx.ExecContext(ctx, "UPDATE seats SET mac = ?, interface = ?, description = ? WHERE id = ?",
			seat.MAC, seat.Interface, seat.Description, seat.ID)
		return updated(res, err, "seat", seat.ID)
	})
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

// DeleteSeat deletes a seat. Operators whose fixed seat it was keep no
// fixed seat.
func (s *Store) DeleteSeat(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM seats WHERE id = ?", id)
		return updated(res, err, "seat", id)
	})
}

// SaveOperator inserts o (ID 0, and sets its ID) or updates the operator of
// its ID. Set the password with Operator.SetPassword first.
func (s *Store) SaveOperator(ctx context.Context, o *Operator) error {
	if o.Seat != "" {
		if mac, err := NormalizeMAC(o.Seat); err == nil {
			o.Seat = mac
		}
	}
	v := &validator{}
	v.operator(ref{kind: refOperator}, *o)
	if err := problemsError(v); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if o.ID == 0 {
			return insertOperator(ctx, tx, o)
		}
		seatID, err := seatIDOf(ctx, tx, o.Seat)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE operators SET username = ?, fullname = ?, password_hash = ?, seat_id = ?,
			enabled = ?, begin_paused = ? WHERE id = ?`,
			o.Username, o.FullName, o.PasswordHash, seatID, o.Enabled, o.BeginPaused, o.ID)
		return updated(res, err, "operator", o.ID)
	})
}

// DeleteOperator deletes an operator and its memberships.
func (s *Store) DeleteOperator(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM operators WHERE id = ?", id)
		return updated(res, err, "operator", id)
	})
}

// SaveService inserts svc (ID 0, and sets its ID) or updates the service of
// its ID, replacing its variables and members. Members name operators by
// username.
func (s *Store) SaveService(ctx context.Context, svc *Service) error {
	v := &validator{}
	v.service(0, *svc, nil)
	if err := problemsError(v); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if svc.ID == 0 {
			return insertService(ctx, tx, svc)
		}
		res, err := tx.ExecContext(ctx, `UPDATE services SET name = ?, type = ?, context = ?, is_queue = ?, queue_name = ?,
			"trigger" = ?, application = ?, param_string = ?, enabled = ? WHERE id = ?`,
			svc.Name, string(svc.Type), svc.Context, svc.IsQueue, svc.Queue, string(svc.Trigger),
			svc.Application, svc.Parameters, svc.Enabled, svc.ID)
		if err := updated(res, err, "service", svc.ID); err != nil {
			return err
		}
		for _, t := range []string{"services_variables", "services_operators"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE service_id = ?", svc.ID); err != nil {
				return err
			}
		}
		return insertServiceChildren(ctx, tx, svc)
	})
}

// DeleteService deletes a service with its variables and memberships.
func (s *Store) DeleteService(ctx context.Context, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM services WHERE id = ?", id)
		return updated(res, err, "service", id)
	})
}

// Apply writes a snapshot of the working database into the server's
// configuration directory dir (VACUUM INTO a temporary name, then rename)
// and returns its path. The snapshot is validated as the server would
// (ReadFile) before it is renamed into place: an invalid configuration is
// refused and nothing appears in dir.
func (s *Store) Apply(ctx context.Context, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	return vacuumInto(ctx, s.db, dir)
}
