// Package scenariotest runs the scenario library (package scenarios) end to
// end and holds the seats to what each scenario's "expect" file says they
// see.
//
// The package itself only reads the expect file (ParseExpect); the runner is
// its test (library_test.go): for every library scenario and both dialects
// of the fake PBX it starts fakeami in the test's process with the scenario
// merged over the demo PBX and a manual clock, a cti.Server with the demo
// configuration (plus the seats and services the expect file declares),
// logs the seats in, performs the seat commands and PBX actions at their
// moments, and checks that every seat received exactly the expected events
// in order. docs/scenarios.md describes the expect file.
//
// scenarios must not import cti, so the runner lives here, beside it:
// scenariotest imports scenarios, fakeami and cti (through cti/ctitest),
// and nothing imports scenariotest.
package scenariotest
