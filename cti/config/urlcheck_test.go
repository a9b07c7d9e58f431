package config_test

import (
	"testing"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/seatproto"
	"github.com/stretchr/testify/assert"
)

// TestBrowserURLAgreesWithSeat: a browser URL the configuration accepts is
// one the seat client opens, once expanded (the seat would refuse every pop
// of one the configuration let through).
func TestBrowserURLAgreesWithSeat(t *testing.T) {
	urls := []string{
		"https://crm.example/?c=${calleridnum}",
		"http://crm.example:8080/a/b?x=1#frag",
		"https://crm.example/?note=new call",
		`https://crm.example/?q="x"`,
		"https://crm.example/<script>",
		"http:///nohost",
		"https://crm.example/?q=${calleridname}|x",
		"https://[::1]:8443/",
		"https://crm.example/%zz",
	}
	for _, u := range urls {
		m := &config.Model{Services: []config.Service{{Name: "s", Type: config.Inbound, Context: "c",
			Trigger: config.TriggerBrowser, Application: u}}}
		cfgErr := m.Validate()
		seatErr := seatproto.CheckURL(config.Expand(u, func(string) string { return "x" }))
		assert.Equal(t, seatErr == nil, cfgErr == nil, "%q: config says %v, the seat says %v", u, cfgErr, seatErr)
	}
}
