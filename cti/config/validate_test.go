package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateRules checks each rule the configurator and astcti config
// validate share, with the item and field the problem is reported on.
func TestValidateRules(t *testing.T) {
	hash := Demo().Operators[0].PasswordHash
	base := func() *Model {
		return &Model{
			Seats:     []Seat{{ID: 7, MAC: "00:11:22:33:44:01", Interface: "SIP/201"}},
			Operators: []Operator{{ID: 8, Username: "alice", PasswordHash: hash, Enabled: true}},
			Services: []Service{{ID: 9, Name: "sales", Type: Inbound, Context: "sales", Trigger: TriggerApplication,
				Application: "/usr/bin/crm", Parameters: "--id ${ticket}", Variables: []string{"ticket"},
				Members: []Member{{Operator: "alice"}}, Enabled: true}},
		}
	}
	tests := []struct {
		name  string
		edit  func(m *Model)
		want  string // in the message; "" for a valid model
		kind  Kind
		index int
		sub   int
		id    int64
		field string
	}{
		{"valid", func(m *Model) {}, "", "", 0, 0, 0, ""},
		{"placeholder in the program", func(m *Model) { m.Services[0].Application = "/usr/bin/${calleridname}" },
			"a placeholder in the program is never expanded", KindService, 0, 0, 9, "application"},
		{"declared variable in the program", func(m *Model) { m.Services[0].Application = "/opt/${ticket}/crm" },
			"a placeholder in the program is never expanded", KindService, 0, 0, 9, "application"},
		{"unterminated placeholder in the program", func(m *Model) { m.Services[0].Application = "/usr/bin/${crm" },
			"a placeholder in the program is never expanded", KindService, 0, 0, 9, "application"},
		{"program of spaces", func(m *Model) { m.Services[0].Application = "   " },
			"trigger application needs an application", KindService, 0, 0, 9, "application"},
		{"spaces around the program", func(m *Model) { m.Services[0].Application = "/usr/bin/crm " },
			"spaces around the program name", KindService, 0, 0, 9, "application"},
		{"placeholder in a browser URL", func(m *Model) {
			m.Services[0].Trigger, m.Services[0].Application = TriggerBrowser, "https://crm/?c=${calleridname}"
		}, "", "", 0, 0, 0, ""},
		{"space in a browser URL", func(m *Model) {
			m.Services[0].Trigger, m.Services[0].Application = TriggerBrowser, "https://crm/?c=${calleridname}&note=new call"
		}, `character ' ' is not allowed in a URL (escape it: %20)`, KindService, 0, 0, 9, "application"},
		{"browser URL without host", func(m *Model) { m.Services[0].Trigger, m.Services[0].Application = TriggerBrowser, "http:///x" },
			"has no host", KindService, 0, 0, 9, "application"},
		{"undeclared placeholder in parameters", func(m *Model) { m.Services[0].Parameters = "${nope}" },
			"placeholder ${nope} names no variable", KindService, 0, 0, 9, "parameters"},
		{"queue service without queue name", func(m *Model) { m.Services[0].IsQueue = true },
			"a queue service needs a queue name", KindService, 0, 0, 9, "queue"},
		{"browser trigger without URL", func(m *Model) { m.Services[0].Trigger, m.Services[0].Application = TriggerBrowser, "" },
			"trigger browser needs a URL", KindService, 0, 0, 9, "application"},
		{"application trigger without program", func(m *Model) { m.Services[0].Application = "" },
			"trigger application needs an application", KindService, 0, 0, 9, "application"},
		{"bad MAC", func(m *Model) { m.Seats[0].MAC = "00:11:22:33:44:zz" }, "invalid MAC address", KindSeat, 0, 0, 7, "mac"},
		{"bad interface", func(m *Model) { m.Seats[0].Interface = "SIP/201&SIP/202" }, "invalid resource", KindSeat, 0, 0, 7, "interface"},
		{"duplicate MAC", func(m *Model) { m.Seats = append(m.Seats, Seat{MAC: "00:11:22:33:44:01", Interface: "SIP/202"}) },
			"duplicate MAC", KindSeat, 1, 0, 0, "mac"},
		{"duplicate username", func(m *Model) {
			m.Operators = append(m.Operators, Operator{ID: 3, Username: "alice", PasswordHash: hash})
		},
			"duplicate username", KindOperator, 1, 0, 3, "username"},
		{"duplicate service name", func(m *Model) {
			m.Services = append(m.Services, Service{Name: "sales", Type: Inbound, Context: "other", Trigger: TriggerNone})
		}, "duplicate name", KindService, 1, 0, 0, "name"},
		{"penalty out of range", func(m *Model) { m.Services[0].Members[0].Penalty = -1 },
			"out of range", KindMember, 0, 0, 9, "penalty"},
		{"member naming no operator", func(m *Model) { m.Services[0].Members = append(m.Services[0].Members, Member{Operator: "zed"}) },
			`member "zed": no such operator`, KindMember, 0, 1, 9, "operator"},
		{"bad variable", func(m *Model) { m.Services[0].Variables = append(m.Services[0].Variables, "1x") },
			"invalid variable name", KindVariable, 0, 1, 9, "name"},
		{"missing fixed seat", func(m *Model) { m.Operators[0].Seat = "00:11:22:33:44:09" },
			"no such seat", KindOperator, 0, 0, 8, "seat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(m)
			err := m.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "Validate() = %v, want a problem %q", err, tc.want)
			require.Len(t, ve.Problems, 1, "Validate() = %v", err)
			p := ve.Problems[0]
			assert.Contains(t, p.Msg, tc.want)
			want := Problem{Msg: p.Msg, Kind: tc.kind, Index: tc.index, Sub: tc.sub, ID: tc.id, Field: tc.field}
			assert.Equal(t, want, p, "Validate() problem")
		})
	}
}

func TestProblemFieldKey(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Kind: KindSeat, Field: "mac"}, "mac"},
		{Problem{Kind: KindMember, Sub: 2, Field: "penalty"}, "member.2.penalty"},
		{Problem{Kind: KindVariable, Field: "name"}, "variable.0.name"},
		{Problem{}, ""},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.p.FieldKey(), "%+v.FieldKey()", tc.p)
	}
}

func TestParsePenalty(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{"0", 0, ""},
		{"007", 7, ""},
		{"2147483647", 2147483647, ""},
		{"", 0, "must be an integer"},
		{"5a", 0, "must be an integer"},
		{"high", 0, "must be an integer"},
		{"+1", 0, "must be an integer"},
		{"-0", 0, "must be an integer"},
		{"-2", 0, "must be an integer"},
		{" 5", 0, "must be an integer"},
		{"1e3", 0, "must be an integer"},
		{"2147483648", 0, "out of range"},
		{"99999999999", 0, "must be an integer"},
	}
	for _, tc := range tests {
		got, err := ParsePenalty(tc.in)
		if tc.err != "" {
			if assert.Error(t, err, "ParsePenalty(%q)", tc.in) {
				assert.Contains(t, err.Error(), tc.err, "ParsePenalty(%q)", tc.in)
			}
			continue
		}
		assert.NoError(t, err, "ParsePenalty(%q)", tc.in)
		assert.Equal(t, tc.want, got, "ParsePenalty(%q)", tc.in)
	}
}

// TestParseXMLProblemFields checks that a problem of an XML file says its
// item and field as well as its line, and that the XML reader parses
// penalties as the configurator does (ParsePenalty): "+1" and "-0", which
// strconv.Atoi took, are refused.
func TestParseXMLProblemFields(t *testing.T) {
	const doc = `<astcti-config version="1">
<operator username="a" password="a"/>
<service name="s" type="inbound" context="c" trigger="application" application="/usr/bin/${calleridname}">
<member operator="a" penalty="+1"/>
</service>
<seat mac="00:11:22:33:44:01" interface="SIP/1" colour="blue"/>
<operator username="b" password="b" enabled="yes"/>
</astcti-config>`
	_, err := ParseXML(strings.NewReader(doc))
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "ParseXML = %v", err)
	var got []Problem
	for _, p := range ve.Problems {
		p.Msg = ""
		got = append(got, p)
	}
	assert.Equal(t, []Problem{
		{Line: 3, Kind: KindService, Field: "application"},
		{Line: 4, Kind: KindMember, Sub: 0, Field: "penalty"},
		{Line: 6, Kind: KindSeat, Field: "colour"},
		{Line: 7, Kind: KindOperator, Index: 1, Field: "enabled"},
	}, got, "ParseXML problems: %v", err)
}
