package config

import (
	"slices"
	"strings"
	"testing"
)

// FuzzPlaceholders checks the ${name} substitution of an action's
// application and parameters against the names Placeholders finds:
// Expand never panics; replacing each placeholder by itself gives the
// template back; Expand asks for exactly the names Placeholders lists
// (when it accepts the template), and what it writes outside the values
// is the template's own text.
func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{
		"", "plain", "http://crm.example/?caller=${calleridnum}&data=${calldata}",
		"${a}${a}${b_2}", "$", "${", "${}", "${a", "$${a}}", "${not valid}", "${a}${", "a$b{c}${d}",
		"${é}", "${a-b}", "}${x}{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		self := Expand(s, func(name string) string { return "${" + name + "}" })
		if self != s {
			t.Fatalf("Expand(%q) with each placeholder as itself = %q", s, self)
		}
		var asked []string
		empty := Expand(s, func(name string) string {
			if !slices.Contains(asked, name) {
				asked = append(asked, name)
			}
			return ""
		})
		if len(empty) > len(s) {
			t.Fatalf("Expand(%q) with empty values = %q, longer than the template", s, empty)
		}
		names, err := Placeholders(s)
		if err == nil && !slices.Equal(names, asked) {
			t.Fatalf("Placeholders(%q) = %q, but Expand asked for %q", s, names, asked)
		}
		if err == nil && len(names) == 0 && empty != s {
			t.Fatalf("Expand(%q) without placeholders = %q", s, empty)
		}
		// A value holding "${x}" is written as it is, not expanded again.
		twice := Expand(s, func(string) string { return "${x}" })
		if n := len(asked); n > 0 && strings.Count(twice, "${x}") < n {
			t.Fatalf("Expand(%q) with ${x} values = %q: a value was expanded again", s, twice)
		}
	})
}
