package sshfleet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// sharedPortAttempts is how often listenShared retries when the port the
// first host got is already taken on another host's address.
const sharedPortAttempts = 8

// listenPlan binds one listener per address. With port 0 it picks one free
// port shared by all addresses. If allowFallback is set and the first
// address cannot be assigned on this machine, every host listens on
// 127.0.0.1 with its own ephemeral port.
func listenPlan(ctx context.Context, addrs []netip.Addr, port int, allowFallback bool) ([]net.Listener, error) {
	var lns []net.Listener
	var err error
	if port != 0 {
		lns, err = listenEach(ctx, addrs, port)
	} else {
		lns, err = listenShared(ctx, addrs)
	}
	if err == nil || !allowFallback || !isAddrNotAvail(err) {
		return lns, err
	}
	local := make([]netip.Addr, len(addrs))
	for i := range local {
		local[i] = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return listenEach(ctx, local, 0)
}

// listenShared binds addrs[0] on a free port, then the other addresses on
// the same port, starting over when that port is taken elsewhere.
func listenShared(ctx context.Context, addrs []netip.Addr) ([]net.Listener, error) {
	var err error
	for range sharedPortAttempts {
		var first net.Listener
		first, err = listenOne(ctx, addrs[0], 0)
		if err != nil {
			return nil, err
		}
		port := first.Addr().(*net.TCPAddr).Port
		var rest []net.Listener
		rest, err = listenEach(ctx, addrs[1:], port)
		if err == nil {
			return append([]net.Listener{first}, rest...), nil
		}
		first.Close()
		if !isAddrInUse(err) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no port is free on all %d host addresses after %d attempts: set Port explicitly: %w", len(addrs), sharedPortAttempts, err)
}

// listenEach binds every address on port, closing what it opened on error.
func listenEach(ctx context.Context, addrs []netip.Addr, port int) ([]net.Listener, error) {
	lns := make([]net.Listener, 0, len(addrs))
	for _, a := range addrs {
		ln, err := listenOne(ctx, a, port)
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func listenOne(ctx context.Context, a netip.Addr, port int) (net.Listener, error) {
	var lc net.ListenConfig
	addr := netip.AddrPortFrom(a, uint16(port)).String()
	ln, err := lc.Listen(ctx, "tcp4", addr)
	switch {
	case err == nil:
		return ln, nil
	case isTooManyFiles(err):
		return nil, fmt.Errorf("listen on %s: %w (raise the open-file limit, e.g. ulimit -n, or start fewer hosts)", addr, err)
	case isAddrNotAvail(err):
		return nil, fmt.Errorf("listen on %s: %w (this loopback address is not configured; on macOS add it with `ifconfig lo0 alias %s`, or use FirstIP 127.0.0.1 with one host per port)", addr, err, a)
	default:
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}
