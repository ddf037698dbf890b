package sshfleet

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// maxSessionsPerConn bounds concurrent session channels on one connection,
// as OpenSSH's MaxSessions does.
const maxSessionsPerConn = 10

// maxAcceptBackoff caps the pause after a failing Accept (e.g. EMFILE).
const maxAcceptBackoff = time.Second

// acceptLoop is the one goroutine a host costs while idle.
func (f *Fleet) acceptLoop(s *hostServer) {
	defer f.wg.Done()
	var backoff time.Duration
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if f.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), maxAcceptBackoff)
			f.opts.Logf("sshfleet: host %s: accept: %v; retrying in %v", s.host.Addr(), err, backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-f.ctx.Done():
				return
			}
		}
		backoff = 0
		if !f.track(conn, s) {
			continue
		}
		f.wg.Add(1)
		go f.serveConn(s, conn)
	}
}

// track registers conn so Close can reach it, or closes it when the fleet
// is closing or at its connection limit.
func (f *Fleet) track(conn net.Conn, s *hostServer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		conn.Close()
		return false
	}
	select {
	case f.connSlots <- struct{}{}:
	default:
		conn.Close()
		f.opts.Logf("sshfleet: host %s: refused connection from %s: fleet limit of %d connections reached", s.host.Addr(), conn.RemoteAddr(), f.opts.MaxConns)
		return false
	}
	f.conns[conn] = struct{}{}
	return true
}

func (f *Fleet) untrack(conn net.Conn) {
	conn.Close()
	f.mu.Lock()
	delete(f.conns, conn)
	f.mu.Unlock()
	<-f.connSlots
}

// serveConn runs the handshake under a deadline, then serves session
// channels until the client disconnects or the fleet closes.
func (f *Fleet) serveConn(s *hostServer, conn net.Conn) {
	defer f.wg.Done()
	defer f.untrack(conn)

	if err := conn.SetDeadline(time.Now().Add(f.opts.HandshakeTimeout)); err != nil {
		return
	}
	sconn, chans, reqs, err := ssh.NewServerConn(conn, s.config)
	if err != nil {
		f.opts.Logf("sshfleet: host %s: handshake with %s failed: %v", s.host.Addr(), conn.RemoteAddr(), err)
		return
	}
	defer sconn.Close()
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return
	}

	var sessions sync.WaitGroup
	sessions.Add(1)
	go func() {
		defer sessions.Done()
		ssh.DiscardRequests(reqs)
	}()
	var active atomic.Int32
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		if active.Load() >= maxSessionsPerConn {
			nc.Reject(ssh.ResourceShortage, "too many sessions on this connection")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		active.Add(1)
		sessions.Add(1)
		sess := &session{fleet: f, host: s, ch: ch, conn: sconn}
		go func() {
			defer sessions.Done()
			defer active.Add(-1)
			sess.serve(chReqs)
		}()
	}
	// chans is closed once the connection is gone; sessions then unwind.
	sconn.Close()
	sessions.Wait()
}
