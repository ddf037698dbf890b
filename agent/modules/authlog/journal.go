package authlog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
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
}

// read runs journalctl and turns its entries into events.
func (r journalRead) read(ctx context.Context) ([]protocol.Event, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.journalctl, journalArgs(r.cursor)...)
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 2048}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, r.cursor, fmt.Errorf("journalctl: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, r.cursor, fmt.Errorf("start journalctl: %w", err)
	}
	events, next, truncated, scanErr := scanJournal(out, r.cursor, r.max, r.now, r.computer)
	if truncated {
		cancel() // enough for this round; the rest follows next round
	}
	waitErr := cmd.Wait()
	if scanErr != nil {
		return nil, r.cursor, scanErr
	}
	if waitErr != nil && !truncated {
		return nil, r.cursor, fmt.Errorf("journalctl failed: %w: %s", waitErr, clean(strings.TrimSpace(stderr.String()), 300))
	}
	return events, next, nil
}

// scanJournal reads `journalctl -o json` lines from r. It stops after max
// events (adding a truncation event) or maxJournalEntries entries and
// returns the cursor of the last entry consumed.
func scanJournal(r io.Reader, cursor string, max int, now time.Time, computer string) ([]protocol.Event, string, bool, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var events []protocol.Event
	next := cursor
	for n := 0; sc.Scan(); n++ {
		if n == maxJournalEntries {
			return append(events, truncatedEvent(now, max, computer)), next, true, nil
		}
		rec, c, err := parseJournal(sc.Bytes())
		if err != nil {
			return nil, cursor, false, err
		}
		if rec.time.IsZero() {
			rec.time = now.UTC()
		}
		ev, ok := toEvent(rec, recordID("journal:"+c), computer)
		if ok && len(events) == max {
			return append(events, truncatedEvent(now, max, computer)), next, true, nil
		}
		if ok {
			events = append(events, ev)
		}
		next = c
	}
	if err := sc.Err(); err != nil {
		return nil, cursor, false, fmt.Errorf("read journalctl output: %w", err)
	}
	return events, next, false, nil
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
