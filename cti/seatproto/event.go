package seatproto

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Event ids.
const (
	EventNewchannel        = "Newchannel"        // a channel of the seat's phone appeared
	EventCallerID          = "CallerId"          // the seat's phone rings; caller number and name known
	EventLink              = "Link"              // the seat answered: the screen-pop trigger
	EventHangup            = "Hangup"            // the call ended for the seat
	EventOriginateResponse = "OriginateResponse" // the outcome of the seat's ORIG
)

// Action types.
const (
	ActionApplication = "application" // run Application with Parameters split by SplitArgs
	ActionBrowser     = "browser"     // open the URL in Application
)

// Originate responses.
const (
	OriginateSuccess = "Success"
	OriginateFailure = "Failure"
)

// Bounds of what AppendEvent writes. With them no event line is longer than
// MaxServerLineLen.
const (
	// MaxValueLen is the longest value of a call field, a data key or
	// value, an originate field, the event id or the action type, in bytes
	// of the cleaned value; AppendEvent cuts a longer one at a character
	// boundary.
	MaxValueLen = 1024
	// MaxAppData is the largest number of <data> elements AppendEvent
	// writes; it drops the rest.
	MaxAppData = 64
	// MaxActionLen is the longest action application or parameter string;
	// AppendEvent cuts a longer one, and Expand refuses to produce one.
	MaxActionLen = 4096
	// MaxServerLineLen is the longest line the server sends. A client reads
	// server lines with at least this bound (ReadLine).
	MaxServerLineLen = 1 << 20
)

// Event is one call event sent to a seat. Its wire form is one line of XML
// written by AppendEvent and read by ParseEvent:
//
//	<event id="Link"><call>…</call><originate>…</originate><action>…</action></event>
//
// where <originate> is there only when Originate is set and <action> only
// when Action is set. The struct tags serve ParseEvent; use AppendEvent,
// not encoding/xml, to write one.
type Event struct {
	// ID is one of the Event* constants.
	ID string `xml:"id,attr"`
	// Call is the call the event is about, named by its caller's
	// uniqueid.
	Call Call `xml:"call"`
	// Originate is set on OriginateResponse only.
	Originate *Originate `xml:"originate"`
	// Action is set on Link when the call's service has a trigger.
	Action *Action `xml:"action"`
}

// Call is the <call> element of an event. Its elements are written in the
// order of the fields, always, empty when unknown.
type Call struct {
	UniqueID     string `xml:"uniqueid"`     // the caller's uniqueid: the call's identity for the seat
	Channel      string `xml:"channel"`      // the seat's channel (or, on OriginateResponse, the interface dialled from)
	CallerIDNum  string `xml:"calleridnum"`  // the caller's number
	CallerIDName string `xml:"calleridname"` // the caller's name
	Context      string `xml:"context"`      // the context the call entered the service by
	Exten        string `xml:"exten"`        // the extension dialled
	LinkedID     string `xml:"linkedid"`     // the id of the whole call across its legs, where the PBX gives one
	Service      string `xml:"service"`      // the service's name, "" for none
	Queue        string `xml:"queue"`        // the queue's name, "" for none
	AppData      []Data `xml:"appdata>data"` // the service's variables, in the service's order
	State        string `xml:"state"`        // the channel state: Down, Ring, Ringing, Up…
}

// Data is one <data key="…">value</data> of a call's <appdata>.
type Data struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

// Originate is the <originate> element of an OriginateResponse event.
type Originate struct {
	// Response is OriginateSuccess or OriginateFailure.
	Response string `xml:"response"`
	// Reason is Asterisk's numeric reason as it gave it: the last control
	// frame of the dialled channel (include/asterisk/frame.h): 0 failed
	// before ringing (no such channel or extension), 1 hung up, 3 no
	// answer (rang until the timeout), 4 answered, 5 busy, 8 congestion.
	Reason string `xml:"reason"`
}

// Action is the <action> element of a Link event: what the seat does when
// it answers a call of a service with a trigger.
type Action struct {
	// Type is ActionApplication or ActionBrowser.
	Type string `xml:"type,attr"`
	// Application is the program to run (application), or the URL to open
	// with its placeholders expanded (browser).
	Application string `xml:"application"`
	// Parameters is the program's parameter string with its placeholders
	// expanded, to be split with SplitArgs (application); "" for browser.
	Parameters string `xml:"parameters"`
}

// AppendEvent appends ev as one line of XML, with its "\n", to dst, and
// returns the extended buffer. Every value is escaped: the five XML
// specials as entities; tab, LF, CR, DEL, the C1 controls and U+2028/U+2029
// as character references, so the line holds no line break of any kind;
// invalid UTF-8 and the characters XML 1.0 cannot carry (the other C0
// controls, U+FFFE, U+FFFF) become U+FFFD. Values are cut to MaxValueLen
// (MaxActionLen for Application and Parameters) and AppData to MaxAppData
// entries, so ParseEvent gives back ev with exactly these changes.
//
// AppendEvent does not allocate when dst has room. It is safe to call from
// any goroutine as long as nobody modifies ev.
func AppendEvent(dst []byte, ev *Event) []byte {
	c := &ev.Call
	dst = append(dst, `<event id="`...)
	dst = appendText(dst, ev.ID, MaxValueLen)
	dst = append(dst, `"><call><uniqueid>`...)
	dst = appendText(dst, c.UniqueID, MaxValueLen)
	dst = append(dst, `</uniqueid><channel>`...)
	dst = appendText(dst, c.Channel, MaxValueLen)
	dst = append(dst, `</channel><calleridnum>`...)
	dst = appendText(dst, c.CallerIDNum, MaxValueLen)
	dst = append(dst, `</calleridnum><calleridname>`...)
	dst = appendText(dst, c.CallerIDName, MaxValueLen)
	dst = append(dst, `</calleridname><context>`...)
	dst = appendText(dst, c.Context, MaxValueLen)
	dst = append(dst, `</context><exten>`...)
	dst = appendText(dst, c.Exten, MaxValueLen)
	dst = append(dst, `</exten><linkedid>`...)
	dst = appendText(dst, c.LinkedID, MaxValueLen)
	dst = append(dst, `</linkedid><service>`...)
	dst = appendText(dst, c.Service, MaxValueLen)
	dst = append(dst, `</service><queue>`...)
	dst = appendText(dst, c.Queue, MaxValueLen)
	dst = append(dst, `</queue><appdata>`...)
	for i := range c.AppData {
		if i == MaxAppData {
			break
		}
		dst = append(dst, `<data key="`...)
		dst = appendText(dst, c.AppData[i].Key, MaxValueLen)
		dst = append(dst, `">`...)
		dst = appendText(dst, c.AppData[i].Value, MaxValueLen)
		dst = append(dst, `</data>`...)
	}
	dst = append(dst, `</appdata><state>`...)
	dst = appendText(dst, c.State, MaxValueLen)
	dst = append(dst, `</state></call>`...)
	if o := ev.Originate; o != nil {
		dst = append(dst, `<originate><response>`...)
		dst = appendText(dst, o.Response, MaxValueLen)
		dst = append(dst, `</response><reason>`...)
		dst = appendText(dst, o.Reason, MaxValueLen)
		dst = append(dst, `</reason></originate>`...)
	}
	if a := ev.Action; a != nil {
		dst = append(dst, `<action type="`...)
		dst = appendText(dst, a.Type, MaxValueLen)
		dst = append(dst, `"><application>`...)
		dst = appendText(dst, a.Application, MaxActionLen)
		dst = append(dst, `</application><parameters>`...)
		dst = appendText(dst, a.Parameters, MaxActionLen)
		dst = append(dst, `</parameters></action>`...)
	}
	return append(dst, "</event>\n"...)
}

// replacement is U+FFFD, what a character XML cannot carry becomes.
const replacement = "\uFFFD"

// xmlEscapes holds what each ASCII byte becomes in a value: "" for itself.
var xmlEscapes = [utf8.RuneSelf]string{
	0x00: replacement, 0x01: replacement, 0x02: replacement, 0x03: replacement,
	0x04: replacement, 0x05: replacement, 0x06: replacement, 0x07: replacement,
	0x08: replacement, '\t': "&#x9;", '\n': "&#xA;", 0x0b: replacement,
	0x0c: replacement, '\r': "&#xD;", 0x0e: replacement, 0x0f: replacement,
	0x10: replacement, 0x11: replacement, 0x12: replacement, 0x13: replacement,
	0x14: replacement, 0x15: replacement, 0x16: replacement, 0x17: replacement,
	0x18: replacement, 0x19: replacement, 0x1a: replacement, 0x1b: replacement,
	0x1c: replacement, 0x1d: replacement, 0x1e: replacement, 0x1f: replacement,
	'"': "&quot;", '&': "&amp;", '\'': "&apos;", '<': "&lt;", '>': "&gt;",
	0x7f: "&#x7F;",
}

// cleanRune says how the non-ASCII character r, of size bytes in the
// input, appears in a value: as itself (change false); written as a
// character reference, which parses back to itself (change and ref true);
// or replaced by U+FFFD (change true, ref false).
func cleanRune(r rune, size int) (change, ref bool) {
	switch {
	case r == utf8.RuneError && size == 1, r == 0xFFFE, r == 0xFFFF:
		return true, false
	case 0x80 <= r && r <= 0x9F, r == 0x2028, r == 0x2029:
		return true, true
	}
	return false, false
}

// appendText appends s escaped as an XML value (text or attribute, both
// quoted with '"'), cleaned as AppendEvent says and cut so that the cleaned
// value is at most limit bytes.
func appendText(dst []byte, s string, limit int) []byte {
	n, last, i := 0, 0, 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			e := xmlEscapes[c]
			if e == "" {
				if n == limit {
					break
				}
				n++
				i++
				continue
			}
			size := 1
			if e == replacement {
				size = len(replacement)
			}
			if n+size > limit {
				break
			}
			dst = append(dst, s[last:i]...)
			dst = append(dst, e...)
			n += size
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		change, ref := cleanRune(r, size)
		clean := size
		if change && !ref {
			clean = len(replacement)
		}
		if n+clean > limit {
			break
		}
		if change {
			dst = append(dst, s[last:i]...)
			if ref {
				dst = appendCharRef(dst, r)
			} else {
				dst = append(dst, replacement...)
			}
			last = i + size
		}
		n += clean
		i += size
	}
	return append(dst, s[last:i]...)
}

// appendCharRef appends r as "&#xHEX;", HEX in upper case.
func appendCharRef(dst []byte, r rune) []byte {
	const hex = "0123456789ABCDEF"
	dst = append(dst, "&#x"...)
	started := false
	for shift := 20; shift >= 0; shift -= 4 {
		d := (r >> uint(shift)) & 0xF
		if d != 0 || started || shift == 0 {
			dst = append(dst, hex[d])
			started = true
		}
	}
	return append(dst, ';')
}

// Clean returns s as a seat reads it back from an event: invalid UTF-8 and
// the characters XML 1.0 cannot carry (C0 controls other than tab, LF and
// CR; U+FFFE; U+FFFF) replaced by U+FFFD. AppendEvent also cuts long
// values (MaxValueLen); Clean does not.
func Clean(s string) string { return clean(s, -1) }

// clean is Clean with AppendEvent's cut at limit bytes (-1 for none).
func clean(s string, limit int) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		out := s[i : i+size]
		if r < utf8.RuneSelf {
			if xmlEscapes[r] == replacement {
				out = replacement
			}
		} else if change, ref := cleanRune(r, size); change && !ref {
			out = replacement
		}
		if limit >= 0 && n+len(out) > limit {
			break
		}
		b.WriteString(out)
		n += len(out)
		i += size
	}
	return b.String()
}

// ParseEvent parses one event line, with or without its "\n": a single
// <event> element with nothing before or after it. Elements and attributes
// it does not know are ignored (a newer server may send more); elements it
// knows but the line lacks are left empty, and AppData is nil when there is
// no <data>. Any other defect is an error wrapping ErrBadEvent.
func ParseEvent(line []byte) (*Event, error) {
	line = trimEOL(line)
	if !IsEvent(line) || bytes.IndexByte(line, '\n') >= 0 {
		return nil, fmt.Errorf("%w: not one line starting with '<'", ErrBadEvent)
	}
	d := xml.NewDecoder(bytes.NewReader(line))
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	start, ok := tok.(xml.StartElement)
	if !ok || start.Name.Local != "event" || start.Name.Space != "" {
		return nil, fmt.Errorf("%w: the line is not an <event> element", ErrBadEvent)
	}
	ev := new(Event)
	if err := d.DecodeElement(ev, &start); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	if d.InputOffset() != int64(len(line)) {
		return nil, fmt.Errorf("%w: data after </event>", ErrBadEvent)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after </event>", ErrBadEvent)
	}
	if len(ev.Call.AppData) == 0 {
		ev.Call.AppData = nil
	}
	return ev, nil
}
