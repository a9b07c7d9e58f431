// Package calls follows the calls of an Asterisk PBX from its AMI events and
// decides which operator seat must be told what: that its phone rings for a
// service call (Ring, the seat protocol's CallerId event), that it answered
// (Link, the screen pop), and that its leg ended (Hangup).
//
// The Tracker is a pure reducer. The server's hub goroutine feeds it every
// AMI event in arrival order with Apply and sends seats the Changes it
// returns. It has no goroutines, no clock and no I/O, and it never fails:
// events it cannot use are counted (Stats) and ignored. It learns the
// configured services through a Catalog, which the server implements over
// its configuration snapshot and replaces on reload (SetCatalog).
//
// # Channel objects
//
// The tracker keeps one object per Asterisk channel, keyed by Uniqueid,
// created on Newchannel (or on a successful OriginateResponse for a channel
// it did not see created) and removed on Hangup; Shutdown drops them all,
// since uniqueids start over when Asterisk restarts (22.10.1
// n_pbx_restart). An object holds the channel's name and seat interface
// (InterfaceOf), caller id, state, dialplan position and Linkedid, and
// three links to other channels:
//
//   - peer: the other half of a Local channel. The halves are paired by name
//     (Local/201@phones-00000001;1 and ;2, 1.4's Local/201@phones-c3ae,1
//     and ,2) and by LocalBridge (12+). The ";1" half is the one the
//     dialler sees (in Dial, AgentCalled and the bridge); the ";2" half runs
//     the dialplan: the phone's, or the service's when a call is originated
//     into a Local channel.
//   - by: the channel that dialled this one (Dial, DialBegin, AgentCalled,
//     AgentConnect). A channel with a by is a dialled leg: it may ring a
//     seat.
//   - owner: the service leg a dialled leg was told about, fixed at its
//     first notification.
//
// # Service legs, and the owner of a leg
//
// A service call is the channel that entered a service: the service leg. Its
// Uniqueid names the call in every notification, and it carries the call's
// service, the context and extension where the call entered it, and the
// service's data. A channel becomes a service leg
//
//   - for a non-queue service, on the Newexten with Application Answer (or
//     Dial) in the service's context (AsteriskCTI's rule);
//   - for a queue service, on Join (1.4–11) or QueueCallerJoin (12+) to the
//     service's queue. The queue alone decides: several queue services may
//     share one context (22.10.1 o_bench_burst has three).
//
// The owner of a dialled leg is found by walking from the channel that
// dialled it: that channel if it is a service leg, else its own owner or
// dialler, or the other half of its Local channel. So a seat's phone is
// found however the call reaches it: the service leg dials the phone
// (SIP/201-00000001), or a Local member (Local/201@phones/n) whose ";2" half
// may dial the real phone, or an operator's phone consults a colleague. A
// channel never dialled for the call but bridged with its service leg
// (a call pickup, the target of an attended transfer) is adopted.
//
// The caller id in a notification is the service leg's, never the phone
// leg's own: a ringing Local member carries the dialled extension (1.4
// a_nonqueue_answered: CallerID 101), SIP phones their own number. When the
// service leg never got a caller id (the ";2" half of an originated Local
// channel in 1.4 and 1.8), it is taken from its ";1" half.
//
// # Data
//
// The service's variables are filled from Set steps (Newexten Application
// Set, AppData "name=value", several pairs separated by '|' in 1.4), VarSet
// events (1.6+), and the headers of a dialplan UserEvent (22.10.1
// j_userevent_vars: "UserEvent: AstCTI" followed by "customer_id: 4711").
// The last value wins, and names compare as Asterisk compares them: without
// regard to case, and without the "_"/"__" inheritance prefix. Values set
// before the service is known (Set before Queue()) are kept, up to a bound,
// and filtered when it is. The data stays with the service leg, so every
// leg that rings for the call, across Dial, the bridge, Local halves and
// transfers, gets the caller's data.
//
// # Ring, Link, Hangup
//
// A dialled leg's Ring is told once the leg is offered the call: it (or the
// phone half of its Local channel) reaches Ringing or Up, or it is bridged.
// A busy phone never is (DialEnd BUSY, Newstate Busy, or a Hangup before
// it rang: l_busy), and gets nothing; nor does a leg cancelled before it
// rang. Rings go out in dial order, the design's
// "Dial" rule, although phones report ringing in any order (20.20.1-sip
// a_nonqueue_answered: 202 rings before 201): when a leg is offered, the
// legs of its call dialled before it and still waiting are told first.
// A phone rung again in a later round is a new leg and rings again
// (c2_queue_ringnoanswer_then_answer).
//
// Link is told when a dialled leg and its service leg talk: Link (1.4),
// Bridge with Bridgestate Link (1.6–11), or two BridgeEnter of one bridge
// (12+). A leg answered without ringing (members 203–205 of o_bench_burst)
// gets its Ring first. Each leg is told Ring once and Link once, however
// often the PBX repeats itself: 1.4 sends Link, Unlink, Link for one call;
// 1.8 repeats Bridge; 22 sends AgentCalled and DialBegin for one leg and
// DialEnd CANCEL twice. A blind transfer dials a new leg from the same
// service leg, which keeps its uniqueid, linkedid and data (22.10.1
// k_blind_transfer), so the new target gets its own Ring and Link.
//
// Hangup is told for a leg whose seat heard Ring or Link, once: when it
// hangs up, on Shutdown or Reset (every such leg), or when Retain finds that
// its channel ended while the AMI link was down. Two calls on one seat are
// told apart by the caller's Uniqueid (m_two_calls_one_seat). CallsOn gives
// the state of a seat's calls to a seat that logs in mid-call.
//
// A call that entered a service while the AMI link was down is rebuilt by
// Resync from the PBX's list of live channels (22.10.1 i_resync_midcall):
// a channel running Queue, or Dial in a non-queue service's context, becomes
// a service leg, and the channels in its bridge its answered legs. Asterisk
// 1.4 has no CoreShowChannels, and its Status names no application and no
// bridge, only the dialplan position and the bridged peer (Link; 1.6–11's
// Status: BridgedChannel): there a channel in a service's context is the
// service leg, its queue told by QueueStatus where several queue services
// share the context (testdata/ami-lists). Their seats hear only Link.
// The list is the PBX's state at one moment and reaches the tracker after
// events that followed it, so the events from Mark to Resync are kept and
// played again after the list (early.go).
//
// A call whose events were lost (LostEvents: the link dropped, or the server
// fell behind) or that was learnt from a list is doubtful: a Set may have
// been missed. Before its seats hear anything of it, the tracker asks the
// PBX for every variable of its service (TakeVarRequests, a Getvar each),
// and holds its Rings and Links until the last answer came to GotVar
// (confirm.go; TestOutageAtEveryPoint cuts a call's events at every point).
//
// # The event map
//
//	meaning            1.4                            1.6–11 (1.8)                        12+ (20, 22)
//	channel            Newchannel (State)             Newchannel (ChannelStateDesc)       Newchannel (+ Linkedid)
//	caller id          Newcallerid (CallerID)         NewCallerid (CallerIDNum)           NewCallerid
//	state              Newstate (State, CallerID)     Newstate (ChannelStateDesc)         Newstate
//	dialplan step      Newexten (Extension; '|')      Newexten (Extension; ',')           Newexten (Exten)
//	variable           Newexten Set only              VarSet                              VarSet
//	dial               Dial (SrcUniqueID,             Dial SubEvent Begin (UniqueID,      DialBegin (Uniqueid,
//	                   DestUniqueID)                  DestUniqueID)                       DestUniqueid), DialEnd
//	queue join         Join                           Join                                QueueCallerJoin
//	member rung        AgentCalled (ChannelCalling,   AgentCalled (Uniqueid,              AgentCalled (Uniqueid,
//	                   AgentCalled = interface)       DestinationChannel)                 DestUniqueid)
//	member connected   AgentConnect (Uniqueid,        AgentConnect (Uniqueid,             AgentConnect (Uniqueid,
//	                   BridgedChannel)                BridgedChannel)                     DestUniqueid)
//	talking            Link (Uniqueid1/2)             Bridge Link (Uniqueid1/2)           BridgeEnter (BridgeUniqueid)
//	Local halves       by name (",1"/",2")            by name (";1"/";2")                 LocalBridge, by name
//	end                Hangup                         Hangup                              Hangup
//
// Quirks, with the traces that show them (testdata/ami-traces):
//
//   - 1.4 AgentCalled has no Queue and no Uniqueid: ChannelCalling names the
//     caller and AgentCalled the member interface ("Local/201@phones/n");
//     the member leg is the channel created just before with that interface
//     (1.4.44 c_queue_answered). Queue member legs get no Dial in 1.4 and
//     1.8 (1.8.32.3-sip c_queue_answered).
//   - 1.4 and 1.8 Local channels: the service ";2" half gets no caller-id
//     event of its own; Newcallerid goes to ";1" (1.4.44, 1.8.32.3
//     a_nonqueue_answered).
//   - 12+ sends a member leg's Newstate Ringing before the DialBegin that
//     names it (22.10.1 a_nonqueue_answered), and an Originate's own
//     DialBegin without a caller, which the tracker skips.
//   - A busy member is reported as AgentRingNoAnswer with RingTime 0; its
//     leg gets DialEnd BUSY or a Hangup with cause 17 (l_busy in 1.8-sip,
//     20-sip, 22).
//   - The "Set" AppData in Newexten is the substituted text; 1.4 separates
//     pairs with '|' and has Privilege call,all, 1.6+ dialplan,all.
//   - A UserEvent in 1.4 is "Event: UserEvent<name>" and carries no
//     Uniqueid unless the dialplan writes one.
package calls
