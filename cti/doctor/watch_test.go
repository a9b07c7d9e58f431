package doctor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/config"
)

// TestWatcherLateCall: a call already up at login is kept apart and used
// only for want of a call the doctor saw from its Newchannel on.
func TestWatcherLateCall(t *testing.T) {
	w := newWatcher(gen12, config.Demo(), "tok")
	ev := func(name, uid, context string, kv ...string) {
		w.observe(event(name, "call,all", append([]string{"Channel", "SIP/x-" + uid, "Context", context, "Uniqueid", uid}, kv...)...))
	}
	// A call up before the login: its Newstate is the first event seen.
	ev("Newchannel", "9", "phones")
	ev("Newstate", "1", "astcti-service")
	r := w.report()
	require.NotNil(t, r.call)
	assert.True(t, r.call.late)
	assert.Equal(t, "1", r.call.uniqueid)
	// A new call, seen whole.
	ev("Newchannel", "2", "from-trunk")
	ev("Newexten", "2", "astcti-service", "Application", "Set", "AppData", "calldata=1")
	ev("Hangup", "2", "astcti-service")
	select {
	case <-w.callEnded:
	default:
		t.Fatal("the call's Hangup did not end the watch")
	}
	r = w.report()
	assert.False(t, r.call.late)
	assert.Equal(t, "2", r.call.uniqueid)
	assert.True(t, r.seen("Newchannel"))
	assert.True(t, r.varSet("CallData"))
	assert.False(t, r.seen("DialBegin"))
}
