package calls

import "strings"

// InterfaceOf returns the device interface of a channel name, the form in
// which seats and queue members are configured:
//
//	SIP/201-0000000a                 → SIP/201
//	PJSIP/201-0000000b               → PJSIP/201
//	Local/201@phones-00000001;1      → Local/201@phones (Asterisk 1.6 and later)
//	Local/201@phones-c3ae,1          → Local/201@phones (Asterisk 1.4)
//	SIP/trunk-00000000               → SIP/trunk
//	SIP/201                          → SIP/201 (no suffix: unchanged)
//
// Asterisk names a channel "<tech>/<resource>-<counter>", the counter in hex
// (main/channel.c __ast_channel_alloc_ap; chan_local adds ";1"/";2", and
// 1.4's chan_local ",1"/",2"). Masquerade markers ("<ZOMBIE>", "<MASQ>")
// are dropped too. A suffix that is not hex is part of the resource and is
// kept, so a peer named "my-peer" without a counter is left alone.
func InterfaceOf(channel string) string {
	name := channel
	if i := strings.IndexByte(name, '<'); i > 0 {
		name = name[:i] // "SIP/201-0000000a<ZOMBIE>"
	}
	if n := len(name); n > 2 && (name[n-2] == ';' || name[n-2] == ',') && (name[n-1] == '1' || name[n-1] == '2') {
		name = name[:n-2]
	}
	slash := strings.IndexByte(name, '/')
	dash := strings.LastIndexByte(name, '-')
	if slash < 0 || dash <= slash+1 || dash == len(name)-1 || !isHex(name[dash+1:]) {
		return name
	}
	return name[:dash]
}

// NormalizeInterface returns a configured seat or queue member interface in
// the form InterfaceOf gives channels: Local channel options are dropped
// ("Local/201@phones/n" → "Local/201@phones", as chan_local parses
// "Local/exten@context/options"), surrounding spaces are trimmed and the
// technology of the common channel drivers is spelled as Asterisk spells it
// in channel names ("sip/201" → "SIP/201"), since Asterisk looks technologies
// up without regard to case. Anything else is returned unchanged.
func NormalizeInterface(configured string) string {
	s := strings.TrimSpace(configured)
	slash := strings.IndexByte(s, '/')
	if slash <= 0 {
		return s
	}
	tech := s[:slash]
	for _, t := range knownTechs {
		if tech != t && strings.EqualFold(tech, t) {
			s = t + s[slash:]
			break
		}
	}
	if strings.EqualFold(tech, "Local") {
		if j := strings.IndexByte(s[slash+1:], '/'); j >= 0 {
			s = s[:slash+1+j]
		}
	}
	return s
}

// knownTechs are channel technologies as they appear in channel names.
var knownTechs = [...]string{"SIP", "PJSIP", "IAX2", "DAHDI", "Local", "Zap", "H323", "OOH323", "Skinny", "MGCP", "UNISTIM", "Motif"}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// localHalf reports which half of a Local channel a name is: 1 for the
// ";1" (",1" in 1.4) half that the dialler sees, 2 for the ";2" half that
// runs the dialplan, 0 for any other channel.
func localHalf(name string) int {
	n := len(name)
	if n < 3 || (name[n-2] != ';' && name[n-2] != ',') {
		return 0
	}
	if !strings.HasPrefix(name, "Local/") {
		return 0
	}
	switch name[n-1] {
	case '1':
		return 1
	case '2':
		return 2
	}
	return 0
}
