//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sim

import "os"

// winsize is not known on this system.
func winsize(f *os.File) (w, h int, ok bool) { return 0, 0, false }

// isTerminal takes a character device other than the null device for a
// terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}
