package authlog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// Journal read bounds.
const (
	// firstWindow is how far back the first journal read goes.
	firstWindow = "-24h"
	// maxJournalEntries bounds the entries one round scans.
	maxJournalEntries = 20000
)

// journalIdentifiers are the programs whose journal entries are read.
func journalIdentifiers() []string {
	return []string{"sshd", "sshd-session", "sudo", "login"}
}

// journalArgs are journalctl's arguments for a read after cursor ("" on
// the first round, bounded to the last day).
func journalArgs(cursor string) []string {
	args := []string{"-o", "json", "--no-pager", "-q"}
	if cursor != "" {
		args = append(args, "--after-cursor="+cursor)
	} else {
		args = append(args, "--since="+firstWindow)
	}
	for _, id := range journalIdentifiers() {
		args = append(args, "SYSLOG_IDENTIFIER="+id)
	}
	return args
}

// journalRead is one round's read of the journal.
type journalRead struct {
	journalctl string
	cursor     string
	max        int
	now        time.Time
	computer   string
	// own are the collector's sessions whose records are left out.
	own ownSessions
}

// read runs journalctl and turns its entries into events; it also returns
// how many records of the collector's own sessions it left out.
func (r journalRead) read(ctx context.Context) ([]protocol.Event, int, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stderr strings.Builder
	proc, err := startProcess(ctx, r.journalctl, journalArgs(r.cursor), &limitedWriter{w: &stderr, n: 2048})
	if err != nil {
		return nil, 0, r.cursor, fmt.Errorf("start journalctl: %w", err)
	}
	scan := journalScan{cursor: r.cursor, max: r.max, now: r.now, computer: r.computer, own: r.own}
	events, own, next, truncated, scanErr := scan.scan(proc.stdout)
	if truncated || scanErr != nil {
		cancel() // enough for this round (the rest follows next round), or unreadable output
	}
	waitErr := proc.wait()
	if scanErr != nil {
		return nil, 0, r.cursor, scanErr
	}
	if waitErr != nil && !truncated {
		return nil, 0, r.cursor, fmt.Errorf("journalctl failed: %w: %s", waitErr, clean(strings.TrimSpace(stderr.String()), 300))
	}
	return events, own, next, nil
}

// journalScan is the reading of one round's `journalctl -o json` output.
type journalScan struct {
	cursor   string
	max      int
	now      time.Time
	computer string
	own      ownSessions
}

// scan reads `journalctl -o json` lines from r. It stops after max events
// (adding a truncation event) or maxJournalEntries entries and returns
// the events, how many records of the collector's own sessions it left
// out, and the cursor of the last entry consumed.
func (s journalScan) scan(r io.Reader) ([]protocol.Event, int, string, bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var events []protocol.Event
	own := 0
	next := s.cursor
	for n := 0; sc.Scan(); n++ {
		if n == maxJournalEntries {
			return append(events, truncatedEvent(s.now, s.max, s.computer)), own, next, true, nil
		}
		rec, c, err := parseJournal(sc.Bytes())
		if err != nil {
			return nil, 0, s.cursor, false, err
		}
		if rec.time.IsZero() {
			rec.time = s.now.UTC()
		}
		ev, ok := toEvent(rec, recordID("journal:"+c), s.computer)
		switch {
		case ok && s.own.has(ev):
			own++
		case ok && len(events) == s.max:
			return append(events, truncatedEvent(s.now, s.max, s.computer)), own, next, true, nil
		case ok:
			events = append(events, ev)
		}
		next = c
	}
	if err := sc.Err(); err != nil {
		return nil, 0, s.cursor, false, fmt.Errorf("read journalctl output: %w", err)
	}
	return events, own, next, false, nil
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		l.n -= k
	}
	return len(p), nil
}
