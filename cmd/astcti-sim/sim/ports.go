package sim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// The demo is often tried on the PBX's own host, where a real Asterisk
// has 5038 and a real astcti 5039. When a default address is taken, the
// simulation says by what, if it can tell, and listens on a free port of
// the same host instead; an address the user chose is never replaced.

// Probe tunables, in one block so that tests can shrink them.
var (
	// probeTimeout bounds the probe of a taken port: the connection and
	// the wait for its first line.
	probeTimeout = 500 * time.Millisecond
	// probeMax bounds what the probe reads.
	probeMax = 512
)

// Defaults says which listen addresses of a Config are the defaults
// rather than the user's choice (cmd/astcti-sim: the flags not given).
type Defaults struct {
	AMI, Seat, Control, Configurator bool
}

// part is a listener of the simulation, for pickAddr.
type part struct {
	what string // "the fake PBX's AMI", for the note
	http bool   // a web server's port: the probe may ask it for its head
}

var (
	partAMI          = part{what: "the fake PBX's manager interface"}
	partSeat         = part{what: "the CTI server's seat listener"}
	partControl      = part{what: "the fake PBX's control API", http: true}
	partConfigurator = part{what: "the web configurator", http: true}
)

// pickAddr returns the address p listens on: addr itself when it is free
// or not a default (a taken address the user chose fails later, in the
// part, with the part's own error), else the same host with port 0, and
// a note that says what has addr, for the user.
func pickAddr(p part, addr string, isDefault bool) (use, note string) {
	if addr == "" || !isDefault {
		return addr, ""
	}
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		// The part listens on it again at once.
		ln.Close()
		return addr, ""
	}
	host, _, serr := net.SplitHostPort(addr)
	if serr != nil {
		return addr, ""
	}
	free := net.JoinHostPort(host, "0")
	by := whatListens(addr, p.http)
	if by == "" {
		return free, fmt.Sprintf("cannot listen on %s (%v): %s is on a free port instead", addr, err, p.what)
	}
	return free, fmt.Sprintf("%s is taken by %s: %s is on a free port instead", addr, by, p.what)
}

// whatListens connects to addr and says what kind of program listens
// there, from what it says first: "an Asterisk manager interface
// (Asterisk Call Manager/5.0.1)", "an astcti server's seat listener",
// "a web server", "another program"; "" when nothing answers the
// connection. It only connects and reads (at most probeMax bytes, for
// at most probeTimeout), and closes: a manager interface sees a client
// that never logs in. Only when http is set and the program is silent
// does it send a HEAD request, which no web server minds.
func whatListens(addr string, http bool) string {
	conn, err := net.DialTimeout("tcp", addr, probeTimeout)
	if err != nil {
		return ""
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(probeTimeout))
	first, err := bufio.NewReaderSize(io.LimitReader(conn, int64(probeMax)), probeMax).ReadSlice('\n')
	if len(first) == 0 && http && isTimeout(err) {
		conn.SetDeadline(time.Now().Add(probeTimeout))
		if _, err := io.WriteString(conn, "HEAD / HTTP/1.0\r\n\r\n"); err == nil {
			first, _ = bufio.NewReaderSize(io.LimitReader(conn, int64(probeMax)), probeMax).ReadSlice('\n')
		}
	}
	line := string(bytes.TrimRight(first, "\r\n"))
	switch {
	case strings.HasPrefix(line, "Asterisk Call Manager/"):
		return fmt.Sprintf("an Asterisk manager interface (%s)", printable(line, 60))
	case line == "100 WELCOME" || strings.HasPrefix(line, "906 KO too many connections"):
		// The seat protocol's greeting, or its refusal of one more
		// connection (docs/protocol.md).
		return "an astcti server's seat listener"
	case strings.HasPrefix(line, "HTTP/"):
		return "a web server"
	}
	return "another program"
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// printable returns s cut to n bytes, with anything but printable ASCII
// replaced by '?': it came from a program we do not know.
func printable(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	b := []byte(s)
	for i, c := range b {
		if c < ' ' || c > '~' {
			b[i] = '?'
		}
	}
	return string(b)
}
