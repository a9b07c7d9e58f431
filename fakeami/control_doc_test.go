package fakeami

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIndexIsDocumented holds docs/fakeami.md to the index GET / answers.
func TestIndexIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/fakeami.md")
	require.NoError(t, err)
	require.True(t, strings.Contains(string(doc), "```\n"+Index()+"```\n"),
		"docs/fakeami.md must hold the text of Index() in a code block; it is:\n%s", Index())
}
