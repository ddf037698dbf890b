package cli

import (
	"database/sql"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
)

// tcpProxy forwards a loopback port to the PostgreSQL server; stopping it
// is the database going away, starting it again on the same port is the
// database coming back.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func (p *tcpProxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	must(t, err)
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestRoundSpoolsWhilePostgresIsDown: with the database stopped the round
// is collected and spooled; when it is back the next run stores both
// rounds, each once.
func TestRoundSpoolsWhilePostgresIsDown(t *testing.T) {
	direct := pgtest.SchemaDSN(t)
	u, err := url.Parse(direct)
	must(t, err)
	proxy := &tcpProxy{addr: "127.0.0.1:0", target: u.Host}
	proxy.start(t)
	t.Cleanup(proxy.stop)
	u.Host = proxy.addr
	viaProxy := u.String()

	r, _ := fleetRound(t, viaProxy)

	proxy.stop()
	code, first, stderr := runCLI(t, r.args())
	if code != ExitSomeFailed || first.Counts["ok"] != 2 || !strings.Contains(stderr, "spooled") {
		t.Fatalf("database down: exit %d, counts %v\n%s", code, first.Counts, stderr)
	}
	proxy.start(t)
	code, second, stderr := runCLI(t, r.args())
	if code != ExitOK || !strings.Contains(stderr, "stored 1 round(s) spooled") {
		t.Fatalf("database back: exit %d\n%s", code, stderr)
	}
	db, err := sql.Open("pgx", direct)
	must(t, err)
	defer db.Close()
	for _, round := range []string{first.RoundID, second.RoundID} {
		var n int
		must(t, db.QueryRow(`SELECT count(*) FROM collections WHERE round_id = $1 AND status = 'ok'`, round).Scan(&n))
		if n != 2 {
			t.Errorf("round %s: %d ok collections, want 2", round, n)
		}
	}
}
