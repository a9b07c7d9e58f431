// Package resume makes and checks the seat protocol's resume tokens
// (docs/protocol.md, "Resume tokens"): after a login with its password, a
// seat may ask for a token that logs it in again, until it expires,
// without the password check.
//
// A password check costs a PBKDF2 derivation, about a millisecond of CPU
// on purpose: that is what keeps the stored hashes safe if the
// configuration leaks. When a server restarts, every seat logs in again at
// once, and ten thousand checks take ten seconds of CPU. A token is
// checked with one HMAC-SHA256, in about a microsecond, and it keeps the
// stored hashes as they are:
//
//	token = base64url( expiry (8 bytes, Unix seconds, big-endian)
//	                 ‖ HMAC-SHA256(key, "astcti-resume-v1" ‖ 0 ‖ user ‖ 0 ‖ expiry ‖ hash)[:16] )
//
// where hash is the operator's stored password hash: a new password, or a
// new salt, ends every token made before. The key is the server's own,
// kept in a file readable by the server alone, so that the tokens outlive
// a restart; whoever reads the key can make tokens, as whoever reads a
// seat's traffic can replay its PASS.
package resume

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// KeyLen is the size of a key, in bytes.
const KeyLen = 32

// macLen is the size of a token's MAC, in bytes: 128 bits, beyond guessing.
const macLen = 16

// TokenLen is the length of every token, in characters.
var TokenLen = base64.RawURLEncoding.EncodedLen(8 + macLen)

// ErrBadKeyFile is a key file of the wrong size.
var ErrBadKeyFile = errors.New("resume: the key file does not hold a key")

// Signer makes and checks tokens with one key. It is safe for concurrent
// use: it holds nothing but the key.
type Signer struct {
	key [KeyLen]byte
}

// NewSigner returns a Signer with key, which must be KeyLen bytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("resume: a key is %d bytes, not %d", KeyLen, len(key))
	}
	s := &Signer{}
	copy(s.key[:], key)
	return s, nil
}

// LoadOrCreateKey reads the key in path, or, when there is no such file,
// makes a random one and writes it there, readable by its owner alone.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(b) == KeyLen:
		return b, nil
	case err == nil:
		return nil, fmt.Errorf("%w: %s has %d bytes, not %d", ErrBadKeyFile, path, len(b), KeyLen)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("resume: %w", err)
	}
	key := make([]byte, KeyLen)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".resume-key-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("resume: create the key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("resume: write the key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("resume: write the key: %w", err)
	}
	// A link, not a rename: of two servers starting at once, the second
	// finds the first's key instead of replacing it.
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("resume: write the key: %w", err)
	}
	return key, nil
}

// Issue returns a token for user, whose stored password hash is hash,
// valid until expiry.
func (s *Signer) Issue(user, hash string, expiry time.Time) string {
	var raw [8 + macLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(expiry.Unix()))
	copy(raw[8:], s.mac(user, hash, raw[:8]))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// Verify reports whether token was issued for user with hash and has not
// expired at now. The MAC is compared in constant time.
func (s *Signer) Verify(user, hash, token string, now time.Time) bool {
	raw, ok := Parse(token)
	if !ok {
		return false
	}
	if int64(binary.BigEndian.Uint64(raw[:8])) <= now.Unix() {
		return false
	}
	return hmac.Equal(raw[8:], s.mac(user, hash, raw[:8]))
}

// Parse decodes a token's bytes, reporting whether it has a token's form.
func Parse(token string) ([]byte, bool) {
	if len(token) != TokenLen {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != 8+macLen {
		return nil, false
	}
	return raw, true
}

func (s *Signer) mac(user, hash string, expiry []byte) []byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte("astcti-resume-v1\x00"))
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write(expiry)
	m.Write([]byte{0})
	m.Write([]byte(hash))
	return m.Sum(nil)[:macLen]
}
