package authlog

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/internal/testdir"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

func fmtInts(a []int) string { return fmt.Sprint(a) }

func failLine(user string) string {
	return fmt.Sprintf("Jan  2 15:04:05 h sshd[1]: Failed password for %s from 10.0.0.1 port 22 ssh2\n", user)
}

// collect runs the module on path with cursor and returns the users of
// its events and the next cursor.
func collect(t *testing.T, path, cursor string, extra string) ([]string, string) {
	t.Helper()
	settings := json.RawMessage(fmt.Sprintf(`{"file": %q%s}`, path, extra))
	events, _, next, err := New().CollectEvents(context.Background(), module.Config{Settings: settings}, cursor)
	if err != nil {
		t.Fatalf("CollectEvents: %v", err)
	}
	return users(events), next
}

func users(events []protocol.Event) []string {
	var out []string
	for _, e := range events {
		if e.EventID == EventTruncated {
			out = append(out, "TRUNCATED")
			continue
		}
		out = append(out, e.Fields["user"])
	}
	return out
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestFileCursor(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "auth.log")
	// 200 old lines of filler, then one failure: the first round reads only
	// the last 1 KiB, so it sees "recent" but not "ancient".
	appendTo(t, path, failLine("ancient")+strings.Repeat("Jan  2 15:04:05 h CRON[2]: filler line\n", 200)+failLine("recent"))

	got, c1 := collect(t, path, "", `, "first_bytes": 1024`)
	if strings.Join(got, ",") != "recent" {
		t.Fatalf("first round users %v, want [recent] (bounded to the file's end)", got)
	}

	got, c2 := collect(t, path, c1, "")
	if len(got) != 0 || c2 != c1 {
		t.Fatalf("nothing new: users %v cursor %q, want none and %q", got, c2, c1)
	}

	appendTo(t, path, failLine("new1")+"Jan  2 15:04:05 h sshd[1]: Failed password for part")
	got, c3 := collect(t, path, c2, "")
	if strings.Join(got, ",") != "new1" {
		t.Fatalf("incremental users %v, want [new1] (the unfinished line waits)", got)
	}
	appendTo(t, path, "ial from 10.0.0.1 port 22 ssh2\n")
	got, c4 := collect(t, path, c3, "")
	if strings.Join(got, ",") != "partial" {
		t.Fatalf("completed line users %v, want [partial]", got)
	}

	// Truncation in place (same inode, shorter): start at 0.
	if err := os.WriteFile(path, []byte(failLine("after_truncate")), 0o600); err != nil {
		t.Fatal(err)
	}
	got, c5 := collect(t, path, c4, "")
	if strings.Join(got, ",") != "after_truncate" {
		t.Fatalf("after truncation users %v, want [after_truncate]", got)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if inodeOf(fi) == 0 {
		// Windows: the module is Linux's, and rotation is found by inode.
		t.Skip("this system has no inode numbers: rotation to a longer file is not detected")
	}
	// Rotation: a new file (new inode) at the path, longer than the
	// cursor's offset: start at 0 of the new file, not at the old offset.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, failLine("rotated1")+failLine("rotated2")+failLine("rotated3"))
	got, _ = collect(t, path, c5, "")
	if strings.Join(got, ",") != "rotated1,rotated2,rotated3" {
		t.Fatalf("after rotation users %v, want all three lines of the new file", got)
	}

	var c Cursor
	if err := json.Unmarshal([]byte(c5), &c); err != nil || c.File != path || c.Inode == 0 || c.Offset != int64(len(failLine("after_truncate"))) {
		t.Errorf("cursor %q (%+v, %v)", c5, c, err)
	}
}

func TestFileCap(t *testing.T) {
	path := filepath.Join(testdir.New(t), "auth.log")
	appendTo(t, path, failLine("a")+failLine("b")+failLine("c"))
	got, c := collect(t, path, "", `, "max_events": 2`)
	if strings.Join(got, ",") != "a,b,TRUNCATED" {
		t.Fatalf("capped users %v", got)
	}
	got, _ = collect(t, path, c, `, "max_events": 2`)
	if strings.Join(got, ",") != "c" {
		t.Fatalf("next round users %v, want [c]", got)
	}
}

func TestRecordIDsAreStable(t *testing.T) {
	path := filepath.Join(testdir.New(t), "auth.log")
	appendTo(t, path, failLine("a"))
	read := func() uint64 {
		events, _, _, err := fileRead{path: path, firstBytes: 1 << 10, max: 10, now: time.Now(), loc: time.UTC}.read(context.Background())
		if err != nil || len(events) != 1 {
			t.Fatalf("events %v err %v", events, err)
		}
		return events[0].RecordID
	}
	if a, b := read(), read(); a != b || a == 0 {
		t.Errorf("record ids %d and %d, want the same non-zero id", a, b)
	}
}

func TestSettingsAndCursorErrors(t *testing.T) {
	missing := filepath.Join(testdir.New(t), "nonexistent", "auth.log")
	tests := map[string]struct {
		settings string
		cursor   string
		wantErr  string
	}{
		"relative file":    {settings: `{"file": "auth.log"}`, wantErr: "not an absolute path"},
		"max out of range": {settings: `{"max_events": 100000}`, wantErr: "max_events"},
		"not JSON":         {settings: `[1`, wantErr: "not valid"},
		"missing file":     {settings: fmt.Sprintf(`{"file": %q}`, missing), wantErr: "open auth log"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, next, err := New().CollectEvents(context.Background(), module.Config{Settings: json.RawMessage(tc.settings)}, "kept")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || next != "kept" {
				t.Fatalf("err %v next %q, want an error containing %q and the cursor kept", err, next, tc.wantErr)
			}
		})
	}
	if _, err := DecodeCursor(strings.Repeat("x", maxCursorBytes+1)); err == nil {
		t.Error("an oversized cursor was accepted")
	}
	if _, err := DecodeCursor(`{"offset": -1}`); err == nil {
		t.Error("a negative offset was accepted")
	}
}
