package netio

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// kind describes a network name: its socket type and the address family it
// insists on (0: either, chosen by the address).
type kind struct {
	sotype int
	family int
	stream bool
}

func parseNetwork(network string) (kind, error) {
	switch network {
	case "tcp":
		return kind{sotype: unix.SOCK_STREAM, stream: true}, nil
	case "tcp4":
		return kind{sotype: unix.SOCK_STREAM, family: unix.AF_INET, stream: true}, nil
	case "tcp6":
		return kind{sotype: unix.SOCK_STREAM, family: unix.AF_INET6, stream: true}, nil
	case "udp":
		return kind{sotype: unix.SOCK_DGRAM}, nil
	case "udp4":
		return kind{sotype: unix.SOCK_DGRAM, family: unix.AF_INET}, nil
	case "udp6":
		return kind{sotype: unix.SOCK_DGRAM, family: unix.AF_INET6}, nil
	case "unix":
		return kind{sotype: unix.SOCK_STREAM, family: unix.AF_UNIX, stream: true}, nil
	case "unixgram":
		return kind{sotype: unix.SOCK_DGRAM, family: unix.AF_UNIX}, nil
	}
	return kind{}, net.UnknownNetworkError(network)
}

// endpoint is a resolved address.
type endpoint struct {
	ip   net.IP // nil: the wildcard address
	port int
	zone string
	path string // unix sockets
}

var errNoSuitableAddress = errors.New("no suitable address found")

// resolve turns address into an endpoint. IP literals and numeric ports
// are parsed on the spot; a host name or a service name is looked up on
// the hub's offload pool (the lookup may block), which needs a green
// thread.
func resolve(h *hub.Hub, k kind, network, address string) (endpoint, error) {
	if k.family == unix.AF_UNIX {
		return endpoint{path: address}, nil
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return endpoint{}, err
	}
	var ep endpoint
	if ep.port, err = strconv.Atoi(portStr); err != nil {
		var lerr error
		if oerr := h.Offload(func() { ep.port, lerr = net.DefaultResolver.LookupPort(context.Background(), network, portStr) }); oerr != nil {
			return endpoint{}, oerr
		}
		if lerr != nil {
			return endpoint{}, lerr
		}
	}
	if ep.port < 0 || ep.port > 65535 {
		return endpoint{}, &net.AddrError{Err: "invalid port", Addr: address}
	}
	if host == "" {
		return ep, nil
	}
	lit, zone, _ := cutZone(host)
	if ip := net.ParseIP(lit); ip != nil {
		ep.ip, ep.zone = ip, zone
		if !familyFits(k.family, ip) {
			return endpoint{}, &net.AddrError{Err: errNoSuitableAddress.Error(), Addr: address}
		}
		return ep, nil
	}
	var addrs []net.IPAddr
	var lerr error
	if oerr := h.Offload(func() { addrs, lerr = net.DefaultResolver.LookupIPAddr(context.Background(), host) }); oerr != nil {
		return endpoint{}, oerr
	}
	if lerr != nil {
		return endpoint{}, lerr
	}
	// Prefer IPv4 for "tcp" and "udp", as most loopback set-ups expect.
	for _, want := range []int{unix.AF_INET, unix.AF_INET6} {
		for _, a := range addrs {
			if (k.family == 0 || k.family == want) && familyOf(a.IP) == want {
				ep.ip, ep.zone = a.IP, a.Zone
				return ep, nil
			}
		}
	}
	return endpoint{}, &net.AddrError{Err: errNoSuitableAddress.Error(), Addr: address}
}

func cutZone(host string) (string, string, bool) {
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == '%' {
			return host[:i], host[i+1:], true
		}
	}
	return host, "", false
}

func familyOf(ip net.IP) int {
	if ip.To4() != nil {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func familyFits(family int, ip net.IP) bool {
	return family == 0 || family == familyOf(ip)
}

// pickFamily chooses the socket's family: the network's, else the
// address's, else (the wildcard on "tcp"/"udp") IPv6 dual-stack where the
// system has IPv6.
func pickFamily(k kind, ep endpoint) int {
	switch {
	case k.family != 0:
		return k.family
	case ep.ip != nil:
		return familyOf(ep.ip)
	case supportsIPv6():
		return unix.AF_INET6
	}
	return unix.AF_INET
}

var supportsIPv6 = sync.OnceValue(func() bool {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
})

func (ep endpoint) sockaddr(family int) (unix.Sockaddr, error) {
	switch family {
	case unix.AF_UNIX:
		return &unix.SockaddrUnix{Name: ep.path}, nil
	case unix.AF_INET:
		sa := &unix.SockaddrInet4{Port: ep.port}
		if ep.ip != nil {
			ip4 := ep.ip.To4()
			if ip4 == nil {
				return nil, &net.AddrError{Err: "non-IPv4 address", Addr: ep.ip.String()}
			}
			copy(sa.Addr[:], ip4)
		}
		return sa, nil
	case unix.AF_INET6:
		sa := &unix.SockaddrInet6{Port: ep.port}
		if ep.ip != nil {
			ip := ep.ip
			if ip.Equal(net.IPv4zero) {
				ip = net.IPv6zero
			}
			copy(sa.Addr[:], ip.To16())
		}
		if ep.zone != "" {
			if ifi, err := net.InterfaceByName(ep.zone); err == nil {
				sa.ZoneId = uint32(ifi.Index)
			} else if n, err := strconv.Atoi(ep.zone); err == nil {
				sa.ZoneId = uint32(n)
			}
		}
		return sa, nil
	}
	return nil, unix.EAFNOSUPPORT
}

// toAddr converts a socket address to the net.Addr type the stdlib uses
// for the socket's type: *net.TCPAddr, *net.UDPAddr or *net.UnixAddr.
func toAddr(sotype int, sa unix.Sockaddr) net.Addr {
	var ip net.IP
	var port int
	var zone string
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		ip, port = net.IPv4(sa.Addr[0], sa.Addr[1], sa.Addr[2], sa.Addr[3]), sa.Port
	case *unix.SockaddrInet6:
		ip, port, zone = append(net.IP(nil), sa.Addr[:]...), sa.Port, zoneName(sa.ZoneId)
	case *unix.SockaddrUnix:
		n := "unix"
		if sotype == unix.SOCK_DGRAM {
			n = "unixgram"
		}
		return &net.UnixAddr{Name: sa.Name, Net: n}
	default:
		return nil
	}
	if sotype == unix.SOCK_DGRAM {
		return &net.UDPAddr{IP: ip, Port: port, Zone: zone}
	}
	return &net.TCPAddr{IP: ip, Port: port, Zone: zone}
}

// addrSockaddr converts a *net.UDPAddr, *net.TCPAddr or *net.UnixAddr to a
// socket address of family. A nil address, typed or not, gives a nil
// socket address and no error: the caller decides what none means (no
// bind for a Dialer's LocalAddr, "missing address" for WriteTo), as the
// stdlib does.
func addrSockaddr(family int, a net.Addr) (unix.Sockaddr, error) {
	if isNilAddr(a) {
		return nil, nil
	}
	var ep endpoint
	switch a := a.(type) {
	case *net.UDPAddr:
		ep = endpoint{ip: a.IP, port: a.Port, zone: a.Zone}
	case *net.TCPAddr:
		ep = endpoint{ip: a.IP, port: a.Port, zone: a.Zone}
	case *net.UnixAddr:
		ep = endpoint{path: a.Name}
	default:
		return nil, &net.AddrError{Err: "unsupported address type", Addr: a.String()}
	}
	if family == unix.AF_INET && ep.ip != nil && ep.ip.To4() == nil {
		return nil, &net.AddrError{Err: "IPv6 address on an IPv4 socket", Addr: a.String()}
	}
	if family == unix.AF_INET6 && ep.ip != nil && ep.ip.To4() != nil && !ep.ip.Equal(net.IPv4zero) {
		// An IPv4 destination on a dual-stack socket: IPv4-mapped.
		ep.ip = ep.ip.To16()
	}
	return ep.sockaddr(family)
}

// isNilAddr reports whether a is nil or a nil pointer of one of the
// stdlib's address types ((*net.UDPAddr)(nil) in a net.Addr is not nil).
func isNilAddr(a net.Addr) bool {
	switch a := a.(type) {
	case nil:
		return true
	case *net.UDPAddr:
		return a == nil
	case *net.TCPAddr:
		return a == nil
	case *net.UnixAddr:
		return a == nil
	case *net.IPAddr:
		return a == nil
	}
	return false
}
