package configurator

import (
	"context"
	"log/slog"
	"strings"

	"github.com/astcti/astcti/cti/config"
)

// Store is what the configurator needs of the working database.
// *config.Store satisfies it. Its methods are called from many request
// goroutines at once.
type Store interface {
	Model(ctx context.Context) (*config.Model, error)
	SaveSeat(ctx context.Context, seat *config.Seat) error
	DeleteSeat(ctx context.Context, id, version int64) error
}

// Users is what the configurator needs of the manager users' database.
// *config.Users satisfies it.
type Users interface {
	Check(ctx context.Context, userid, password string) (config.User, error)
	Get(ctx context.Context, userid string) (config.User, error)
	SetPassword(ctx context.Context, userid, password string) error
}

// FieldOf returns the form field (the attribute name: "mac", "interface",
// "description") a validation problem of a kind of row ("seat") belongs to,
// or "" when it belongs to the whole form. It is the seam where
// cti/config's field-level problems plug in; DefaultFieldOf reads the
// problem's text until they do.
type FieldOf func(kind string, p config.Problem) string

// DefaultFieldOf maps a problem to a field by the words of its text, as
// cti/config's validator writes them ("missing MAC", "duplicate MAC",
// "interface ...", "description ...").
func DefaultFieldOf(kind string, p config.Problem) string {
	msg := p.Msg
	if kind == "seat" {
		// The text starts with "seat NAME: " or "seat: ": the NAME is the
		// MAC and would match every rule below.
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			msg = rest
		}
		switch {
		case strings.Contains(msg, "MAC"):
			return "mac"
		case strings.Contains(msg, "interface"):
			return "interface"
		case strings.HasPrefix(msg, "description"):
			return "description"
		}
	}
	return ""
}

// Change is one change an administrator made, for the audit log: who, what
// kind of row and which, and the row before and after (nil for an
// addition's before and a removal's after).
type Change struct {
	User   string
	Kind   string // "seat"
	Action string // "add", "edit", "remove"
	Key    string // the row's key: a seat's MAC
	Before any
	After  any
}

// Auditor records changes. It is the seam of the audit log: LogAuditor,
// the default, writes them to the configurator's log; the audit table of
// cti/config plugs in here. Record is called after the change is stored;
// an error is logged and does not undo the change.
type Auditor interface {
	Record(ctx context.Context, c Change) error
}

// LogAuditor writes every change to a logger at info level.
type LogAuditor struct{ Log *slog.Logger }

// Record logs c.
func (a LogAuditor) Record(_ context.Context, c Change) error {
	a.Log.Info("configuration changed", "user", c.User, "kind", c.Kind, "action", c.Action,
		"key", c.Key, "before", c.Before, "after", c.After)
	return nil
}

// The files of the configurator's --data directory.
const (
	// WorkingFile is the working configuration database (config.Open).
	WorkingFile = "working.db"
	// UsersFile is the manager users' database (config.OpenUsers), also
	// used by `astcti user`.
	UsersFile = "users.db"
)
