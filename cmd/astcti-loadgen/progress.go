package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/astcti/astcti/loadgen"
)

// progressBar draws one line, redrawn in place, on a terminal.
type progressBar struct {
	w  io.Writer
	on bool
}

func newProgressBar(w io.Writer, on bool) *progressBar { return &progressBar{w: w, on: on} }

const barWidth = 24

func (b *progressBar) show(p loadgen.Progress) {
	if !b.on {
		return
	}
	frac := float64(p.Confirmed) / float64(max(p.Seats, 1))
	if p.Total > 0 {
		frac = min(p.Elapsed.Seconds()/p.Total.Seconds(), 1)
	}
	filled := int(frac * barWidth)
	fmt.Fprintf(b.w, "\r\x1b[K%-22s [%s%s] %s/%s  seats %d/%d  calls %d  linked %d  notified %d",
		p.Phase, strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		p.Elapsed.Round(time.Second), durationOr(p.Total), p.Confirmed, p.Seats, p.Offered, p.Linked, p.Notified)
}

// done ends the progress line.
func (b *progressBar) done() {
	if b.on {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}
