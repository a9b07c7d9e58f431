package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Extension patterns, as Asterisk reads them (main/pbx.c, ext_cmp_pattern_pos
// and ext_match_core): a pattern starts with "_", then each character
// matches one character of the dialled number:
//
//	X     0-9
//	Z     1-9
//	N     2-9
//	[15-7] any character listed; a-b is a range
//	.     one or more characters more (the rest of the number)
//	!     zero or more characters more
//	other itself
//
// X, Z and N may be written in lower case. "-" outside brackets is ignored
// (_555-XXXX). Nothing may follow "." or "!".

// patElem is one position of a compiled pattern: a set of bytes, or a
// wildcard ('.' or '!') that matches the rest.
type patElem struct {
	set      [32]byte // bit (7 - c%8) of byte c/8 is set if c matches
	wildcard byte     // '.' or '!'; 0 for a set
}

func (e *patElem) add(c byte) { e.set[c/8] |= 1 << (7 - c%8) }

func (e *patElem) has(c byte) bool { return e.set[c/8]&(1<<(7-c%8)) != 0 }

// weight is Asterisk's ext_cmp_pattern_pos value of the position: the
// number of characters it matches << 8 | the lowest of them, so that the
// more specific position sorts first; wildcards and the end sort last.
func (e *patElem) weight() int {
	switch e.wildcard {
	case '.':
		return 0x18000
	case '!':
		return 0x28000
	}
	count, low := 0, -1
	for c := 0; c < 256; c++ {
		if e.has(byte(c)) {
			count++
			if low < 0 {
				low = c
			}
		}
	}
	return count<<8 | low
}

const endWeight = 0x30000

// compilePattern compiles an extension pattern written without its "_".
func compilePattern(p string) ([]patElem, error) {
	var elems []patElem
	for i := 0; i < len(p); i++ {
		c := p[i]
		var e patElem
		switch c {
		case '-':
			continue
		case 'X', 'x':
			e.addRange('0', '9')
		case 'Z', 'z':
			e.addRange('1', '9')
		case 'N', 'n':
			e.addRange('2', '9')
		case '.', '!':
			if i != len(p)-1 {
				return nil, fmt.Errorf("nothing may follow %q in a pattern", c)
			}
			e.wildcard = c
		case '[':
			end := strings.IndexByte(p[i+1:], ']')
			if end < 0 {
				return nil, errors.New("[ without ] in pattern")
			}
			set := p[i+1 : i+1+end]
			if set == "" {
				return nil, errors.New("empty [] in pattern")
			}
			for j := 0; j < len(set); j++ {
				if j+2 < len(set) && set[j+1] == '-' {
					if set[j] > set[j+2] {
						return nil, fmt.Errorf("backward range %q in pattern", set[j:j+3])
					}
					e.addRange(set[j], set[j+2])
					j += 2
					continue
				}
				e.add(set[j])
			}
			i += end + 1
		case ']':
			return nil, errors.New("] without [ in pattern")
		default:
			e.add(c)
		}
		elems = append(elems, e)
	}
	if len(elems) == 0 {
		return nil, errors.New("empty pattern")
	}
	return elems, nil
}

func (e *patElem) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		e.add(byte(c))
	}
}

// matchPattern reports whether the dialled number s matches the pattern.
func matchPattern(pat []patElem, s string) bool {
	j := 0
	for i := range pat {
		switch pat[i].wildcard {
		case '.':
			return j < len(s)
		case '!':
			return true
		}
		if j == len(s) || !pat[i].has(s[j]) {
			return false
		}
		j++
	}
	return j == len(s)
}

// comparePatterns orders two patterns as Asterisk's ext_cmp_pattern does:
// position by position, the one matching fewer characters first.
func comparePatterns(a, b []patElem) int {
	for i := 0; ; i++ {
		wa, wb := endWeight, endWeight
		if i < len(a) {
			wa = a[i].weight()
		}
		if i < len(b) {
			wb = b[i].weight()
		}
		if wa != wb {
			return wa - wb
		}
		if wa == endWeight {
			return 0
		}
		// The same score but different sets: Asterisk compares the
		// bitmaps, right against left.
		if c := bytes.Compare(b[i].set[:], a[i].set[:]); c != 0 {
			return c
		}
	}
}

// IsPattern reports whether an extension is a pattern ("_2XX") rather
// than a literal ("101", "s").
func IsPattern(exten string) bool { return strings.HasPrefix(exten, "_") }

// Match returns the priorities that run when exten is dialled in c, the
// way Asterisk chooses them: an extension written literally wins; else,
// among the patterns that match, the most specific one in Asterisk's order
// (position by position, the one that allows fewer characters: _2XX before
// _X., _1[2-5]X before _1XX), and of two equally specific patterns, the one
// written first. ok is false when nothing matches.
func (c *Context) Match(exten string) (steps []Step, ok bool) {
	key, ok := c.MatchKey(exten)
	if !ok {
		return nil, false
	}
	return c.Extens[key], true
}

// MatchKey is Match, returning the key of Extens that matched ("101",
// "_2XX").
func (c *Context) MatchKey(exten string) (string, bool) {
	if c == nil || exten == "" {
		return "", false
	}
	if _, ok := c.Extens[exten]; ok && !IsPattern(exten) {
		return exten, true
	}
	best := ""
	var bestPat []patElem
	for _, k := range c.keys() {
		if !IsPattern(k) {
			continue
		}
		pat, err := compilePattern(k[1:])
		if err != nil || !matchPattern(pat, exten) {
			continue
		}
		if best == "" || comparePatterns(pat, bestPat) < 0 {
			best, bestPat = k, pat
		}
	}
	return best, best != ""
}

// keys returns the extensions of c in file order: Order, then any key of
// Extens missing from it (a Context built by hand), sorted.
func (c *Context) keys() []string {
	keys := make([]string, 0, len(c.Extens))
	seen := map[string]bool{}
	for _, k := range c.Order {
		if _, ok := c.Extens[k]; ok && !seen[k] {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range c.Extens {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}
