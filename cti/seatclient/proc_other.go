//go:build !unix

package seatclient

import "os/exec"

// detach does nothing here: on Windows a console's Ctrl-C does not reach
// the graphical programs an action starts.
func detach(cmd *exec.Cmd) {}
