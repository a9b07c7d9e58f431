// Command astcti is the astcti CTI server for the Asterisk PBX and its
// tools, one binary with a command per tool. Each command lives in its own
// file; this one only lists them.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti/buildinfo"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "astcti:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:    "astcti",
		Version: buildinfo.Get().String(),
		Usage:   "a CTI server for the Asterisk PBX, and its tools",
		Description: `astcti tells the operators' seat clients about the calls that reach their
phones, adds their seats to the queues of their services when they log in,
and originates their calls. Run "astcti COMMAND --help" for each command.`,
		Commands: []*cli.Command{
			serverCommand(),
			configCommand(),
			clientCommand(),
			doctorCommand(),
			configuratorCommand(),
			userCommand(),
		},
	}
}
