//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sim

import (
	"os"
	"syscall"
	"unsafe"
)

// winsize asks the terminal f for its size (ioctl TIOCGWINSZ); ok is false
// when f is not a terminal.
func winsize(f *os.File) (w, h int, ok bool) {
	var ws struct{ Row, Col, X, Y uint16 }
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(syscall.TIOCGWINSZ), uintptr(unsafe.Pointer(&ws)))
	if errno != 0 {
		return 0, 0, false
	}
	return int(ws.Col), int(ws.Row), true
}

func isTerminal(f *os.File) bool {
	_, _, ok := winsize(f)
	return ok
}
