package direct

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
)

// bridgeEnter is a 12+ BridgeEnter with the fields the rule reads, in the
// order Asterisk 22 writes them (22.10.1 c_queue_answered).
func bridgeEnter(bridge, n, channel, uid string) string {
	return "Event: BridgeEnter\nPrivilege: call,all\nBridgeUniqueid: " + bridge +
		"\nBridgeType: basic\nBridgeNumChannels: " + n + "\nChannel: " + channel +
		"\nUniqueid: " + uid + "\n\n"
}

func bridgeLeave(bridge, channel, uid string) string {
	return "Event: BridgeLeave\nPrivilege: call,all\nBridgeUniqueid: " + bridge +
		"\nChannel: " + channel + "\nUniqueid: " + uid + "\n\n"
}

// link14 is a 1.4 Link (or Unlink) event (1.4.44 c_queue_answered).
func link14(event, ch1, ch2, uid1, uid2 string) string {
	return "Event: " + event + "\nPrivilege: call,all\nChannel1: " + ch1 + "\nChannel2: " + ch2 +
		"\nUniqueid1: " + uid1 + "\nUniqueid2: " + uid2 + "\nCallerID1: 200\nCallerID2: 201\n\n"
}

// bridge18 is a 1.6–11 Bridge event (1.8.32.3-sip c_queue_answered).
func bridge18(state, ch1, ch2, uid1, uid2 string) string {
	return "Event: Bridge\nPrivilege: call,all\nBridgestate: " + state + "\nBridgetype: core\nChannel1: " + ch1 +
		"\nChannel2: " + ch2 + "\nUniqueid1: " + uid1 + "\nUniqueid2: " + uid2 + "\n\n"
}

func hangup(channel, uid string) string {
	return "Event: Hangup\nPrivilege: call,all\nChannel: " + channel + "\nUniqueid: " + uid + "\nCause: 16\n\n"
}

// observeAll feeds the wire text to a linker for phone and returns the
// callers it reports, in order.
func observeAll(t testing.TB, phone, wire string) []string {
	t.Helper()
	l := linker{phone: phone}
	r := ami.NewReader(strings.NewReader(wire))
	var got []string
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		require.NoError(t, err)
		if uid, ok := l.observe(m); ok {
			got = append(got, uid)
		}
	}
}

func TestLinkerRules(t *testing.T) {
	const b1, b2 = "9034d32a-fcc0-4afb-936f-d79f6158c385", "3abf33b1-5840-4155-a7b4-40115a525c53"
	tests := []struct {
		name  string
		phone string
		wire  string
		want  []string
	}{
		{
			name:  "12+ phone enters first, then the caller",
			phone: "SIP/201",
			wire: bridgeEnter(b1, "1", "SIP/201-00000007", "1795645203.7") +
				bridgeEnter(b1, "2", "SIP/trunk-00000006", "1795645203.6"),
			want: []string{"1795645203.6"},
		},
		{
			name:  "12+ caller enters first, then the phone",
			phone: "SIP/201",
			wire: bridgeEnter(b1, "1", "SIP/trunk-00000006", "1795645203.6") +
				bridgeEnter(b1, "2", "SIP/201-00000007", "1795645203.7"),
			want: []string{"1795645203.6"},
		},
		{
			name:  "12+ another phone's bridge",
			phone: "SIP/201",
			wire: bridgeEnter(b1, "1", "SIP/202-00000007", "1795645203.7") +
				bridgeEnter(b1, "2", "SIP/trunk-00000006", "1795645203.6"),
		},
		{
			name:  "12+ a phone whose name extends ours is not ours",
			phone: "SIP/1000",
			wire: bridgeEnter(b1, "1", "SIP/10001-00000007", "1.7") +
				bridgeEnter(b1, "2", "SIP/trunk-00000006", "1.6"),
		},
		{
			name:  "12+ Local member: the ;1 half talks to the service leg",
			phone: "Local/201@phones",
			wire: bridgeEnter(b2, "1", "Local/201@phones-0000000a;1", "1795641633.20") +
				bridgeEnter(b2, "2", "Local/102@astcti-queue-service-00000009;2", "1795641633.19"),
			want: []string{"1795641633.19"},
		},
		{
			name:  "12+ the ;2 half of the phone's Local channel is not its leg",
			phone: "Local/201@phones",
			wire: bridgeEnter(b1, "1", "Local/201@phones-0000000a;2", "1.21") +
				bridgeEnter(b1, "2", "SIP/201-0000000b", "1.22"),
		},
		{
			name:  "12+ a bridge the phone left links no more",
			phone: "SIP/201",
			wire: bridgeEnter(b1, "1", "SIP/201-00000007", "1.7") +
				bridgeLeave(b1, "SIP/201-00000007", "1.7") +
				bridgeEnter(b1, "1", "SIP/trunk-00000006", "1.6"),
		},
		{
			name:  "12+ two calls in a row",
			phone: "SIP/201",
			wire: bridgeEnter(b1, "1", "SIP/201-00000007", "1.7") +
				bridgeEnter(b1, "2", "SIP/trunk-00000006", "1.6") +
				bridgeLeave(b1, "SIP/201-00000007", "1.7") + hangup("SIP/201-00000007", "1.7") +
				bridgeEnter(b2, "1", "SIP/201-00000009", "1.9") +
				bridgeEnter(b2, "2", "SIP/trunk-00000008", "1.8"),
			want: []string{"1.6", "1.8"},
		},
		{
			name:  "12+ a BridgeEnter without a uniqueid is ignored",
			phone: "SIP/201",
			wire: bridgeEnter(b1, "1", "SIP/201-00000007", "1.7") +
				"Event: BridgeEnter\nBridgeUniqueid: " + b1 + "\nChannel: SIP/trunk-00000006\n\n",
		},
		{
			name:  "1.4 Link, Unlink, Link is one link",
			phone: "Local/201@phones",
			wire: link14("Link", "Local/102@astcti-queue-service-f59d,2", "Local/201@phones-abe2,1", "1795642470.25", "1795642470.26") +
				link14("Unlink", "Local/102@astcti-queue-service-f59d,2", "Local/201@phones-abe2,1", "1795642470.25", "1795642470.26") +
				link14("Link", "Local/102@astcti-queue-service-f59d,2", "Local/201@phones-abe2,1", "1795642470.25", "1795642470.26"),
			want: []string{"1795642470.25"},
		},
		{
			name:  "1.4 the phone as Channel1",
			phone: "SIP/201",
			wire:  link14("Link", "SIP/201-0a1b", "SIP/trunk-0a1c", "1.3", "1.4"),
			want:  []string{"1.4"},
		},
		{
			name:  "1.4 another phone",
			phone: "SIP/201",
			wire:  link14("Link", "SIP/trunk-0a1c", "SIP/202-0a1b", "1.4", "1.3"),
		},
		{
			name:  "1.8 Bridge Link, repeated",
			phone: "SIP/201",
			wire: bridge18("Link", "SIP/trunk-00000006", "SIP/201-00000007", "1795645573.6", "1795645574.7") +
				bridge18("Link", "SIP/trunk-00000006", "SIP/201-00000007", "1795645573.6", "1795645574.7"),
			want: []string{"1795645573.6"},
		},
		{
			name:  "1.8 Bridge Unlink does not link",
			phone: "SIP/201",
			wire:  bridge18("Unlink", "SIP/trunk-00000006", "SIP/201-00000007", "1795645573.6", "1795645574.7"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := observeAll(t, tc.phone, tc.wire)
			assert.Equal(t, tc.want, got, "observe(%q)", tc.wire)
		})
	}
}

// TestLinkerForgetsOnlyTheOldest checks the bounds: a phone in more
// bridges than it remembers keeps the newest, and a caller told long ago
// may be told again once it has aged out of the ring.
func TestLinkerForgetsOnlyTheOldest(t *testing.T) {
	var wire strings.Builder
	for i := range ownBridges + 1 {
		wire.WriteString(bridgeEnter("b"+strconv.Itoa(i), "1", "SIP/201-0000000"+strconv.Itoa(i), "p"+strconv.Itoa(i)))
	}
	wire.WriteString(bridgeEnter("b0", "2", "SIP/trunk-00000001", "c0"))
	wire.WriteString(bridgeEnter("b"+strconv.Itoa(ownBridges), "2", "SIP/trunk-00000002", "c1"))
	assert.Equal(t, []string{"c1"}, observeAll(t, "SIP/201", wire.String()), "b0 was the oldest bridge, forgotten")

	wire.Reset()
	for i := range recentLinks + 1 {
		wire.WriteString(link14("Link", "SIP/trunk-0a", "SIP/201-0b", "c"+strconv.Itoa(i), "p"))
	}
	wire.WriteString(link14("Link", "SIP/trunk-0a", "SIP/201-0b", "c0", "p"))
	wire.WriteString(link14("Link", "SIP/trunk-0a", "SIP/201-0b", "c"+strconv.Itoa(recentLinks), "p"))
	got := observeAll(t, "SIP/201", wire.String())
	require.Len(t, got, recentLinks+2)
	assert.Equal(t, "c0", got[recentLinks+1], "c0 aged out and is told again; the newest is not")
}
