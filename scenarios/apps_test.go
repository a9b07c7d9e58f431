package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		data string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{"a|b", []string{"a", "b"}},
		{"astcti-queue,t,,,60", []string{"astcti-queue", "t", "", "", "60"}},
		{"a,", []string{"a", ""}},
		{"D(1,2),x", []string{"D(1,2)", "x"}},
		{"${CUT(a,-,1)},x", []string{"${CUT(a,-,1)}", "x"}},
		{"$[1,2],x", []string{"$[1,2]", "x"}},
		{`"a,b",c`, []string{`"a,b"`, "c"}},
		{`a\,b,c`, []string{"a,b", "c"}},
		{`a\|b`, []string{"a|b"}},
		{"a),b", []string{"a)", "b"}}, // an unmatched ) is kept
	}
	for _, tc := range tests {
		if got := splitArgs(tc.data); !assert.Equal(t, tc.want, got) {
			t.Errorf("splitArgs(%q) = %q, want %q", tc.data, got, tc.want)
		}
	}
}

func TestAppData(t *testing.T) {
	st := Step{App: "Queue", Args: []string{"astcti-queue", "t", "", "", "60"}}
	assert.Equal(t, "astcti-queue,t,,,60", st.AppData(","))
	assert.Equal(t, "astcti-queue|t|||60", st.AppData("|"))
	assert.Equal(t, "", Step{App: "Answer"}.AppData(","))
}

func TestArgParsers(t *testing.T) {
	d, err := ParseDial([]string{"SIP/201&SIP/202", "30", "tT", "url"})
	require.NoError(t, err)
	assert.Equal(t, DialArgs{Interfaces: []string{"SIP/201", "SIP/202"}, Timeout: 30 * time.Second, Options: "tT"}, d)
	d, err = ParseDial([]string{"SIP/${EXTEN}", "${T}"})
	require.NoError(t, err)
	assert.Equal(t, DialArgs{Interfaces: []string{"SIP/${EXTEN}"}}, d)

	q, err := ParseQueue([]string{"astcti-queue", "t", "", "", "60"})
	require.NoError(t, err)
	assert.Equal(t, QueueArgs{Queue: "astcti-queue", Options: "t", Timeout: time.Minute}, q)
	q, err = ParseQueue([]string{"q"})
	require.NoError(t, err)
	assert.Equal(t, QueueArgs{Queue: "q"}, q)

	gotos := []struct {
		args []string
		want GotoArgs
	}{
		{[]string{"5"}, GotoArgs{Priority: "5"}},
		{[]string{"102", "1"}, GotoArgs{Exten: "102", Priority: "1"}},
		{[]string{"astcti-service", "101", "start"}, GotoArgs{Context: "astcti-service", Exten: "101", Priority: "start"}},
	}
	for _, tc := range gotos {
		g, err := ParseGoto(tc.args)
		require.NoError(t, err)
		if g != tc.want {
			t.Errorf("ParseGoto(%q) = %+v, want %+v", tc.args, g, tc.want)
		}
	}

	r, err := ParseRead([]string{"customer_id", "", "", "", "1", "10"})
	require.NoError(t, err)
	assert.Equal(t, ReadArgs{Var: "customer_id", Timeout: 10 * time.Second}, r)

	name, value, err := ParseSet([]string{"order=A-17=x"})
	require.NoError(t, err)
	assert.Equal(t, []string{"order", "A-17=x"}, []string{name, value})

	w, err := ParseWait([]string{"0.25"})
	require.NoError(t, err)
	assert.Equal(t, 250*time.Millisecond, w)

	u, err := ParseUserEvent([]string{"AstCTI", "customer_id: 4711", "order:A-17", "empty:"})
	require.NoError(t, err)
	assert.Equal(t, UserEvent{Name: "AstCTI", Fields: []Field{{"customer_id", "4711"}, {"order", "A-17"}, {"empty", ""}}}, u)
	_, err = ParseUserEvent(nil)
	assert.Error(t, err)
}

func TestFindPriority(t *testing.T) {
	steps := []Step{{Priority: 1}, {Priority: 2, Label: "loop"}, {Priority: 3, Label: "3"}}
	tests := []struct {
		p    string
		want int
		ok   bool
	}{
		{"1", 0, true},
		{"2", 1, true},
		{"loop", 1, true},
		{"3", 2, true},
		{"4", 0, false},
		{"nolabel", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := FindPriority(steps, tc.p)
		if got != tc.want || ok != tc.ok {
			t.Errorf("FindPriority(%q) = %d, %v, want %d, %v", tc.p, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTakeDigits(t *testing.T) {
	tests := []struct {
		digits    string
		max       int
		got, rest string
	}{
		{"4711#17#", 0, "4711", "17#"},
		{"17#", 0, "17", ""},
		{"", 0, "", ""},
		{"12345", 3, "123", "45"},
		{"12#45", 3, "12", "45"},
		{"123#", 3, "123", "#"}, // as Asterisk: the # after a full Read stays
		{"#1", 0, "", "1"},
		{"999", 0, "999", ""},
	}
	for _, tc := range tests {
		got, rest := TakeDigits(tc.digits, tc.max)
		if got != tc.got || rest != tc.rest {
			t.Errorf("TakeDigits(%q, %d) = %q, %q, want %q, %q", tc.digits, tc.max, got, rest, tc.got, tc.rest)
		}
	}
}

func TestValidInterface(t *testing.T) {
	for iface, want := range map[string]bool{
		"SIP/201": true, "PJSIP/201": true, "IAX2/box": true, "SIP/trunk/0612345678": true,
		"Local/201@phones/n": true, "201": false, "/201": false, "SIP/": false, "SIP/2 01": false,
		"SIP/201&SIP/202": false, "S-IP/201": false,
	} {
		if got := validInterface(iface); got != want {
			t.Errorf("validInterface(%q) = %v, want %v", iface, got, want)
		}
	}
}
