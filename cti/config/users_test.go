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
