package fakeami

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the time source of a PBX. The real clock is the default; tests
// use a ManualClock so that ring timers, talk times and queue retries run
// instantly and in a repeatable order.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once, after d, from a goroutine of the clock's
	// choosing. The returned stop cancels the call if it has not started.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// ManualClock is a Clock that moves only when told to. Advance runs the due
// callbacks in time order, in the goroutine that calls it, with Now set to
// each callback's due time while it runs. It is safe for concurrent use,
// but callbacks must not call Advance.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers timeHeap[*manualTimer]
}

// NewManualClock returns a ManualClock that reads start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arranges for f to run when Advance passes now+d.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &manualTimer{slot: slot{at: c.now.Add(d), seq: c.seq}, f: f}
	heap.Push(&c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.idx < 0 {
			return false
		}
		heap.Remove(&c.timers, t.idx)
		return true
	}
}

// Advance moves the clock forward by d, running every callback that falls
// due on the way (including callbacks those callbacks arm).
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	c.AdvanceTo(end)
}

// AdvanceTo moves the clock forward to t (never backwards).
func (c *ManualClock) AdvanceTo(t time.Time) {
	for {
		c.mu.Lock()
		if len(c.timers) == 0 || c.timers[0].at.After(t) {
			if t.After(c.now) {
				c.now = t
			}
			c.mu.Unlock()
			return
		}
		next := heap.Pop(&c.timers).(*manualTimer)
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

type manualTimer struct {
	slot
	f func()
}

// slot is where something due at a time sits in a timeHeap: things due at
// the same instant come out in the order they were put in (seq).
type slot struct {
	at  time.Time
	seq uint64
	idx int // index in the heap, -1 once out of it
}

func (s *slot) heapSlot() *slot { return s }

// timeHeap is a container/heap of things due at a time, earliest first.
type timeHeap[E interface{ heapSlot() *slot }] []E

func (h timeHeap[E]) Len() int { return len(h) }
func (h timeHeap[E]) Less(i, j int) bool {
	a, b := h[i].heapSlot(), h[j].heapSlot()
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}
func (h timeHeap[E]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapSlot().idx, h[j].heapSlot().idx = i, j
}
func (h *timeHeap[E]) Push(x any) {
	e := x.(E)
	e.heapSlot().idx = len(*h)
	*h = append(*h, e)
}
func (h *timeHeap[E]) Pop() any {
	old := *h
	e := old[len(old)-1]
	var zero E
	old[len(old)-1] = zero
	*h = old[:len(old)-1]
	e.heapSlot().idx = -1
	return e
}

// task is one thing the PBX must do at a given time: a ring timer, the end
// of a Wait(), a queue retry, the arrival of a call.
type task struct {
	slot // idx is -1 once fired or cancelled
	fn   func()
	dead bool
	now  bool // scheduled for "as soon as possible", not for a time
}

// cancel keeps a pending task from running. p.mu must be held.
func (t *task) cancel(p *PBX) {
	if t == nil || t.dead {
		return
	}
	t.dead = true
	if t.idx >= 0 {
		heap.Remove(&p.tasks, t.idx)
	}
}

// after schedules fn to run d from now. p.mu must be held. Tasks due at the
// same instant run in the order they were scheduled.
func (p *PBX) after(d time.Duration, fn func()) *task {
	if d < 0 {
		d = 0
	}
	p.taskSeq++
	t := &task{slot: slot{at: p.now().Add(d), seq: p.taskSeq}, fn: fn, now: d == 0}
	heap.Push(&p.tasks, t)
	if d > 0 {
		p.armAlarm()
	}
	return t
}

// soon schedules fn to run as soon as the current step is done: another
// channel's "thread" taking its turn. p.mu must be held.
func (p *PBX) soon(fn func()) *task { return p.after(0, fn) }

// maxTasksPerStep bounds the tasks one runDue runs while Run drives the
// clock. A PBX asked for more than it can do falls behind instead of
// holding p.mu for ever: the rest runs from the next alarm, which is due at
// once, and the control API, the manager sessions and Run's stop get the
// lock in between.
const maxTasksPerStep = 1024

// runDue runs every task that is due, in order, including tasks that the
// running ones schedule for now. While Run does not run, time stands
// still: only the tasks scheduled for "now" run (the rest of what an
// action sets off at once), not those waiting for a time. "Due" is taken
// at the start, so that a PBX that falls behind the real clock still
// returns; so is the bound of maxTasksPerStep tasks. p.mu must be held.
func (p *PBX) runDue() {
	if p.draining {
		return // an outer runDue will get to them
	}
	p.draining = true
	defer func() { p.draining = false }()
	var later []*task
	now := p.now()
	for ran := 0; len(p.tasks) > 0; ran++ {
		t := p.tasks[0]
		if t.at.After(now) && !t.now || p.running && ran >= maxTasksPerStep {
			break
		}
		heap.Pop(&p.tasks)
		if !p.running && !t.now {
			later = append(later, t)
			continue
		}
		t.dead = true
		t.fn()
	}
	for _, t := range later {
		heap.Push(&p.tasks, t)
	}
	p.armAlarm()
}

// armAlarm makes sure the clock will wake the PBX for its earliest future
// task. It does nothing while Run is not running. p.mu must be held.
func (p *PBX) armAlarm() {
	if !p.running || len(p.tasks) == 0 {
		return
	}
	next := p.tasks[0].at
	if p.alarmStop != nil && !p.alarmAt.After(next) {
		return // an alarm at or before next is armed
	}
	if p.alarmStop != nil {
		p.alarmStop()
	}
	p.alarmGen++
	gen := p.alarmGen
	p.alarmAt = next
	p.alarmStop = p.clock.AfterFunc(next.Sub(p.now()), func() { p.alarm(gen) })
}

// alarm is called by the clock when the earliest task falls due.
func (p *PBX) alarm(gen uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.alarmGen {
		return
	}
	p.alarmStop = nil
	if !p.running {
		return
	}
	p.runDue()
}
