package config

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The XML format is a public contract (docs/config.md): administrators write
// it by hand. ParseXML is strict: an unknown element or attribute is refused,
// never ignored, so a typo never silently changes the configuration.

// XMLVersion is the version of the XML format this build reads and writes.
const XMLVersion = "1"

// ParseXML reads and validates a configuration in the XML format. Plain
// `password` attributes are hashed (HashPassword of their MD5 hex). It
// returns a *ValidationError listing every problem, each with its line,
// sorted by line; after a syntax error it reports what it found up to it.
func ParseXML(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxXMLSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxXMLSize {
		return nil, fmt.Errorf("XML configuration larger than %d bytes", maxXMLSize)
	}
	p := &xmlParser{data: data}
	for i, c := range data {
		if c == '\n' {
			p.newlines = append(p.newlines, i)
		}
	}
	m := p.parse()
	var probs []Problem
	probs = append(probs, p.problems...)
	if !p.syntaxError && p.sawRoot {
		if err := m.validate(p.locate); err != nil {
			var ve *ValidationError
			errors.As(err, &ve)
			probs = append(probs, ve.Problems...)
		}
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
		return nil, &ValidationError{Problems: probs}
	}
	return m, nil
}

type xmlPos struct{ start, end int } // byte offsets of a start tag

type xmlParser struct {
	data        []byte
	newlines    []int
	d           *xml.Decoder
	problems    []Problem
	syntaxError bool
	sawRoot     bool

	seats, operators, services []xmlPos
	variables, members         [][]xmlPos
	cur                        ref // the item being parsed, for its problems' Kind and indexes
}

// attrProblem records a problem of attribute attr of the item being parsed
// (p.cur), at the attribute's line.
func (p *xmlParser) attrProblem(pos xmlPos, attr, msg string) {
	p.problems = append(p.problems, Problem{Line: p.attrLine(pos, attr), Msg: msg,
		Kind: refKinds[p.cur.kind], Index: p.cur.i, Sub: p.cur.j, Field: attr})
}

func (p *xmlParser) line(off int) int {
	return 1 + sort.SearchInts(p.newlines, off)
}

func (p *xmlParser) addAt(off int, format string, args ...any) {
	p.problems = append(p.problems, Problem{Line: p.line(off), Msg: fmt.Sprintf(format, args...)})
}

// attrLine returns the line of attribute attr in the start tag at pos, or
// the tag's first line.
func (p *xmlParser) attrLine(pos xmlPos, attr string) int {
	if attr != "" && pos.end <= len(p.data) && pos.start < pos.end {
		tag := p.data[pos.start:pos.end]
		names := []string{attr}
		if attr == "password-hash" {
			names = append(names, "password")
		}
		for _, name := range names {
			re := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `\s*=`)
			if loc := re.FindIndex(tag); loc != nil {
				return p.line(pos.start + loc[0] + 1)
			}
		}
	}
	return p.line(pos.start)
}

func (p *xmlParser) locate(r ref) int {
	at := func(ps []xmlPos, i int) (xmlPos, bool) {
		if i < 0 || i >= len(ps) {
			return xmlPos{}, false
		}
		return ps[i], true
	}
	var pos xmlPos
	var ok bool
	switch r.kind {
	case refSeat:
		pos, ok = at(p.seats, r.i)
	case refOperator:
		pos, ok = at(p.operators, r.i)
	case refService:
		pos, ok = at(p.services, r.i)
	case refVariable:
		if r.i < len(p.variables) {
			pos, ok = at(p.variables[r.i], r.j)
		}
	case refMember:
		if r.i < len(p.members) {
			pos, ok = at(p.members[r.i], r.j)
		}
	}
	if !ok {
		return 0
	}
	return p.attrLine(pos, r.attr)
}

// next returns the next token with the offsets it spans, or nil at the end
// or at a syntax error (recorded as a problem).
func (p *xmlParser) next() (xml.Token, xmlPos) {
	start := int(p.d.InputOffset())
	if p.syntaxError {
		return nil, xmlPos{start, start}
	}
	tok, err := p.d.Token()
	end := int(p.d.InputOffset())
	if err == io.EOF {
		return nil, xmlPos{start, end}
	}
	if err != nil {
		p.syntaxError = true
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			p.problems = append(p.problems, Problem{Line: se.Line, Msg: "XML syntax: " + se.Msg})
		} else {
			p.addAt(end, "XML: %v", err)
		}
		return nil, xmlPos{start, end}
	}
	return tok, xmlPos{start, end}
}

func (p *xmlParser) parse() *Model {
	m := &Model{}
	p.d = xml.NewDecoder(bytes.NewReader(p.data))
	p.d.Strict = true
	for {
		tok, pos := p.next()
		if tok == nil {
			if !p.syntaxError && !p.sawRoot {
				p.addAt(pos.start, "no <astcti-config> element")
			}
			return m
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if p.sawRoot {
				p.addAt(pos.start, "a second root element <%s>", t.Name.Local)
				p.skip()
				continue
			}
			p.sawRoot = true
			if t.Name.Local != "astcti-config" || t.Name.Space != "" {
				p.addAt(pos.start, "the root element is <%s>, want <astcti-config>", qname(t.Name))
				p.skip()
				continue
			}
			p.root(m, t, pos)
		case xml.CharData:
			p.text(t, pos)
		case xml.Directive:
			p.addAt(pos.start, "<!%s> is not allowed (no DTDs or entities)", firstWord(string(t)))
		}
	}
}

func (p *xmlParser) root(m *Model, t xml.StartElement, pos xmlPos) {
	version := ""
	p.attrs(t, pos, func(name, value string) bool {
		if name == "version" {
			version = value
			return true
		}
		return false
	})
	switch version {
	case XMLVersion:
	case "":
		p.addAt(pos.start, "<astcti-config> needs version=%q", XMLVersion)
	default:
		p.problems = append(p.problems, Problem{Line: p.attrLine(pos, "version"),
			Msg: fmt.Sprintf("unsupported version %q: this astcti reads version %s", version, XMLVersion)})
	}
	for {
		tok, pos := p.next()
		if tok == nil {
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch qname(t.Name) {
			case "seat":
				p.seats = append(p.seats, pos)
				p.cur = ref{kind: refSeat, i: len(m.Seats)}
				m.Seats = append(m.Seats, p.seat(t, pos))
				p.leaf(t)
			case "operator":
				p.operators = append(p.operators, pos)
				p.cur = ref{kind: refOperator, i: len(m.Operators)}
				m.Operators = append(m.Operators, p.operator(t, pos))
				p.leaf(t)
			case "service":
				p.services = append(p.services, pos)
				p.cur = ref{kind: refService, i: len(m.Services)}
				p.variables = append(p.variables, nil)
				p.members = append(p.members, nil)
				m.Services = append(m.Services, p.service(t, pos, len(m.Services)))
			default:
				p.addAt(pos.start, "unknown element <%s> in <astcti-config> (want seat, operator or service)", qname(t.Name))
				p.skip()
			}
		case xml.EndElement:
			return
		case xml.CharData:
			p.text(t, pos)
		case xml.Directive:
			p.addAt(pos.start, "<!%s> is not allowed", firstWord(string(t)))
		}
	}
}

// attrs calls set for each attribute and reports the unknown (set returns
// false) and duplicate ones.
func (p *xmlParser) attrs(t xml.StartElement, pos xmlPos, set func(name, value string) bool) {
	seen := map[string]bool{}
	for _, a := range t.Attr {
		name := qname(a.Name)
		if seen[name] {
			p.attrProblem(pos, name, fmt.Sprintf("<%s>: duplicate attribute %s", t.Name.Local, name))
			continue
		}
		seen[name] = true
		if a.Name.Space != "" || !set(name, a.Value) {
			p.attrProblem(pos, a.Name.Local, fmt.Sprintf("<%s>: unknown attribute %s", t.Name.Local, name))
		}
	}
}

func (p *xmlParser) boolAttr(pos xmlPos, elem, name, value string, dst *bool) {
	switch value {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		p.attrProblem(pos, name, fmt.Sprintf("<%s>: %s must be true or false, not %q", elem, name, value))
	}
}

func (p *xmlParser) seat(t xml.StartElement, pos xmlPos) Seat {
	var s Seat
	p.attrs(t, pos, func(name, value string) bool {
		switch name {
		case "mac":
			s.MAC = value
			if mac, err := NormalizeMAC(value); err == nil {
				s.MAC = mac
			}
		case "interface":
			s.Interface = value
		case "description":
			s.Description = value
		default:
			return false
		}
		return true
	})
	return s
}

func (p *xmlParser) operator(t xml.StartElement, pos xmlPos) Operator {
	o := Operator{Enabled: true}
	var password string
	hasPassword := false
	p.attrs(t, pos, func(name, value string) bool {
		switch name {
		case "username":
			o.Username = value
		case "fullname":
			o.FullName = value
		case "password":
			password, hasPassword = value, true
		case "password-hash":
			o.PasswordHash = value
		case "seat":
			o.Seat = value
			if mac, err := NormalizeMAC(value); err == nil {
				o.Seat = mac
			}
		case "enabled":
			p.boolAttr(pos, "operator", name, value, &o.Enabled)
		case "begin-paused":
			p.boolAttr(pos, "operator", name, value, &o.BeginPaused)
		default:
			return false
		}
		return true
	})
	if hasPassword {
		switch {
		case o.PasswordHash != "":
			p.attrProblem(pos, "password", fmt.Sprintf("operator %q: both password and password-hash", o.Username))
		case password == "":
			p.attrProblem(pos, "password", fmt.Sprintf("operator %q: empty password", o.Username))
			o.PasswordHash = "-" // reported here, not again as missing
		default:
			if err := o.SetPassword(password); err != nil {
				p.attrProblem(pos, "password", fmt.Sprintf("operator %q: %v", o.Username, err))
			}
		}
	}
	return o
}

func (p *xmlParser) service(t xml.StartElement, pos xmlPos, i int) Service {
	s := Service{Trigger: TriggerNone, Enabled: true}
	p.attrs(t, pos, func(name, value string) bool {
		switch name {
		case "name":
			s.Name = value
		case "type":
			s.Type = ServiceType(value)
		case "context":
			s.Context = value
		case "queue":
			s.IsQueue, s.Queue = true, value
		case "trigger":
			s.Trigger = Trigger(value)
		case "application":
			s.Application = value
		case "parameters":
			s.Parameters = value
		case "enabled":
			p.boolAttr(pos, "service", name, value, &s.Enabled)
		default:
			return false
		}
		return true
	})
	for {
		tok, cpos := p.next()
		if tok == nil {
			return s
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch qname(t.Name) {
			case "variable":
				p.variables[i] = append(p.variables[i], cpos)
				p.cur = ref{kind: refVariable, i: i, j: len(s.Variables)}
				name := ""
				p.attrs(t, cpos, func(n, v string) bool {
					if n == "name" {
						name = v
						return true
					}
					return false
				})
				s.Variables = append(s.Variables, name)
				p.leaf(t)
			case "member":
				p.members[i] = append(p.members[i], cpos)
				p.cur = ref{kind: refMember, i: i, j: len(s.Members)}
				mb := Member{}
				p.attrs(t, cpos, func(n, v string) bool {
					switch n {
					case "operator":
						mb.Operator = v
					case "penalty":
						pen, err := ParsePenalty(v)
						if err != nil {
							p.attrProblem(cpos, "penalty", "<member>: "+err.Error())
						}
						mb.Penalty = pen
					default:
						return false
					}
					return true
				})
				s.Members = append(s.Members, mb)
				p.leaf(t)
			default:
				p.addAt(cpos.start, "unknown element <%s> in <service> (want variable or member)", qname(t.Name))
				p.skip()
			}
		case xml.EndElement:
			return s
		case xml.CharData:
			p.text(t, cpos)
		}
	}
}

// leaf reads up to the end of an element that has no children.
func (p *xmlParser) leaf(start xml.StartElement) {
	for {
		tok, pos := p.next()
		if tok == nil {
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			p.addAt(pos.start, "unknown element <%s> in <%s> (it has no child elements)", qname(t.Name), start.Name.Local)
			p.skip()
		case xml.EndElement:
			return
		case xml.CharData:
			p.text(t, pos)
		}
	}
}

func (p *xmlParser) skip() {
	if err := p.d.Skip(); err != nil {
		p.syntaxError = true
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			p.problems = append(p.problems, Problem{Line: se.Line, Msg: "XML syntax: " + se.Msg})
		}
	}
}

func (p *xmlParser) text(t xml.CharData, pos xmlPos) {
	s := strings.TrimSpace(string(t))
	if s == "" {
		return
	}
	lead := len(t) - len(bytes.TrimLeft(t, " \t\r\n"))
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	p.addAt(pos.start+lead, "unexpected text %q (values go in attributes)", s)
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// WriteXML writes m in the XML format, sorted (Model.Normalize; a service's
// variables stay in their declared order), with
// password hashes (never passwords) and every attribute explicit except
// empty optional ones.
func WriteXML(w io.Writer, m *Model) error {
	c := m.Clone()
	c.Normalize()
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	bw.WriteString(`<astcti-config version="` + XMLVersion + `">` + "\n")
	for _, s := range c.Seats {
		bw.WriteString("  <seat")
		attr(bw, "mac", s.MAC)
		attr(bw, "interface", s.Interface)
		optAttr(bw, "description", s.Description)
		bw.WriteString("/>\n")
	}
	for _, o := range c.Operators {
		bw.WriteString("  <operator")
		attr(bw, "username", o.Username)
		optAttr(bw, "fullname", o.FullName)
		attr(bw, "password-hash", o.PasswordHash)
		optAttr(bw, "seat", o.Seat)
		attr(bw, "enabled", strconv.FormatBool(o.Enabled))
		attr(bw, "begin-paused", strconv.FormatBool(o.BeginPaused))
		bw.WriteString("/>\n")
	}
	for _, s := range c.Services {
		bw.WriteString("  <service")
		attr(bw, "name", s.Name)
		attr(bw, "type", string(s.Type))
		attr(bw, "context", s.Context)
		if s.IsQueue {
			attr(bw, "queue", s.Queue)
		}
		attr(bw, "trigger", string(s.Trigger))
		optAttr(bw, "application", s.Application)
		optAttr(bw, "parameters", s.Parameters)
		attr(bw, "enabled", strconv.FormatBool(s.Enabled))
		if len(s.Variables) == 0 && len(s.Members) == 0 {
			bw.WriteString("/>\n")
			continue
		}
		bw.WriteString(">\n")
		for _, v := range s.Variables {
			bw.WriteString("    <variable")
			attr(bw, "name", v)
			bw.WriteString("/>\n")
		}
		for _, mb := range s.Members {
			bw.WriteString("    <member")
			attr(bw, "operator", mb.Operator)
			attr(bw, "penalty", strconv.Itoa(mb.Penalty))
			bw.WriteString("/>\n")
		}
		bw.WriteString("  </service>\n")
	}
	bw.WriteString("</astcti-config>\n")
	return bw.Flush()
}

func attr(w *bufio.Writer, name, value string) {
	w.WriteString(" " + name + `="`)
	xml.EscapeText(w, []byte(value))
	w.WriteString(`"`)
}

func optAttr(w *bufio.Writer, name, value string) {
	if value != "" {
		attr(w, name, value)
	}
}

// knownAttrs lists the attributes of each element, for docs and tests.
var knownAttrs = map[string][]string{
	"astcti-config": {"version"},
	"seat":          {"mac", "interface", "description"},
	"operator":      {"username", "fullname", "password", "password-hash", "seat", "enabled", "begin-paused"},
	"service":       {"name", "type", "context", "queue", "trigger", "application", "parameters", "enabled"},
	"variable":      {"name"},
	"member":        {"operator", "penalty"},
}
