package seatproto

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// commandSeeds are client lines, valid and hostile.
var commandSeeds = []string{
	"USER alice\r\n",
	"PASS 5f4dcc3b5aa765d61d8327deb882cf99\n",
	"PASS 5F4DCC3B5AA765D61D8327DEB882CF99",
	"MAC 00-11-22-AA-BB-CC",
	"MAC 001122aabbcc",
	"NOOP",
	"quit\r",
	"ORIG +39*02#1 from-internal 1",
	"ORIG 201 out label_1",
	"PAUSE IN coffee  break ☕",
	"PAUSE OUT",
	"PAUSE",
	"",
	"   ",
	"\r\n",
	"\x00\xff\xfe",
	"USER a\nQUIT\n",
	"PAUSE IN a\u2028b",
	"ORIG 1 out 0",
	"ORIG 1 out 99999999999999999999",
	"NOOP" + strings.Repeat(" ", MaxLineLen),
	strings.Repeat("x", MaxLineLen+1),
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range commandSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := ParseCommand(line)
		if err != nil {
			var pe *ParseError
			if !errors.Is(err, ErrEmptyLine) && !errors.Is(err, ErrLineTooLong) && !errors.As(err, &pe) {
				t.Fatalf("ParseCommand(%q) = %v: not a protocol error", line, err)
			}
			reply := AppendStatus(nil, ErrorReply(err))
			if bytes.ContainsAny(reply[:len(reply)-1], "\r\n") || !utf8.Valid(reply) {
				t.Fatalf("ErrorReply(%v) = %q: not one clean line", err, reply)
			}
			return
		}
		out, err := AppendCommand(nil, c)
		if err != nil {
			t.Fatalf("AppendCommand(%+v) of ParseCommand(%q): %v", c, line, err)
		}
		if bytes.IndexByte(out, '\n') != len(out)-1 || len(out) > MaxLineLen+1 {
			t.Fatalf("AppendCommand(%+v) = %q: not one line", c, out)
		}
		again, err := ParseCommand(out)
		if err != nil || again != c {
			t.Fatalf("ParseCommand(%q) = %+v, %v; want %+v (from %q)", out, again, err, c, line)
		}

		// The same bytes as a stream, read in small pieces: ReadLine gives
		// the lines between the "\n"s, or stops at one too long.
		const max = 64
		r := bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(line)), 16)
		want := bytes.Split(line, []byte("\n"))
		for i := 0; ; i++ {
			got, err := ReadLine(r, max)
			if err != nil {
				if errors.Is(err, ErrLineTooLong) && len(lineOf(want[i])) <= max {
					t.Fatalf("ReadLine: line %d %q refused as too long", i, want[i])
				}
				break
			}
			if w := lineOf(want[i]); !bytes.Equal(got, w) || len(got) > max {
				t.Fatalf("ReadLine: line %d = %q, want %q", i, got, w)
			}
		}
	})
}

// lineOf is the line ReadLine gives for the bytes p between two "\n".
func lineOf(p []byte) []byte {
	return trimEOL(append(p[:len(p):len(p)], '\n'))
}

// wantClean is the value a seat reads back, written apart from the code it
// checks: range yields U+FFFD for each invalid byte; characters XML cannot
// carry become U+FFFD; the result is cut to limit bytes.
func wantClean(s string, limit int) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > limit {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wantEvent is ev as ParseEvent gives it back after AppendEvent.
func wantEvent(ev *Event) *Event {
	v := func(s string) string { return wantClean(s, MaxValueLen) }
	c := ev.Call
	w := &Event{ID: v(ev.ID), Call: Call{
		UniqueID: v(c.UniqueID), Channel: v(c.Channel), CallerIDNum: v(c.CallerIDNum),
		CallerIDName: v(c.CallerIDName), Context: v(c.Context), Exten: v(c.Exten),
		LinkedID: v(c.LinkedID), Service: v(c.Service), Queue: v(c.Queue), State: v(c.State),
	}}
	for i, d := range c.AppData {
		if i == MaxAppData {
			break
		}
		w.Call.AppData = append(w.Call.AppData, Data{v(d.Key), v(d.Value)})
	}
	if o := ev.Originate; o != nil {
		w.Originate = &Originate{v(o.Response), v(o.Reason)}
	}
	if a := ev.Action; a != nil {
		w.Action = &Action{v(a.Type), wantClean(a.Application, MaxActionLen), wantClean(a.Parameters, MaxActionLen)}
	}
	return w
}

// checkEventLine fails unless b is one line that carries no line break of
// any kind in it and is valid UTF-8.
func checkEventLine(t *testing.T, b []byte) {
	t.Helper()
	body := b[:len(b)-1]
	if b[len(b)-1] != '\n' || bytes.ContainsAny(body, "\r\n\t\v\f\u0085\u2028\u2029") || !utf8.Valid(b) || !IsEvent(b) {
		t.Fatalf("AppendEvent wrote %q: not one clean line", b)
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add(AppendEvent(nil, linkEvent()), "", "", "")
	f.Add([]byte(`<event id="Newchannel"><call><uniqueid>1</uniqueid><appdata><data key=""></data></appdata></call></event>`), "Demo\n2", "<&>\"'", "\xff\x00")
	f.Add([]byte(`<event id="x"><call><state>&#xD;&#x85;&#x2028;&lt;</state></call><originate><response>Failure</response></originate></event>`), "]]>", "\u2028", "a\rb")
	f.Add([]byte(`<event id="x"><call><state><![CDATA[<x>]]></state></call></event>`), "\uFFFE", "\t", "")
	f.Add([]byte(`<event><call><appdata><data key="a">1</data><data key="b">2</data></appdata></call><action type="browser"><application>http://x/?a=1&amp;b=2</application></action></event>`), "", "", "")
	f.Add([]byte(`<event id="a" id="b"></event>`), "", "", "")
	f.Add([]byte(`<event id="Link"><call><uniqueid>1<b>2</b></uniqueid></call></event>`), "", "", "")
	f.Fuzz(func(t *testing.T, line []byte, a, b, c string) {
		// Whatever a peer sends, ParseEvent does not panic, and what it
		// accepts writes back as one line that parses to the same event.
		if ev, err := ParseEvent(line); err == nil {
			w := AppendEvent(nil, ev)
			checkEventLine(t, w)
			again, err := ParseEvent(w)
			if err != nil {
				t.Fatalf("ParseEvent(%q) (written from %q): %v", w, line, err)
			}
			if want := wantEvent(ev); !reflect.DeepEqual(again, want) {
				t.Fatalf("ParseEvent(AppendEvent(ParseEvent(%q))) = %+v, want %+v", line, again, want)
			}
		} else if !errors.Is(err, ErrBadEvent) {
			t.Fatalf("ParseEvent(%q) = %v, not ErrBadEvent", line, err)
		}

		// Whatever the values, AppendEvent writes one line that parses back
		// to the cleaned event.
		ev := &Event{ID: a, Call: Call{
			UniqueID: a, Channel: b, CallerIDNum: c, CallerIDName: b + a, Context: c, Exten: a,
			LinkedID: b, Service: c, Queue: a, State: b,
			AppData: []Data{{a, b}, {c, a}},
		}, Originate: &Originate{b, c}, Action: &Action{a, b, c}}
		w := AppendEvent(nil, ev)
		checkEventLine(t, w)
		got, err := ParseEvent(w)
		if err != nil {
			t.Fatalf("ParseEvent(AppendEvent(%+v)) of %q: %v", ev, w, err)
		}
		if want := wantEvent(ev); !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseEvent(%q) = %+v, want %+v", w, got, want)
		}
		if Clean(a) != wantClean(a, len(a)*3) {
			t.Fatalf("Clean(%q) = %q, want %q", a, Clean(a), wantClean(a, len(a)*3))
		}
	})
}

func FuzzSplitArgs(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v, v)
	}
	f.Add(`a "b c" 'd e' f\ g "" ''`, "x")
	f.Add(`"unclosed`, `it's "x"`)
	f.Add(`C:\data\x "C:\Program Files\x"`, `\`)
	f.Fuzz(func(t *testing.T, params, v string) {
		// Whatever SplitArgs accepts, quoting its arguments back and
		// splitting again gives the same arguments.
		if args, err := SplitArgs(params); err == nil {
			var q []string
			for _, a := range args {
				q = append(q, QuoteArg(a))
			}
			again, err := SplitArgs(strings.Join(q, " "))
			if err != nil || len(again) != len(args) {
				t.Fatalf("SplitArgs(%q) = %q; requoted %q splits to %q, %v", params, args, q, again, err)
			}
			for i := range args {
				if args[i] != again[i] {
					t.Fatalf("SplitArgs(%q) = %q; requoted %q splits to %q", params, args, q, again)
				}
			}
		} else if !errors.Is(err, ErrBadParameters) {
			t.Fatalf("SplitArgs(%q) = %v, not ErrBadParameters", params, err)
		}

		// Whatever the value, it stays one argument of its own.
		cv := Clean(v)
		look := func(string) (string, bool) { return v, true }
		for _, tc := range []struct {
			tmpl string
			want []string
		}{
			{`--x ${v} --y`, []string{"--x", cv, "--y"}},
			{`--x="${v}"`, []string{"--x=" + cv}},
			{`'${v}'${v}`, []string{cv + cv}},
		} {
			got, err := Expand(tc.tmpl, look, false)
			if errors.Is(err, ErrActionTooLong) {
				continue
			}
			if err != nil {
				t.Fatalf("Expand(%q) with %q: %v", tc.tmpl, v, err)
			}
			args, err := SplitArgs(got)
			if err != nil || len(args) != len(tc.want) {
				t.Fatalf("SplitArgs(%q) = %q, %v; want %q", got, args, err, tc.want)
			}
			for i := range args {
				if args[i] != tc.want[i] {
					t.Fatalf("SplitArgs(Expand(%q)) with %q = %q, want %q", tc.tmpl, v, args, tc.want)
				}
			}
		}
	})
}
