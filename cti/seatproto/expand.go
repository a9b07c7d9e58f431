package seatproto

import (
	"fmt"
	"net/url"
	"strings"
)

// Value returns the value a ${name} placeholder stands for in an action of
// call c: one of the built-in names (calleridnum, calleridname, uniqueid,
// channel, context, exten, linkedid, service, queue; the configuration's
// config.Builtins) or, failing that, the Key of one of c.AppData, compared
// exactly. ok is false for any other name. Its signature fits Expand.
func (c *Call) Value(name string) (v string, ok bool) {
	switch name {
	case "calleridnum":
		return c.CallerIDNum, true
	case "calleridname":
		return c.CallerIDName, true
	case "uniqueid":
		return c.UniqueID, true
	case "channel":
		return c.Channel, true
	case "context":
		return c.Context, true
	case "exten":
		return c.Exten, true
	case "linkedid":
		return c.LinkedID, true
	case "service":
		return c.Service, true
	case "queue":
		return c.Queue, true
	}
	for i := range c.AppData {
		if c.AppData[i].Key == name {
			return c.AppData[i].Value, true
		}
	}
	return "", false
}

// Expand replaces every ${name} placeholder of template by vals(name) and
// returns the result, cleaned as an event carries it (Clean). A '$' not
// followed by '{' is itself; name is a letter or '_' then letters, digits
// and '_'. An unterminated "${" or an invalid name wraps ErrBadTemplate; a
// name vals does not know wraps ErrUnknownPlaceholder; a result longer
// than MaxActionLen wraps ErrActionTooLong.
//
// With urlEscape (browser actions; template is the URL) each value is
// percent-encoded so that it stays data: before the first '?' or '#' of the
// template everything but letters, digits and "-._~" is escaped (a space is
// %20); after it, as url.QueryEscape (a space is '+').
//
// Without urlEscape (application actions; template is the parameter
// string that SplitArgs splits) each value is quoted for the place it
// lands in: outside quotes it is put in double quotes, inside double
// quotes its '"' and '\' are escaped, inside single quotes each ' of it
// becomes '"'"' (close, a double-quoted ', open again). Whatever a value
// holds (quotes, spaces, ';', "$(…)", backquotes, newlines), SplitArgs
// gives it back verbatim as the text of one argument, or part of one. An empty value outside quotes is
// an empty argument (""), so the arguments after it keep their places.
// Because a substituted value must not change the template's quoting, a
// template whose quotes do not balance, that ends in a backslash, or that
// has a backslash just before a placeholder wraps ErrBadTemplate.
func Expand(template string, vals func(name string) (string, bool), urlEscape bool) (string, error) {
	var b strings.Builder
	b.Grow(len(template) + 32)
	st := lexBare    // quoting state after the template's text so far (application)
	inQuery := false // a '?' or '#' came before (browser)
	for s := template; ; {
		i := strings.Index(s, "${")
		lit := s
		if i >= 0 {
			lit = s[:i]
		}
		b.WriteString(lit)
		if urlEscape {
			inQuery = inQuery || strings.ContainsAny(lit, "?#")
		} else {
			for j := 0; j < len(lit); j++ {
				st = st.next(lit[j])
			}
		}
		if i < 0 {
			break
		}
		s = s[i+2:]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return "", fmt.Errorf("%w: unterminated ${ in %.60q", ErrBadTemplate, template)
		}
		name := s[:j]
		s = s[j+1:]
		if !validName(name) {
			return "", fmt.Errorf("%w: invalid placeholder ${%.40q}", ErrBadTemplate, name)
		}
		v, ok := vals(name)
		if !ok {
			return "", fmt.Errorf("%w: ${%s}", ErrUnknownPlaceholder, name)
		}
		switch {
		case urlEscape && inQuery:
			b.WriteString(url.QueryEscape(v))
		case urlEscape:
			b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		case st == lexBare && isPlainWord(v):
			b.WriteString(v) // stays readable: --customer 12345
		case st == lexBare:
			b.WriteByte('"')
			writeDoubleQuoted(&b, v)
			b.WriteByte('"')
		case st == lexDouble:
			writeDoubleQuoted(&b, v)
		case st == lexSingle:
			b.WriteString(strings.ReplaceAll(v, "'", `'"'"'`))
		default: // a backslash escapes the placeholder's first byte
			return "", fmt.Errorf("%w: backslash before ${%s}", ErrBadTemplate, name)
		}
		if b.Len() > 4*MaxActionLen {
			return "", fmt.Errorf("%w: more than %d bytes", ErrActionTooLong, MaxActionLen)
		}
	}
	if !urlEscape && st != lexBare {
		return "", fmt.Errorf("%w: unbalanced quote or trailing backslash in %.60q", ErrBadTemplate, template)
	}
	out := Clean(b.String())
	if len(out) > MaxActionLen {
		return "", fmt.Errorf("%w: %d bytes, more than %d", ErrActionTooLong, len(out), MaxActionLen)
	}
	return out, nil
}

// validName reports whether s is a placeholder name: a letter or '_' then
// letters, digits and '_'.
func validName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

// writeDoubleQuoted writes v escaped for the inside of double quotes.
func writeDoubleQuoted(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
}

// QuoteArg returns s quoted so that SplitArgs reads it back as exactly one
// argument, s. It uses single quotes when s has none, double quotes
// otherwise; a plain word (letters, digits and "-_./:=@%+,") stays as it is.
func QuoteArg(s string) string {
	if isPlainWord(s) {
		return s
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	writeDoubleQuoted(&b, s)
	b.WriteByte('"')
	return b.String()
}

// isPlainWord reports whether s needs no quoting: it is not empty and holds
// only letters, digits and "-_./:=@%+,".
func isPlainWord(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < 0x80 && (isAlnum(byte(r)) || strings.ContainsRune("-_./:=@%+,", r)))
	}) < 0
}

// lexState is where the splitter stands in a parameter string.
type lexState uint8

const (
	lexBare      lexState = iota // outside quotes
	lexBareEsc                   // outside quotes, after a backslash
	lexSingle                    // inside single quotes
	lexDouble                    // inside double quotes
	lexDoubleEsc                 // inside double quotes, after a backslash
)

// next returns the state after byte c.
func (st lexState) next(c byte) lexState {
	switch st {
	case lexBare:
		switch c {
		case '\\':
			return lexBareEsc
		case '\'':
			return lexSingle
		case '"':
			return lexDouble
		}
		return lexBare
	case lexBareEsc:
		return lexBare
	case lexSingle:
		if c == '\'' {
			return lexBare
		}
		return lexSingle
	case lexDouble:
		switch c {
		case '\\':
			return lexDoubleEsc
		case '"':
			return lexBare
		}
		return lexDouble
	default: // lexDoubleEsc
		return lexDouble
	}
}

// SplitArgs splits an application's parameter string into arguments the
// way a POSIX shell splits words, without any of its expansions, and the
// same way as Python's shlex.split: arguments are separated by runs of
// spaces, tabs, CRs and LFs; inside single quotes every byte is itself;
// inside double quotes a backslash escapes '"' and '\' and is itself before
// any other byte; outside quotes a backslash makes the next byte itself.
// Quoted and unquoted pieces next to each other make one argument, and a
// pair of quotes with nothing between them is an empty argument. Nothing
// else is special: ';', '|', '&', '$', backquotes and '#' are plain text.
// An unclosed quote or a backslash at the end wraps ErrBadParameters.
//
// A client runs the action's application with these arguments directly
// (exec, CreateProcess with each argument quoted), never through a shell.
func SplitArgs(params string) ([]string, error) {
	var (
		args  []string
		cur   []byte
		inArg bool
		st    = lexBare
	)
	for i := 0; i < len(params); i++ {
		c := params[i]
		switch st {
		case lexBare:
			switch c {
			case ' ', '\t', '\r', '\n':
				if inArg {
					args = append(args, string(cur))
					cur, inArg = cur[:0], false
				}
				continue
			case '\\', '\'', '"':
			default:
				cur = append(cur, c)
			}
			inArg = true
		case lexBareEsc:
			cur = append(cur, c)
		case lexSingle:
			if c != '\'' {
				cur = append(cur, c)
			}
		case lexDouble:
			if c != '"' && c != '\\' {
				cur = append(cur, c)
			}
		case lexDoubleEsc:
			if c != '"' && c != '\\' {
				cur = append(cur, '\\')
			}
			cur = append(cur, c)
		}
		st = st.next(c)
	}
	switch st {
	case lexBareEsc:
		return nil, fmt.Errorf("%w: backslash at the end", ErrBadParameters)
	case lexSingle, lexDouble, lexDoubleEsc:
		return nil, fmt.Errorf("%w: unclosed quote", ErrBadParameters)
	}
	if inArg {
		args = append(args, string(cur))
	}
	return args, nil
}
