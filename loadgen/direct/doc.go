// Package direct is the approach the AsteriskCTI design argues against:
// one Asterisk manager connection per client, as the mini-CTIs of its
// section 2.1 open ("once per client: … may slow down Asterisk PBX,
// multiply network traffic"). The load generator runs the same traffic
// through it and through astcti's one connection, and compares what the
// PBX pays (CPU, bytes written, memory) and the notification latency.
//
// A Fleet is one client per phone. Each logs in with its own session and
// the whole event stream ("Events: on", no filter: those tools filter on
// the client side), reads every event the PBX writes, and keeps only the
// one that links its phone to a caller, which it reports as a Link with
// the caller's Uniqueid and the time it read it. So every event costs the
// PBX one write per client, whoever's phone it is about.
//
// # What a client is made of
//
// A client speaks AMI with the project's codec, cti/ami's Reader and
// AppendFrame, and decides a link with the rule cti/calls applies (see
// linker): Link (1.4), Bridge Link (1.6–11), or the phone's channel and
// another in one bridge (12+), once per caller; channels are matched to
// phones with calls.InterfaceOf. It reads each message in place, without
// copying it, and keeps a few small rings: an event costs a client no
// allocation (BenchmarkClientEvent).
//
// It does not use ami.Client, which is built to be the server's one
// shared link: three goroutines, a 1,024-action queue, a 4,096-item
// subscription buffer, a Writer, keepalive Pings, CoreStatus at login,
// reconnects, and a copy of every frame for its subscribers. Measured with
// BenchmarkMemoryPerClient (200 clients on an idle fake PBX, heap and
// stacks, the PBX's side of each session subtracted): about 73 KB per
// client here, most of it the Reader's 64 KiB buffer, against about
// 213 KB with ami.Client. At 10,000 clients that is 0.7 GB rather than
// 2.1 GB in the load generator, and one goroutine per client rather than
// four.
//
// # Lifetime
//
// Start logs the clients in, LoginParallel at a time, and starts each
// one's reader goroutine as soon as it is in. A client whose connection
// ends is counted in Stats.Lost and is not reconnected: a direct client
// that lost its session has lost its calls, which is what the comparison
// must show. Close sends every client's Logoff, waits for the PBX's
// Goodbye (bounded by logoffWait) and for every goroutine.
package direct
