package calls

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
)

var (
	poolOnce sync.Once
	pool     []*ami.Frame // the events of every recorded trace but the burst
	poolVals []string     // values seen in them, to mix into mutations
)

func fuzzPool(tb testing.TB) []*ami.Frame {
	poolOnce.Do(func() {
		paths, err := amitrace.All()
		if err != nil {
			tb.Fatal(err)
		}
		seen := map[string]bool{}
		for _, p := range paths {
			if strings.Contains(filepath.Base(p), "bench") {
				continue
			}
			tr, err := amitrace.Load(p)
			if err != nil {
				tb.Fatal(err)
			}
			for _, f := range readFrames(tb, tr.Received) {
				if !f.IsEvent() {
					continue
				}
				pool = append(pool, f)
				for _, fl := range f.Fields {
					if !seen[fl.Value] && len(poolVals) < 4096 {
						seen[fl.Value] = true
						poolVals = append(poolVals, fl.Value)
					}
				}
			}
		}
		poolVals = append(poolVals, "", "<unknown>", "<null>", "Up", "Ringing", "Busy", "Link", "Begin", "BUSY", "17",
			"Local/201@phones-00000001;1", "Local/201@phones-00000001;2", "SIP/201-00000001", "Local/x;2", ";2", "-", "_", "__", "=", "a=b|c=d")
	})
	return pool
}

// fuzzEvents are event names of every generation, to turn one event into
// another.
var fuzzEvents = []string{
	"Newchannel", "Newcallerid", "NewCallerid", "Newstate", "Newexten", "VarSet", "UserEvent", "UserEventAstCTI",
	"Join", "QueueCallerJoin", "Dial", "DialBegin", "DialEnd", "AgentCalled", "AgentConnect", "Link", "Bridge",
	"BridgeEnter", "BridgeLeave", "BridgeDestroy", "LocalBridge", "Hangup", "OriginateResponse", "Shutdown",
	"Rename", "CoreShowChannel", "Unlink", "AgentComplete",
}

// FuzzApply drives a tracker with sequences of recorded events, some of
// them mutated: values swapped for values of other events, fields dropped
// or repeated, event names changed. Apply must never panic, the tracker's
// structures must stay consistent, and it must never hold a channel that
// the events did not leave alive.
func FuzzApply(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x01\x03\x05\x00\x00\x02\x10\x20\x01\x07\x09\x00\x00\x00"))
	f.Add([]byte(strings.Repeat("\x00", 400)))        // a long stretch of one trace, unchanged
	f.Add([]byte(strings.Repeat("\x02\x41\x07", 50))) // jumps
	f.Add([]byte(strings.Repeat("\x01\x13\x37\x42\x05", 80)))
	f.Add([]byte(strings.Repeat("\x03\xff\x10\x00\x20", 60)))
	f.Fuzz(runProg)
}

// runProg runs one fuzz program: each step reads an operation byte and its
// operands from prog.
func runProg(t *testing.T, prog []byte) {
	p := fuzzPool(t)
	tk := NewTracker(traceCatalog())
	live := map[string]bool{} // a superset of the channels the events leave alive
	cursor := 0
	next := func() byte {
		if len(prog) == 0 {
			return 0
		}
		b := prog[0]
		prog = prog[1:]
		return b
	}
	for steps := 0; len(prog) > 0 && steps < 2000; steps++ {
		var fr *ami.Frame
		switch op := next(); op % 4 {
		case 0: // the next recorded event as it is
			fr = p[cursor%len(p)]
			cursor++
		case 1: // the next recorded event with one value changed
			fr = p[cursor%len(p)].Clone()
			cursor++
			if len(fr.Fields) > 0 {
				fr.Fields[int(next())%len(fr.Fields)].Value = poolVals[(int(next())<<8|int(next()))%len(poolVals)]
			}
		case 2: // jump elsewhere in the recordings
			cursor = (int(next())<<8 | int(next())) % len(p)
			continue
		case 3: // a recorded event reshaped
			fr = p[(int(next())<<8|int(next()))%len(p)].Clone()
			switch m := next(); m % 5 {
			case 0:
				fr.Set("Event", fuzzEvents[int(next())%len(fuzzEvents)])
			case 1:
				if len(fr.Fields) > 1 {
					fr.Fields = fr.Fields[:int(next())%len(fr.Fields)]
				}
			case 2:
				if len(fr.Fields) > 0 {
					fr.Fields = append(fr.Fields, fr.Fields[int(next())%len(fr.Fields)])
				}
			case 3:
				if len(fr.Fields) > 0 {
					i := int(next()) % len(fr.Fields)
					fr.Fields[i].Key = strings.ToUpper(fr.Fields[i].Key)
				}
			case 4:
				fr.Set("Uniqueid", poolVals[int(next())%len(poolVals)])
			}
		}
		model(fr, live)
		for _, ch := range tk.Apply(fr) {
			if ch.Kind < Ring || ch.Kind > Hangup || ch.Interface == "" {
				t.Fatalf("odd change %+v", ch)
			}
		}
		checkInvariants(t, tk, live)
	}
}

// model follows which uniqueids the events can have left alive: created by
// Newchannel, CoreShowChannel or a successful OriginateResponse, ended by
// Hangup, all ended by Shutdown.
func model(f *ami.Frame, live map[string]bool) {
	uid := f.Get("Uniqueid")
	switch ev := lookupEvent(f.Event()); {
	case ev == evNewchannel || ev == evCoreShowChannel || ev == evOriginateResponse:
		if uid != "" {
			live[uid] = true
		}
	case ev == evHangup:
		delete(live, uid)
	case ev == evShutdown:
		clear(live)
	}
}

// checkInvariants checks the tracker's structures against each other and
// against the model of live channels.
func checkInvariants(t *testing.T, tk *Tracker, live map[string]bool) {
	t.Helper()
	if tk.Len() > len(live) {
		t.Fatalf("Len() = %d, more than the %d channels the events left alive", tk.Len(), len(live))
	}
	for uid, c := range tk.byUID {
		if !live[uid] {
			t.Fatalf("channel %q is not alive", uid)
		}
		if c.uid != uid || c.dead {
			t.Fatalf("channel %q: uid %q, dead %v", uid, c.uid, c.dead)
		}
		for _, w := range c.ringq {
			if w.waitq != c {
				t.Fatalf("channel %q waits in the wrong ringq", w.uid)
			}
		}
		if c.br != nil && tk.bridges[c.br.id] != c.br {
			t.Fatalf("channel %q in a forgotten bridge", uid)
		}
	}
	for name, c := range tk.byName {
		if c.name != name || tk.byUID[c.uid] != c {
			t.Fatalf("byName[%q] is not a live channel of that name", name)
		}
	}
	for id, b := range tk.bridges {
		if len(b.members) == 0 {
			t.Fatalf("empty bridge %q kept", id)
		}
		for _, m := range b.members {
			if m.dead || m.br != b {
				t.Fatalf("bridge %q holds %q, dead %v", id, m.uid, m.dead)
			}
		}
	}
}
