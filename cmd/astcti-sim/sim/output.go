package sim

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrOutputClosed is the error of a simulation that stopped because its
// output could not be written any more: `astcti-sim | head` once head has
// its lines, a tee stopped by Ctrl-C. The simulation stops as it does on
// Ctrl-C, removing its temporary directory; the error wraps the write's.
var ErrOutputClosed = errors.New("output closed")

// output is Config.Out as the simulation writes it: after the first write
// error it writes nothing more, returns that error, and closes failed so
// that the simulation stops. It is safe to call from any goroutine.
type output struct {
	w      io.Writer
	mu     sync.Mutex
	err    error         // the first write error (mu)
	failed chan struct{} // closed at the first write error
}

func newOutput(w io.Writer) *output {
	return &output{w: w, failed: make(chan struct{})}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
		close(o.failed)
	}
	return n, err
}

// Err returns the error of the simulation stopped by a failed write.
func (o *output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Errorf("%w: %w", ErrOutputClosed, o.err)
}
