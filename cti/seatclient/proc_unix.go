//go:build unix

package seatclient

import (
	"os/exec"
	"syscall"
)

// detach puts cmd in a process group of its own, so that the Ctrl-C or the
// hang-up that stops the client in its terminal does not also stop the
// programs it started for the operator.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
