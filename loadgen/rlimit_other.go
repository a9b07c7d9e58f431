//go:build !unix

package loadgen

// raiseFileLimit does nothing where there is no RLIMIT_NOFILE.
func raiseFileLimit(int) {}
