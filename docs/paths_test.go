package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// notInRepository are the repository paths the pages may name that are not
// committed, each with the reason; a path under one of them is not checked.
var notInRepository = map[string]string{
	"bin/":  "written by make build (bin/astcti, bin/fakeami, bin/astcti-sim); in .gitignore",
	"dist/": "written by make release (dist/astcti-linux-amd64, …, dist/SHA256SUMS); in .gitignore",
}

// TestDocPaths checks that the pages never point at a file the repository
// does not have. In docs/*.md and README.md it reads every path in
// backticks (code spans, and the words of fenced blocks) that starts with
// a top-level entry of the repository (cmd/, cti/, docs/, testdata/, …) or
// with ../, and every relative link target, and requires each to exist.
// A path with a wildcard must match at least one file. Skipped: paths with
// a placeholder (…, ..., <…>, ${…}, %…%), absolute paths and URLs (not
// the repository's), and notInRepository. In-page links (#anchor) must
// name a heading of the page.
func TestDocPaths(t *testing.T) {
	root := ".."
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	top := map[string]bool{}
	for _, e := range entries {
		top[e.Name()] = true
	}
	pages, err := filepath.Glob("*.md")
	require.NoError(t, err)
	pages = append(pages, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for _, page := range pages {
		data, err := os.ReadFile(page)
		require.NoError(t, err)
		text := string(data)
		prose, fenced := splitFences(text)
		spans, plain := codeSpans(prose)
		var words []string
		for _, span := range spans {
			words = append(words, strings.Fields(span)...)
		}
		words = append(words, strings.Fields(fenced)...)
		for _, w := range words {
			p, ok := repoPath(w, top)
			if !ok {
				continue
			}
			checked++
			assert.True(t, exists(filepath.Join(root, p), p), "%s names `%s`, which is not in the repository", page, p)
		}
		anchors := headingAnchors(prose)
		for _, m := range link.FindAllStringSubmatch(plain, -1) {
			target := m[1]
			switch {
			case strings.Contains(target, "://"), strings.HasPrefix(target, "mailto:"):
				continue
			case strings.HasPrefix(target, "#"):
				assert.True(t, anchors[target[1:]], "%s links to %s, which is no heading of the page", page, target)
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			checked++
			assert.True(t, exists(filepath.Join(filepath.Dir(page), target), target), "%s links to %s, which is not in the repository", page, m[1])
		}
	}
	assert.Greater(t, checked, 50, "too few paths found: is the test still reading the pages?")
}

// goSymbol is a Go package path and one of its names: cti/ami.Client.
var goSymbol = regexp.MustCompile(`^(.*/[a-z0-9_]+)\.[A-Z]\w*$`)

// repoPath returns the repository path (relative to its root) that word
// names, and whether it names one to check.
func repoPath(word string, top map[string]bool) (string, bool) {
	w := strings.Trim(word, "`'\"()[],;:.")
	if !strings.Contains(w, "/") && strings.Contains(w, `\`) {
		w = strings.ReplaceAll(w, `\`, "/") // a Windows path: docs\client\…
	}
	if m := goSymbol.FindStringSubmatch(w); m != nil {
		w = m[1] // cti/ami.Client: the package's directory
	}
	if strings.ContainsAny(w, "…<>{}$%=") || strings.Contains(w, "...") {
		return "", false
	}
	if rest, ok := strings.CutPrefix(w, "../"); ok {
		w = rest // relative to docs/: the repository's root
	} else {
		first, _, found := strings.Cut(w, "/")
		if !found || !top[first] {
			return "", false
		}
	}
	for prefix := range notInRepository {
		if strings.HasPrefix(w, prefix) {
			return "", false
		}
	}
	return w, w != ""
}

// exists tells whether path (a glob if it has a wildcard) names a file or
// directory.
func exists(path, name string) bool {
	if strings.ContainsAny(name, "*?[") {
		m, err := filepath.Glob(path)
		return err == nil && len(m) > 0
	}
	_, err := os.Stat(path)
	return err == nil
}

// splitFences returns a Markdown text without its fenced code blocks, and
// the blocks' contents.
func splitFences(text string) (prose, fenced string) {
	var p, f strings.Builder
	in := false
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			p.WriteString("\n")
			continue
		}
		if in {
			f.WriteString(line)
			p.WriteString("\n")
		} else {
			p.WriteString(line)
		}
	}
	return p.String(), f.String()
}

// codeSpans returns the contents of the code spans of a Markdown text
// (without fenced blocks): a run of backticks up to the next run of the
// same length, across line ends; each line end in it is a space. rest is
// the text without them.
func codeSpans(text string) (spans []string, rest string) {
	var out []string
	var plain strings.Builder
	for i := 0; i < len(text); {
		if text[i] != '`' {
			plain.WriteByte(text[i])
			i++
			continue
		}
		n := 0
		for i+n < len(text) && text[i+n] == '`' {
			n++
		}
		open := strings.Repeat("`", n)
		start := i + n
		j := start
		found := false
		for j < len(text) {
			k := strings.Index(text[j:], open)
			if k < 0 {
				break
			}
			k += j
			if k+n < len(text) && text[k+n] == '`' { // a longer run
				for k < len(text) && text[k] == '`' {
					k++
				}
				j = k
				continue
			}
			out = append(out, strings.TrimSpace(strings.ReplaceAll(text[start:k], "\n", " ")))
			i = k + n
			found = true
			break
		}
		if !found {
			plain.WriteString(open)
			i = start
		}
	}
	return out, plain.String()
}

// headingAnchors returns the anchors GitHub gives the headings of a page:
// lower case, spaces as -, punctuation but - and _ dropped.
func headingAnchors(prose string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(prose, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var sb strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				sb.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				sb.WriteRune(r)
			}
		}
		out[sb.String()] = true
	}
	return out
}
