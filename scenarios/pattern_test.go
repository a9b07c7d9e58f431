package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern string // without "_"
		exten   string
		want    bool
	}{
		{"X", "5", true},
		{"X", "55", false},
		{"X", "", false},
		{"X", "a", false},
		{"2XX", "201", true},
		{"2XX", "301", false},
		{"2XX", "20", false},
		{"2XX", "2011", false},
		{"Z", "0", false},
		{"Z", "1", true},
		{"N", "1", false},
		{"N", "2", true},
		{"nxz", "200", false},
		{"nxz", "201", true},
		{"[1-5]", "3", true},
		{"[1-5]", "6", false},
		{"[15-7]X", "60", true},
		{"[15-7]X", "40", false},
		{"[a-c]", "b", true},
		{"X.", "1", false}, // . needs one more character
		{"X.", "12", true},
		{"X.", "0612345678", true},
		{"X!", "1", true},
		{"X!", "12", true},
		{"!", "", true},
		{".", "", false},
		{"555-XXXX", "5551234", true}, // - is ignored
		{"555-XXXX", "555-1234", false},
		{"*XX", "*97", true},
		{"#", "#", true},
		{"s", "s", true},
	}
	for _, tc := range tests {
		pat, err := compilePattern(tc.pattern)
		require.NoError(t, err, "compilePattern(%q)", tc.pattern)
		if got := matchPattern(pat, tc.exten); got != tc.want {
			t.Errorf("matchPattern(_%s, %q) = %v, want %v", tc.pattern, tc.exten, got, tc.want)
		}
	}
}

func TestComparePatterns(t *testing.T) {
	// Each pair is in Asterisk's order: the first sorts before the second.
	tests := [][2]string{
		{"2XX", "X."},
		{"2XX", "NXX"},
		{"NXX", "XXX"},
		{"ZXX", "XXX"},
		{"NXX", "ZXX"},
		{"1[2-5]X", "1XX"},
		{"X.", "X!"},
		{"XXX", "X."},
		{"12", "1X"},
		{"[12]X", "[13]X"}, // same count and lowest: Asterisk compares the bitmaps
	}
	for _, tc := range tests {
		a, err := compilePattern(tc[0])
		require.NoError(t, err)
		b, err := compilePattern(tc[1])
		require.NoError(t, err)
		if got := comparePatterns(a, b); got >= 0 {
			t.Errorf("comparePatterns(_%s, _%s) = %d, want < 0", tc[0], tc[1], got)
		}
		if got := comparePatterns(b, a); got <= 0 {
			t.Errorf("comparePatterns(_%s, _%s) = %d, want > 0", tc[1], tc[0], got)
		}
		if got := comparePatterns(a, a); got != 0 {
			t.Errorf("comparePatterns(_%s, _%s) = %d, want 0", tc[0], tc[0], got)
		}
	}
}

func TestContextMatch(t *testing.T) {
	sc, err := Parse("t", archive(fileExtensions, `[c]
exten => _X.,1,NoOp(any)
exten => _2XX,1,NoOp(2XX)
exten => 201,1,NoOp(literal)
exten => _NXX,1,NoOp(NXX)
exten => _2[0-4]X,1,NoOp(2[0-4]X)
exten => _5X,1,NoOp(5X first)
exten => _5[0-9],1,NoOp(5X second)
exten => _9!,1,NoOp(9!)
exten => s,1,NoOp(s)
`))
	require.NoError(t, err)
	c := sc.Contexts["c"]
	tests := []struct {
		exten string
		want  string // the NoOp text, "" for no match
	}{
		{"201", "literal"},    // a literal beats every pattern
		{"202", "2[0-4]X"},    // the most specific pattern
		{"250", "2XX"},        // _2[0-4]X does not match
		{"301", "NXX"},        // N before X.
		{"101", "any"},        // only _X. matches
		{"55", "5X first"},    // same specificity: file order
		{"9", "9!"},           // ! matches nothing more
		{"0612345678", "any"}, // a long outside number
		{"s", "s"},            // literal letters
		{"", ""},              // nothing matches an empty number
		{"x", ""},             // no pattern takes letters
		{"_X.", ""},           // a pattern is not a literal
	}
	for _, tc := range tests {
		steps, ok := c.Match(tc.exten)
		got := ""
		if ok {
			got = steps[0].Args[0]
		}
		if got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.exten, got, tc.want)
		}
	}
	key, ok := c.MatchKey("202")
	assert.True(t, ok)
	assert.Equal(t, "_2[0-4]X", key)

	var nilCtx *Context
	_, ok = nilCtx.Match("1")
	assert.False(t, ok)

	// A context built by hand, without Order, still matches.
	hand := &Context{Name: "h", Extens: map[string][]Step{"_X.": {{Priority: 1, App: "Hangup"}}, "_2XX": {{Priority: 1, App: "Answer"}}}}
	steps, ok := hand.Match("201")
	require.True(t, ok)
	assert.Equal(t, "Answer", steps[0].App)
}

func TestIsPattern(t *testing.T) {
	for exten, want := range map[string]bool{"_X.": true, "101": false, "s": false, "": false} {
		if got := IsPattern(exten); got != want {
			t.Errorf("IsPattern(%q) = %v, want %v", exten, got, want)
		}
	}
}
