package config

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseXMLHandwritten(t *testing.T) {
	f, err := os.Open("testdata/xml/handwritten.xml")
	require.NoError(t, err)
	defer f.Close()
	m, err := ParseXML(f)
	require.NoError(t, err)
	// The hand-written example is the demo, with plain passwords hashed.
	demo := content(Demo())
	got := content(m)
	for i := range got.Operators {
		o := got.Operators[i]
		assert.True(t, o.CheckPassword(MD5Hex(o.Username)), "operator %s: password not hashed from the plain one", o.Username)
		got.Operators[i].PasswordHash = demo.Operators[i].PasswordHash
	}
	assert.Equal(t, demo, got)
}

func TestParseXMLFreePBX(t *testing.T) {
	data, err := os.ReadFile("testdata/xml/freepbx.xml")
	require.NoError(t, err)
	m, err := ParseXML(bytes.NewReader(data))
	require.NoError(t, err)
	s, err := NewSnapshot(m)
	require.NoError(t, err)
	seat := s.SeatByMAC("AA-BB-CC-DD-EE-01")
	require.NotNil(t, seat)
	assert.Equal(t, "Local/201@from-queue/n", seat.Interface)
	assert.Equal(t, seat, s.SeatByInterface("Local/201@from-queue"))
	assert.Equal(t, seat, s.SeatByInterface("Local/201@from-queue"))
	assert.True(t, s.Operator("carol").BeginPaused)
	assert.False(t, s.Operator("dave").Enabled)
	assert.Equal(t, []QueueMembership{{Queue: "400", Service: "queue-400", Penalty: 0}}, s.Queues("carol"))
	assert.Empty(t, s.Queues("dave"), "a disabled operator joins no queue")
	assert.Nil(t, s.ServiceByContext("from-internal"), "the non-queue service is disabled")
	assert.Equal(t, "queue-400", s.ServiceByQueue("400").Name)
}

func TestParseXMLBad(t *testing.T) {
	data, err := os.ReadFile("testdata/xml/bad.xml")
	require.NoError(t, err)
	_, err = ParseXML(bytes.NewReader(data))
	got := problems(t, err)
	want := []string{
		`line 4: seat 00:11:22:33:44:01: duplicate MAC (also seat 1)`,
		`line 5: <seat>: unknown attribute colour`,
		`line 5: seat: invalid MAC address "nonsense"`,
		`line 5: seat nonsense: interface "SIP 203" is not TECH/resource`,
		`line 6: operator "alice": seat 00:11:22:33:44:09: no such seat`,
		`line 7: <operator>: enabled must be true or false, not "yes"`,
		`line 7: operator "alice": duplicate username`,
		`line 8: operator "bob": missing password`,
		`line 9: unknown element <desk> in <astcti-config>`,
		`line 12: service "sales": application: placeholder ${calldata} names no variable of the service and no built-in`,
		`line 13: <member>: penalty must be an integer >= 0, not "-1"`,
		`line 13: service "sales": member "carol": no such operator`,
		`line 15: service "support": unknown type "sideways"`,
		`line 15: service "support": a queue service needs a queue name`,
		`line 16: service "support": unknown trigger "popup"`,
		`line 17: service "other": context astcti-service is also the context of service "sales"`,
	}
	if miss := missing(got, want); len(miss) > 0 {
		t.Errorf("ParseXML(bad.xml) problems:\n%s\nmissing:\n%s", strings.Join(got, "\n"), strings.Join(miss, "\n"))
	}
	// Sorted by line.
	prev := 0
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	for _, p := range ve.Problems {
		assert.GreaterOrEqual(t, p.Line, prev, "problems sorted by line")
		prev = p.Line
	}
}

func TestParseXMLProblems(t *testing.T) {
	const head = `<?xml version="1.0"?>` + "\n"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"no root", head, []string{"no <astcti-config> element"}},
		{"wrong root", head + `<config version="1"/>`, []string{"line 2: the root element is <config>"}},
		{"no version", head + `<astcti-config/>`, []string{`line 2: <astcti-config> needs version="1"`}},
		{"future version", head + `<astcti-config version="2"/>`, []string{`line 2: unsupported version "2"`}},
		{"syntax", head + "<astcti-config version=\"1\">\n<seat mac=\"x\" \n", []string{"XML syntax"}},
		{"doctype", head + `<!DOCTYPE x [<!ENTITY a "b">]>` + "\n" + `<astcti-config version="1"/>`, []string{"line 2: <!DOCTYPE> is not allowed"}},
		{"unknown entity", head + `<astcti-config version="1"><seat mac="&foo;"/></astcti-config>`, []string{"XML syntax"}},
		{"text", head + "<astcti-config version=\"1\">\n  hello\n</astcti-config>", []string{`line 3: unexpected text "hello"`}},
		{"two roots", head + `<astcti-config version="1"/>` + "\n" + `<astcti-config version="1"/>`, []string{"line 3: a second root element"}},
		{"child of seat", head + `<astcti-config version="1">` + "\n" + `<seat mac="00:11:22:33:44:01" interface="SIP/1"><x/></seat></astcti-config>`, []string{"line 3: unknown element <x> in <seat>"}},
		{"unknown in service", head + `<astcti-config version="1">` + "\n" + `<service name="s" type="inbound" context="c">` + "\n" + `<var name="x"/></service></astcti-config>`, []string{"line 4: unknown element <var> in <service>"}},
		{"duplicate attribute", head + `<astcti-config version="1"><seat mac="00:11:22:33:44:01" mac="00:11:22:33:44:02" interface="SIP/1"/></astcti-config>`, []string{"duplicate attribute mac"}},
		{"namespaced attribute", head + `<astcti-config version="1" xmlns:x="urn:x"><seat x:mac="00:11:22:33:44:01" interface="SIP/1"/></astcti-config>`, []string{"unknown attribute urn:x:mac"}},
		{"both passwords", head + `<astcti-config version="1"><operator username="a" password="a" password-hash="$pbkdf2-sha256$i=1000$x$y"/></astcti-config>`, []string{"both password and password-hash"}},
		{"empty password", head + `<astcti-config version="1"><operator username="a" password=""/></astcti-config>`, []string{"empty password"}},
		{"bad hash", head + `<astcti-config version="1"><operator username="a" password-hash="5f4dcc3b5aa765d61d8327deb882cf99"/></astcti-config>`, []string{"not a pbkdf2-sha256 password hash"}},
		{"unterminated placeholder", head + `<astcti-config version="1"><service name="s" type="inbound" context="c" trigger="application" application="x" parameters="${a"/></astcti-config>`, []string{"unterminated ${ placeholder"}},
		{"builtin as variable", head + `<astcti-config version="1"><service name="s" type="inbound" context="c"><variable name="uniqueid"/></service></astcti-config>`, []string{`variable "uniqueid" has the name of a built-in placeholder`}},
		{"trigger without application", head + `<astcti-config version="1"><service name="s" type="inbound" context="c" trigger="application"/></astcti-config>`, []string{"trigger application needs an application"}},
		{"browser needs http", head + `<astcti-config version="1"><service name="s" type="inbound" context="c" trigger="browser" application="file:///etc/passwd"/></astcti-config>`, []string{"needs an http:// or https:// URL"}},
		{"outbound queue", head + `<astcti-config version="1"><service name="s" type="outbound" context="c" queue="q"/></astcti-config>`, []string{"an outbound service cannot have a queue"}},
		{"two services one queue", head + `<astcti-config version="1"><service name="a" type="inbound" context="c" queue="q"/><service name="b" type="inbound" context="d" queue="q"/></astcti-config>`, []string{`queue q is also the queue of service "a"`}},
		{"duplicate member", head + `<astcti-config version="1"><operator username="a" password="a"/><service name="s" type="inbound" context="c"><member operator="a"/><member operator="a"/></service></astcti-config>`, []string{`operator "a" is a member twice`}},
		{"control character", head + `<astcti-config version="1"><seat mac="00:11:22:33:44:01" interface="SIP/1" description="a&#10;b"/></astcti-config>`, []string{"control character"}},
		{"local without context", head + `<astcti-config version="1"><seat mac="00:11:22:33:44:01" interface="Local/201"/></astcti-config>`, []string{"Local/exten@context"}},
		{"missing attributes", head + `<astcti-config version="1"><seat/><operator/><service/></astcti-config>`, []string{"missing MAC", "missing interface", "missing username", "missing password", "missing name", "missing type", "missing context"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseXML(strings.NewReader(tc.in))
			got := problems(t, err)
			if miss := missing(got, tc.want); len(miss) > 0 {
				t.Errorf("ParseXML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseXMLDefaults(t *testing.T) {
	in := `<astcti-config version="1">
	<operator username="a" password="a"/>
	<service name="s" type="inbound" context="c"><member operator="a"/></service>
</astcti-config>`
	m, err := ParseXML(strings.NewReader(in))
	require.NoError(t, err)
	assert.True(t, m.Operators[0].Enabled)
	assert.False(t, m.Operators[0].BeginPaused)
	assert.Equal(t, TriggerNone, m.Services[0].Trigger)
	assert.True(t, m.Services[0].Enabled)
	assert.False(t, m.Services[0].IsQueue)
	assert.Equal(t, 0, m.Services[0].Members[0].Penalty)
}

func TestWriteXMLEscapes(t *testing.T) {
	m := Demo()
	m.Seats[0].Description = `Desk "1" <front> & 'back'`
	var buf bytes.Buffer
	require.NoError(t, WriteXML(&buf, m))
	assert.Contains(t, buf.String(), `application="http://crm.example/?caller=${calleridnum}&amp;data=${calldata}"`)
	back, err := ParseXML(&buf)
	require.NoError(t, err)
	assert.Equal(t, content(m), content(back))
}

// TestDocsDemo checks that the demo of docs/config.md is Demo().
func TestDocsDemo(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	require.NoError(t, err)
	const start, end = "<!-- demo:begin -->", "<!-- demo:end -->"
	s := string(doc)
	i, j := strings.Index(s, start), strings.Index(s, end)
	require.True(t, i >= 0 && j > i, "docs/config.md lacks the demo between %s and %s", start, end)
	block := s[i+len(start) : j]
	block = block[strings.Index(block, "<?xml"):]
	block = block[:strings.LastIndex(block, "</astcti-config>")+len("</astcti-config>")]
	m, err := ParseXML(strings.NewReader(block))
	require.NoError(t, err)
	demo := content(Demo())
	got := content(m)
	for i := range got.Operators {
		assert.True(t, got.Operators[i].CheckPassword(MD5Hex(got.Operators[i].Username)))
		got.Operators[i].PasswordHash = demo.Operators[i].PasswordHash
	}
	assert.Equal(t, demo, got)
	for elem, attrs := range knownAttrs {
		for _, a := range attrs {
			assert.Contains(t, s, "`"+a+"`", "docs/config.md documents attribute %s of <%s>", a, elem)
		}
	}
}
