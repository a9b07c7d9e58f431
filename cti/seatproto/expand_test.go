package seatproto

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileValues are caller ids and dialplan data an attacker could send.
var hostileValues = []string{
	"",
	" ",
	"plain",
	"two words",
	"; rm -rf /",
	"$(id)",
	"`id`",
	"${calleridnum}",
	`"`,
	`'`,
	`\`,
	`\\`,
	`"'"'`,
	`a"b'c\d`,
	`'; rm -rf / #`,
	`" ; rm -rf / ; "`,
	`\"`,
	`\'`,
	"x\\",
	"line1\nline2",
	"cr\r\nlf",
	"tab\there",
	"&& | > < * ? ~ #",
	"--exec=/bin/sh",
	"é ☕ 日本",
	"%41%20+",
}

func vals(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestExpandApplication(t *testing.T) {
	v := vals(map[string]string{"calldata": "12345", "name": "Rossi Mario", "empty": "", "q": `say "hi"`, "s": "it's"})
	tests := []struct {
		name, template, want string
		args                 []string
	}{
		{"no placeholder", "--customer 1", "--customer 1", []string{"--customer", "1"}},
		{"bare", "--customer ${calldata}", `--customer 12345`, []string{"--customer", "12345"}},
		{"bare with space", "--name ${name}", `--name "Rossi Mario"`, []string{"--name", "Rossi Mario"}},
		{"glued", "--name=${name}!", `--name="Rossi Mario"!`, []string{"--name=Rossi Mario!"}},
		{"two glued", "${calldata}${name}", `12345"Rossi Mario"`, []string{"12345Rossi Mario"}},
		{"empty keeps its place", "a ${empty} b", `a "" b`, []string{"a", "", "b"}},
		{"inside double quotes", `"id ${calldata}: ${q}"`, `"id 12345: say \"hi\""`, []string{`id 12345: say "hi"`}},
		{"inside single quotes", `'${s}'`, `'it'"'"'s'`, []string{"it's"}},
		{"dollar alone", "cost $5 ${calldata}", `cost $5 12345`, []string{"cost", "$5", "12345"}},
		{"dollar brace in value not expanded", "${q}", `"say \"hi\""`, []string{`say "hi"`}},
		{"escaped space in template", `a\ b ${calldata}`, `a\ b 12345`, []string{"a b", "12345"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Expand(tc.template, v, false)
			require.NoError(t, err, "Expand(%q)", tc.template)
			assert.Equal(t, tc.want, got, "Expand(%q) = %q, want %q", tc.template, got, tc.want)
			args, err := SplitArgs(got)
			require.NoError(t, err, "SplitArgs(%q)", got)
			assert.Equal(t, tc.args, args, "SplitArgs(%q)", got)
		})
	}
}

func TestExpandBrowser(t *testing.T) {
	v := vals(map[string]string{"num": "+39 02/123", "name": "Zoë & \"Co\"", "evil": "x@evil.example/?a=1#f", "dots": ".."})
	tests := []struct {
		name, template, want string
	}{
		{"query", "https://crm.example/find?num=${num}&name=${name}", "https://crm.example/find?num=%2B39+02%2F123&name=Zo%C3%AB+%26+%22Co%22"},
		{"path", "https://crm.example/customer/${num}/view", "https://crm.example/customer/%2B39%2002%2F123/view"},
		{"host injection stays in path", "https://crm.example/${evil}", "https://crm.example/x%40evil.example%2F%3Fa%3D1%23f"},
		{"fragment", "https://crm.example/#${name}", "https://crm.example/#Zo%C3%AB+%26+%22Co%22"},
		{"dots", "https://crm.example/c/${dots}", "https://crm.example/c/.."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Expand(tc.template, v, true)
			require.NoError(t, err, "Expand(%q)", tc.template)
			assert.Equal(t, tc.want, got)
			u, err := url.Parse(got)
			require.NoError(t, err)
			assert.Equal(t, "crm.example", u.Host)
		})
	}
	// A value comes back from the query exactly.
	got, err := Expand("https://crm.example/?v=${evil}", v, true)
	require.NoError(t, err)
	u, err := url.Parse(got)
	require.NoError(t, err)
	assert.Equal(t, "x@evil.example/?a=1#f", u.Query().Get("v"))
}

func TestExpandErrors(t *testing.T) {
	v := vals(map[string]string{"a": "1"})
	long := strings.Repeat("x", MaxActionLen)
	tests := []struct {
		name, template string
		url            bool
		want           error
	}{
		{"unterminated", "x ${a", false, ErrBadTemplate},
		{"empty name", "${}", false, ErrBadTemplate},
		{"bad name", "${a b}", false, ErrBadTemplate},
		{"digit name", "${1a}", true, ErrBadTemplate},
		{"unknown", "${nope}", true, ErrUnknownPlaceholder},
		{"unbalanced double", `"${a}`, false, ErrBadTemplate},
		{"unbalanced single", `'x`, false, ErrBadTemplate},
		{"trailing backslash", `x\`, false, ErrBadTemplate},
		{"backslash before placeholder", `\${a}`, false, ErrBadTemplate},
		{"backslash before placeholder in quotes", `"\${a}"`, false, ErrBadTemplate},
		{"too long", long + "${a}", false, ErrActionTooLong},
		{"too long url", long + "${a}", true, ErrActionTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Expand(tc.template, v, tc.url)
			assert.ErrorIs(t, err, tc.want, "Expand(%q) = %q, want an error", tc.template, got)
		})
	}
	// Quotes do not matter to a browser template.
	_, err := Expand(`https://x/?q="${a}`, v, true)
	assert.NoError(t, err)
}

// TestExpandHostileStaysOneArgument is the point of the quoting: a value
// with quotes, spaces, shell syntax or newlines comes out of
// SplitArgs(Expand(…)) verbatim, wherever the template puts it, and
// through the wire as well.
func TestExpandHostileStaysOneArgument(t *testing.T) {
	templates := []struct {
		tmpl string
		want func(v string) []string
	}{
		{"--name ${v} --end", func(v string) []string { return []string{"--name", v, "--end"} }},
		{"--name=${v}", func(v string) []string { return []string{"--name=" + v} }},
		{`"--name=${v}"`, func(v string) []string { return []string{"--name=" + v} }},
		{`'--name=${v}'`, func(v string) []string { return []string{"--name=" + v} }},
		{`a${v}b'${v}'"${v}"`, func(v string) []string { return []string{"a" + v + "b" + v + v} }},
		{`'it''s' ${v} "x\"y"`, func(v string) []string { return []string{"its", v, `x"y`} }},
	}
	for _, v := range hostileValues {
		for _, tc := range templates {
			got, err := Expand(tc.tmpl, vals(map[string]string{"v": v}), false)
			require.NoError(t, err, "Expand(%q) with %q", tc.tmpl, v)
			args, err := SplitArgs(got)
			require.NoError(t, err, "SplitArgs(%q)", got)
			assert.Equal(t, tc.want(v), args, "SplitArgs(Expand(%q)) with v=%q (expanded %q)", tc.tmpl, v, got)

			// The same through an event line.
			ev, err := ParseEvent(AppendEvent(nil, &Event{ID: EventLink, Action: &Action{Type: ActionApplication, Application: "crm", Parameters: got}}))
			require.NoError(t, err)
			args, err = SplitArgs(ev.Action.Parameters)
			require.NoError(t, err)
			assert.Equal(t, tc.want(v), args, "through the wire: %q", got)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"spaces", " \t\r\n ", nil},
		{"words", "  a  b\tc\nd ", []string{"a", "b", "c", "d"}},
		{"double", `"a b" c`, []string{"a b", "c"}},
		{"single", `'a b' c`, []string{"a b", "c"}},
		{"glued", `a"b c"'d e'f`, []string{"ab cd ef"}},
		{"empty args", `"" '' x ""`, []string{"", "", "x", ""}},
		{"backslash escapes in double", `"a\"b\\c"`, []string{`a"b\c`}},
		{"backslash kept in double", `"C:\data\x"`, []string{`C:\data\x`}},
		{"backslash literal in single", `'a\b\'`, []string{`a\b\`}},
		{"backslash outside", `a\ b \"c \'d \\e`, []string{"a b", `"c`, `'d`, `\e`}},
		{"backslash newline outside", "a\\\nb", []string{"a\nb"}},
		{"newline in quotes", "'a\nb' \"c\nd\"", []string{"a\nb", "c\nd"}},
		{"shell syntax is text", "; rm -rf / && $(id) `id` | x > y # z", []string{";", "rm", "-rf", "/", "&&", "$(id)", "`id`", "|", "x", ">", "y", "#", "z"}},
		{"single in double", `"it's"`, []string{"it's"}},
		{"double in single", `'say "hi"'`, []string{`say "hi"`}},
		{"utf8", "café '日 本'", []string{"café", "日 本"}},
		{"invalid utf8 kept", "\xff \"\xfe\"", []string{"\xff", "\xfe"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitArgs(tc.in)
			require.NoError(t, err, "SplitArgs(%q)", tc.in)
			assert.Equal(t, tc.want, got, "SplitArgs(%q) = %q, want %q", tc.in, got, tc.want)
		})
	}
}

func TestSplitArgsErrors(t *testing.T) {
	for _, in := range []string{`"`, `'`, `a "b`, `a 'b`, `"a\"`, `a\`, `"\`, `'it''s`} {
		t.Run(in, func(t *testing.T) {
			got, err := SplitArgs(in)
			assert.ErrorIs(t, err, ErrBadParameters, "SplitArgs(%q) = %q, want an error", in, got)
		})
	}
}

func TestQuoteArg(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a-b_c./:=@%+,", "a-b_c./:=@%+,"},
		{"", "''"},
		{"two words", "'two words'"},
		{`say "hi"`, `'say "hi"'`},
		{"it's", `"it's"`},
		{`it's "x" \`, `"it's \"x\" \\"`},
		{"é", "'é'"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, QuoteArg(tc.in), "QuoteArg(%q)", tc.in)
	}
	for _, v := range hostileValues {
		args, err := SplitArgs("x " + QuoteArg(v) + " y")
		require.NoError(t, err)
		assert.Equal(t, []string{"x", v, "y"}, args, "QuoteArg(%q) = %q", v, QuoteArg(v))
	}
}

func TestCallValue(t *testing.T) {
	c := linkEvent().Call
	c.AppData = append(c.AppData, Data{"Customer", "C-9"}, Data{"queue", "shadowed"})
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"calleridnum", "200", true},
		{"calleridname", "Demo 1", true},
		{"uniqueid", "1700000000.12", true},
		{"channel", "SIP/200-0000000a", true},
		{"context", "astcti-service", true},
		{"exten", "100", true},
		{"linkedid", "1700000000.12", true},
		{"service", "support", true},
		{"queue", "astcti-queue", true},
		{"calldata", "12345", true},
		{"Customer", "C-9", true},
		{"customer", "", false},
		{"CallerIDNum", "", false},
		{"state", "", false},
		{"nope", "", false},
	}
	for _, tc := range tests {
		got, ok := c.Value(tc.name)
		assert.Equal(t, tc.ok, ok, "Value(%q)", tc.name)
		assert.Equal(t, tc.want, got, "Value(%q)", tc.name)
	}
	got, err := Expand("--customer ${calldata} --from ${calleridnum}", c.Value, false)
	require.NoError(t, err)
	assert.Equal(t, `--customer 12345 --from 200`, got)
}
