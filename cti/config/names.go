package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Builtins are the placeholder names every service may use besides its own
// variables: the call's values the server always knows (seat-protocol.md,
// "Events"). A service variable may not take one of these names.
var Builtins = []string{
	"calleridnum", "calleridname", "uniqueid", "linkedid",
	"channel", "context", "exten", "service", "queue",
}

// IsBuiltin reports whether name is one of Builtins.
func IsBuiltin(name string) bool { return slices.Contains(Builtins, name) }

// NormalizeMAC returns mac in canonical form, lower-case and colon separated
// ("00:11:22:33:44:01"). It accepts any case, with ':' or '-' between the
// six bytes, or twelve bare hex digits.
func NormalizeMAC(mac string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(mac))
	var hex string
	switch {
	case len(s) == 12:
		hex = s
	case len(s) == 17:
		sep := s[2]
		if sep != ':' && sep != '-' {
			return "", fmt.Errorf("invalid MAC address %q", mac)
		}
		var b strings.Builder
		for i := 0; i < 17; i += 3 {
			if i > 0 && s[i-1] != sep {
				return "", fmt.Errorf("invalid MAC address %q", mac)
			}
			b.WriteString(s[i : i+2])
		}
		hex = b.String()
	default:
		return "", fmt.Errorf("invalid MAC address %q", mac)
	}
	var b strings.Builder
	for i := 0; i < 12; i++ {
		c := hex[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("invalid MAC address %q", mac)
		}
		if i > 0 && i%2 == 0 {
			b.WriteByte(':')
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

var (
	techRE      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	resourceRE  = regexp.MustCompile(`^[A-Za-z0-9_.+#*@:=~!$%^-][A-Za-z0-9_.+#*@:=~!$%^/-]*$`)
	localRE     = regexp.MustCompile(`^([^@/]+)@([^@/]+)(/[a-z]+)?$`)
	varNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	usernameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]*$`)
	dialTokenRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)
)

// CheckInterface reports whether iface is an Asterisk interface a seat's
// phone can have: TECH/resource with no dial separators (& , |) or spaces,
// e.g. SIP/201, PJSIP/201, IAX2/201. A Local channel must name
// exten@context and may carry options: Local/201@phones,
// Local/201@from-queue/n (the usual queue-member form).
func CheckInterface(iface string) error {
	if len(iface) > 128 {
		return errors.New("interface longer than 128 bytes")
	}
	tech, res, ok := strings.Cut(iface, "/")
	if !ok || tech == "" || res == "" {
		return fmt.Errorf("interface %q is not TECH/resource (e.g. SIP/201, PJSIP/201, Local/201@phones/n)", iface)
	}
	if !techRE.MatchString(tech) {
		return fmt.Errorf("interface %q: invalid technology %q", iface, tech)
	}
	if !resourceRE.MatchString(res) {
		return fmt.Errorf("interface %q: invalid resource %q (no spaces or dial separators & , |)", iface, res)
	}
	if strings.EqualFold(tech, "local") {
		if !localRE.MatchString(res) {
			return fmt.Errorf("interface %q: a Local interface is Local/exten@context[/options]", iface)
		}
	} else if strings.Contains(res, "/") && !strings.EqualFold(tech, "dahdi") {
		return fmt.Errorf("interface %q: unexpected '/' in resource", iface)
	}
	return nil
}

// InterfaceKey returns the key under which an interface is looked up: the
// technology in lower case (Asterisk matches it case-insensitively) and,
// for Local, without its options, so that Local/201@phones/n and
// Local/201@phones name the same phone.
func InterfaceKey(iface string) string {
	tech, res, ok := strings.Cut(iface, "/")
	if !ok {
		return iface
	}
	tech = strings.ToLower(tech)
	if tech == "local" {
		if m := localRE.FindStringSubmatch(res); m != nil {
			res = m[1] + "@" + m[2]
		}
	}
	return tech + "/" + res
}

// Placeholders returns the names of the ${name} placeholders in s, each
// once, in order of appearance. A '$' not followed by '{' is literal. An
// unterminated "${" or an invalid name is an error.
func Placeholders(s string) ([]string, error) {
	var names []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return names, nil
		}
		s = s[i+2:]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return names, errors.New("unterminated ${ placeholder")
		}
		name := s[:j]
		if !varNameRE.MatchString(name) {
			return names, fmt.Errorf("invalid placeholder ${%s}", name)
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		s = s[j+1:]
	}
}

// Expand replaces every ${name} placeholder in s with value(name). The
// caller escapes the values as its output needs (URL escaping for a
// browser trigger). Malformed placeholders are left as they are.
func Expand(s string, value func(name string) string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 || !varNameRE.MatchString(s[i+2:i+j]) {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(value(s[i+2 : i+j]))
		s = s[i+j+1:]
	}
}

// checkText refuses control characters (the seat protocol and the logs are
// line based) and values longer than max bytes.
func checkText(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("longer than %d bytes", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("contains a control character (%U)", r)
		}
	}
	return nil
}

// MaxPenalty is the largest queue penalty (Asterisk keeps it in an int).
const MaxPenalty = math.MaxInt32

// ParsePenalty parses a queue penalty as an administrator types it, in a
// form or an XML attribute: decimal digits only (no sign, no spaces, no
// letters), from 0 to MaxPenalty. It is the one parser of the numeric
// field, so the configurator and the XML reader refuse the same values.
func ParsePenalty(s string) (int, error) {
	if s == "" || len(s) > 10 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("penalty must be an integer >= 0, not %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxPenalty {
		return 0, fmt.Errorf("penalty %s out of range 0..%d", s, MaxPenalty)
	}
	return n, nil
}
