package seatclient

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// ErrNoMAC means no network interface of the machine passes the rule of
// PickMAC.
var ErrNoMAC = errors.New("seatclient: no network interface with a usable MAC address")

// DetectMAC returns the MAC address that names this PC's seat, and the
// interface it comes from, by PickMAC's rule over the machine's
// interfaces.
func DetectMAC() (mac, iface string, err error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", "", fmt.Errorf("seatclient: list network interfaces: %w", err)
	}
	return PickMAC(ifs)
}

// Names of virtual interfaces, lower case: prefixes of Unix names (Linux,
// macOS, BSD) and words of Windows' adapter names.
var (
	virtualPrefixes = []string{
		"docker", "br", "virbr", "veth", "vnet", "vmnet", "vboxnet", "tun", "tap",
		"utun", "awdl", "llw", "anpi", "bridge", "lxc", "lxd", "cni", "flannel",
		"cali", "cilium", "weave", "kube", "podman", "vxlan", "genev", "zt",
		"tailscale", "wg", "ppp", "ipsec", "gif", "stf", "dummy", "ifb",
	}
	virtualWords = []string{
		"virtual", "vmware", "virtualbox", "vethernet", "hyper-v", "loopback",
		"pseudo", "tunnel", "vpn", "bluetooth", "wsl", "docker", "tap-windows",
		"npcap", "wan miniport", "teredo",
	}
)

// PickMAC chooses the MAC address of a seat among ifs, in their Index
// order. It skips an interface that is:
//
//   - a loopback, administratively down, or point-to-point;
//   - without a 6-byte (EUI-48) hardware address, or with an all-zero or a
//     multicast one;
//   - virtual by its name: Docker, bridges, veth, tun/tap, VPNs, VMware,
//     VirtualBox, Hyper-V and WSL adapters… (names starting with docker,
//     br, virbr, veth, vnet, vmnet, vboxnet, tun, tap, utun, awdl, llw,
//     anpi, bridge, lxc, lxd, cni, flannel, cali, cilium, weave, kube,
//     podman, vxlan, genev, zt, tailscale, wg, ppp, ipsec, gif, stf, dummy,
//     ifb; or containing virtual, vmware, virtualbox, vethernet, hyper-v,
//     loopback, pseudo, tunnel, vpn, bluetooth, wsl, docker, tap-windows,
//     npcap, wan miniport, teredo; case-insensitive).
//
// Of the others it takes the first with a universally administered
// address (the second bit of the first byte clear: burnt into the
// hardware), else the first with a locally administered one (a virtual
// machine's, or a randomised Wi-Fi address, which may change). The address
// is returned as 00:11:22:33:44:55, with the interface's name.
func PickMAC(ifs []net.Interface) (mac, iface string, err error) {
	ifs = slices.Clone(ifs)
	slices.SortStableFunc(ifs, func(a, b net.Interface) int { return a.Index - b.Index })
	var local *net.Interface
	for i := range ifs {
		f := &ifs[i]
		if !usable(f) {
			continue
		}
		if f.HardwareAddr[0]&0x02 == 0 {
			return f.HardwareAddr.String(), f.Name, nil
		}
		if local == nil {
			local = f
		}
	}
	if local != nil {
		return local.HardwareAddr.String(), local.Name, nil
	}
	return "", "", ErrNoMAC
}

func usable(f *net.Interface) bool {
	if f.Flags&net.FlagLoopback != 0 || f.Flags&net.FlagUp == 0 || f.Flags&net.FlagPointToPoint != 0 {
		return false
	}
	hw := f.HardwareAddr
	if len(hw) != 6 || hw[0]&0x01 != 0 || !slices.ContainsFunc(hw, func(b byte) bool { return b != 0 }) {
		return false
	}
	return !virtualName(f.Name)
}

func virtualName(name string) bool {
	n := strings.ToLower(name)
	for _, p := range virtualPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	for _, w := range virtualWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
