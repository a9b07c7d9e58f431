// Package sim is the demo with no PBX, the composition behind
// cmd/astcti-sim: in one process, the fake PBX (fakeami) with the demo
// dialplan, the CTI server (cti) with the demo configuration, simulated
// seats that answer calls, steady random traffic, and a view of it all.
//
// Run starts the parts in order and stops them in the reverse order:
//
//   - the listen addresses: a default one (Config.Defaults) that is taken
//     is said with what has it, if a probe can tell (ports.go), and
//     replaced by a free port;
//   - the configuration: config.Demo with every operator a member of every
//     service at penalty 1, more operators for Config.Seats, and the free
//     operator carol (seat 00:11:22:33:44:03, phone SIP/203) kept for the
//     user's own seat client, and its screen pops pointed at the demo CRM
//     (crm.go: a page on a free port of 127.0.0.1 that shows the call's
//     data, instead of crm.example and a crm-lookup program no machine
//     has); written as a snapshot into the data directory;
//   - with Config.ConfiguratorListen, the web configurator's listener and
//     databases (configurator.go): the working database replaced by that
//     snapshot's configuration, the manager user admin given a new random
//     password;
//   - the fake PBX: the demo dialplan with the queue astcti-queue set to
//     leastrecent (every seat gets its share, the user's too) and the
//     seats' phones answering after 1–3 s and talking a few seconds, busy
//     while they have a call (phones); its manager interface and HTTP
//     control API;
//   - the CTI server, connected to the fake PBX (with the configurator,
//     its admin endpoints on a free port too), then the configurator,
//     which applies into the server's configuration directory;
//   - the view (view.go, live.go), then one simulated seat per operator
//     (seat.go), which speak the seat protocol with seatproto: USER, PASS,
//     MAC, NOOP, PAUSE IN/OUT now and then, QUIT at the end; they connect
//     again when the server restarts;
//   - once the seats have logged in, two queue calls at once, then the
//     random traffic into sales (101) and support (102).
//
// Goroutines: Run's own (the loop: start of the traffic, the phones'
// behaviour, the end), the PBX's clock, the manager and control servers,
// the CTI server's Run, the configurator's Serve, the demo CRM's
// Serve (and net/http's per connection), the view's run, and per
// simulated seat its run and the reader of its connection. Run waits for
// every one of them. The view owns everything it shows; the seats hand it
// reports through a channel, and it reads the PBX's state itself
// (fakeami.PBX.State).
//
// Stop: the configurator stops serving (nothing is applied while the rest
// stops), the seats send QUIT, the server ends (removing what is left of
// the queue memberships and telling the other seats, such as the user's),
// the view shows the end, and the fake PBX stops last.
package sim
