package loadgen

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/fakeami"
	"github.com/astcti/astcti/scenarios"
)

func TestVerify(t *testing.T) {
	w := world{seats: 10, queues: 1}
	start := time.Unix(1000, 0)
	link := func(uid string, seat int, at time.Duration) fakeami.Link {
		return fakeami.Link{Uniqueid: uid, Member: w.phone(seat), UnixNano: start.Add(at).UnixNano()}
	}
	note := func(uid string, seat int, at time.Duration, bad bool) notice {
		return notice{uid: uid, seat: int32(seat), at: start.Add(at).UnixNano(), badFor: bad, session: 1}
	}
	inSession := func(n notice, session uint32) notice { n.session = session; return n }
	// An outage from 10 s to 20 s, of every seat, and one of seat 5 only.
	outs := []outage{
		{from: start.Add(10 * time.Second).UnixNano(), to: start.Add(20 * time.Second).UnixNano(), kind: FaultAMIDrop},
		{from: start.Add(30 * time.Second).UnixNano(), to: start.Add(40 * time.Second).UnixNano(), seats: map[int]bool{5: true}, kind: FaultChurn},
	}
	for _, tc := range []struct {
		name    string
		links   []fakeami.Link
		notices []notice
		want    Delivery
		lats    []latency
	}{
		{"re-popped in a later session", []fakeami.Link{link("a", 2, 0)}, []notice{note("a", 2, 1, false), inSession(note("a", 2, 5, false), 2)},
			Delivery{Linked: 1, Notified: 1, Repopped: 1}, []latency{{0, 1}}},
		{"twice in the later session", []fakeami.Link{link("a", 2, 0)},
			[]notice{note("a", 2, 1, false), inSession(note("a", 2, 5, false), 2), inSession(note("a", 2, 6, false), 2)},
			Delivery{Linked: 1, Notified: 1, Repopped: 1, Duplicated: 1}, []latency{{0, 1}}},
		{"not told in an outage", []fakeami.Link{link("a", 1, 15*time.Second)}, nil, Delivery{Linked: 1, Excused: 1}, nil},
		{"not told in an outage of another seat", []fakeami.Link{link("a", 1, 35*time.Second)}, nil, Delivery{Linked: 1, Lost: 1}, nil},
		{"not told in an outage of its seat", []fakeami.Link{link("a", 5, 35*time.Second)}, nil, Delivery{Linked: 1, Excused: 1}, nil},
		{"told twice in an outage", []fakeami.Link{link("a", 1, 15*time.Second)},
			[]notice{note("a", 1, 16*time.Second, false), note("a", 1, 17*time.Second, false)},
			Delivery{Linked: 1, Notified: 1, Duplicated: 1}, []latency{{15 * time.Second, time.Second}}},
		{"one each", []fakeami.Link{link("a", 1, time.Second)}, []notice{note("a", 1, time.Second+3*time.Millisecond, false)},
			Delivery{Linked: 1, Notified: 1}, []latency{{time.Second, 3 * time.Millisecond}}},
		{"lost", []fakeami.Link{link("a", 1, 0)}, nil, Delivery{Linked: 1, Lost: 1}, nil},
		{"duplicated", []fakeami.Link{link("a", 2, 0)}, []notice{note("a", 2, 1, false), note("a", 2, 5, false)},
			Delivery{Linked: 1, Notified: 1, Duplicated: 1}, []latency{{0, 1}}},
		{"at another seat", []fakeami.Link{link("a", 2, 0)}, []notice{note("a", 3, 1, false)},
			Delivery{Linked: 1, Lost: 1, Misdelivered: 1}, nil},
		{"for no linked call", nil, []notice{note("z", 3, 1, false)}, Delivery{Misdelivered: 1}, nil},
		{"wrong data", []fakeami.Link{link("a", 4, 0)}, []notice{note("a", 4, 2, true)},
			Delivery{Linked: 1, Notified: 1, WrongData: 1}, []latency{{0, 2}}},
		{"a member that is no seat", []fakeami.Link{{Uniqueid: "a", Member: "SIP/999", UnixNano: start.UnixNano()}},
			[]notice{note("a", 0, 1, false)}, Delivery{Linked: 1, Lost: 1, Misdelivered: 1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, lats := verify(w, tc.links, tc.notices, start, outs)
			assert.Len(t, d.Duplicates, min(d.Duplicated, 1), "the duplicated call named")
			assert.Len(t, d.Wrong, d.WrongData, "the wrong Link lines named")
			assert.Len(t, d.LostCalls, d.Lost, "the lost calls named")
			d.Duplicates, d.Wrong, d.LostCalls = nil, nil, nil
			assert.Equal(t, tc.want, d)
			assert.Equal(t, tc.want.Zero(), d.Lost+d.Duplicated+d.Misdelivered+d.WrongData == 0)
			if tc.lats == nil {
				tc.lats = []latency{}
			}
			assert.Equal(t, tc.lats, lats)
		})
	}
}

// TestVerifyNamesFault checks that a named call says which fault it
// followed and where its link fell in that fault's outage.
func TestVerifyNamesFault(t *testing.T) {
	w := world{seats: 10, queues: 1}
	start := time.Unix(1000, 0)
	outs := []outage{
		{from: start.Add(10 * time.Second).UnixNano(), to: start.Add(11 * time.Second).UnixNano(), kind: FaultAMIDrop},
		{from: start.Add(20 * time.Second).UnixNano(), to: start.Add(21 * time.Second).UnixNano(), kind: FaultPBXRestart},
	}
	links := []fakeami.Link{
		{Uniqueid: "early", Member: w.phone(1), UnixNano: start.Add(5 * time.Second).UnixNano()},
		{Uniqueid: "after", Member: w.phone(1), UnixNano: start.Add(21500 * time.Millisecond).UnixNano()},
		{Uniqueid: "dup", Member: w.phone(2), UnixNano: start.Add(10500 * time.Millisecond).UnixNano()},
		{Uniqueid: "bad", Member: w.phone(3), UnixNano: start.Add(12 * time.Second).UnixNano()},
	}
	note := func(uid string, seat int, at time.Duration, bad bool) notice {
		return notice{uid: uid, seat: int32(seat), at: start.Add(at).UnixNano(), badFor: bad, session: 1}
	}
	notices := []notice{note("dup", 2, 11*time.Second, false), note("dup", 2, 12*time.Second, false), note("bad", 3, 13*time.Second, true)}
	d, _ := verify(w, links, notices, start, outs)
	require.Len(t, d.LostCalls, 2)
	assert.Equal(t, "early at seat 1, linked at 5s; before any fault", d.LostCalls[0])
	assert.Equal(t, "after at seat 1, linked at 21.5s; 500ms after pbx-restart from 20s to 21s", d.LostCalls[1])
	require.Len(t, d.Duplicates, 1)
	assert.Contains(t, d.Duplicates[0], "; in ami-drop from 10s to 11s")
	require.Len(t, d.Wrong, 1)
	assert.Contains(t, d.Wrong[0], "; 1s after ami-drop from 10s to 11s")
}

func TestWorld(t *testing.T) {
	w := world{seats: 3, queues: 2, refused: 1}
	assert.Equal(t, 2, w.seatOf("SIP/10002"))
	for _, iface := range []string{"SIP/10003", "SIP/9999", "SIP/010000", "PJSIP/10000", "SIP/10000x", ""} {
		assert.Equal(t, -1, w.seatOf(iface), iface)
	}
	// The scenario and the traffic line are what the fake PBX takes.
	sc, err := scenarios.Parse("loadgen", []byte(w.scenario("rrmemory", time.Second, 2*time.Second, false)))
	require.NoError(t, err)
	assert.Len(t, sc.Queues, 2)
	assert.Len(t, sc.Phones, 3)
	m, err := w.model()
	require.NoError(t, err)
	require.NoError(t, m.Validate())
	assert.Len(t, m.Services, 4, "two queues, the refused one, the direct one")

	line := w.traffic(12.5, 10, time.Minute, 7)
	assert.Equal(t, "rate 12.5/s to 1@loadgen-q1*90 1@loadgen-q2*90 700@loadgen-direct*20 from 10000-10002 patience 1m0s seed 7", line)
	_, err = scenarios.ParseFragment("traffic", []byte("-- traffic --\n"+line+"\n"))
	require.NoError(t, err)
}

func TestParseProcStat(t *testing.T) {
	ps, err := parseProcStat([]byte("42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0"))
	require.NoError(t, err)
	assert.InDelta(t, 4.0, ps.CPUSeconds, 1e-9)
	for _, bad := range []string{"", "42 a S 1", "42 (x) S 1 2", "42 (x) S 1 2 3 4 5 6 7 8 9 10 -1 2 0"} {
		_, err := parseProcStat([]byte(bad))
		assert.Error(t, err, bad)
	}
	self, err := readProcStat(os.Getpid())
	if os.IsNotExist(err) {
		t.Skip("no /proc here")
	}
	require.NoError(t, err)
	assert.Positive(t, self.RSSBytes)
	assert.GreaterOrEqual(t, self.MaxRSSBytes, self.RSSBytes)
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("42 (astcti) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0"))
	f.Add([]byte("1 ()) R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := parseProcStat(b)
		if err == nil && ps.CPUSeconds < 0 {
			t.Fatalf("negative CPU from %q", b)
		}
	})
}
