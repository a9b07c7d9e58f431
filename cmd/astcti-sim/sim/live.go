package sim

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The live view: a screen redrawn in place with ANSI escape codes (cursor
// home, clear to the end of the line and of the screen), only when the
// output is a terminal.

// maxRows bounds the rows of the seat and member tables.
const maxRows = 12

// row is one line of the screen; a heading is shown in bold. A row too
// long for the terminal is cut, unless it wraps onto more rows.
type row struct {
	text    string
	heading bool
	wrap    wrapMode
}

// wrapMode says how a row too long for the terminal is shown.
type wrapMode int

const (
	cut       wrapMode = iota // cut, ending with …
	wrapText                  // wrapped at spaces, continued indented
	wrapShell                 // a shell command: wrapped at spaces, each break escaped with \
)

// frame lays the screen out for a terminal of w columns and h lines: the
// addresses, the seats, the queue, the calls in progress, and as many
// recent events as fit.
func (v *view) frame(now time.Time, w, h int) []row {
	var rs []row
	add := func(heading bool, format string, args ...any) {
		rs = append(rs, row{text: fmt.Sprintf(format, args...), heading: heading})
	}
	in := v.info
	add(true, "astcti-sim · up %s · dialect %s · %s calls · seed %d · Ctrl-C stops",
		clock(now.Sub(v.start)), in.Dialect, in.Rate, in.Seed)
	control := ""
	if in.Control != "" {
		control = " · control API " + in.Control
	}
	for _, n := range in.Notes {
		add(false, "note       %s", n)
	}
	add(false, "fake PBX   AMI %s (user %s, secret %s)%s", in.AMI, in.AMIUser, in.AMISecret, control)
	admin := ""
	if in.Admin != "" {
		admin = " · admin " + in.Admin
	}
	add(false, "server     seats %s%s · configuration %s", in.Seats, admin, in.DataDir)
	add(false, "demo CRM   %s (the page the screen pops open)", in.CRM)
	if c := in.Configurator; c != nil {
		add(false, "configure  %s (user %s, password %s)", c.URL, c.User, c.Password)
	}
	for i := range rs[1:] {
		rs[1+i].wrap = wrapText
	}
	add(false, "your seat  carol (password carol) is yours: connect your own seat client with")
	add(false, "  %s", in.ClientCommand())
	rs[len(rs)-1].wrap = wrapShell
	if h := in.ClientHint(); h != "" {
		add(false, "  (%s)", h)
		rs[len(rs)-1].wrap = wrapText
	}
	add(false, "")

	add(true, "%-14s %-9s %-22s %5s  %s", "SEAT", "PHONE", "STATE", "POPS", "LAST SCREEN POP")
	for i, s := range v.seats {
		if i == maxRows-1 && len(v.seats) > maxRows {
			add(false, "… and %d more", len(v.seats)-i)
			break
		}
		add(false, "%-14s %-9s %-22s %5d  %s", s.name, s.iface, s.state(), s.pops, s.last)
	}
	add(false, "%-14s %-9s %s", in.Free.Name+" (you)", in.Free.Interface, v.freeState())
	add(false, "")

	for _, q := range v.st.Queues {
		if len(q.Members) == 0 && len(q.Waiting) == 0 && q.Completed == 0 && q.Abandoned == 0 {
			continue
		}
		add(true, "QUEUE %s · %s · waiting %d · completed %d · abandoned %d",
			q.Name, q.Strategy, len(q.Waiting), q.Completed, q.Abandoned)
		for i, m := range q.Members {
			if i == maxRows-1 && len(q.Members) > maxRows {
				add(false, "  … and %d more members", len(q.Members)-i)
				break
			}
			add(false, "  %-9s %-14s %-24s %3d calls", m.Interface, v.phones[m.Interface], memberState(m.Paused, m.Reason, m.InCall, m.Status), m.Calls)
		}
		add(false, "")
	}

	add(true, "CALLS IN PROGRESS: %d · %d since the start", len(v.order), v.nCalls)
	for i, uid := range v.order {
		if i == maxRows-1 && len(v.order) > maxRows {
			add(false, "  … and %d more", len(v.order)-i)
			break
		}
		c := v.calls[uid]
		add(false, "  %-6s %-9s %-26s %s", c.caller, c.service, c.status, clock(now.Sub(c.first)))
	}
	add(false, "")

	add(true, "EVENTS")
	rs = fit(rs, w-1)
	room := h - 1 - len(rs)
	if room > 0 {
		from := max(0, len(v.recent)-room)
		for _, l := range v.recent[from:] {
			rs = append(rs, row{text: truncate("  "+l, w-1)})
		}
	}
	if len(rs) > h-1 {
		rs = rs[:max(h-1, 1)]
	}
	return rs
}

// fit makes every row at most w runes long: it wraps the rows that wrap,
// at spaces where it can, and cuts the others.
func fit(rs []row, w int) []row {
	const indent = "    "
	var out []row
	for _, r := range rs {
		if r.wrap == cut || utf8.RuneCountInString(r.text) <= w || w < 30 {
			r.text = truncate(r.text, w)
			out = append(out, r)
			continue
		}
		width := w
		if r.wrap == wrapShell {
			width = w - 2 // room for " \\"
		}
		rest := []rune(r.text)
		for first := true; len(rest) > 0; first = false {
			if !first {
				rest = append([]rune(indent), rest...)
			}
			if len(rest) <= w {
				out = append(out, row{text: string(rest), heading: r.heading})
				break
			}
			at := width
			for i := width; i > len(indent); i-- {
				if rest[i] == ' ' {
					at = i
					break
				}
			}
			text := strings.TrimRight(string(rest[:at]), " ")
			if r.wrap == wrapShell {
				text += " \\"
			}
			out = append(out, row{text: text, heading: r.heading})
			rest = []rune(strings.TrimLeft(string(rest[at:]), " "))
		}
	}
	return out
}

// state sums the seat's state up: not logged in, ready, paused, ringing,
// on call.
func (s *seatState) state() string {
	if !s.loggedIn {
		return "not logged in"
	}
	var ringing, linked []string
	for _, c := range s.calls {
		if c.linked {
			linked = append(linked, c.caller)
		} else {
			ringing = append(ringing, c.caller)
		}
	}
	slices.Sort(linked)
	slices.Sort(ringing)
	var st string
	switch {
	case len(linked) > 0:
		st = "on call " + strings.Join(linked, ",")
	case len(ringing) > 0:
		st = "ringing " + strings.Join(ringing, ",")
	case s.paused:
		return "paused (" + s.reason + ")"
	default:
		return "ready"
	}
	if s.paused {
		st += ", paused"
	}
	return st
}

// freeState is the state of the user's seat as the PBX shows it: logged in
// when its phone is a queue member, and the phone's calls.
func (v *view) freeState() string {
	iface := v.info.Free.Interface
	member, paused := false, false
	for _, q := range v.st.Queues {
		for _, m := range q.Members {
			if m.Interface == iface {
				member, paused = true, m.Paused
			}
		}
	}
	var calls []string
	for _, ch := range v.st.Channels {
		if channelInterface(ch.Name) != iface {
			continue
		}
		peer := ch.BridgedWith
		switch {
		case peer != "":
			calls = append(calls, "on call with "+v.callerOf(peer))
		case ch.State == "Ringing" || ch.State == "Ring":
			calls = append(calls, "ringing")
		}
	}
	var parts []string
	switch {
	case member && paused:
		parts = append(parts, "logged in, paused")
	case member:
		parts = append(parts, "logged in")
	default:
		parts = append(parts, "not logged in: run the command above")
	}
	return strings.Join(append(parts, calls...), ", ")
}

// callerOf returns the caller's number for a channel of the PBX.
func (v *view) callerOf(channel string) string {
	for _, ch := range v.st.Channels {
		if ch.Name == channel {
			return ch.CallerIDNum
		}
	}
	return channel
}

// memberState sums a queue member up.
func memberState(paused bool, reason string, inCall bool, status int) string {
	var st string
	switch {
	case inCall:
		st = "in call"
	case status == 6:
		st = "ringing"
	case status == 5:
		st = "unavailable"
	default:
		st = "free"
	}
	if paused {
		st += ", paused"
		if reason != "" {
			st += " (" + reason + ")"
		}
	}
	return st
}

// truncate cuts s to at most n runes, ending with … when it cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// draw writes the frame over the previous one: cursor home, each line
// cleared to its end, the rest of the screen cleared.
func (v *view) draw(rs []row) {
	var b strings.Builder
	b.WriteString("\x1b[H")
	for _, r := range rs {
		if r.heading {
			b.WriteString("\x1b[1m" + r.text + "\x1b[0m")
		} else {
			b.WriteString(r.text)
		}
		b.WriteString("\x1b[K\n")
	}
	b.WriteString("\x1b[J")
	io.WriteString(v.out, b.String())
}
