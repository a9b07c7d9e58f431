package loadgen

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/astcti/astcti/loadgen/direct"
	"github.com/astcti/astcti/loadgen/report"
)

// DirectResult is what the comparison measured of the approach the
// design argues against: one manager session per phone (package direct),
// with the same traffic as astcti's phase.
type DirectResult struct {
	Clients     int           `json:"clients"`       // manager sessions, one per phone
	LoginTook   time.Duration `json:"login_took_ns"` // until every client was logged in
	Traffic     Traffic       `json:"traffic"`
	Delivery    Delivery      `json:"delivery"`
	ClientsLost int           `json:"clients_lost"` // sessions that ended before the phase did
	BytesRead   int64         `json:"bytes_read"`   // by all the clients together
	EventsRead  int64         `json:"events_read"`
	Latencies   []latency     `json:"-"`
	// CallsPerSecond is the calls offered a second during the phase.
	CallsPerSecond []report.Point `json:"-"`
}

// compareDirect runs the traffic again the way the design argues against:
// a new fake PBX whose queues have every phone as a static member (there
// is no server to add them), and one manager session per phone, each
// reading the whole event stream for its own phone's links. The astcti
// phases' fake PBX is stopped first, so the two do not share the machine
// and each one's figures are its own process's.
func (r *runner) compareDirect(ctx context.Context) error {
	if err := r.pbx.child.stop(stopGrace); err != nil {
		return fmt.Errorf("loadgen: the fake PBX of the astcti phases: %w", err)
	}
	p, err := r.startPBXPart(ctx, true)
	if err != nil {
		return err
	}
	defer p.child.stop(stopGrace)
	dr := &DirectResult{Clients: r.w.seats}
	r.res.Direct = dr
	notices := &noticeLog{}
	r.use(p, notices, &dr.CallsPerSecond)

	phones := make([]string, r.w.seats)
	for i := range phones {
		phones[i] = r.w.phone(i)
	}
	// A direct client reads no channel variables: its notices carry no
	// data to check, only the call and the phone.
	onLink := func(l direct.Link) {
		notices.add(notice{uid: l.Uniqueid, seat: int32(r.w.seatOf(l.Phone)), at: l.ReadAt.UnixNano()})
	}
	r.progress("direct: logging in", 0, 0, nil, 0)
	began := time.Now()
	fl, err := direct.Start(ctx, direct.Options{
		Addr: p.ready.AMI, Username: amiUser, Secret: amiSecret, Phones: phones,
		Logger: slog.New(slog.NewTextHandler(r.opts.Log, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, onLink)
	if err != nil {
		return err
	}
	dr.LoginTook = time.Since(began)
	tr, err := r.calls(ctx, p, "direct: ", nil)
	// Close's error counts Logoffs to sessions the PBX already dropped;
	// those are in Stats.Lost, which the report shows.
	_ = fl.Close()
	st := fl.Stats()
	if err != nil {
		return err
	}
	dr.Traffic, dr.ClientsLost = tr, st.Lost
	dr.BytesRead, dr.EventsRead = st.BytesRead, st.EventsRead
	dr.Delivery, dr.Latencies = verify(r.w, p.links.links, notices.take(), r.res.Started, nil)
	return nil
}
