package seatclient

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPickMAC(t *testing.T) {
	mac := func(s string) net.HardwareAddr {
		hw, err := net.ParseMAC(s)
		if err != nil {
			panic(err)
		}
		return hw
	}
	up := net.FlagUp | net.FlagBroadcast | net.FlagMulticast | net.FlagRunning
	lo := net.Interface{Index: 1, Name: "lo", Flags: net.FlagUp | net.FlagLoopback | net.FlagRunning}
	eth := net.Interface{Index: 2, Name: "eth0", Flags: up, HardwareAddr: mac("00:1a:2b:3c:4d:5e")}
	tests := []struct {
		name      string
		ifs       []net.Interface
		mac, want string // want is the interface
	}{
		{"linux laptop", []net.Interface{lo, eth,
			{Index: 3, Name: "wlp2s0", Flags: up, HardwareAddr: mac("a4:5e:60:11:22:33")}}, "00:1a:2b:3c:4d:5e", "eth0"},
		{"index order, not list order", []net.Interface{
			{Index: 5, Name: "wlan0", Flags: up, HardwareAddr: mac("a4:5e:60:11:22:33")}, lo, eth}, "00:1a:2b:3c:4d:5e", "eth0"},
		{"docker and bridges first", []net.Interface{lo,
			{Index: 2, Name: "docker0", Flags: up, HardwareAddr: mac("02:42:ac:11:00:02")},
			{Index: 3, Name: "br-1a2b3c", Flags: up, HardwareAddr: mac("00:42:ac:11:00:03")},
			{Index: 4, Name: "virbr0", Flags: up, HardwareAddr: mac("00:54:00:11:00:04")},
			{Index: 5, Name: "veth12ab", Flags: up, HardwareAddr: mac("00:e0:4c:11:00:05")},
			{Index: 6, Name: "tap0", Flags: up, HardwareAddr: mac("00:e0:4c:11:00:06")},
			{Index: 7, Name: "enp3s0", Flags: up, HardwareAddr: mac("00:e0:4c:68:00:07")}}, "00:e0:4c:68:00:07", "enp3s0"},
		{"down interface skipped", []net.Interface{lo,
			{Index: 2, Name: "eth0", Flags: net.FlagBroadcast, HardwareAddr: mac("00:11:11:11:11:11")},
			{Index: 3, Name: "eth1", Flags: up, HardwareAddr: mac("00:22:22:22:22:22")}}, "00:22:22:22:22:22", "eth1"},
		{"up but no carrier is kept (a seat's MAC must not depend on its cable)", []net.Interface{
			{Index: 2, Name: "eth0", Flags: net.FlagUp | net.FlagBroadcast, HardwareAddr: mac("00:11:11:11:11:11")}}, "00:11:11:11:11:11", "eth0"},
		{"zero, short and multicast addresses skipped", []net.Interface{
			{Index: 2, Name: "eth0", Flags: up, HardwareAddr: mac("00:00:00:00:00:00")},
			{Index: 3, Name: "ib0", Flags: up, HardwareAddr: mac("00:00:00:00:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01")},
			{Index: 4, Name: "eth1", Flags: up, HardwareAddr: mac("01:00:5e:00:00:01")},
			{Index: 5, Name: "eth2", Flags: up},
			{Index: 6, Name: "eth3", Flags: up, HardwareAddr: mac("00:33:33:33:33:33")}}, "00:33:33:33:33:33", "eth3"},
		{"point-to-point skipped", []net.Interface{
			{Index: 2, Name: "sl0", Flags: net.FlagUp | net.FlagPointToPoint, HardwareAddr: mac("00:11:11:11:11:11")},
			{Index: 3, Name: "eth0", Flags: up, HardwareAddr: mac("00:22:22:22:22:22")}}, "00:22:22:22:22:22", "eth0"},
		{"windows adapters", []net.Interface{
			{Index: 1, Name: "Loopback Pseudo-Interface 1", Flags: net.FlagUp | net.FlagLoopback},
			{Index: 4, Name: "vEthernet (WSL)", Flags: up, HardwareAddr: mac("00:15:5d:01:02:03")},
			{Index: 5, Name: "VirtualBox Host-Only Network", Flags: up, HardwareAddr: mac("0a:00:27:00:00:05")},
			{Index: 6, Name: "VMware Network Adapter VMnet8", Flags: up, HardwareAddr: mac("00:50:56:c0:00:08")},
			{Index: 7, Name: "Bluetooth Network Connection", Flags: up, HardwareAddr: mac("00:1a:7d:da:71:0a")},
			{Index: 9, Name: "Ethernet", Flags: up, HardwareAddr: mac("D4-81-D7-AA-BB-CC")},
			{Index: 12, Name: "Wi-Fi", Flags: up, HardwareAddr: mac("3c:a9:f4:11:22:33")}}, "d4:81:d7:aa:bb:cc", "Ethernet"},
		{"macos", []net.Interface{
			{Index: 1, Name: "lo0", Flags: net.FlagUp | net.FlagLoopback},
			{Index: 4, Name: "en0", Flags: up, HardwareAddr: mac("f0:18:98:01:02:03")},
			{Index: 7, Name: "awdl0", Flags: up, HardwareAddr: mac("0e:11:22:33:44:55")},
			{Index: 8, Name: "llw0", Flags: up, HardwareAddr: mac("0e:11:22:33:44:55")},
			{Index: 9, Name: "utun0", Flags: net.FlagUp | net.FlagPointToPoint}}, "f0:18:98:01:02:03", "en0"},
		{"burnt-in address before a locally administered one", []net.Interface{
			{Index: 2, Name: "wlan0", Flags: up, HardwareAddr: mac("da:a1:19:11:22:33")},
			{Index: 3, Name: "eth0", Flags: up, HardwareAddr: mac("00:1a:2b:3c:4d:5e")}}, "00:1a:2b:3c:4d:5e", "eth0"},
		{"a virtual machine's locally administered address when nothing else", []net.Interface{lo,
			{Index: 2, Name: "ens3", Flags: up, HardwareAddr: mac("52:54:00:12:34:56")}}, "52:54:00:12:34:56", "ens3"},
		{"nothing usable", []net.Interface{lo,
			{Index: 2, Name: "docker0", Flags: up, HardwareAddr: mac("02:42:ac:11:00:02")}}, "", ""},
		{"no interfaces", nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mac, iface, err := PickMAC(tc.ifs)
			if tc.mac == "" {
				assert.ErrorIs(t, err, ErrNoMAC)
				return
			}
			if assert.NoError(t, err) {
				assert.Equal(t, tc.mac, mac, "PickMAC: MAC")
				assert.Equal(t, tc.want, iface, "PickMAC: interface")
			}
		})
	}
}

// TestDetectMAC runs the detection on this machine: it may find nothing
// (a container with only a veth), but it must not fail otherwise.
func TestDetectMAC(t *testing.T) {
	mac, iface, err := DetectMAC()
	if err != nil {
		assert.ErrorIs(t, err, ErrNoMAC)
		t.Logf("no MAC on this machine: %v", err)
		return
	}
	_, perr := net.ParseMAC(mac)
	assert.NoError(t, perr)
	t.Logf("MAC %s on %s", mac, iface)
}
