package config

// Demo returns the demo configuration, the one `astcti config init --demo`
// writes, the tests use and docs/config.md shows. It matches the demo PBX of
// fakeami (contexts astcti-service, astcti-queue-service and
// from-operators, queue astcti-queue, phones SIP/201 and SIP/202):
//
//   - operators alice (password alice, seat 00:11:22:33:44:01, SIP/201) and
//     bob (password bob, seat 00:11:22:33:44:02, SIP/202);
//   - sales: inbound on astcti-service, no queue, variable calldata, opens
//     a URL with the caller and the data;
//   - support: inbound on astcti-queue-service through queue astcti-queue,
//     variable customer_id, runs crm-lookup;
//   - outbound: outbound on from-operators, so operators can originate.
//
// alice has penalty 1 and bob penalty 2 on every service. Each call hashes
// the passwords anew (with new salts).
func Demo() *Model {
	m := &Model{
		Seats: []Seat{
			{MAC: "00:11:22:33:44:01", Interface: "SIP/201", Description: "Demo seat 1"},
			{MAC: "00:11:22:33:44:02", Interface: "SIP/202", Description: "Demo seat 2"},
		},
		Operators: []Operator{
			{Username: "alice", FullName: "Alice", Seat: "00:11:22:33:44:01", Enabled: true},
			{Username: "bob", FullName: "Bob", Seat: "00:11:22:33:44:02", Enabled: true},
		},
	}
	members := []Member{{Operator: "alice", Penalty: 1}, {Operator: "bob", Penalty: 2}}
	m.Services = []Service{
		{
			Name: "outbound", Type: Outbound, Context: "from-operators",
			Trigger: TriggerNone, Enabled: true,
			Members: append([]Member(nil), members...),
		},
		{
			Name: "sales", Type: Inbound, Context: "astcti-service",
			Trigger: TriggerBrowser, Application: "http://crm.example/?caller=${calleridnum}&data=${calldata}",
			Enabled: true, Variables: []string{"calldata"},
			Members: append([]Member(nil), members...),
		},
		{
			Name: "support", Type: Inbound, Context: "astcti-queue-service", IsQueue: true, Queue: "astcti-queue",
			Trigger: TriggerApplication, Application: "crm-lookup", Parameters: "--customer ${customer_id} --caller ${calleridnum}",
			Enabled: true, Variables: []string{"customer_id"},
			Members: append([]Member(nil), members...),
		},
	}
	for i := range m.Operators {
		// The password is the username, as in AsteriskCTI's demo.
		if err := m.Operators[i].SetPassword(m.Operators[i].Username); err != nil {
			panic(err) // cannot happen: MD5Hex always gives valid input
		}
	}
	return m
}
