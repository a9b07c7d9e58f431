package scenarios

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The phones, calls and traffic files are made of lines of words. A word is
// a run of non-blank characters or a "double-quoted string"; ";" starts a
// comment outside quotes; blank lines are skipped. Keywords are lower case.

type word struct {
	text   string
	quoted bool
}

// lineWords splits one line into words.
func lineWords(line string) ([]word, error) {
	var ws []word
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == ';':
			return ws, nil
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				b.WriteByte(line[j])
			}
			if j >= len(line) {
				return nil, errors.New("a quote \" is not closed")
			}
			ws = append(ws, word{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(line) && !strings.ContainsRune(" \t\r;\"", rune(line[j])) {
				j++
			}
			ws = append(ws, word{text: line[i:j]})
			i = j
		}
	}
	return ws, nil
}

// words walks the words of a line.
type words struct {
	ws []word
	i  int
}

func (w *words) done() bool { return w.i >= len(w.ws) }

// next returns the next word, or "" at the end of the line.
func (w *words) next() word {
	if w.done() {
		return word{}
	}
	w.i++
	return w.ws[w.i-1]
}

// peek returns the next word without taking it.
func (w *words) peek() word {
	if w.done() {
		return word{}
	}
	return w.ws[w.i]
}

// keyword takes the next word if it is kw.
func (w *words) keyword(kw string) bool {
	if n := w.peek(); !n.quoted && n.text == kw {
		w.i++
		return true
	}
	return false
}

// want takes the keywords kws, one after the other.
func (w *words) want(kws ...string) error {
	for _, kw := range kws {
		if !w.keyword(kw) {
			return fmt.Errorf("expected %q, not %s", strings.Join(kws, " "), w.describe())
		}
	}
	return nil
}

// duration takes a duration such as 2s, 500ms or 1m30s.
func (w *words) duration(what string) (time.Duration, error) {
	n := w.next()
	if n.text == "" {
		return 0, fmt.Errorf("%s needs a duration, like 2s or 500ms", what)
	}
	return parseDuration(n.text)
}

// describe names the next word for a message.
func (w *words) describe() string {
	if w.done() {
		return "the end of the line"
	}
	return quote(w.peek().text)
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q: write it like 2s, 500ms or 1m30s", s)
	}
	return d, nil
}

// forLines calls parse for each line of text that has words, and reports
// its error at that line.
func forLines(l *errList, file, text string, parse func(w *words, n int) error) {
	for i, line := range strings.Split(text, "\n") {
		ws, err := lineWords(line)
		if err == nil && len(ws) == 0 {
			continue
		}
		if err == nil {
			err = parse(&words{ws: ws}, i+1)
		}
		if err != nil {
			l.add(file, i+1, "%v", err)
		}
	}
}

// interfaceWord takes an interface such as SIP/201.
func (w *words) interfaceWord(what string) (string, error) {
	n := w.next()
	if n.quoted || !validInterface(n.text) {
		if n.text == "" {
			return "", fmt.Errorf("%s needs an interface, like SIP/201", what)
		}
		return "", fmt.Errorf("%q is not an interface like SIP/201", n.text)
	}
	return n.text, nil
}

// parsePhones reads the phones file:
//
//	INTERFACE answers at once [talks DURATION] [without ringing]
//	INTERFACE answers after DURATION [talks DURATION] [without ringing]
//	INTERFACE never answers
//	INTERFACE busy
//	INTERFACE unreachable
func parsePhones(l *errList, sc *Scenario, text string) {
	forLines(l, filePhones, text, func(w *words, n int) error {
		ph, err := parsePhone(w)
		if err != nil {
			return err
		}
		if prev := sc.Phones[ph.Interface]; prev != nil {
			return fmt.Errorf("phone %s is already described at line %d", ph.Interface, prev.Line)
		}
		ph.Line = n
		sc.Phones[ph.Interface] = ph
		return nil
	})
}

func parsePhone(w *words) (*Phone, error) {
	iface, err := w.interfaceWord("a phone line")
	if err != nil {
		return nil, err
	}
	ph := &Phone{Interface: iface}
	switch {
	case w.keyword("answers"):
		ph.Behaviour = Answers
		switch {
		case w.keyword("at"):
			if err := w.want("once"); err != nil {
				return nil, err
			}
		case w.keyword("after"):
			if ph.AnswerAfter, err = w.duration("answers after"); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("say when %s answers: \"answers at once\" or \"answers after 2s\", not %s", iface, w.describe())
		}
		var talks, without bool
		for !w.done() {
			switch {
			case !talks && w.keyword("talks"):
				talks = true
				if ph.TalkFor, err = w.duration("talks"); err != nil {
					return nil, err
				}
				if ph.TalkFor == 0 {
					return nil, errors.New("talks 0s: leave \"talks\" out for a phone that never hangs up")
				}
			case !without && w.keyword("without"):
				without = true
				if err := w.want("ringing"); err != nil {
					return nil, err
				}
				ph.NoRinging = true
			default:
				return nil, fmt.Errorf("unexpected %s: after \"answers …\" may come \"talks DURATION\" and \"without ringing\", once each", w.describe())
			}
		}
	case w.keyword("never"):
		if err := w.want("answers"); err != nil {
			return nil, err
		}
		ph.Behaviour = NeverAnswers
	case w.keyword("busy"):
		ph.Behaviour = Busy
	case w.keyword("unreachable"):
		ph.Behaviour = Unreachable
	default:
		return nil, fmt.Errorf("a phone \"answers at once\", \"answers after DURATION\", \"never answers\", is \"busy\" or \"unreachable\", not %s", w.describe())
	}
	if !w.done() {
		return nil, fmt.Errorf("unexpected %s at the end of the line", w.describe())
	}
	return ph, nil
}

// clauses reads the clauses of a calls or traffic line in any order, each
// at most once, calling the parser of each keyword.
func clauses(w *words, what string, parsers map[string]func() error, required ...string) error {
	seen := map[string]bool{}
	for !w.done() {
		n := w.next()
		parse, ok := parsers[n.text]
		if n.quoted || !ok {
			return fmt.Errorf("unexpected %q in a %s line", n.text, what)
		}
		if seen[n.text] {
			return fmt.Errorf("%q appears twice in one %s line", n.text, what)
		}
		seen[n.text] = true
		if err := parse(); err != nil {
			return err
		}
	}
	var missing []string
	for _, r := range required {
		if !seen[r] {
			missing = append(missing, quote(r))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("a %s line needs %s", what, strings.Join(missing, " and "))
	}
	return nil
}

// parseCalls reads the calls file, one call a line:
//
//	at DURATION from CALLER to EXTEN@CONTEXT [via INTERFACE] [hangs up after DURATION] [digits DIGITS]
//
// CALLER is "Name" <number>, <number> or number.
func parseCalls(l *errList, sc *Scenario, text string) {
	forLines(l, fileCalls, text, func(w *words, n int) error {
		c := Call{Channel: DefaultChannel, Line: n}
		var err error
		parsers := map[string]func() error{
			"at": func() error {
				c.At, err = w.duration("at")
				return err
			},
			"from": func() error {
				c.CallerName, c.CallerNum, err = callerWord(w)
				return err
			},
			"to": func() error {
				c.Exten, c.Context, err = targetWord(w.next())
				return err
			},
			"via": func() error {
				c.Channel, err = w.interfaceWord("via")
				return err
			},
			"hangs": func() error {
				if err := w.want("up", "after"); err != nil {
					return fmt.Errorf("hangs: %w", err)
				}
				if c.HangupAt, err = w.duration("hangs up after"); err == nil && c.HangupAt == 0 {
					err = errors.New("hangs up after 0s: leave it out for a caller who waits for the PBX")
				}
				return err
			},
			"digits": func() error {
				d := w.next()
				if d.text == "" || strings.Trim(d.text, "0123456789*#ABCDabcd") != "" {
					return fmt.Errorf("digits %q: want DTMF digits 0-9, *, #, A-D", d.text)
				}
				c.Digits = d.text
				return nil
			},
		}
		if err := clauses(w, "call", parsers, "at", "from", "to"); err != nil {
			return err
		}
		sc.Calls = append(sc.Calls, c)
		return nil
	})
}

// callerWord takes "Name" <number>, <number> or number.
func callerWord(w *words) (name, num string, err error) {
	n := w.next()
	if n.quoted {
		name = n.text
		n = w.next()
		if !strings.HasPrefix(n.text, "<") {
			return "", "", fmt.Errorf("after the caller name %q comes <number>", name)
		}
	}
	num = n.text
	if strings.HasPrefix(num, "<") {
		if !strings.HasSuffix(num, ">") || n.quoted {
			return "", "", fmt.Errorf("bad caller number %q: want <number>", num)
		}
		num = num[1 : len(num)-1]
	}
	if num == "" || n.quoted || strings.Trim(num, "0123456789+*#") != "" {
		return "", "", fmt.Errorf("bad caller %q: want \"Name\" <number>, <number> or number", n.text)
	}
	return name, num, nil
}

// targetWord reads EXTEN@CONTEXT.
func targetWord(n word) (exten, context string, err error) {
	exten, context, ok := strings.Cut(n.text, "@")
	if n.quoted || !ok || exten == "" || context == "" || strings.Contains(context, "@") {
		return "", "", fmt.Errorf("want extension@context, like 101@from-trunk, not %q", n.text)
	}
	return exten, context, nil
}

// parseTraffic reads the traffic file, one line:
//
//	rate RATE to TARGET… from NUMBER[-NUMBER] patience DURATION[-DURATION] [via INTERFACE] [seed N]
//
// RATE is calls per minute, second or hour (12/min, 0.5/s, 300/h); TARGET
// is EXTEN@CONTEXT, or EXTEN@CONTEXT*WEIGHT.
func parseTraffic(l *errList, sc *Scenario, text string) {
	forLines(l, fileTraffic, text, func(w *words, n int) error {
		if sc.Traffic != nil {
			return fmt.Errorf("only one traffic line per scenario (the first is at line %d)", sc.Traffic.Line)
		}
		t := &Traffic{Channel: DefaultChannel, Line: n}
		var err error
		parsers := map[string]func() error{
			"rate": func() error {
				t.Rate, err = rateWord(w.next().text)
				return err
			},
			"to": func() error {
				for strings.Contains(w.peek().text, "@") {
					tg, err := weightedTarget(w.next())
					if err != nil {
						return err
					}
					t.Targets = append(t.Targets, tg)
				}
				if len(t.Targets) == 0 {
					return fmt.Errorf("\"to\" needs extension@context targets, not %s", w.describe())
				}
				return nil
			},
			"from": func() error {
				t.FromNum, t.ToNum, err = numberRange(w.next().text)
				return err
			},
			"patience": func() error {
				t.MinHold, t.MaxHold, err = durationRange(w.next().text)
				return err
			},
			"via": func() error {
				t.Channel, err = w.interfaceWord("via")
				return err
			},
			"seed": func() error {
				s := w.next().text
				if t.Seed, err = strconv.ParseInt(s, 10, 64); err != nil {
					return fmt.Errorf("seed %q is not a whole number", s)
				}
				return nil
			},
		}
		if err := clauses(w, "traffic", parsers, "rate", "to", "from", "patience"); err != nil {
			return err
		}
		sc.Traffic = t
		return nil
	})
}

// rateWord reads 12/min, 0.5/s or 300/h as calls per minute.
func rateWord(s string) (float64, error) {
	num, unit, _ := strings.Cut(s, "/")
	f, err := strconv.ParseFloat(num, 64)
	per := map[string]float64{"s": 60, "sec": 60, "min": 1, "h": 1.0 / 60, "hour": 1.0 / 60}[unit]
	if err != nil || per == 0 || !(f > 0) || math.IsInf(f, 0) || f*per > 1e6 {
		return 0, fmt.Errorf("bad rate %q: want calls per time, like 12/min, 0.5/s or 300/h", s)
	}
	return f * per, nil
}

func weightedTarget(n word) (Target, error) {
	exten, context, err := targetWord(n)
	if err != nil {
		return Target{}, err
	}
	tg := Target{Exten: exten, Context: context, Weight: 1}
	if i := strings.LastIndexByte(context, '*'); i >= 0 {
		tg.Context = context[:i]
		tg.Weight, err = strconv.Atoi(context[i+1:])
		if err != nil || tg.Weight < 1 || tg.Context == "" {
			return Target{}, fmt.Errorf("bad target %q: want extension@context*weight, weight a whole number >= 1", n.text)
		}
	}
	return tg, nil
}

// numberRange reads 7000-7999 or 7000.
func numberRange(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		b = a
	}
	from, err1 := strconv.Atoi(a)
	to, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || from < 0 || to < from {
		return 0, 0, fmt.Errorf("bad caller numbers %q: want a range like 7000-7999", s)
	}
	return from, to, nil
}

// durationRange reads 20s-90s or 30s.
func durationRange(s string) (lo, hi time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		b = a
	}
	if lo, err = parseDuration(a); err != nil {
		return 0, 0, fmt.Errorf("patience: %w", err)
	}
	if hi, err = parseDuration(b); err != nil {
		return 0, 0, fmt.Errorf("patience: %w", err)
	}
	if hi < lo || hi == 0 {
		return 0, 0, fmt.Errorf("bad patience %q: want a range like 20s-90s", s)
	}
	return lo, hi, nil
}
