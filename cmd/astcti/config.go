package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/astcti/astcti/cti/config"
)

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "create, check, show, export and import configuration snapshots",
		Description: `The server reads its configuration from a directory of snapshots: SQLite
files (.db) and XML files (.xml) in the format of docs/config.md. It loads
the newest valid one (the one written last: latest modification time) and
applies newer ones as they appear.

These commands work on snapshot files, SQLite and XML alike. They never
modify a snapshot: they read it, or write a new one. The server's directory
is /var/lib/astcti/config (astcti server --config-dir); write into it as the
server's user (sudo -u astcti astcti config ...), so that the server can read
what you write.

Examples:
  astcti config init --demo /var/lib/astcti/config
  astcti config validate /var/lib/astcti/config/astcti-20261125T230000.123Z-1a2b3c4d.db
  astcti config show site.xml
  astcti config export --xml --out site.xml /var/lib/astcti/config/astcti-20261125T230000.123Z-1a2b3c4d.db
  astcti config import site.xml --out /var/lib/astcti/config`,
		Subcommands: []*cli.Command{
			{
				Name:      "init",
				Usage:     "write a new snapshot into a directory: the demo, or an empty configuration",
				ArgsUsage: "DIR",
				Description: `init writes a new SQLite snapshot into DIR (created if missing) and prints
its path. With --demo it is the demo configuration; without, an empty one.

The demo: operators alice (password alice, seat 00:11:22:33:44:01 on
SIP/201) and bob (password bob, seat 00:11:22:33:44:02 on SIP/202); service
sales (inbound, context astcti-service, variable calldata, opens
http://crm.example/?caller=${calleridnum}&data=${calldata}); service support
(inbound, context astcti-queue-service, queue astcti-queue, variable
customer_id, runs crm-lookup --customer ${customer_id} --caller
${calleridnum}); service outbound (context from-operators) so operators can
originate calls. alice has penalty 1 and bob penalty 2 everywhere.

Examples:
  astcti config init --demo /var/lib/astcti/config
  astcti config init /var/lib/astcti/config`,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "demo", Usage: "write the demo configuration"},
				},
				Action: configInit,
			},
			{
				Name:      "validate",
				Usage:     "check a snapshot file, or which snapshot of a directory the server would load",
				ArgsUsage: "FILE|DIR",
				Description: `validate reads a snapshot (SQLite or XML) as the server would and checks it
completely. It prints a one-line summary and exits 0 when it is valid;
otherwise it lists every problem (with its line, for XML) and exits 1.

Given a directory, it tells which snapshot the server would load there: the
newest valid one, by modification time (the one written last; the date in
a name decides nothing); the newer ones it would refuse are listed with
their problems.

Examples:
  astcti config validate site.xml
  astcti config validate /var/lib/astcti/config/astcti-20261125T230000.123Z-1a2b3c4d.db
  astcti config validate /var/lib/astcti/config`,
				Action: configValidate,
			},
			{
				Name:      "show",
				Usage:     "print a snapshot in a human-readable form",
				ArgsUsage: "FILE",
				Description: `show prints the seats, operators and services of a snapshot (SQLite or
XML). Password hashes are not shown.

Example:
  astcti config show /var/lib/astcti/config/astcti-20261125T230000.123Z-1a2b3c4d.db`,
				Action: configShow,
			},
			{
				Name:      "export",
				Usage:     "write a snapshot as XML",
				ArgsUsage: "FILE",
				Description: `export writes a snapshot (SQLite or XML) in the XML format of
docs/config.md, to standard output or to the file --out (written under a
temporary name, then renamed). Operators' passwords are exported as
password-hash, never in plain text.

Examples:
  astcti config export --xml /var/lib/astcti/config/astcti-20261125T230000.123Z-1a2b3c4d.db
  astcti config export --xml --out site.xml /var/lib/astcti/config/astcti-20261125T230000.123Z-1a2b3c4d.db`,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "xml", Value: true, Usage: "write XML (the only export format)"},
					&cli.StringFlag{Name: "out", Usage: "write to `FILE` instead of standard output"},
				},
				Action: configExport,
			},
			{
				Name:      "import",
				Usage:     "turn an XML file into an SQLite snapshot in a directory",
				ArgsUsage: "FILE.xml --out DIR",
				Description: `import reads an XML configuration (hand-written or exported), checks it
completely, and writes it as a new SQLite snapshot into DIR (created if
missing), under a temporary name then renamed, so a server watching DIR
applies it at once. Plain password attributes are hashed. It prints the
snapshot's path. A file with problems is refused with every problem listed
by line, and nothing is written.

Examples:
  astcti config import site.xml --out /var/lib/astcti/config
  astcti config import --out /var/lib/astcti/config site.xml`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "out", Usage: "write the snapshot into directory `DIR` (required)"},
				},
				Action: configImport,
			},
		},
	}
}

// positional returns the command's arguments, applying the flags written
// after them: urfave/cli v2 stops parsing flags at the first argument, and
// `astcti config import FILE.xml --out DIR` is the documented form.
func positional(c *cli.Context) ([]string, error) {
	var pos []string
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		var flag cli.Flag
		for _, f := range c.Command.Flags {
			for _, n := range f.Names() {
				if n == name {
					flag = f
				}
			}
		}
		if flag == nil {
			return nil, fmt.Errorf("unknown flag %s (see --help)", a)
		}
		if _, isBool := flag.(*cli.BoolFlag); isBool {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag %s needs a value", a)
			}
			i++
			value = args[i]
		}
		if err := c.Set(name, value); err != nil {
			return nil, fmt.Errorf("flag %s: %w", a, err)
		}
	}
	return pos, nil
}

// oneArg returns the command's single argument.
func oneArg(c *cli.Context, what string) (string, error) {
	args, err := positional(c)
	if err != nil {
		return "", err
	}
	if len(args) != 1 {
		return "", fmt.Errorf("%s: want one argument, %s (see --help)", c.Command.Name, what)
	}
	return args[0], nil
}

func configInit(c *cli.Context) error {
	dir, err := oneArg(c, "the directory DIR")
	if err != nil {
		return err
	}
	m := &config.Model{}
	if c.Bool("demo") {
		m = config.Demo()
	}
	path, err := config.WriteSnapshot(c.Context, dir, m)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, path)
	return nil
}

func configValidate(c *cli.Context) error {
	path, err := oneArg(c, "the snapshot FILE or a directory DIR")
	if err != nil {
		return err
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s, err := config.LoadDir(c.Context, path, log)
		if err != nil {
			return configHint(err, path)
		}
		fmt.Fprintf(c.App.Writer, "%s: the server would load %s (the newest valid snapshot by modification time): %s\n", path, filepath.Base(s.Source), s.Summary())
		return nil
	}
	m, err := config.ReadFile(c.Context, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s: valid: %s\n", path, m.Summary())
	return nil
}

func configShow(c *cli.Context) error {
	path, err := oneArg(c, "the snapshot FILE")
	if err != nil {
		return err
	}
	m, err := config.ReadFile(c.Context, path)
	if err != nil {
		return err
	}
	show(c.App.Writer, path, m)
	return nil
}

// show prints m for people.
func show(w io.Writer, path string, m *config.Model) {
	m = m.Clone()
	m.Normalize()
	fmt.Fprintf(w, "%s: %s\n", path, m.Summary())
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "\nSeats:\n")
	fmt.Fprintf(tw, "  MAC\tINTERFACE\tDESCRIPTION\n")
	for _, s := range m.Seats {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.MAC, s.Interface, s.Description)
	}
	tw.Flush()
	fmt.Fprintf(tw, "\nOperators:\n")
	fmt.Fprintf(tw, "  USERNAME\tFULL NAME\tSEAT\tSTATE\n")
	for _, o := range m.Operators {
		state := "enabled"
		if !o.Enabled {
			state = "disabled"
		}
		if o.BeginPaused {
			state += ", begins paused"
		}
		seat := o.Seat
		if seat == "" {
			seat = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", o.Username, o.FullName, seat, state)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nServices:\n")
	for _, s := range m.Services {
		state := ""
		if !s.Enabled {
			state = " (disabled)"
		}
		fmt.Fprintf(w, "  %s: %s, context %s%s\n", s.Name, s.Type, s.Context, state)
		if s.IsQueue {
			fmt.Fprintf(w, "    queue:     %s\n", s.Queue)
		}
		switch s.Trigger {
		case config.TriggerApplication:
			fmt.Fprintf(w, "    trigger:   application %s %s\n", s.Application, s.Parameters)
		case config.TriggerBrowser:
			fmt.Fprintf(w, "    trigger:   browser %s\n", s.Application)
		default:
			fmt.Fprintf(w, "    trigger:   none\n")
		}
		if len(s.Variables) > 0 {
			fmt.Fprintf(w, "    variables: %s\n", strings.Join(s.Variables, ", "))
		}
		if len(s.Members) > 0 {
			var ms []string
			for _, mb := range s.Members {
				ms = append(ms, fmt.Sprintf("%s (penalty %d)", mb.Operator, mb.Penalty))
			}
			fmt.Fprintf(w, "    members:   %s\n", strings.Join(ms, ", "))
		}
	}
}

func configExport(c *cli.Context) error {
	path, err := oneArg(c, "the snapshot FILE")
	if err != nil {
		return err
	}
	if !c.Bool("xml") {
		return errors.New("export: XML is the only export format (an SQLite snapshot is made by import)")
	}
	m, err := config.ReadFile(c.Context, path)
	if err != nil {
		return err
	}
	out := c.String("out")
	if out == "" {
		return config.WriteXML(c.App.Writer, m)
	}
	var buf bytes.Buffer
	if err := config.WriteXML(&buf, m); err != nil {
		return err
	}
	_, err = config.WriteFileAtomic(filepath.Dir(out), filepath.Base(out), buf.Bytes())
	return err
}

func configImport(c *cli.Context) error {
	path, err := oneArg(c, "the XML file FILE.xml")
	if err != nil {
		return err
	}
	dir := c.String("out")
	if dir == "" {
		return errors.New("import: --out DIR is required: the directory to write the snapshot into")
	}
	m, err := config.ReadFile(c.Context, path)
	if err != nil {
		return err
	}
	snap, err := config.WriteSnapshot(c.Context, dir, m)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, snap)
	return nil
}
