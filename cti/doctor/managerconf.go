package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Bounds of the manager.conf reader: how deep #include nests, how many
// files and how many bytes in all it reads.
var (
	maxIncludeDepth = 8
	maxConfFiles    = 64
	maxConfBytes    = int64(4 << 20)
)

// confLine is one "name = value" line of a configuration file, with where
// it came from.
type confLine struct {
	Name, Value string
	File        string
	Line        int
}

// confSection is a [section] of a configuration file.
type confSection struct {
	Name      string
	Template  bool     // [name](!)
	Inherits  []string // [name](tmpl1,tmpl2)
	Lines     []confLine
	File      string
	StartLine int
}

// managerUser is a user's section of manager.conf, templates applied.
type managerUser struct {
	Name         string
	File         string
	Read, Write  string
	WriteTimeout string // "" when not set
	Filters      []confLine
}

// readManagerConf reads manager.conf (and the files it #includes) and
// returns the section of the user name, with the lines of the templates it
// inherits first, as Asterisk's config parser does (main/config.c). It
// returns nil when the file has no such user.
func readManagerConf(path, name string) (*managerUser, error) {
	r := &confReader{seen: map[string]bool{path: true}}
	if err := r.file(path, 0); err != nil {
		return nil, err
	}
	sections := map[string]*confSection{}
	var user *confSection
	for _, s := range r.sections {
		if prev := sections[s.Name]; prev != nil && !s.Template {
			// [name](+) adds to a section; a plain repeat starts another
			// one of the same name, and Asterisk's manager takes the
			// first. Either way, the lines of both count here.
			prev.Lines = append(prev.Lines, s.Lines...)
			continue
		}
		sections[s.Name] = s
		if s.Name == name && !s.Template && user == nil {
			user = s
		}
	}
	if user == nil {
		return nil, nil
	}
	u := &managerUser{Name: name, File: user.File}
	var lines []confLine
	var inherit func(s *confSection, depth int)
	inherit = func(s *confSection, depth int) {
		if depth > maxIncludeDepth {
			return
		}
		for _, t := range s.Inherits {
			if ts := sections[t]; ts != nil && ts != s {
				inherit(ts, depth+1)
			}
		}
		lines = append(lines, s.Lines...)
	}
	inherit(user, 0)
	for _, l := range lines {
		switch n := strings.ToLower(l.Name); {
		case n == "read":
			u.Read = l.Value
		case n == "write":
			u.Write = l.Value
		case n == "writetimeout":
			u.WriteTimeout = l.Value
		case strings.HasPrefix(n, "eventfilter"):
			u.Filters = append(u.Filters, l)
		}
	}
	return u, nil
}

// confReader reads configuration files in Asterisk's syntax.
type confReader struct {
	sections []*confSection
	cur      *confSection
	files    int
	bytes    int64
	seen     map[string]bool
}

func (r *confReader) file(path string, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: #include nested more than %d deep", path, maxIncludeDepth)
	}
	r.files++
	if r.files > maxConfFiles {
		return fmt.Errorf("%s: more than %d files included", path, maxConfFiles)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfBytes-r.bytes+1))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r.bytes += int64(len(b))
	if r.bytes > maxConfBytes {
		return fmt.Errorf("%s: more than %d bytes of configuration", path, maxConfBytes)
	}
	return r.parse(path, b, depth)
}

// parse reads one file's text: [section](options) headers, "name = value"
// and "name => value" lines, ';' comments (not "\;") and ";-- … --;" block
// comments, #include and #tryinclude (relative to the file's directory,
// globs allowed). #exec is not run.
func (r *confReader) parse(path string, b []byte, depth int) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	inBlock := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		line, inBlock = stripComments(line, inBlock)
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if err := r.directive(path, line, depth); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(line, "[") {
			r.header(path, n, line)
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || r.cur == nil {
			continue
		}
		value = strings.TrimPrefix(value, ">")
		r.cur.Lines = append(r.cur.Lines, confLine{
			Name: strings.TrimSpace(name), Value: strings.TrimSpace(value), File: path, Line: n,
		})
	}
	return sc.Err()
}

// stripComments removes the comments of one line; inBlock says whether a
// ";--" block comment is open at its start and at its end.
func stripComments(line string, inBlock bool) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case inBlock:
			if strings.HasPrefix(line[i:], "--;") {
				inBlock = false
				i += 2
			}
		case strings.HasPrefix(line[i:], ";--"):
			inBlock = true
			i += 2
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == ';':
			b.WriteByte(';')
			i++
		case line[i] == ';':
			return b.String(), false
		default:
			b.WriteByte(line[i])
		}
	}
	return b.String(), inBlock
}

func (r *confReader) header(path string, n int, line string) {
	end := strings.IndexByte(line, ']')
	if end < 0 {
		return
	}
	s := &confSection{Name: strings.TrimSpace(line[1:end]), File: path, StartLine: n}
	if rest := strings.TrimSpace(line[end+1:]); strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		for _, o := range strings.Split(rest[1:len(rest)-1], ",") {
			switch o = strings.TrimSpace(o); o {
			case "!":
				s.Template = true
			case "+", "":
			default:
				s.Inherits = append(s.Inherits, o)
			}
		}
	}
	r.sections = append(r.sections, s)
	r.cur = s
}

func (r *confReader) directive(path, line string, depth int) error {
	word, arg, _ := strings.Cut(line[1:], " ")
	arg = strings.Trim(strings.TrimSpace(arg), `"<>`)
	switch strings.ToLower(word) {
	case "include", "tryinclude":
		if !filepath.IsAbs(arg) {
			arg = filepath.Join(filepath.Dir(path), arg)
		}
		matches, err := filepath.Glob(arg)
		if err != nil || len(matches) == 0 {
			if strings.EqualFold(word, "tryinclude") {
				return nil
			}
			return fmt.Errorf("%s: #include %s: no such file", path, arg)
		}
		for _, m := range matches {
			if r.seen[m] {
				continue
			}
			r.seen[m] = true
			if err := r.file(m, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
