//go:build unix

package loadgen

import "syscall"

// raiseFileLimit raises this process's limit of open files, which the
// parts it starts inherit, to what seats need: each seat is a socket in
// the load generator and one in the server. It raises the hard limit too
// when it may (root); when it cannot, the run goes on and the seats that
// find no descriptor count as login failures.
func raiseFileLimit(seats int) {
	want := uint64(2*seats + 4096)
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Cur >= want {
		return
	}
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return
		}
	}
	lim.Cur = min(want, lim.Max)
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
