//go:build unix

package cti

import "syscall"

// openFileLimit returns the process's limit of open files (the soft
// limit, which Go raises to the hard one at start).
func openFileLimit() (uint64, bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, false
	}
	return uint64(l.Cur), true
}
