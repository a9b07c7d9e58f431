// Package seatconn is one client connection of the seat protocol
// (docs/protocol.md), shared by every program that speaks it as a seat:
// the product's client (cti/seatclient), the demo's simulated seats, the
// test helpers (cti/ctitest) and the load generator. The wire form is
// made and read in one place, package seatproto; this package adds the
// connection: framing server lines with a bound, the time each line was
// read, the login sequence, and writing commands with a deadline.
//
//	c, err := seatconn.Dial(ctx, "127.0.0.1:5039", seatconn.Options{})
//	res, err := c.Login(ctx, "alice", "secret", "00:11:22:33:44:01")
//	for {
//		m, err := c.ReadMessage(time.Now().Add(time.Minute))
//		…
//	}
//
// A caller that frames lines itself (a test helper that keeps every line
// it reads) uses the same pieces without the Conn's reads: Parse turns a
// line into a Message, and a Handshake is the login sequence fed one
// message at a time.
//
// # Goroutines and memory
//
// A Conn starts no goroutine: a load generator holds tens of thousands of
// them, each read by one goroutine of its own. Reading (ReadMessage, and
// Login, which reads) is for one goroutine at a time. Writing (Send and
// its helpers) takes a mutex, so one writer goroutine and a keepalive
// goroutine may write at once; each write is one small line with a
// deadline. Close may be called from any goroutine.
//
// A Conn holds a bufio.Reader of Options.ReadBuffer bytes (4 KiB by
// default, room for every status line and a typical event) and a small
// write buffer. A line longer than the read buffer is still read, up to
// seatproto.MaxServerLineLen, into a buffer made for it. Framing a line
// that fits the read buffer allocates nothing; parsing an event allocates
// what encoding/xml needs.
package seatconn
