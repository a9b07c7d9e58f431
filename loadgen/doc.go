// Package loadgen is astcti's load generator (cmd/astcti-loadgen): it
// proves, or finds the limits of, the design's claim that one AMI
// connection shared by every seat scales.
//
// A run starts the fake PBX (package fakeami) and the CTI server (package
// cti) as processes of their own — the load generator's own executable
// again, see RunChildIfAsked — so that their CPU seconds and memory are
// theirs alone. N simulated seats then log in at once over real TCP
// (package seatconn, the one seat client), each with its own operator,
// MAC and phone, and are confirmed in their queues: the login storm. The
// fake PBX places calls at a rate (its control API's POST /traffic), into
// queues and straight to phones; every call it connects to a phone is one
// link (GET /links, with the time the linking event was written). After
// the traffic, the server is restarted and the seats' second storm
// measured. The server's goroutines come from its /metrics (scrape.go).
//
// In the external mode (Options.Server, Options.PBXControl) the run
// starts nothing: it loads a server and a fake PBX that run already, on
// the world that WriteSetup writes for them, and reads the server's CPU
// seconds and memory from its /metrics too.
//
// Every link must give exactly one Link line, at the seat of the phone
// that answered, carrying the call's data (the dialplan sets customer_id
// to the caller's number): verify counts what was lost, duplicated,
// misdelivered or wrong, and the latency from the PBX's event to the
// seat's read of its Link.
package loadgen
