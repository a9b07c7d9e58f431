package config

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Manager users are the configurator's logins. They live in
// their own SQLite file, separate from the configuration, and never reach
// the server or a snapshot. Their passwords are bcrypt hashes: a web login
// can afford bcrypt's cost, unlike the seat login storm.

var usersMigrations = []string{
	usersV1,
}

//go:embed schema/users_v1.sql
var usersV1 string

var usersSchema = schemaSpec{what: "manager users", appID: usersAppID, migrations: usersMigrations}

// BcryptCost is the bcrypt cost of new manager passwords.
var BcryptCost = bcrypt.DefaultCost

// MinManagerPassword is the shortest manager password accepted, in characters.
const MinManagerPassword = 8

// ErrBadLogin is returned by Users.Check for an unknown userid, a wrong
// password or a disabled user alike, so a caller cannot tell which.
var ErrBadLogin = errors.New("config: wrong userid or password")

// User is a manager user. Its password hash never leaves the package.
type User struct {
	ID       int64
	UserID   string
	FullName string
	Created  time.Time
	Enabled  bool
}

// Users is the manager users' database. It is safe to use from any
// goroutine; every method is bounded by QueryTimeout.
type Users struct {
	db *sql.DB
}

// OpenUsers opens or creates the manager users' database at path and
// migrates it to the current schema.
func OpenUsers(ctx context.Context, path string) (*Users, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	db, err := openRW(path)
	if err != nil {
		return nil, fmt.Errorf("config: open %s: %w", path, err)
	}
	if err := migrate(ctx, db, usersSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("config: open %s: %w", path, err)
	}
	return &Users{db: db}, nil
}

// Close closes the database.
func (u *Users) Close() error { return u.db.Close() }

func checkManagerPassword(password string) error {
	if utf8.RuneCountInString(password) < MinManagerPassword {
		return fmt.Errorf("config: password shorter than %d characters", MinManagerPassword)
	}
	if len(password) > 72 {
		return errors.New("config: password longer than 72 bytes (bcrypt's limit)")
	}
	return nil
}

func checkUser(userid, fullname string) error {
	if userid == "" || len(userid) > 64 || !usernameRE.MatchString(userid) {
		return fmt.Errorf("config: invalid userid %q (letters, digits and . _ @ -, at most 64)", userid)
	}
	if err := checkText(fullname, 128); err != nil {
		return fmt.Errorf("config: full name %w", err)
	}
	return nil
}

// Create adds an enabled manager user.
func (u *Users) Create(ctx context.Context, userid, fullname, password string) (User, error) {
	if err := checkUser(userid, fullname); err != nil {
		return User{}, err
	}
	if err := checkManagerPassword(password); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return User{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	usr := User{UserID: userid, FullName: fullname, Created: time.Now().UTC().Truncate(time.Second), Enabled: true}
	err = u.db.QueryRowContext(ctx, `INSERT INTO users (userid, fullname, password_hash, created_at, enabled)
		VALUES (?, ?, ?, ?, 1) RETURNING id`, userid, fullname, string(hash), usr.Created.Format(time.RFC3339)).Scan(&usr.ID)
	if err != nil {
		return User{}, dbError(err)
	}
	return usr, nil
}

const userColumns = "id, userid, fullname, created_at, enabled"

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var usr User
	var created string
	if err := row.Scan(&usr.ID, &usr.UserID, &usr.FullName, &created, &usr.Enabled); err != nil {
		return User{}, err
	}
	usr.Created, _ = time.Parse(time.RFC3339, created)
	return usr, nil
}

// List returns every manager user, sorted by userid.
func (u *Users) List(ctx context.Context) ([]User, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	rows, err := u.db.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY userid")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		usr, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, usr)
	}
	return users, rows.Err()
}

// Get returns the manager user of userid, or ErrNotFound.
func (u *Users) Get(ctx context.Context, userid string) (User, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	usr, err := scanUser(u.db.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE userid = ?", userid))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("manager user %q: %w", userid, ErrNotFound)
	}
	return usr, err
}

// Update sets the full name and the enabled flag of the user of usr.UserID.
func (u *Users) Update(ctx context.Context, usr User) error {
	if err := checkUser(usr.UserID, usr.FullName); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	res, err := u.db.ExecContext(ctx, "UPDATE users SET fullname = ?, enabled = ? WHERE userid = ?", usr.FullName, usr.Enabled, usr.UserID)
	return updatedUser(res, err, usr.UserID)
}

func updatedUser(res sql.Result, err error, userid string) error {
	if err != nil {
		return dbError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("manager user %q: %w", userid, ErrNotFound)
	}
	return nil
}

// SetPassword sets a manager user's password.
func (u *Users) SetPassword(ctx context.Context, userid, password string) error {
	if err := checkManagerPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	res, err := u.db.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE userid = ?", string(hash), userid)
	return updatedUser(res, err, userid)
}

// Disable disables a manager user: it can no longer log in.
func (u *Users) Disable(ctx context.Context, userid string) error {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	res, err := u.db.ExecContext(ctx, "UPDATE users SET enabled = 0 WHERE userid = ?", userid)
	return updatedUser(res, err, userid)
}

var (
	dummyOnce sync.Once
	dummyHash []byte
)

// Check returns the user if userid and password are those of an enabled
// manager user, or ErrBadLogin. An unknown userid costs a bcrypt comparison
// too, so timing does not tell which userids exist.
func (u *Users) Check(ctx context.Context, userid, password string) (User, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	var hash string
	row := u.db.QueryRowContext(ctx, "SELECT password_hash, "+userColumns+" FROM users WHERE userid = ?", userid)
	var usr User
	var created string
	err := row.Scan(&hash, &usr.ID, &usr.UserID, &usr.FullName, &created, &usr.Enabled)
	if errors.Is(err, sql.ErrNoRows) {
		dummyOnce.Do(func() {
			dummyHash, _ = bcrypt.GenerateFromPassword([]byte("astcti dummy password"), BcryptCost)
		})
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return User{}, ErrBadLogin
	}
	if err != nil {
		return User{}, err
	}
	usr.Created, _ = time.Parse(time.RFC3339, created)
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !usr.Enabled {
		return User{}, ErrBadLogin
	}
	return usr, nil
}
