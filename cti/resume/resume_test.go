package resume

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testSigner(t *testing.T, b byte) *Signer {
	s, err := NewSigner(bytes.Repeat([]byte{b}, KeyLen))
	require.NoError(t, err)
	return s
}

func TestIssueVerify(t *testing.T) {
	s := testSigner(t, 1)
	now := time.Unix(1_800_000_000, 0)
	tok := s.Issue("alice", "$pbkdf2$h1", now.Add(time.Hour))
	assert.Len(t, tok, TokenLen)
	assert.True(t, s.Verify("alice", "$pbkdf2$h1", tok, now))
	assert.True(t, s.Verify("alice", "$pbkdf2$h1", tok, now.Add(time.Hour-time.Second)))

	flipped := []byte(tok)
	flipped[len(flipped)-2] ^= 'A' ^ 'B'
	for name, ok := range map[string]bool{
		"expired":            s.Verify("alice", "$pbkdf2$h1", tok, now.Add(time.Hour)),
		"another user":       s.Verify("bob", "$pbkdf2$h1", tok, now),
		"a new password":     s.Verify("alice", "$pbkdf2$h2", tok, now),
		"another key":        testSigner(t, 2).Verify("alice", "$pbkdf2$h1", tok, now),
		"a changed MAC":      s.Verify("alice", "$pbkdf2$h1", string(flipped), now),
		"empty":              s.Verify("alice", "$pbkdf2$h1", "", now),
		"a longer expiry":    s.Verify("alice", "$pbkdf2$h1", s.Issue("alice", "$pbkdf2$h1", now.Add(2*time.Hour))[:11]+tok[11:], now),
		"user/hash boundary": s.Verify("alic", "e$pbkdf2$h1", tok, now),
	} {
		assert.False(t, ok, name)
	}
}

func TestNewSigner(t *testing.T) {
	_, err := NewSigner(make([]byte, 16))
	assert.Error(t, err)
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resume.key")
	k1, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	assert.Len(t, k1, KeyLen)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "readable by the server alone")
	k2, err := LoadOrCreateKey(path)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "the same key after a restart")

	require.NoError(t, os.WriteFile(path, []byte("short"), 0o600))
	_, err = LoadOrCreateKey(path)
	assert.ErrorIs(t, err, ErrBadKeyFile)
	_, err = LoadOrCreateKey(filepath.Join(t.TempDir(), "no", "such", "dir", "key"))
	assert.Error(t, err)
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), "no temporary file left: %s", e.Name())
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := NewSigner(bytes.Repeat([]byte{7}, KeyLen))
	now := time.Unix(1_800_000_000, 0)
	f.Add(s.Issue("alice", "h", now.Add(time.Hour)))
	f.Add("")
	f.Add(strings.Repeat("A", TokenLen))
	f.Fuzz(func(t *testing.T, tok string) {
		good := s.Issue("alice", "h", now.Add(time.Hour))
		if s.Verify("alice", "h", tok, now) && tok != good {
			t.Fatalf("a token that was never issued verifies: %q", tok)
		}
	})
}
