package cti

import (
	"sync"
	"time"

	"github.com/astcti/astcti/cti/config"
	"github.com/astcti/astcti/cti/throttle"
)

// Tunables, in one block so tests can shrink them.
var (
	// seatQueueLines and seatQueueBytes bound what waits to be written to
	// one seat; a seat that lets either fill is disconnected as a slow
	// consumer.
	seatQueueLines = 1024
	seatQueueBytes = 1 << 20
	// seatWriteTimeout bounds one write to a seat.
	seatWriteTimeout = 10 * time.Second
	// seatFinalLineTimeout bounds the wait for room for the line that
	// tells a seat cut at once (a slow consumer) why.
	seatFinalLineTimeout = 500 * time.Millisecond
	// acceptBackoffMin and acceptBackoffMax bound the pause after a failed
	// accept of a seat (doubled after each failure in a row).
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
	// refuseWriteTimeout bounds the write of the line that refuses a seat
	// connection over a cap.
	refuseWriteTimeout = 100 * time.Millisecond
	// refusalLogEvery spaces the log lines of refused seat connections.
	refusalLogEvery = 10 * time.Second
	// filesReserved is how many open files the server keeps for itself
	// when it fits the cap on seats to the open-file limit.
	filesReserved = 256
	// hubQueue bounds the events waiting for the hub; readers block on it.
	hubQueue = 4096
	// amiSubscription bounds the AMI events waiting for the hub's pump.
	amiSubscription = 65536
	// pauseConfirmTimeout is how long a PAUSE waits for the PBX to confirm
	// every queue before the seat is told it failed.
	pauseConfirmTimeout = 5 * time.Second
	// repopWait bounds how long the re-pop of a seat's live calls waits
	// for the PBX to confirm the seat's queue memberships.
	repopWait = 2 * time.Second
	// shutdownTimeout bounds the wait for QueueRemove answers at shutdown
	// (paced: ten thousand seats take about a second on a real PBX).
	shutdownTimeout = 10 * time.Second
	// amiWindow bounds the hub's actions in flight to the PBX; the next
	// one is sent as an answer comes back (cti/outbox.go). It stays well
	// under the AMI client's send queue, so that queue never refuses one.
	amiWindow = 64
	// memberRetryMin and memberRetryMax bound the pause before a failed
	// QueueAdd or QueueRemove is sent again (doubled after each failure;
	// the wait is drawn between half the pause and the pause).
	memberRetryMin = time.Second
	memberRetryMax = 30 * time.Second
	// originateWait is how long an ORIG waits for its OriginateResponse.
	originateWait = 2 * time.Minute
	// seatActionBurst and seatActionEvery rate-limit the PAUSE and ORIG of
	// one seat: that many at once, then one per interval.
	seatActionBurst = 5
	seatActionEvery = time.Second
	// tick is the hub's timer resolution for deadlines.
	tick = 250 * time.Millisecond
	// The call tracker's bounds (calls.Limits): the channels it follows in
	// all and per interface, the live calls a seat is told of per
	// interface (at most a quarter of a seat's queue is used: see
	// trackerLimits), and the uniqueids of hung-up channels it remembers.
	trackerChannels             = 100_000
	trackerChannelsPerInterface = 50_000
	trackerCallsPerInterface    = 32
	trackerGone                 = 4096
	// reconcileEvery is how often the tracker's channels are checked
	// against the PBX's list (CoreShowChannels, or Status), so that those
	// the PBX no longer has, their Hangup lost, are removed.
	reconcileEvery = 5 * time.Minute
	// trackerLogEvery is the least time between two log lines about the
	// channels the tracker refused or dropped: they are counted meanwhile.
	trackerLogEvery = time.Minute
	// closedSeatsKept is how many ended sessions /status shows.
	closedSeatsKept = 100

	// The admin endpoints' HTTP server: a client gets this long to send its
	// request and to read the answer, and an idle keep-alive connection is
	// closed after adminIdleTimeout. adminHubWait bounds the wait for the
	// hub's answer; adminShutdownTimeout the wait for requests in progress
	// when the server stops.
	adminReadTimeout     = 5 * time.Second
	adminWriteTimeout    = 30 * time.Second
	adminIdleTimeout     = time.Minute
	adminMaxHeaderBytes  = 16 << 10
	adminHubWait         = 2 * time.Second
	adminShutdownTimeout = 2 * time.Second

	// Failed-login throttle: throttle.LoginPolicy (docs/protocol.md,
	// docs/security.md), or Config.LoginThrottle. maxFailuresPerConn
	// failed attempts close the connection.
	maxFailuresPerConn = 3
)

// limits holds the failed-login counters shared by the seat readers.
type limits struct {
	pairs *throttle.Limiter // per (operator name, address)
	addrs *throttle.Limiter // per address
}

func newLimits(p throttle.Policy) *limits {
	pairs, addrs := p.Limiters()
	return &limits{pairs: pairs, addrs: addrs}
}

// dummyOperator has a real password hash, so that a login for a name that
// does not exist costs as much as one that does.
var dummyOperator = sync.OnceValue(func() *config.Operator {
	h, _ := config.HashPassword(config.MD5Hex("no such operator"))
	return &config.Operator{PasswordHash: h}
})

func spendPasswordCheck(md5hex string) { dummyOperator().CheckPassword(md5hex) }
