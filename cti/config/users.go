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
	usersV2, // rows' versions (stale edits refused), who changed them when
}

var (
	//go:embed schema/users_v1.sql
	usersV1 string
	//go:embed schema/users_v2.sql
	usersV2 string
)

var usersSchema = schemaSpec{what: "manager users", appID: usersAppID, migrations: usersMigrations}

// BcryptCost is the bcrypt cost of new manager passwords.
var BcryptCost = bcrypt.DefaultCost

// MinManagerPassword is the shortest manager password accepted, in characters.
const MinManagerPassword = 8

// KindManager is the kind of the problems, stale errors and audit entries
// about manager users.
const KindManager Kind = "manager"

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
	// Version is the version of the row's last change: Save refuses a
	// row whose Version is not the stored one (ErrStale). Changed and
	// ChangedBy are when and by whom (Users.As) that change was made.
	Version   int64
	Changed   time.Time
	ChangedBy string
	// PasswordChanged is when the password was last set (zero for a
	// password set before schema version 2): a session opened before a
	// new one must end.
	PasswordChanged time.Time
}

// Users is the manager users' database. It is safe to use from any
// goroutine; every method is bounded by QueryTimeout.
type Users struct {
	db *sql.DB
	by string
}

// OpenUsers opens or creates the manager users' database at path and
// migrates it to the current schema. Its changes are recorded as made by
// "" (unknown); see As.
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

// As returns a view of the database whose changes are recorded (User's
// ChangedBy, named by a refused stale edit) as made by who: the manager
// user logged in, or "shell:<os user>" for `astcti user`. The view shares
// the database: close the Users, not its views.
func (u *Users) As(who string) *Users {
	c := *u
	c.by = who
	return &c
}

// Close closes the database.
func (u *Users) Close() error { return u.db.Close() }

func passwordProblem(password string) *Problem {
	switch {
	case utf8.RuneCountInString(password) < MinManagerPassword:
		return &Problem{Kind: KindManager, Field: "password", Msg: fmt.Sprintf("password shorter than %d characters", MinManagerPassword)}
	case len(password) > 72:
		return &Problem{Kind: KindManager, Field: "password", Msg: "password longer than 72 bytes (bcrypt's limit)"}
	}
	return nil
}

func userProblems(userid, fullname string) []Problem {
	var out []Problem
	if userid == "" || len(userid) > 64 || !usernameRE.MatchString(userid) {
		out = append(out, Problem{Kind: KindManager, Field: "userid",
			Msg: fmt.Sprintf("invalid userid %q (letters, digits and . _ @ -, at most 64)", userid)})
	}
	if err := checkText(fullname, 128); err != nil {
		out = append(out, Problem{Kind: KindManager, Field: "fullname", Msg: "full name " + err.Error()})
	}
	return out
}

// refused is the *ValidationError of problems, nil for none.
func refused(problems []Problem, pw *Problem) error {
	if pw != nil {
		problems = append(problems, *pw)
	}
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems}
}

func (u *Users) hash(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	return string(hash), err
}

// changeTime is the time of a change, as stored.
func changeTime() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

const userTimeLayout = time.RFC3339Nano

func formatUserTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(userTimeLayout)
}

// Create adds an enabled manager user. A *ValidationError lists what is
// wrong, field by field (Kind KindManager, Field "userid", "fullname" or
// "password"); a userid taken is a *ConstraintError of "users.userid".
func (u *Users) Create(ctx context.Context, userid, fullname, password string) (User, error) {
	if err := refused(userProblems(userid, fullname), passwordProblem(password)); err != nil {
		return User{}, err
	}
	hash, err := u.hash(password)
	if err != nil {
		return User{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	now := changeTime()
	usr := User{UserID: userid, FullName: fullname, Created: now.Truncate(time.Second), Enabled: true,
		Version: 1, Changed: now, ChangedBy: u.by, PasswordChanged: now}
	err = u.db.QueryRowContext(ctx, `INSERT INTO users (userid, fullname, password_hash, created_at, enabled,
		version, changed_at, changed_by, password_changed_at)
		VALUES (?, ?, ?, ?, 1, 1, ?, ?, ?) RETURNING id`, userid, fullname, hash, usr.Created.Format(time.RFC3339),
		formatUserTime(now), u.by, formatUserTime(now)).Scan(&usr.ID)
	if err != nil {
		return User{}, dbError(err)
	}
	return usr, nil
}

const userColumns = "id, userid, fullname, created_at, enabled, version, changed_at, changed_by, password_changed_at"

func scanUser(row interface{ Scan(...any) error }, more ...any) (User, error) {
	var usr User
	var created, changed, pwChanged string
	dest := append(more, &usr.ID, &usr.UserID, &usr.FullName, &created, &usr.Enabled, &usr.Version, &changed, &usr.ChangedBy, &pwChanged)
	if err := row.Scan(dest...); err != nil {
		return User{}, err
	}
	usr.Created, _ = time.Parse(time.RFC3339, created)
	if changed != "" {
		usr.Changed, _ = time.Parse(userTimeLayout, changed)
	}
	if pwChanged != "" {
		usr.PasswordChanged, _ = time.Parse(userTimeLayout, pwChanged)
	}
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
	return getUser(ctx, u.db, userid)
}

func getUser(ctx context.Context, q execer, userid string) (User, error) {
	usr, err := scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE userid = ?", userid))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("manager user %q: %w", userid, ErrNotFound)
	}
	return usr, err
}

// Update sets the full name and the enabled flag of the user of
// usr.UserID, which must be at usr.Version; see Save.
func (u *Users) Update(ctx context.Context, usr User) error {
	return u.Save(ctx, &usr, "")
}

// Save sets the full name and the enabled flag of the user of usr.UserID
// (the userid itself never changes: it is who the audit log names) and,
// when password is not "", its password. The stored row must be at
// usr.Version: otherwise nothing is written and the error is a
// *StaleError saying who changed it and when (errors.Is ErrStale). A
// *ValidationError lists what is wrong, field by field. Done, usr is the
// row as stored, with its new Version.
func (u *Users) Save(ctx context.Context, usr *User, password string) error {
	var pw *Problem
	if password != "" {
		pw = passwordProblem(password)
	}
	if err := refused(userProblems(usr.UserID, usr.FullName), pw); err != nil {
		return err
	}
	hash := ""
	if password != "" {
		var err error
		if hash, err = u.hash(password); err != nil {
			return err
		}
	}
	return u.change(ctx, usr.UserID, func(old User) (User, error) {
		if old.Version != usr.Version {
			return User{}, &StaleError{Kind: KindManager, ID: old.ID, Key: old.UserID, Version: usr.Version,
				Current: old.Version, By: old.ChangedBy, At: old.Changed}
		}
		old.FullName, old.Enabled = usr.FullName, usr.Enabled
		return old, nil
	}, hash, usr)
}

// change applies edit to the stored row of userid in one transaction and
// writes it with the next version, who and when, and the new password
// hash when hash is not "". The row written is put in *out when out is not
// nil.
func (u *Users) change(ctx context.Context, userid string, edit func(User) (User, error), hash string, out *User) error {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	tx, err := u.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("config: manager users: %w", err)
	}
	defer tx.Rollback()
	old, err := getUser(ctx, tx, userid)
	if err != nil {
		return err
	}
	usr, err := edit(old)
	if err != nil {
		return err
	}
	usr.Version, usr.Changed, usr.ChangedBy = old.Version+1, changeTime(), u.by
	q := "UPDATE users SET fullname = ?, enabled = ?, version = ?, changed_at = ?, changed_by = ?"
	args := []any{usr.FullName, usr.Enabled, usr.Version, formatUserTime(usr.Changed), usr.ChangedBy}
	if hash != "" {
		usr.PasswordChanged = usr.Changed
		q += ", password_hash = ?, password_changed_at = ?"
		args = append(args, hash, formatUserTime(usr.Changed))
	}
	res, err := tx.ExecContext(ctx, q+" WHERE id = ?", append(args, usr.ID)...)
	if err := updatedUser(res, err, userid); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("config: manager users: commit: %w", err)
	}
	if out != nil {
		*out = usr
	}
	return nil
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

// SetPassword sets a manager user's password, whatever its version (a
// reset with a token, `astcti user passwd`).
func (u *Users) SetPassword(ctx context.Context, userid, password string) error {
	if p := passwordProblem(password); p != nil {
		return errors.New("config: " + p.Msg)
	}
	hash, err := u.hash(password)
	if err != nil {
		return err
	}
	return u.change(ctx, userid, func(old User) (User, error) { return old, nil }, hash, nil)
}

// Disable disables a manager user, whatever its version: it can no longer
// log in.
func (u *Users) Disable(ctx context.Context, userid string) error {
	return u.change(ctx, userid, func(old User) (User, error) { old.Enabled = false; return old, nil }, "", nil)
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
	usr, err := scanUser(u.db.QueryRowContext(ctx, "SELECT password_hash, "+userColumns+" FROM users WHERE userid = ?", userid), &hash)
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
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !usr.Enabled {
		return User{}, ErrBadLogin
	}
	return usr, nil
}
