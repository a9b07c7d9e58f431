package seatproto

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCheckURL: what a browser action may open, for the seat client and
// the configuration alike.
func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://crm.example/?caller=%2B390212345&data=12345", true},
		{"https://crm.example:8443/find?num=555#top", true},
		{"HTTPS://CRM.EXAMPLE/", true},
		{"http://[::1]:8080/x", true},
		{"http://user@crm.example/", true},
		{"https://crm.example/a_b-c.d~e/(1)!$'*,;=", true},
		{"", false},
		{"crm.example/find", false},
		{"/find?x=1", false},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"ftp://crm.example/", false},
		{"mailto:x@example.com", false},
		{"http:crm.example", false},
		{"http:///path", false},
		{"http://crm.example/a b", false},
		{`http://crm.example/"x`, false},
		{"http://crm.example/\nx", false},
		{"http://crm.example/\x00", false},
		{"http://crm.example/é", false},
		{"http://crm.example/<script>", false},
		{"http://crm.example/`id`", false},
		{"http://crm.example/" + strings.Repeat("a", MaxActionLen), false},
	}
	for _, tc := range tests {
		err := CheckURL(tc.url)
		if tc.ok {
			assert.NoError(t, err, "CheckURL(%q)", tc.url)
		} else {
			assert.Error(t, err, "CheckURL(%q)", tc.url)
		}
	}
}
