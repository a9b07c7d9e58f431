package sim

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/astcti/astcti/cti/ctitest"
)

// imitation listens on a free port of 127.0.0.1 and plays a kind of
// program to every connection: greet writes its first line (nil: it
// says nothing), and an HTTP one answers a request. It records whether
// a connection sent anything before it greeted.
type imitation struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	sent []string // what the connections sent, for the test
}

func imitate(t *testing.T, greet string, http bool) *imitation {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	im := &imitation{ln: ln}
	im.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			im.wg.Go(func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(ctitest.Wait))
				if greet != "" {
					io.WriteString(conn, greet)
				}
				line, _ := bufio.NewReader(conn).ReadString('\n')
				im.mu.Lock()
				im.sent = append(im.sent, line)
				im.mu.Unlock()
				if http && strings.HasPrefix(line, "HEAD ") {
					io.WriteString(conn, "HTTP/1.0 200 OK\r\nServer: test\r\n\r\n")
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		im.wg.Wait()
	})
	return im
}

func (im *imitation) addr() string { return im.ln.Addr().String() }

// TestWhatListens: the probe of a taken port tells an Asterisk manager
// interface, an astcti seat listener and a web server apart from another
// program, and sends nothing to a port that is not a web server's.
func TestWhatListens(t *testing.T) {
	probeTimeout = 300 * time.Millisecond
	tests := []struct {
		name  string
		greet string
		http  bool
		want  string
	}{
		{"Asterisk", "Asterisk Call Manager/5.0.1\r\n", false, "an Asterisk manager interface (Asterisk Call Manager/5.0.1)"},
		{"Asterisk, a web port", "Asterisk Call Manager/1.0\r\n", true, "an Asterisk manager interface (Asterisk Call Manager/1.0)"},
		{"astcti", "100 WELCOME\n", false, "an astcti server's seat listener"},
		{"astcti full", "906 KO too many connections\n", false, "an astcti server's seat listener"},
		{"web server", "", true, "a web server"},
		{"silent, not a web port", "", false, "another program"},
		{"something else", "SSH-2.0-OpenSSH_9.6\r\n", false, "another program"},
		{"endless line", strings.Repeat("x", 10000), false, "another program"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im := imitate(t, tc.greet, tc.http)
			assert.Equal(t, tc.want, whatListens(im.addr(), tc.http), "whatListens(%s)", tc.name)
			im.ln.Close()
			im.wg.Wait()
			if !tc.http || tc.greet != "" {
				for _, s := range im.sent {
					assert.Empty(t, s, "nothing is sent to a program that greets or is not a web server")
				}
			}
		})
	}
	t.Run("nobody", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		assert.Equal(t, "", whatListens(addr, false))
	})
}

// TestRunDefaultPortsTaken: each default address taken (an Asterisk on
// the AMI's, an astcti on the seats', a web server on the control API's,
// a silent program on the configurator's) is said, with what has it, and
// replaced by a free port, which the banner, the ready Info and the
// client command show; the user's own seat connects to that one.
func TestRunDefaultPortsTaken(t *testing.T) {
	probeTimeout = 300 * time.Millisecond
	asterisk := imitate(t, "Asterisk Call Manager/5.0.1\r\n", false)
	astcti := imitate(t, "100 WELCOME\n", false)
	web := imitate(t, "", true)
	silent := imitate(t, "", false)
	s := start(t, Config{
		Rate: "0", Seats: 0, Seed: 1,
		AMIListen: asterisk.addr(), SeatListen: astcti.addr(), ControlListen: web.addr(), ConfiguratorListen: silent.addr(),
		Defaults: Defaults{AMI: true, Seat: true, Control: true, Configurator: true},
	})
	for _, a := range []struct{ got, taken string }{
		{s.info.AMI, asterisk.addr()}, {s.info.Seats, astcti.addr()},
		{strings.TrimPrefix(s.info.Control, "http://"), web.addr()},
		{strings.TrimSuffix(strings.TrimPrefix(s.info.Configurator.URL, "http://"), "/"), silent.addr()},
	} {
		assert.Regexp(t, `^127\.0\.0\.1:\d+$`, a.got)
		assert.NotEqual(t, a.taken, a.got, "a taken default is replaced")
	}
	assert.Equal(t, []string{
		asterisk.addr() + " is taken by an Asterisk manager interface (Asterisk Call Manager/5.0.1): the fake PBX's manager interface is on a free port instead",
		astcti.addr() + " is taken by an astcti server's seat listener: the CTI server's seat listener is on a free port instead",
		web.addr() + " is taken by a web server: the fake PBX's control API is on a free port instead",
		silent.addr() + " is taken by another program: the web configurator is on a free port instead",
	}, s.info.Notes)
	s.waitOutput(t,
		`(?m)^astcti-sim: \Q`+asterisk.addr()+` is taken by an Asterisk manager interface (Asterisk Call Manager/5.0.1)\E`,
		`(?m)^astcti-sim: fake PBX \(dialect \S+\): AMI on \Q`+s.info.AMI+`\E `,
		`(?m)^astcti-sim: CTI server: seats on \Q`+s.info.Seats+`\E,`,
		`(?m)^astcti-sim: configurator: \Q`+s.info.Configurator.URL+`\E `,
		`(?m)^astcti-sim: your seat: .* --server \Q`+s.info.Seats+`\E `,
	)
	carol := ctitest.DialSeat(t, s.info.Seats)
	carol.Login("carol", "carol", "00:11:22:33:44:03")
	require.NoError(t, s.stop(t))
}

// TestRunDefaultPortFree: a default address that is free is used as is,
// with no note.
func TestRunDefaultPortFree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	s := start(t, Config{Rate: "0", Seats: 0, Seed: 1, SeatListen: addr, Defaults: Defaults{Seat: true}})
	assert.Equal(t, addr, s.info.Seats)
	assert.Empty(t, s.info.Notes)
	require.NoError(t, s.stop(t))
}
