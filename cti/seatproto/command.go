package seatproto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of client commands.
const (
	// MaxLineLen is the longest line a client may send: the bytes before
	// its "\n", not counting a "\r" just before the "\n".
	MaxLineLen = 4096
	// MaxUserLen is the longest operator name USER accepts, in bytes (the
	// configuration's bound on usernames).
	MaxUserLen = 64
	// MaxExtenLen is the longest number ORIG dials.
	MaxExtenLen = 40
	// MaxContextLen is the longest context ORIG names: Asterisk keeps a
	// context in 80 bytes with its NUL (AST_MAX_CONTEXT,
	// include/asterisk/channel.h), and the configuration has the same bound.
	MaxContextLen = 79
	// MaxLabelLen is the longest priority label ORIG accepts.
	MaxLabelLen = 40
	// MaxPauseReasonLen is the longest PAUSE IN reason, in bytes: Asterisk
	// keeps it in 80 bytes with its NUL (app_queue.c, struct member,
	// reason_paused[80]).
	MaxPauseReasonLen = 79
	// MaxTokenLen is the longest resume token RESUME accepts.
	MaxTokenLen = 128
)

// Verb names a client command.
type Verb uint8

// The client commands. PAUSE IN and PAUSE OUT are two verbs.
const (
	VerbUser Verb = iota + 1
	VerbPass
	VerbMAC
	VerbNoop
	VerbQuit
	VerbOrig
	VerbPauseIn
	VerbPauseOut
	VerbToken  // TOKEN: ask for a resume token (answered 103)
	VerbResume // RESUME token: log in with a resume token instead of PASS
)

var verbNames = [...]string{
	VerbUser:     "USER",
	VerbPass:     "PASS",
	VerbMAC:      "MAC",
	VerbNoop:     "NOOP",
	VerbQuit:     "QUIT",
	VerbOrig:     "ORIG",
	VerbPauseIn:  "PAUSE IN",
	VerbPauseOut: "PAUSE OUT",
	VerbToken:    "TOKEN",
	VerbResume:   "RESUME",
}

// String returns the verb as it is sent: "USER", "PAUSE IN".
func (v Verb) String() string {
	if int(v) < len(verbNames) && verbNames[v] != "" {
		return verbNames[v]
	}
	return "Verb(" + strconv.Itoa(int(v)) + ")"
}

// Command is one client command. Only the fields of its Verb are set; the
// others are "". ParseCommand fills them in canonical form, and
// AppendCommand writes them.
type Command struct {
	Verb Verb
	// User is USER's operator name.
	User string
	// Password is PASS's MD5 of the operator's password: 32 lower-case hex
	// digits.
	Password string
	// MAC is MAC's address in canonical form, "00:11:22:33:44:55".
	MAC string
	// Exten, Context and Priority are ORIG's parameters. Priority is a
	// positive decimal number without leading zeros, or a label.
	Exten, Context, Priority string
	// Reason is PAUSE IN's optional reason: the rest of the line.
	Reason string
	// Token is RESUME's resume token, as the server gave it (103).
	Token string
}

// String returns the command as a line without its "\n", or a description
// of why it is not valid.
func (c Command) String() string {
	b, err := AppendCommand(nil, c)
	if err != nil {
		return fmt.Sprintf("invalid %v command: %v", c.Verb, err)
	}
	return string(b[:len(b)-1])
}

// ParseCommand parses one client line, with or without its "\n" (a "\r"
// before it is ignored). Commands are case-insensitive; parameters are
// separated by one or more spaces.
//
// A line of spaces only is ErrEmptyLine; a line longer than MaxLineLen wraps
// ErrLineTooLong. Any other refusal is a *ParseError, whose Reason is the
// text of the "101 KO" (or "302 KO") answer; ErrorReply builds that answer.
func ParseCommand(line []byte) (Command, error) {
	line = trimEOL(line)
	if len(line) > MaxLineLen {
		return Command{}, fmt.Errorf("%w: command of %d bytes, more than %d", ErrLineTooLong, len(line), MaxLineLen)
	}
	i := skipSpaces(line, 0)
	if i == len(line) {
		return Command{}, ErrEmptyLine
	}
	j := nextSpace(line, i)
	word := line[i:j]
	rest := line[j:]
	switch {
	case equalFold(word, "NOOP"):
		return parseNoArgs(VerbNoop, rest)
	case equalFold(word, "QUIT"):
		return parseNoArgs(VerbQuit, rest)
	case equalFold(word, "USER"):
		return parseUser(string(rest))
	case equalFold(word, "PASS"):
		return parsePass(string(rest))
	case equalFold(word, "MAC"):
		return parseMAC(string(rest))
	case equalFold(word, "ORIG"):
		return parseOrig(string(rest))
	case equalFold(word, "PAUSE"):
		return parsePause(string(rest))
	case equalFold(word, "TOKEN"):
		return parseNoArgs(VerbToken, rest)
	case equalFold(word, "RESUME"):
		return parseResume(string(rest))
	}
	return Command{}, &ParseError{Reason: ReasonUnknownCommand, Err: ErrUnknownCommand}
}

// AppendCommand appends c as one line, with its "\n", to dst. It refuses a
// command that ParseCommand would refuse, so that no value can make a
// second line; it writes MAC and PASS values in canonical form.
func AppendCommand(dst []byte, c Command) ([]byte, error) {
	var err error
	dst = append(dst, c.Verb.String()...)
	switch c.Verb {
	case VerbNoop, VerbQuit, VerbPauseOut, VerbToken:
	case VerbResume:
		var v string
		if v, err = checkToken(c.Token); err == nil {
			dst = append(append(dst, ' '), v...)
		}
	case VerbUser:
		var v string
		if v, err = checkUser(c.User); err == nil {
			dst = append(append(dst, ' '), v...)
		}
	case VerbPass:
		var v string
		if v, err = checkPassword(c.Password); err == nil {
			dst = append(append(dst, ' '), v...)
		}
	case VerbMAC:
		var v string
		if v, err = checkMAC(c.MAC); err == nil {
			dst = append(append(dst, ' '), v...)
		}
	case VerbOrig:
		var e, x, p string
		if e, err = checkExten(c.Exten); err != nil {
			break
		}
		if x, err = checkContext(c.Context); err != nil {
			break
		}
		if p, err = checkPriority(c.Priority); err != nil {
			break
		}
		dst = append(dst, ' ')
		dst = append(dst, e...)
		dst = append(dst, ' ')
		dst = append(dst, x...)
		dst = append(dst, ' ')
		dst = append(dst, p...)
	case VerbPauseIn:
		var r string
		if r, err = checkReason(c.Reason); err == nil && r != "" {
			dst = append(append(dst, ' '), r...)
		}
	default:
		return dst, &ParseError{Reason: fmt.Sprintf("cannot format unknown verb %d", c.Verb), Err: ErrUnknownCommand}
	}
	if err != nil {
		return dst, paramError(c.Verb, err)
	}
	return append(dst, '\n'), nil
}

func parseNoArgs(v Verb, rest []byte) (Command, error) {
	if skipSpaces(rest, 0) != len(rest) {
		return Command{}, &ParseError{Command: v.String(), Reason: "too many parameters", Err: ErrTooManyParams}
	}
	return Command{Verb: v}, nil
}

// fields splits s at runs of spaces into at most len(dst) fields and reports
// how many it found, or n > len(dst) when there are more.
func fields(s string, dst []string) int {
	n := 0
	for i := 0; ; {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			return n
		}
		if n == len(dst) {
			return n + 1
		}
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		dst[n] = s[i:j]
		n++
		i = j
	}
}

// paramError turns a parameter check's error into a *ParseError.
func paramError(v Verb, err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Command = v.String()
		return pe
	}
	return &ParseError{Command: v.String(), Reason: err.Error(), Err: ErrBadParam}
}

func missing(v Verb, what string) error {
	return &ParseError{Command: v.String(), Reason: "missing " + what, Err: ErrMissingParam}
}

func tooMany(v Verb) error {
	return &ParseError{Command: v.String(), Reason: "too many parameters", Err: ErrTooManyParams}
}

// parseOne parses the single parameter of verb v with check.
func parseOne(v Verb, rest, what string, check func(string) (string, error)) (string, error) {
	var f [1]string
	switch fields(rest, f[:]) {
	case 0:
		return "", missing(v, what)
	case 1:
	default:
		return "", tooMany(v)
	}
	val, err := check(f[0])
	if err != nil {
		return "", paramError(v, err)
	}
	return val, nil
}

func parseUser(rest string) (Command, error) {
	v, err := parseOne(VerbUser, rest, "user name", checkUser)
	if err != nil {
		return Command{}, err
	}
	return Command{Verb: VerbUser, User: v}, nil
}

func parsePass(rest string) (Command, error) {
	v, err := parseOne(VerbPass, rest, "password", checkPassword)
	if err != nil {
		return Command{}, err
	}
	return Command{Verb: VerbPass, Password: v}, nil
}

func parseResume(rest string) (Command, error) {
	v, err := parseOne(VerbResume, rest, "token", checkToken)
	if err != nil {
		return Command{}, err
	}
	return Command{Verb: VerbResume, Token: v}, nil
}

// checkToken accepts what a server's token may be: 1 to MaxTokenLen
// characters of the URL-safe base64 alphabet. Whether it is a token the
// server made is for the server to say.
func checkToken(s string) (string, error) {
	if s == "" {
		return "", &ParseError{Reason: "missing token", Err: ErrMissingParam}
	}
	if len(s) > MaxTokenLen {
		return "", badParam("token too long")
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return "", badParam("token is not URL-safe base64")
		}
	}
	return s, nil
}

func parseMAC(rest string) (Command, error) {
	v, err := parseOne(VerbMAC, rest, "MAC address", checkMAC)
	if err != nil {
		return Command{}, err
	}
	return Command{Verb: VerbMAC, MAC: v}, nil
}

func parseOrig(rest string) (Command, error) {
	var f [3]string
	n := fields(rest, f[:])
	switch n {
	case 0:
		return Command{}, missing(VerbOrig, "exten, context and priority")
	case 1:
		return Command{}, missing(VerbOrig, "context and priority")
	case 2:
		return Command{}, missing(VerbOrig, "priority")
	case 3:
	default:
		return Command{}, tooMany(VerbOrig)
	}
	c := Command{Verb: VerbOrig}
	var err error
	if c.Exten, err = checkExten(f[0]); err != nil {
		return Command{}, paramError(VerbOrig, err)
	}
	if c.Context, err = checkContext(f[1]); err != nil {
		return Command{}, paramError(VerbOrig, err)
	}
	if c.Priority, err = checkPriority(f[2]); err != nil {
		return Command{}, paramError(VerbOrig, err)
	}
	return c, nil
}

func parsePause(rest string) (Command, error) {
	i := 0
	for i < len(rest) && rest[i] == ' ' {
		i++
	}
	j := i
	for j < len(rest) && rest[j] != ' ' {
		j++
	}
	word := rest[i:j]
	switch {
	case word == "":
		return Command{}, &ParseError{Command: "PAUSE", Reason: "missing IN or OUT", Err: ErrMissingParam}
	case strings.EqualFold(word, "OUT"):
		if strings.TrimLeft(rest[j:], " ") != "" {
			return Command{}, tooMany(VerbPauseOut)
		}
		return Command{Verb: VerbPauseOut}, nil
	case strings.EqualFold(word, "IN"):
		r, err := checkReason(rest[j:])
		if err != nil {
			return Command{}, paramError(VerbPauseIn, err)
		}
		return Command{Verb: VerbPauseIn, Reason: r}, nil
	}
	return Command{}, &ParseError{Command: "PAUSE", Reason: fmt.Sprintf("expected IN or OUT, not %.20q", word), Err: ErrBadParam}
}

// badParam returns the error of a malformed parameter.
func badParam(format string, args ...any) error {
	return &ParseError{Reason: fmt.Sprintf(format, args...), Err: ErrBadParam}
}

// checkUser checks an operator name: a word of at most MaxUserLen bytes of
// printable UTF-8. Whether it names an operator is the server's question.
func checkUser(s string) (string, error) {
	if s == "" {
		return "", &ParseError{Reason: "missing user name", Err: ErrMissingParam}
	}
	if len(s) > MaxUserLen || !utf8.ValidString(s) || strings.IndexFunc(s, notWordRune) >= 0 {
		return "", badParam("invalid user name %.40q (at most %d bytes, no spaces or control characters)", s, MaxUserLen)
	}
	return s, nil
}

func notWordRune(r rune) bool { return r == ' ' || unicode.IsControl(r) || r == 0x2028 || r == 0x2029 }

// checkPassword checks an MD5 hex digest and returns it in lower case.
func checkPassword(s string) (string, error) {
	if s == "" {
		return "", &ParseError{Reason: "missing password", Err: ErrMissingParam}
	}
	if len(s) != 32 {
		return "", badParam("password is not an MD5 digest (32 hex digits)")
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return "", badParam("password is not an MD5 digest (32 hex digits)")
		}
	}
	return strings.ToLower(s), nil
}

// checkMAC checks a MAC address of six hex bytes separated by ':' or '-'
// (one separator throughout), or twelve bare hex digits, in any case, and
// returns it in canonical form, "00:11:22:33:44:55". It is the same rule as
// the configuration's (config.NormalizeMAC).
func checkMAC(s string) (string, error) {
	var hex [12]byte
	switch len(s) {
	case 12:
		copy(hex[:], s)
	case 17:
		sep := s[2]
		if sep != ':' && sep != '-' {
			return "", badParam("invalid MAC address %.40q", s)
		}
		for i := 0; i < 6; i++ {
			if i > 0 && s[3*i-1] != sep {
				return "", badParam("invalid MAC address %.40q", s)
			}
			hex[2*i], hex[2*i+1] = s[3*i], s[3*i+1]
		}
	default:
		return "", badParam("invalid MAC address %.40q", s)
	}
	var out [17]byte
	for i, c := range hex {
		if !isHex(c) {
			return "", badParam("invalid MAC address %.40q", s)
		}
		if 'A' <= c && c <= 'F' {
			c += 'a' - 'A'
		}
		out[i/2*3+i%2] = c
		if i%2 == 1 && i < 11 {
			out[i/2*3+2] = ':'
		}
	}
	return string(out[:]), nil
}

// checkExten checks a number to dial: 1 to MaxExtenLen digits and + * #.
func checkExten(s string) (string, error) {
	if s == "" {
		return "", &ParseError{Reason: "missing exten", Err: ErrMissingParam}
	}
	ok := len(s) <= MaxExtenLen
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = '0' <= c && c <= '9' || c == '+' || c == '*' || c == '#'
	}
	if !ok {
		return "", badParam("invalid exten %.40q (digits and + * #, at most %d)", s, MaxExtenLen)
	}
	return s, nil
}

// checkContext checks a dialplan context name: letters, digits and _ . + -,
// not starting with . + or -, at most MaxContextLen bytes (the
// configuration's rule for service contexts).
func checkContext(s string) (string, error) {
	if s == "" {
		return "", &ParseError{Reason: "missing context", Err: ErrMissingParam}
	}
	ok := len(s) <= MaxContextLen
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = isAlnum(c) || c == '_' || i > 0 && (c == '.' || c == '+' || c == '-')
	}
	if !ok {
		return "", badParam("invalid context %.40q (letters, digits and _ . + -, at most %d)", s, MaxContextLen)
	}
	return s, nil
}

// checkPriority checks a dialplan priority: a positive decimal number,
// returned without leading zeros, or a label (a letter or '_' then letters,
// digits, '_' and '-', at most MaxLabelLen bytes).
func checkPriority(s string) (string, error) {
	if s == "" {
		return "", &ParseError{Reason: "missing priority", Err: ErrMissingParam}
	}
	if '0' <= s[0] && s[0] <= '9' {
		n, err := strconv.ParseUint(s, 10, 31)
		if err == nil && n > 0 {
			return strconv.FormatUint(n, 10), nil
		}
	} else if len(s) <= MaxLabelLen {
		ok := true
		for i := 0; ok && i < len(s); i++ {
			c := s[i]
			ok = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || i > 0 && ('0' <= c && c <= '9' || c == '-')
		}
		if ok {
			return s, nil
		}
	}
	return "", badParam("invalid priority %.40q (a positive number or a label)", s)
}

// checkReason checks a pause reason, given with its leading spaces: the
// spaces around it are dropped; it must be UTF-8 without control
// characters, at most MaxPauseReasonLen bytes.
func checkReason(s string) (string, error) {
	s = strings.Trim(s, " ")
	switch {
	case !utf8.ValidString(s):
		return "", badParam("pause reason is not UTF-8")
	case strings.IndexFunc(s, notTextRune) >= 0:
		return "", badParam("pause reason has control characters")
	case len(s) > MaxPauseReasonLen:
		return "", badParam("pause reason longer than %d bytes", MaxPauseReasonLen)
	}
	return s, nil
}

func notTextRune(r rune) bool { return unicode.IsControl(r) || r == 0x2028 || r == 0x2029 }

func isTokenChar(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// trimEOL drops a trailing "\n" and then a trailing "\r".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func nextSpace(b []byte, i int) int {
	for i < len(b) && b[i] != ' ' {
		i++
	}
	return i
}

// equalFold reports whether b equals the upper-case ASCII word w, ignoring
// ASCII case.
func equalFold(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
