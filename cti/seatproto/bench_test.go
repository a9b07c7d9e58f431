package seatproto

import (
	"testing"
)

// BenchmarkAppendEvent measures the hot path: one event line written into
// a reused buffer, as the server does for each seat an event goes to.
func BenchmarkAppendEvent(b *testing.B) {
	hostile := linkEvent()
	hostile.Call.CallerIDName = `Rossi & "Figli" <srl>` + "\n"
	hostile.Call.AppData = append(hostile.Call.AppData, Data{"note", "café ☕ l'été"})
	for _, bc := range []struct {
		name string
		ev   *Event
	}{
		{"link", linkEvent()},
		{"hangup", &Event{ID: EventHangup, Call: Call{UniqueID: "1700000000.12", Channel: "SIP/201-0000000b"}}},
		{"escapes", hostile},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := AppendEvent(nil, bc.ev)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendEvent(buf[:0], bc.ev)
			}
		})
	}
}

func BenchmarkParseCommand(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"noop", "NOOP\r\n"},
		{"user", "USER alice\r\n"},
		{"pass", "PASS 5F4DCC3B5AA765D61D8327DEB882CF99\r\n"},
		{"mac", "MAC 00-11-22-AA-BB-CC\r\n"},
		{"orig", "ORIG 5551234 astcti-out 1\r\n"},
		{"pause", "PAUSE IN lunch break\r\n"},
		{"unknown", "HELLO world\r\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			line := []byte(bc.line)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = ParseCommand(line)
			}
		})
	}
}

func BenchmarkParseEvent(b *testing.B) {
	line := AppendEvent(nil, linkEvent())
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEvent(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExpand(b *testing.B) {
	c := linkEvent().Call
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Expand("--customer ${calldata} --name ${calleridname} --uid ${uniqueid}", c.Value, false); err != nil {
			b.Fatal(err)
		}
	}
}
