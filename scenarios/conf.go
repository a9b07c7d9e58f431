package scenarios

import (
	"strconv"
	"strings"
)

// confLine is one line of an Asterisk .conf file with its comment removed
// and its white space trimmed.
type confLine struct {
	n    int // line number, from 1
	text string
}

// confLines splits an Asterisk .conf file into its non-empty lines. As
// Asterisk's config parser (main/config.c, process_text_line), it removes
// ";" comments and ";-- … --;" block comments, which may span lines, and
// turns "\;" into ";". An unterminated block comment is reported with the
// line it starts on (0 if there is none).
func confLines(data string) (lines []confLine, unterminated int) {
	inBlock := 0 // line the open block comment started on
	for i, raw := range strings.Split(data, "\n") {
		n := i + 1
		raw = strings.TrimSuffix(raw, "\r")
		var b strings.Builder
		for j := 0; j < len(raw); {
			if inBlock != 0 {
				k := strings.Index(raw[j:], "--;")
				if k < 0 {
					j = len(raw)
					continue
				}
				j += k + 3
				inBlock = 0
				continue
			}
			switch {
			case raw[j] == '\\' && j+1 < len(raw) && raw[j+1] == ';':
				b.WriteByte(';')
				j += 2
			case strings.HasPrefix(raw[j:], ";--"):
				inBlock = n
				j += 3
			case raw[j] == ';':
				j = len(raw)
			default:
				b.WriteByte(raw[j])
				j++
			}
		}
		if t := strings.TrimSpace(b.String()); t != "" {
			lines = append(lines, confLine{n: n, text: t})
		}
	}
	return lines, inBlock
}

// sectionHeader reads "[name]" or "[name](options)". ok is false if the
// line is not a header at all.
func sectionHeader(text string) (name, options string, ok bool, problem string) {
	if !strings.HasPrefix(text, "[") {
		return "", "", false, ""
	}
	end := strings.IndexByte(text, ']')
	if end < 0 {
		return "", "", true, "section header " + quote(text) + " has no closing ]"
	}
	name = strings.TrimSpace(text[1:end])
	rest := strings.TrimSpace(text[end+1:])
	if name == "" {
		return "", "", true, "empty section name []"
	}
	if strings.ContainsAny(name, " \t[") {
		return "", "", true, "bad section name " + quote(name)
	}
	if rest != "" {
		if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
			return "", "", true, "unexpected " + quote(rest) + " after [" + name + "]"
		}
		options = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	return name, options, true, ""
}

// keyValue splits "key = value" or "key => value" as Asterisk does: at the
// first "=", which may be followed by ">".
func keyValue(text string) (key, value string, ok bool) {
	i := strings.IndexByte(text, '=')
	if i < 0 {
		return "", "", false
	}
	key = strings.TrimSpace(text[:i])
	value = text[i+1:]
	value = strings.TrimPrefix(value, ">")
	return key, strings.TrimSpace(value), key != ""
}

// quote quotes s for a message.
func quote(s string) string { return strconv.Quote(s) }
