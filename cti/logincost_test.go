package cti

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/astcti/astcti/cti/config"
)

// TestUnknownUserCostsACheck: the hash an unknown name is checked against
// has the cost of a real operator's (same scheme and iterations), so the
// answer to an unknown name takes as long as to a wrong password; timing
// cannot tell names apart. (TestLoginEqualAnswers checks the answers.)
func TestUnknownUserCostsACheck(t *testing.T) {
	stored, err := config.HashPassword(config.MD5Hex("alice"))
	assert.NoError(t, err)
	params := func(h string) string { // "$pbkdf2-sha256$i=N$"
		parts := strings.SplitN(h, "$", 4)
		assert.Len(t, parts, 4, "hash %q", h)
		return strings.Join(parts[:3], "$")
	}
	assert.Equal(t, params(stored), params(dummyOperator().PasswordHash))
	assert.True(t, dummyOperator().CheckPassword(config.MD5Hex("no such operator")), "a real check, run to the end")
}
