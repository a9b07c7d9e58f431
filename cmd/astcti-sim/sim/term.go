package sim

import (
	"os"
	"strconv"
)

// IsTerminal reports whether f is a terminal, where the live view can
// redraw the screen in place ($TERM=dumb says it cannot).
func IsTerminal(f *os.File) bool {
	return os.Getenv("TERM") != "dumb" && isTerminal(f)
}

// terminalSize returns the size of the terminal on standard output: from
// the terminal itself where the system tells it, else from $COLUMNS and
// $LINES, else 80×24.
func terminalSize() (w, h int) {
	if w, h, ok := winsize(os.Stdout); ok && w > 0 && h > 0 {
		return w, h
	}
	w, h = 80, 24
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		w = n
	}
	if n, err := strconv.Atoi(os.Getenv("LINES")); err == nil && n > 0 {
		h = n
	}
	return w, h
}
