package configurator

import (
	"context"

	"github.com/astcti/astcti/cti/config"
)

// Users is what the configurator needs of the manager users' database.
// *config.Users satisfies it.
type Users interface {
	Check(ctx context.Context, userid, password string) (config.User, error)
	Get(ctx context.Context, userid string) (config.User, error)
	SetPassword(ctx context.Context, userid, password string) error
	// List and As are the manager users module's: its changes are made
	// as the logged-in user, whom the database records with each row.
	List(ctx context.Context) ([]config.User, error)
	As(who string) *config.Users
}

// The files of the configurator's --data directory.
const (
	// WorkingFile is the working configuration database (config.Open).
	WorkingFile = "working.db"
	// UsersFile is the manager users' database (config.OpenUsers), also
	// used by `astcti user`.
	UsersFile = "users.db"
)
