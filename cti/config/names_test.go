package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeMAC(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"00:11:22:33:44:55", "00:11:22:33:44:55", true},
		{"AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff", true},
		{"aabbccddeeff", "aa:bb:cc:dd:ee:ff", true},
		{" 00:11:22:33:44:55 ", "00:11:22:33:44:55", true},
		{"00:11-22:33:44:55", "", false},
		{"00:11:22:33:44", "", false},
		{"00:11:22:33:44:5g", "", false},
		{"0011.2233.4455", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, err := NormalizeMAC(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("NormalizeMAC(%q) = %q, %v, want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestCheckInterface(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"SIP/201", true},
		{"PJSIP/201", true},
		{"IAX2/201", true},
		{"Local/201@phones", true},
		{"Local/201@phones/n", true},
		{"Local/201@from-queue/n", true},
		{"DAHDI/g1/201", true},
		{"SIP/desk-1", true},
		{"201", false},
		{"SIP/", false},
		{"/201", false},
		{"SIP/201&SIP/202", false},
		{"SIP/201,30", false},
		{"SIP/20 1", false},
		{"Local/201", false},
		{"Local/201@a@b", false},
		{"SIP/201/x", false},
		{"S IP/201", false},
	}
	for _, tc := range tests {
		if err := CheckInterface(tc.in); (err == nil) != tc.ok {
			t.Errorf("CheckInterface(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestInterfaceKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SIP/201", "sip/201"},
		{"sip/201", "sip/201"},
		{"Local/201@phones/n", "local/201@phones"},
		{"LOCAL/201@phones", "local/201@phones"},
		{"PJSIP/Alice", "pjsip/Alice"},
	}
	for _, tc := range tests {
		if got := InterfaceKey(tc.in); got != tc.want {
			t.Errorf("InterfaceKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		in    string
		want  []string
		error string
	}{
		{"", nil, ""},
		{"no placeholders $5 and $ {x}", nil, ""},
		{"--customer ${customer_id} --caller ${calleridnum}", []string{"customer_id", "calleridnum"}, ""},
		{"${a}${a}${b}", []string{"a", "b"}, ""},
		{"x ${a", nil, "unterminated"},
		{"${a b}", nil, "invalid placeholder"},
		{"${}", nil, "invalid placeholder"},
		{"${1x}", nil, "invalid placeholder"},
	}
	for _, tc := range tests {
		got, err := Placeholders(tc.in)
		if tc.error != "" {
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("Placeholders(%q) error = %v, want %q", tc.in, err, tc.error)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Placeholders(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestExpand(t *testing.T) {
	values := map[string]string{"calleridnum": "200", "calldata": "12345"}
	value := func(n string) string { return values[n] }
	tests := []struct{ in, want string }{
		{"http://crm.example/?caller=${calleridnum}&data=${calldata}", "http://crm.example/?caller=200&data=12345"},
		{"${unknown}x", "x"},
		{"$5 ${ ${a b} ${calldata", "$5 ${ ${a b} ${calldata"},
		{"${calldata}${calldata}", "1234512345"},
	}
	for _, tc := range tests {
		if got := Expand(tc.in, value); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
