package config

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestUsers(t *testing.T) {
	BcryptCost = bcrypt.MinCost
	t.Cleanup(func() { BcryptCost = bcrypt.DefaultCost })
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "users.db")
	u, err := OpenUsers(ctx, path)
	require.NoError(t, err)
	defer u.Close()

	admin, err := u.Create(ctx, "admin", "Site Admin", "correct horse")
	require.NoError(t, err)
	assert.True(t, admin.Enabled)
	assert.False(t, admin.Created.IsZero())
	_, err = u.Create(ctx, "admin", "Again", "correct horse")
	assert.ErrorContains(t, err, "a manager user with this userid already exists")
	_, err = u.Create(ctx, "bad user", "", "correct horse")
	assert.ErrorContains(t, err, "invalid userid")
	_, err = u.Create(ctx, "short", "", "pw")
	assert.ErrorContains(t, err, "shorter than 8")
	_, err = u.Create(ctx, "long", "", strings.Repeat("x", 73))
	assert.ErrorContains(t, err, "72 bytes")

	var hash string
	require.NoError(t, u.db.QueryRow("SELECT password_hash FROM users WHERE userid = 'admin'").Scan(&hash))
	assert.True(t, strings.HasPrefix(hash, "$2"), "bcrypt hash, got %q", hash)
	assert.NotContains(t, hash, "correct horse")

	got, err := u.Check(ctx, "admin", "correct horse")
	require.NoError(t, err)
	assert.Equal(t, admin, got)
	for _, tc := range []struct{ userid, password string }{
		{"admin", "wrong"}, {"nobody", "correct horse"}, {"", ""},
	} {
		_, err := u.Check(ctx, tc.userid, tc.password)
		assert.True(t, errors.Is(err, ErrBadLogin), "Check(%q, %q) = %v, want ErrBadLogin", tc.userid, tc.password, err)
	}

	require.NoError(t, u.SetPassword(ctx, "admin", "battery staple"))
	_, err = u.Check(ctx, "admin", "correct horse")
	assert.True(t, errors.Is(err, ErrBadLogin))
	_, err = u.Check(ctx, "admin", "battery staple")
	require.NoError(t, err)

	admin.FullName = "Chief"
	assert.ErrorIs(t, u.Update(ctx, admin), ErrStale, "the password was set since admin was read")
	admin, err = u.Get(ctx, "admin")
	require.NoError(t, err)
	admin.FullName = "Chief"
	require.NoError(t, u.Update(ctx, admin))
	_, err = u.Create(ctx, "bob", "Bob", "bob's password")
	require.NoError(t, err)
	list, err := u.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "admin", list[0].UserID)
	assert.Equal(t, "Chief", list[0].FullName)

	require.NoError(t, u.Disable(ctx, "admin"))
	_, err = u.Check(ctx, "admin", "battery staple")
	assert.True(t, errors.Is(err, ErrBadLogin), "a disabled user cannot log in")
	got, err = u.Get(ctx, "admin")
	require.NoError(t, err)
	assert.False(t, got.Enabled)
	assert.True(t, errors.Is(u.Disable(ctx, "nobody"), ErrNotFound))
	_, err = u.Get(ctx, "nobody")
	assert.True(t, errors.Is(err, ErrNotFound))

	// The users' file is not a configuration, and a configuration never
	// holds users.
	_, err = ReadFile(ctx, path)
	assert.True(t, errors.Is(err, ErrNotAstcti), "ReadFile(users.db) = %v", err)
}

func testUsers(t *testing.T) *Users {
	BcryptCost = bcrypt.MinCost
	t.Cleanup(func() { BcryptCost = bcrypt.DefaultCost })
	u, err := OpenUsers(context.Background(), filepath.Join(t.TempDir(), "users.db"))
	require.NoError(t, err)
	t.Cleanup(func() { u.Close() })
	return u
}

// TestUsersStaleEdit: two administrators open the same manager user; the
// second save is refused with who saved first and when, and writes
// nothing; saving again from the row read anew goes through.
func TestUsersStaleEdit(t *testing.T) {
	ctx := context.Background()
	u := testUsers(t)
	_, err := u.As("shell:root").Create(ctx, "bob", "Bob", "bob's password")
	require.NoError(t, err)
	first, err := u.Get(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, int64(1), first.Version)
	assert.Equal(t, "shell:root", first.ChangedBy)
	second := first

	first.FullName = "Robert"
	require.NoError(t, u.As("alice").Save(ctx, &first, ""))
	assert.Equal(t, int64(2), first.Version)
	assert.Equal(t, "alice", first.ChangedBy)

	second.FullName = "Bobby"
	err = u.As("carol").Save(ctx, &second, "carol's choice")
	require.ErrorIs(t, err, ErrStale)
	var se *StaleError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "alice", se.By)
	assert.Equal(t, first.Changed, se.At)
	assert.Equal(t, int64(1), se.Version)
	assert.Equal(t, int64(2), se.Current)
	assert.Contains(t, err.Error(), "manager user bob was changed by alice at ")
	got, err := u.Get(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, "Robert", got.FullName, "the stale save wrote nothing")
	_, err = u.Check(ctx, "bob", "carol's choice")
	assert.ErrorIs(t, err, ErrBadLogin, "nor the password")

	// Every change moves the version on, the shell's too.
	require.NoError(t, u.SetPassword(ctx, "bob", "another password"))
	require.NoError(t, u.Disable(ctx, "bob"))
	got, err = u.Get(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, int64(4), got.Version)
	assert.ErrorIs(t, u.Update(ctx, first), ErrStale)

	got.Enabled = true
	require.NoError(t, u.Save(ctx, &got, "a new password"))
	assert.True(t, got.PasswordChanged.Equal(got.Changed))
	_, err = u.Check(ctx, "bob", "a new password")
	require.NoError(t, err)
}

// TestUsersProblems: what Create and Save refuse, each problem on its
// field, so that a form shows it there.
func TestUsersProblems(t *testing.T) {
	ctx := context.Background()
	u := testUsers(t)
	tests := []struct {
		name, userid, fullname, password string
		want                             map[string]string
	}{
		{"bad userid", "bad user", "", "long enough", map[string]string{"userid": "invalid userid"}},
		{"empty userid", "", "", "long enough", map[string]string{"userid": "invalid userid"}},
		{"control in name", "x", "a\x07b", "long enough", map[string]string{"fullname": "control character"}},
		{"short password", "x", "", "short", map[string]string{"password": "shorter than 8"}},
		{"all", "a b", strings.Repeat("n", 129), strings.Repeat("p", 73),
			map[string]string{"userid": "invalid userid", "fullname": "longer than 128", "password": "72 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := u.Create(ctx, tc.userid, tc.fullname, tc.password)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			got := map[string]string{}
			for _, p := range ve.Problems {
				assert.Equal(t, KindManager, p.Kind)
				got[p.FieldKey()] = p.Msg
			}
			require.Len(t, got, len(tc.want), "Create(%q, %q) = %v", tc.userid, tc.fullname, err)
			for f, msg := range tc.want {
				assert.Contains(t, got[f], msg, "field %s", f)
			}
		})
	}
	usr, err := u.Create(ctx, "ok", "", "long enough")
	require.NoError(t, err)
	usr.FullName = "tab\there"
	var ve *ValidationError
	require.ErrorAs(t, u.Save(ctx, &usr, "short"), &ve)
	assert.Len(t, ve.Problems, 2)
}

// TestUsersMigrateFromV1: a version 1 users' database keeps its users and
// passwords; their rows start at version 1, changed by nobody known.
func TestUsersMigrateFromV1(t *testing.T) {
	BcryptCost = bcrypt.MinCost
	t.Cleanup(func() { BcryptCost = bcrypt.DefaultCost })
	ctx := context.Background()
	path := createFrozen(t, "users", 1)
	hash, err := bcrypt.GenerateFromPassword([]byte("old password"), bcrypt.MinCost)
	require.NoError(t, err)
	db, err := openRW(path)
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO users (userid, fullname, password_hash, created_at) VALUES ('old', 'Old Timer', ?, '2026-01-02T03:04:05Z')", string(hash))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	u, err := OpenUsers(ctx, path)
	require.NoError(t, err)
	defer u.Close()
	usr, err := u.Check(ctx, "old", "old password")
	require.NoError(t, err)
	assert.Equal(t, int64(1), usr.Version)
	assert.Equal(t, "Old Timer", usr.FullName)
	assert.True(t, usr.Changed.IsZero())
	assert.True(t, usr.PasswordChanged.IsZero())
	usr.FullName = "Old Hand"
	require.NoError(t, u.As("admin").Save(ctx, &usr, ""))
	assert.Equal(t, int64(2), usr.Version)

	fresh := testUsers(t)
	assert.Equal(t, schemaOf(t, fresh.db), schemaOf(t, u.db))
}

// TestRecordManager: a change to a manager user is in the working
// database's audit log, filterable by its kind, with who made it and the
// user before and after, but never a password or a hash.
func TestRecordManager(t *testing.T) {
	ctx := context.Background()
	st, _ := demoStore(t)
	u := testUsers(t)
	bob, err := u.As("admin").Create(ctx, "bob", "Bob", "secret password")
	require.NoError(t, err)
	require.NoError(t, st.As("admin").RecordManager(ctx, ActionAdd, nil, &bob, true))
	before := bob
	bob.FullName, bob.Enabled = "Robert", false
	require.NoError(t, u.As("admin").Save(ctx, &bob, "other password"))
	require.NoError(t, st.As("admin").RecordManager(ctx, ActionEdit, &before, &bob, true))

	got, err := st.Audit(ctx, AuditFilter{Entity: KindManager})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, ActionEdit, got[0].Action)
	assert.Equal(t, "admin", got[0].User)
	assert.Equal(t, "bob", got[0].Key)
	assert.Equal(t, bob.ID, got[0].EntityID)
	assert.JSONEq(t, `{"userid":"bob","fullname":"Bob","enabled":true}`, string(got[0].Before))
	assert.JSONEq(t, `{"userid":"bob","fullname":"Robert","enabled":false,"password":"changed"}`, string(got[0].After))
	assert.JSONEq(t, `{"userid":"bob","fullname":"Bob","enabled":true,"password":"set"}`, string(got[1].After))
	for _, e := range got {
		for _, s := range []string{"secret password", "other password", "$2"} {
			assert.NotContains(t, string(e.Before)+string(e.After), s)
		}
	}
}
