package config

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Operator passwords.
//
// The seat protocol sends `PASS md5hex`, the lower-case hex MD5 of the
// password, so the MD5 hex is what the server can check, and it is a
// password equivalent: whoever has it can log in. It is therefore stored
// like a password: PBKDF2-HMAC-SHA256 with a per-operator 16-byte random
// salt and a 32-byte key, in the string form
//
//	$pbkdf2-sha256$i=ITERATIONS$SALT$KEY     (SALT and KEY in unpadded base64)
//
// The iteration count is in the string, so it can be raised later without
// invalidating stored hashes. The cost is chosen for the login storm after a
// server restart: thousands of seats log in at once on a small machine, so
// one check must cost about a millisecond of one core, not the 50-100 ms of a
// web login (BenchmarkCheckPassword, docs/config.md "Passwords").

// DefaultPasswordIterations is the PBKDF2 iteration count of new hashes:
// about 1 ms of one core per check on a 2020s x86 server (measured in
// docs/config.md, "Passwords").
const DefaultPasswordIterations = 4096

// PasswordIterations is the PBKDF2 iteration count of new hashes. Tests
// lower it; production leaves it at DefaultPasswordIterations.
var PasswordIterations = DefaultPasswordIterations

const (
	passwordScheme   = "pbkdf2-sha256"
	passwordSaltLen  = 16
	passwordKeyLen   = 32
	minIterations    = 1000
	maxIterations    = 1 << 20
	passwordMaxBytes = 1024
)

// MD5Hex returns the lower-case hex MD5 of a plain password: what a seat
// client sends with PASS.
func MD5Hex(password string) string {
	sum := md5.Sum([]byte(password))
	return hex.EncodeToString(sum[:])
}

// HashPassword returns a new salted hash of md5hex, the lower-case hex MD5 of
// the password (see MD5Hex). Upper-case hex is accepted and lower-cased.
func HashPassword(md5hex string) (string, error) {
	md5hex = strings.ToLower(md5hex)
	if !isMD5Hex(md5hex) {
		return "", errors.New("password hash input is not a hex MD5")
	}
	salt := make([]byte, passwordSaltLen)
	rand.Read(salt)
	return derive(md5hex, salt, PasswordIterations)
}

func derive(md5hex string, salt []byte, iter int) (string, error) {
	key, err := pbkdf2.Key(sha256.New, md5hex, salt, iter, passwordKeyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$%s$i=%d$%s$%s", passwordScheme, iter, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// SetPassword sets o's PasswordHash from a plain password.
func (o *Operator) SetPassword(password string) error {
	h, err := HashPassword(MD5Hex(password))
	if err != nil {
		return err
	}
	o.PasswordHash = h
	return nil
}

// CheckPassword reports whether md5hex, as sent by a seat with PASS, is the
// MD5 hex of o's password. The comparison of the derived keys is in constant
// time. It costs one PBKDF2 derivation (about a millisecond); it is safe to
// call from any goroutine.
func (o *Operator) CheckPassword(md5hex string) bool {
	md5hex = strings.ToLower(md5hex)
	iter, salt, key, err := parsePasswordHash(o.PasswordHash)
	if err != nil || !isMD5Hex(md5hex) {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, md5hex, salt, iter, len(key))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, key) == 1
}

// checkPasswordHash reports whether h is a well-formed password hash.
func checkPasswordHash(h string) error {
	_, _, _, err := parsePasswordHash(h)
	return err
}

func parsePasswordHash(h string) (iter int, salt, key []byte, err error) {
	if len(h) > passwordMaxBytes {
		return 0, nil, nil, errors.New("password hash too long")
	}
	parts := strings.Split(h, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != passwordScheme || !strings.HasPrefix(parts[2], "i=") {
		return 0, nil, nil, fmt.Errorf("not a %s password hash ($%s$i=N$salt$key)", passwordScheme, passwordScheme)
	}
	iter, err = strconv.Atoi(parts[2][2:])
	if err != nil || iter < minIterations || iter > maxIterations {
		return 0, nil, nil, fmt.Errorf("password hash: iteration count must be %d..%d", minIterations, maxIterations)
	}
	b64 := base64.RawStdEncoding
	salt, err = b64.DecodeString(parts[3])
	if err != nil || len(salt) < 8 {
		return 0, nil, nil, errors.New("password hash: invalid salt")
	}
	key, err = b64.DecodeString(parts[4])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return 0, nil, nil, errors.New("password hash: invalid key")
	}
	return iter, salt, key, nil
}

func isMD5Hex(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
