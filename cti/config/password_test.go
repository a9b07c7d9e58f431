package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPassword(t *testing.T) {
	var o Operator
	require.NoError(t, o.SetPassword("alice"))
	assert.True(t, strings.HasPrefix(o.PasswordHash, "$pbkdf2-sha256$i="), o.PasswordHash)
	assert.NotContains(t, o.PasswordHash, MD5Hex("alice"), "the bare MD5 must not be stored")
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"right", MD5Hex("alice"), true},
		{"upper-case hex", strings.ToUpper(MD5Hex("alice")), true},
		{"wrong", MD5Hex("bob"), false},
		{"plain password", "alice", false},
		{"empty", "", false},
		{"not hex", strings.Repeat("z", 32), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := o.CheckPassword(tc.in); got != tc.want {
				t.Errorf("CheckPassword(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	var other Operator
	require.NoError(t, other.SetPassword("alice"))
	assert.NotEqual(t, o.PasswordHash, other.PasswordHash, "salts must differ")
}

func TestPasswordHashMalformed(t *testing.T) {
	good, err := HashPassword(MD5Hex("x"))
	require.NoError(t, err)
	tests := []string{
		"",
		MD5Hex("x"),
		"$pbkdf2-sha256$i=10$" + strings.Join(strings.Split(good, "$")[3:], "$"),
		"$pbkdf2-sha256$i=99999999$" + strings.Join(strings.Split(good, "$")[3:], "$"),
		"$bcrypt$i=4096$abc$def",
		"$pbkdf2-sha256$i=4096$!!!$" + strings.Split(good, "$")[4],
		"$pbkdf2-sha256$i=4096$" + strings.Split(good, "$")[3] + "$AAAA",
	}
	for _, h := range tests {
		if err := checkPasswordHash(h); err == nil {
			t.Errorf("checkPasswordHash(%q) = nil, want an error", h)
		}
		o := Operator{PasswordHash: h}
		if o.CheckPassword(MD5Hex("x")) {
			t.Errorf("CheckPassword with hash %q = true", h)
		}
	}
	assert.NoError(t, checkPasswordHash(good))
}

// BenchmarkCheckPassword measures one login's password check: the cost the
// login storm after a restart pays per seat (docs/config.md, "Passwords").
func BenchmarkCheckPassword(b *testing.B) {
	o := benchOperator(b)
	in := MD5Hex("alice")
	b.ReportAllocs()
	for b.Loop() {
		if !o.CheckPassword(in) {
			b.Fatal("check failed")
		}
	}
}

// BenchmarkCheckPasswordParallel is the storm: every core checking at once.
func BenchmarkCheckPasswordParallel(b *testing.B) {
	o := benchOperator(b)
	in := MD5Hex("alice")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !o.CheckPassword(in) {
				b.Error("check failed")
			}
		}
	})
}

// benchOperator has a password hashed at the production cost (TestMain
// lowers PasswordIterations for the other tests).
func benchOperator(b *testing.B) Operator {
	old := PasswordIterations
	PasswordIterations = DefaultPasswordIterations
	defer func() { PasswordIterations = old }()
	var o Operator
	require.NoError(b, o.SetPassword("alice"))
	require.Contains(b, o.PasswordHash, fmt.Sprintf("$i=%d$", DefaultPasswordIterations))
	return o
}
