package calls

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
)

// ringing is call n of "sales" (caller "c<n>") dialling the phone
// SIP/<ext> (leg "l<n>"), which rings.
func ringing(n int, ext string) []*ami.Frame {
	uid, leg := fmt.Sprint("c", n), fmt.Sprint("l", n)
	return fs(
		newch(fmt.Sprintf("SIP/trunk-%08x", 2*n), uid, "300"), exten(uid, "sales", "Answer", ""),
		newch(fmt.Sprintf("SIP/%s-%08x", ext, 2*n+1), leg, ext), dialBegin(uid, leg), state(leg, "Ringing"),
	)
}

// TestHangupBeforeNewchannel: a channel whose Hangup came first (or that
// hung up already) is not brought back by a later Newchannel, list item or
// OriginateResponse: no ghost call stays on a seat.
func TestHangupBeforeNewchannel(t *testing.T) {
	tests := []struct {
		name   string
		frames []*ami.Frame
		want   []string
		live   int
		late   uint64
		calls  int // live calls left on SIP/201
	}{
		{
			name:   "the phone leg's Hangup before its Newchannel",
			frames: seq(sipCall, fs(hangup("2", "16"), newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"))),
			live:   1, late: 1,
		},
		{
			name:   "the caller's Hangup before its Newchannel",
			frames: seq(fs(hangup("1", "16")), sipCall, fs(newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"))),
			live:   1, late: 1, // the phone leg, dialled by nobody the tracker knows
		},
		{
			name: "a Newchannel repeated after the Hangup",
			frames: seq(sipCall, fs(newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"),
				hangup("2", "16"), newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"))),
			want: []string{"Ring SIP/201 call=1 cid=200 svc=sales calldata=42", "Hangup SIP/201 call=1 cid=200 svc=sales calldata=42"},
			live: 1, late: 1,
		},
		{
			name: "an OriginateResponse after the Hangup",
			frames: fs(hangup("9", "16"), ev("OriginateResponse", "Response", "Success", "Channel", "SIP/201-00000009",
				"Context", "sales", "Exten", "100", "Uniqueid", "9")),
			late: 1,
		},
		{
			name:   "a Hangup and a Newchannel for a uid never seen otherwise, then the real call",
			frames: seq(fs(hangup("7", "16"), newch("SIP/201-00000007", "7", "201")), sipCall, fs(newch("SIP/201-00000001", "2", "201"), dialBegin("1", "2"), state("2", "Ringing"))),
			want:   []string{"Ring SIP/201 call=1 cid=200 svc=sales calldata=42"},
			live:   2, late: 1, calls: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := NewTracker(ruleCatalog())
			var got []string
			for _, f := range tc.frames {
				for _, ch := range tk.Apply(f) {
					got = append(got, render(ch))
				}
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.live, tk.Len(), "Len()")
			assert.Equal(t, tc.late, tk.Stats().Late, "Stats().Late")
			assert.Len(t, tk.CallsOn("SIP/201"), tc.calls, "calls left on the seat")
		})
	}
}

// TestHangupBeforeListItem: after a Hangup, a CoreShowChannels item for
// the channel (a list made before it hung up, read after) does not bring it
// back.
func TestHangupBeforeListItem(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	tk.Apply(hangup("5", "16"))
	item := ev("CoreShowChannel", "Channel", "SIP/trunk-00000005", "Uniqueid", "5", "Context", "sales",
		"Exten", "100", "Application", "Dial", "ApplicationData", "SIP/201")
	_, changes := tk.Resync(Listing{Channels: []*ami.Frame{item}})
	assert.Empty(t, changes)
	assert.Zero(t, tk.Len())
}

// TestGoneIsBounded: the uniqueids remembered as hung up are the last
// Limits.Gone; an older one may be created again.
func TestGoneIsBounded(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	tk.SetLimits(Limits{Gone: 4})
	for i := range 5 {
		tk.Apply(hangup(fmt.Sprint(i), "16"))
	}
	assert.Len(t, tk.goneSet, 4)
	tk.Apply(newch("SIP/201-00000000", "0", "201")) // forgotten: created
	tk.Apply(newch("SIP/201-00000004", "4", "201")) // remembered: ignored
	assert.Equal(t, 1, tk.Len())
	assert.Equal(t, uint64(1), tk.Stats().Late)
	// A new link: the PBX may have restarted unnoticed, its uniqueids
	// starting over.
	tk.ForgetHungUp()
	tk.Apply(newch("SIP/201-00000004", "4", "201"))
	assert.Equal(t, 2, tk.Len())
}

// TestChannelBound: 200,000 Newchannels that never hang up leave the
// tracker at its bound of channels; the excess is refused and counted, and
// the calls it held go on. The periodic reconciliation (Retain) makes room
// again.
func TestChannelBound(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	require.Equal(t, 100_000, tk.Limits().Channels)
	for _, f := range sipCall {
		tk.Apply(f)
	}
	f := &ami.Frame{}
	for i := range 200_000 {
		f.Fields = f.Fields[:0]
		f.Add("Event", "Newchannel")
		f.Add("Channel", fmt.Sprintf("SIP/p%d-%08x", i%5000, i))
		f.Add("Uniqueid", fmt.Sprintf("leak.%d", i))
		tk.Apply(f)
		require.LessOrEqual(t, tk.Len(), 100_000)
	}
	assert.Equal(t, 100_000, tk.Len())
	assert.Equal(t, uint64(200_000-100_000+1), tk.Stats().Refused)
	assert.Len(t, tk.perIface, 5000+1)

	// The live call still rings its seat... once there is room: the
	// reconciliation finds the leaked channels gone.
	mark := tk.Mark()
	assert.Empty(t, tk.Apply(newch("SIP/201-00000001", "2", "201")), "refused at the bound")
	tk.Retain(map[string]bool{"1": true}, mark)
	assert.Equal(t, 1, tk.Len())
	assert.Equal(t, uint64(100_000-1), tk.Stats().AgedOut)
	assert.Len(t, tk.perIface, 1)
	var got []string
	for _, f := range fs(newch("SIP/201-00000001", "3", "201"), dialBegin("1", "3"), state("3", "Ringing")) {
		for _, ch := range tk.Apply(f) {
			got = append(got, render(ch))
		}
	}
	assert.Equal(t, []string{"Ring SIP/201 call=1 cid=200 svc=sales calldata=42"}, got)
}

// TestChannelsPerInterface: one interface cannot take more than its bound
// of channels; the others still get theirs.
func TestChannelsPerInterface(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	tk.SetLimits(Limits{Channels: 100, ChannelsPerInterface: 10})
	for i := range 50 {
		tk.Apply(newch(fmt.Sprintf("SIP/201-%08x", i), fmt.Sprint("a", i), "201"))
	}
	assert.Equal(t, 10, tk.Len())
	assert.Equal(t, uint64(40), tk.Stats().Refused)
	for _, f := range sipCall {
		tk.Apply(f)
	}
	assert.Equal(t, 11, tk.Len(), "another interface")
	tk.Apply(hangup("a0", "16"))
	tk.Apply(newch("SIP/201-000000ff", "b", "201"))
	assert.Equal(t, 11, tk.Len(), "room again after a Hangup")
	tk.Apply(ev("Rename", "Channel", "SIP/201-000000ff", "Newname", "SIP/202-000000ff", "Uniqueid", "b"))
	assert.Equal(t, 9, tk.perIface["SIP/201"])
	assert.Equal(t, 1, tk.perIface["SIP/202"])
}

// TestCallsPerInterface: a phone told of more live calls than its bound
// (their Hangups were lost) has the oldest that still rings ended, with a
// Hangup to its seat before the new Ring; a call it answered is kept.
func TestCallsPerInterface(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	tk.SetLimits(Limits{CallsPerInterface: 3})
	var got []string
	apply := func(fs ...*ami.Frame) {
		for _, f := range fs {
			for _, ch := range tk.Apply(f) {
				got = append(got, ch.Kind.String()+" "+ch.Call.Uniqueid)
			}
		}
	}
	apply(ringing(1, "201")...)
	apply(enter("b1", "c1"), enter("b1", "l1")) // answered
	apply(ringing(2, "201")...)
	apply(ringing(3, "201")...)
	assert.Equal(t, []string{"Ring c1", "Link c1", "Ring c2", "Ring c3"}, got)
	got = nil
	apply(ringing(4, "201")...)
	apply(ringing(5, "201")...)
	assert.Equal(t, []string{"Hangup c2", "Ring c4", "Hangup c3", "Ring c5"}, got)
	assert.Equal(t, uint64(2), tk.Stats().Evicted)
	var on []string
	for _, ch := range tk.CallsOn("SIP/201") {
		on = append(on, ch.Kind.String()+" "+ch.Call.Uniqueid)
	}
	assert.Equal(t, []string{"Link c1", "Ring c4", "Ring c5"}, on)
	got = nil
	apply(hangup("l2", "16"), state("l3", "Up")) // the ended legs are gone for good
	assert.Empty(t, got)
	assert.Len(t, tk.toldOn["SIP/201"], 3)
	apply(hangup("l1", "16"), hangup("l4", "16"), hangup("l5", "16"))
	assert.Equal(t, []string{"Hangup c1", "Hangup c4", "Hangup c5"}, got)
	assert.Empty(t, tk.toldOn)
}

// TestRetainKeepsNewer: a channel created after the list was asked for is
// not in it, and is kept.
func TestRetainKeepsNewer(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	for _, f := range ringing(1, "201") {
		tk.Apply(f)
	}
	mark := tk.Mark()
	for _, f := range ringing(2, "202") {
		tk.Apply(f)
	}
	var got []string
	for _, ch := range tk.Retain(map[string]bool{"c1": true}, mark) {
		got = append(got, render(ch))
	}
	assert.Equal(t, []string{"Hangup SIP/201 call=c1 cid=300 svc=sales"}, got, "l1 was not listed")
	assert.Equal(t, 3, tk.Len())
	assert.Len(t, tk.CallsOn("SIP/202"), 1)
}

func TestCoalesce(t *testing.T) {
	ch := func(k Kind, iface, uid string) Change {
		return Change{Kind: k, Interface: iface, Call: Call{Uniqueid: uid, Channel: iface + "-" + uid}}
	}
	tests := []struct {
		name      string
		in, want  []Change
		unchanged bool
	}{
		{name: "empty"},
		{name: "hangups only", in: []Change{ch(Hangup, "SIP/201", "1"), ch(Hangup, "SIP/201", "2")}, unchanged: true},
		{
			name: "a call told and ended within",
			in:   []Change{ch(Hangup, "SIP/201", "1"), ch(Link, "SIP/201", "2"), ch(Link, "SIP/202", "3"), ch(Hangup, "SIP/201", "2")},
			want: []Change{ch(Hangup, "SIP/201", "1"), ch(Link, "SIP/202", "3")},
		},
		{
			name: "the same call on another seat stays",
			in:   []Change{ch(Ring, "SIP/201", "1"), ch(Hangup, "SIP/202", "1")},
			want: []Change{ch(Ring, "SIP/201", "1"), ch(Hangup, "SIP/202", "1")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Coalesce(tc.in)
			want := tc.want
			if tc.unchanged {
				want = tc.in
			}
			assert.Equal(t, want, got, "Coalesce(%v)", tc.in)
		})
	}
}

// TestEarlyEventsBounded: the events kept while a channel list is on its
// way (early.go) are at most maxEarly; the rest are counted, not kept, and
// Resync stops keeping them. The events kept are played again once.
func TestEarlyEventsBounded(t *testing.T) {
	tk := NewTracker(ruleCatalog())
	tk.Apply(newch("SIP/trunk-00000000", "0", "300")) // before the Mark: not kept
	mark := tk.Mark()
	for i := range maxEarly + 10 {
		tk.Apply(state(fmt.Sprint("x", i), "Up")) // of channels it does not know
	}
	assert.Len(t, tk.early, maxEarly)
	assert.Equal(t, uint64(10), tk.Stats().Unreplayed)
	unknown := tk.Stats().Unknown

	tk.Retain(map[string]bool{"0": true}, mark)
	tk.Resync(Listing{})
	assert.Empty(t, tk.early)
	assert.Equal(t, unknown, tk.Stats().Unknown, "what the events count was counted when they came")
	tk.Apply(state("y", "Up"))
	assert.Empty(t, tk.early, "kept only from a Mark to its Resync")
	assert.Equal(t, 1, tk.Len())

	// A channel refused at the bound while a list is on its way is
	// refused again when played again, and counted once.
	tk.SetLimits(Limits{Channels: 1})
	mark = tk.Mark()
	tk.Apply(newch("SIP/201-00000001", "1", "201"))
	require.Equal(t, uint64(1), tk.Stats().Refused)
	tk.Retain(map[string]bool{"0": true}, mark)
	tk.Resync(Listing{})
	assert.Equal(t, uint64(1), tk.Stats().Refused, "counted once")
	assert.Equal(t, 1, tk.Len())

	tk.Mark()
	tk.Apply(state("z", "Up"))
	tk.ListFailed() // the list will not come
	assert.Empty(t, tk.early)
	tk.Apply(state("z", "Up"))
	assert.Empty(t, tk.early)
}
