package calls

import "testing"

func TestInterfaceOf(t *testing.T) {
	tests := []struct {
		channel, want string
	}{
		{"SIP/201-0000000a", "SIP/201"},
		{"PJSIP/201-0000000b", "PJSIP/201"},
		{"Local/201@phones-00000001;1", "Local/201@phones"},
		{"Local/201@phones-00000001;2", "Local/201@phones"},
		{"Local/201@phones-c3ae,1", "Local/201@phones"}, // 1.4
		{"Local/201@phones-c3ae,2", "Local/201@phones"},
		{"SIP/trunk-00000000", "SIP/trunk"},
		{"SIP/my-peer-0000001f", "SIP/my-peer"},
		{"SIP/my-peer", "SIP/my-peer"}, // no counter: the dash is the peer's
		{"SIP/201", "SIP/201"},
		{"DAHDI/1-1", "DAHDI/1"},
		{"SIP/201-0000000a<ZOMBIE>", "SIP/201"},
		{"Local/201@phones-00000001;1<MASQ>", "Local/201@phones"},
		{"", ""},
		{"-", "-"},
		{"SIP/-", "SIP/-"},
		{"SIP/201-", "SIP/201-"},
		{"nonsense", "nonsense"},
	}
	for _, tc := range tests {
		if got := InterfaceOf(tc.channel); got != tc.want {
			t.Errorf("InterfaceOf(%q) = %q, want %q", tc.channel, got, tc.want)
		}
	}
}

func TestNormalizeInterface(t *testing.T) {
	tests := []struct {
		configured, want string
	}{
		{"Local/201@phones/n", "Local/201@phones"},
		{"Local/201@from-queue/n", "Local/201@from-queue"},
		{"Local/201@phones", "Local/201@phones"},
		{"local/201@phones/nj", "Local/201@phones"},
		{"SIP/201", "SIP/201"},
		{"sip/201", "SIP/201"},
		{"pjsip/201", "PJSIP/201"},
		{" PJSIP/201 ", "PJSIP/201"},
		{"SIP/201/extra", "SIP/201/extra"}, // only Local takes options
		{"Custom/thing", "Custom/thing"},
		{"", ""},
		{"/", "/"},
	}
	for _, tc := range tests {
		if got := NormalizeInterface(tc.configured); got != tc.want {
			t.Errorf("NormalizeInterface(%q) = %q, want %q", tc.configured, got, tc.want)
		}
	}
}

// TestInterfaceRoundTrip checks that a configured member interface matches
// the channels Asterisk makes for it.
func TestInterfaceRoundTrip(t *testing.T) {
	tests := []struct {
		configured, channel string
	}{
		{"Local/201@phones/n", "Local/201@phones-00000001;1"},
		{"Local/201@phones/n", "Local/201@phones-c3ae,1"},
		{"SIP/201", "SIP/201-00000007"},
		{"PJSIP/201", "PJSIP/201-0000000b"},
	}
	for _, tc := range tests {
		if a, b := NormalizeInterface(tc.configured), InterfaceOf(tc.channel); a != b {
			t.Errorf("NormalizeInterface(%q) = %q, InterfaceOf(%q) = %q, want equal", tc.configured, a, tc.channel, b)
		}
	}
}
