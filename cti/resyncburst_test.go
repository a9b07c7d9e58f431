package cti

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/calls"
)

func frame(kv ...string) *ami.Frame {
	f := &ami.Frame{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

// takeLines empties a seat's queue, as a seat that reads would, and
// returns what was in it.
func takeLines(c *seatConn) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.queue {
		out = append(out, string(l))
		c.outBytes.Add(-int64(len(l)))
	}
	c.queue = nil
	return out
}

var eventRE = regexp.MustCompile(`^<event id="(\w+)"><call><uniqueid>([^<]*)</uniqueid>`)

// TestResyncBurstFitsSeatQueue: a seat told of a thousand calls whose
// Hangups never came (the AMI link was down when they ended) is not cut
// as a slow consumer by the resync: what one resync tells a seat fits in a
// quarter of its queue, and the seat ends knowing the calls that are live.
// Nothing drains the seat's queue during the resync: its writer is taken
// to be running, stuck on a full socket.
func TestResyncBurstFitsSeatQueue(t *testing.T) {
	defer func(l int) { seatQueueLines = l }(seatQueueLines)
	seatQueueLines = 64
	h := benchHub(t, traceModel())
	c, _ := pipeSeat(t)
	c.writing = true
	s := &session{conn: c, operator: "alice", iface: "SIP/201", key: "SIP/201", members: map[string]*membership{}}
	h.sessions[c], h.byIface[s.key], h.byOperator[s.operator] = s, s, s

	live := map[string]bool{} // the calls the seat was told of and not told ended
	follow := func(lines []string) {
		for _, l := range lines {
			m := eventRE.FindStringSubmatch(l)
			require.NotNil(t, m, "a line that is not an event: %q", l)
			if m[1] == "Hangup" {
				delete(live, m[2])
			} else {
				live[m[2]] = true
			}
		}
	}
	const n = 1000
	var items []*ami.Frame // what CoreShowChannels lists after the outage: the last two calls
	for i := range n {
		uid, leg := fmt.Sprint("c", i), fmt.Sprint("l", i)
		trunk, phone := fmt.Sprintf("SIP/trunk-%08x", 2*i), fmt.Sprintf("SIP/201-%08x", 2*i+1)
		for _, f := range []*ami.Frame{
			frame("Event", "Newchannel", "Channel", trunk, "CallerIDNum", "300", "Uniqueid", uid),
			frame("Event", "Newexten", "Privilege", "dialplan,all", "Channel", trunk, "Context", "astcti-service", "Exten", "100", "Uniqueid", uid, "Application", "Answer"),
			frame("Event", "Newchannel", "Channel", phone, "Uniqueid", leg),
			frame("Event", "DialBegin", "Uniqueid", uid, "DestUniqueid", leg),
			frame("Event", "Newstate", "ChannelStateDesc", "Ringing", "Uniqueid", leg),
		} {
			h.amiEvent(f, time.Now())
		}
		follow(takeLines(c))
		require.False(t, c.closing.Load(), "the seat was cut at call %d", i)
		if i >= n-2 {
			items = append(items,
				frame("Event", "CoreShowChannel", "Channel", trunk, "Uniqueid", uid, "Context", "astcti-service", "Exten", "100", "Application", "Dial", "ApplicationData", "SIP/201"),
				frame("Event", "CoreShowChannel", "Channel", phone, "Uniqueid", leg, "Context", "phones", "Exten", "201", "Application", "AppDial", "ApplicationData", "(Outgoing Line)"))
		}
	}
	assert.LessOrEqual(t, len(live), seatQueueLines/4, "live calls on the seat before the outage")

	// The link was down while every call but the last two ended; the
	// reconnect's resync lists the PBX's channels.
	h.rebuild(calls.Listing{Channels: items}, pending{kind: pendResync, mark: h.tracker.Mark()})
	assert.False(t, c.closing.Load(), "the seat was cut as a slow consumer by the resync")
	lines := takeLines(c)
	assert.LessOrEqual(t, len(lines), seatQueueLines/2, "lines of the resync")
	follow(lines)
	var got []string
	for uid := range live {
		got = append(got, uid)
	}
	slices.Sort(got)
	assert.Equal(t, []string{fmt.Sprint("c", n-2), fmt.Sprint("c", n-1)}, got, "the calls the seat ends with")
	assert.Equal(t, 4, h.tracker.Len(), "channels tracked")
}
