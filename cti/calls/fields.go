package calls

import "github.com/astcti/astcti/cti/ami"

// key names one header the tracker reads. Headers are found in one pass over
// a frame (scan), not with one Frame.Get per header: the tracker sees every
// event of the PBX, and most carry twenty headers.
type key uint8

const (
	kChannel key = iota
	kUniqueid
	kLinkedid
	kCallerIDNum
	kCallerIDName
	kCallerID // 1.4: the number, in Newstate, Newcallerid, Dial, Join, AgentCalled
	kState    // 1.4: Newchannel, Newstate
	kStateDesc
	kContext
	kExten
	kExtension
	kApplication
	kAppData
	kPrivilege
	kSource      // 1.4 Dial
	kSrcUniqueID // 1.4 Dial
	kDestination // 1.4/1.8 Dial
	kDestUniqueID
	kDestinationChannel // 1.8 AgentCalled
	kDestChannel        // modern
	kSubEvent           // 1.8 Dial
	kQueue
	kVariable
	kValue
	kBridgeUniqueid
	kBridgestate
	kChannel1
	kChannel2
	kUniqueid1
	kUniqueid2
	kAgentCalled
	kChannelCalling
	kBridgedChannel
	kResponse
	kUserEvent
	kOldname
	kNewname
	kDialStatus
	nKeys
)

var keyNames = [nKeys]string{
	kChannel:            "Channel",
	kUniqueid:           "Uniqueid",
	kLinkedid:           "Linkedid",
	kCallerIDNum:        "CallerIDNum",
	kCallerIDName:       "CallerIDName",
	kCallerID:           "CallerID",
	kState:              "State",
	kStateDesc:          "ChannelStateDesc",
	kContext:            "Context",
	kExten:              "Exten",
	kExtension:          "Extension",
	kApplication:        "Application",
	kAppData:            "AppData",
	kPrivilege:          "Privilege",
	kSource:             "Source",
	kSrcUniqueID:        "SrcUniqueID",
	kDestination:        "Destination",
	kDestUniqueID:       "DestUniqueID",
	kDestinationChannel: "DestinationChannel",
	kDestChannel:        "DestChannel",
	kSubEvent:           "SubEvent",
	kQueue:              "Queue",
	kVariable:           "Variable",
	kValue:              "Value",
	kBridgeUniqueid:     "BridgeUniqueid",
	kBridgestate:        "Bridgestate",
	kChannel1:           "Channel1",
	kChannel2:           "Channel2",
	kUniqueid1:          "Uniqueid1",
	kUniqueid2:          "Uniqueid2",
	kAgentCalled:        "AgentCalled",
	kChannelCalling:     "ChannelCalling",
	kBridgedChannel:     "BridgedChannel",
	kResponse:           "Response",
	kUserEvent:          "UserEvent",
	kOldname:            "Oldname",
	kNewname:            "Newname",
	kDialStatus:         "DialStatus",
}

// maxKeyLen bounds the header names looked up.
const maxKeyLen = 24

// keySlot finds a key from a header name's length and its first and last
// bytes (ASCII case folded). It holds key+1, 0 for none. Among the keys the
// tracker reads no two share a slot (init checks it), so a header costs a
// table read and, when the slot is taken, one comparison.
var keySlot [maxKeyLen + 1][26][36]key

func init() {
	for k, name := range keyNames {
		f, l := slotIndex(name)
		if f < 0 || l < 0 || len(name) > maxKeyLen {
			panic("calls: bad key " + name)
		}
		if keySlot[len(name)][f][l] != 0 {
			panic("calls: keys share a slot: " + name + ", " + keyNames[keySlot[len(name)][f][l]-1])
		}
		keySlot[len(name)][f][l] = key(k) + 1
	}
}

// slotIndex returns the indexes of a name's first byte (a letter) and last
// byte (a letter or a digit) in keySlot, or -1.
func slotIndex(name string) (first, last int) {
	first, last = -1, -1
	if c := name[0] | 0x20; 'a' <= c && c <= 'z' {
		first = int(c - 'a')
	}
	switch c := name[len(name)-1]; {
	case '0' <= c && c <= '9':
		last = 26 + int(c-'0')
	case 'a' <= c|0x20 && c|0x20 <= 'z':
		last = int(c | 0x20 - 'a')
	}
	return first, last
}

func lookupKey(name string) (key, bool) {
	if len(name) == 0 || len(name) > maxKeyLen {
		return 0, false
	}
	f, l := slotIndex(name)
	if f < 0 || l < 0 {
		return 0, false
	}
	k := keySlot[len(name)][f][l]
	if k == 0 {
		return 0, false
	}
	k--
	if name != keyNames[k] && !ami.EqualFold(name, keyNames[k]) {
		return 0, false
	}
	return k, true
}

// fields holds the headers of one frame that the tracker reads, the first
// of each name as Frame.Get would find it.
type fields struct {
	v         [nKeys]string
	has       uint64 // bit k: header k was present
	userEvent int    // index in Frame.Fields of the UserEvent header, or -1
}

// get returns the value of header k, or "" when the frame has none.
func (fs *fields) get(k key) string {
	if fs.has&(1<<k) == 0 {
		return ""
	}
	return fs.v[k]
}

func (fs *fields) present(k key) bool { return fs.has&(1<<k) != 0 }

// scan reads the headers of f into fs.
func (fs *fields) scan(f *ami.Frame) {
	fs.has = 0
	fs.userEvent = -1
	for i := range f.Fields {
		k, ok := lookupKey(f.Fields[i].Key)
		if !ok || fs.has&(1<<k) != 0 {
			continue
		}
		fs.has |= 1 << k
		fs.v[k] = f.Fields[i].Value
		if k == kUserEvent {
			fs.userEvent = i
		}
	}
}

// exten returns the extension: modern events say Exten (and Newexten both),
// 1.4 and 1.8 Newexten and AgentCalled say Extension.
func (fs *fields) exten() string {
	if fs.present(kExten) {
		return fs.v[kExten]
	}
	return fs.get(kExtension)
}

// state returns the channel state text: ChannelStateDesc (1.6+) or State (1.4).
func (fs *fields) state() string {
	if fs.present(kStateDesc) {
		return fs.v[kStateDesc]
	}
	return fs.get(kState)
}

// callerNum returns the caller number of the event's channel: CallerIDNum,
// or 1.4's CallerID.
func (fs *fields) callerNum() string {
	if fs.present(kCallerIDNum) {
		return fs.v[kCallerIDNum]
	}
	return fs.get(kCallerID)
}
