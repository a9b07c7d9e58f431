// Package ctitest runs a cti.Server in the test's own process, against a
// fake Asterisk (fakeami), and drives seats over real sockets on
// 127.0.0.1, as net/http/httptest does for HTTP servers.
//
//	pbx := ctitest.StartPBX(t, fakeami.Options{Dialect: fakeami.DialectModern, Scenario: scenarios.Demo()})
//	srv := ctitest.Start(t, ctitest.Options{Model: config.Demo(), AMI: pbx.Config()})
//	seat := srv.Dial(t)
//	seat.Login("alice", "alice", "00:11:22:33:44:01")
//	seat.Expect(`^200 astcti-queue$`)
//
// Every helper that waits polls with a deadline (Wait) and fails the test
// with what it saw when the deadline passes; none sleeps. Everything a
// helper starts is stopped by t.Cleanup, and the server's Run must then
// return nil with every goroutine it started ended.
//
// The package is for tests only: it imports testing.
package ctitest
