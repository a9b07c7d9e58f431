package fakeami

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/astcti/astcti/cti/ami"
	"github.com/astcti/astcti/cti/ami/amitrace"
)

// Replay plays a recorded manager session (a .ami trace) to whoever logs in:
// every message after the recording's own login response, in the recorded
// order and, when the trace has a timeline, with the recorded pacing scaled
// by Speed. Actions of the replayed-to client are answered with an error:
// a recording cannot perform them.
type Replay struct {
	frames   []timedFrame
	hangUp   bool   // the recording ends with the PBX closing the socket
	version  string // the recorded banner's manager version
	Speed    float64
	WaitCall bool // wait for Server.StartReplay instead of starting at login
}

type timedFrame struct {
	at time.Duration // when its last byte arrived, since the recording began
	f  *ami.Frame
}

// LoadReplay reads a trace file for Replay. speed 1 plays as recorded, 2
// twice as fast, 0 as fast as possible.
func LoadReplay(path string, speed float64) (*Replay, error) {
	if speed < 0 {
		return nil, fmt.Errorf("fakeami: replay speed %v is negative", speed)
	}
	tr, err := amitrace.Load(path)
	if err != nil {
		return nil, err
	}
	return NewReplay(tr, speed)
}

// NewReplay prepares tr for replay.
func NewReplay(tr *amitrace.Trace, speed float64) (*Replay, error) {
	r := ami.NewReader(bytes.NewReader(tr.Received))
	version, err := r.ReadBanner()
	if err != nil {
		return nil, fmt.Errorf("fakeami: replay %s: %w", tr.Name, err)
	}
	off := bytes.IndexByte(tr.Received, '\n') + 1
	var frames []timedFrame
	var buf []byte
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("fakeami: replay %s: %w", tr.Name, err)
		}
		f := m.Frame()
		buf, _ = ami.AppendFrame(buf[:0], f)
		off += len(buf)
		frames = append(frames, timedFrame{at: arrival(tr.Timeline, off), f: f})
	}
	// The recording's own login exchange is not replayed: the client gets
	// its own login response. Neither is its final Goodbye, the answer to a
	// Logoff this client did not send.
	if len(frames) > 0 && frames[0].f.IsResponse() {
		frames = frames[1:]
	}
	loggedOff := false
	if n := len(frames); n > 0 && frames[n-1].f.Response() == "Goodbye" {
		frames, loggedOff = frames[:n-1], true
	}
	rp := &Replay{frames: frames, Speed: speed, version: version}
	// A recording that ends with the PBX hanging up on its own (a restart,
	// not the answer to a Logoff) is played with that hang-up.
	if n := len(tr.Timeline); n > 0 && !loggedOff && tr.Timeline[n-1].Dir == "eof" && tr.Timeline[n-1].By == "peer" {
		rp.hangUp = true
	}
	return rp, nil
}

// arrival returns the time of the recorded read that delivered byte off-1.
func arrival(tl []amitrace.Chunk, off int) time.Duration {
	for _, c := range tl {
		if c.Dir == "recv" && c.Off+c.Len >= off {
			return c.At
		}
	}
	return 0
}

// ManagerVersion returns the version the recorded banner announced.
func (rp *Replay) ManagerVersion() string { return rp.version }

// Len returns the number of messages the replay plays.
func (rp *Replay) Len() int { return len(rp.frames) }

// runReplay plays the recording to ss in a goroutine the server owns, and
// returns the function that stops it.
func (ss *session) runReplay() (stop func()) {
	rp := ss.srv.cfg.Replay
	quit := make(chan struct{})
	if !rp.WaitCall {
		ss.startReplay()
	}
	ss.srv.wg.Add(1)
	go func() {
		defer ss.srv.wg.Done()
		select {
		case <-ss.replay:
		case <-quit:
			return
		case <-ss.done:
			return
		}
		ss.play(rp, quit)
	}()
	return func() { close(quit) }
}

func (ss *session) play(rp *Replay, quit <-chan struct{}) {
	start := time.Now()
	var first time.Duration
	if len(rp.frames) > 0 {
		first = rp.frames[0].at
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for _, tf := range rp.frames {
		if rp.Speed > 0 {
			due := time.Duration(float64(tf.at-first) / rp.Speed)
			if wait := due - time.Since(start); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-quit:
					return
				case <-ss.done:
					return
				}
			}
		}
		if tf.f.IsEvent() && !ss.events.Load() {
			continue
		}
		if !ss.sendWait(tf.f) {
			return
		}
	}
	if rp.hangUp {
		ss.sendWait(closeAfterFlush)
	}
}
