package authlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// defaultFiles are the auth logs tried, in order, when journald is not
// available and the settings name no file.
func defaultFiles() []string { return []string{"/var/log/auth.log", "/var/log/secure"} }

// Bounds of a file read.
const (
	// DefaultFirstBytes is how much of a file's end the first round reads.
	DefaultFirstBytes = 64 << 10
	// maxReadBytes bounds what one round reads from a file.
	maxReadBytes = 8 << 20
)

// fileRead is one round's read of a log file.
type fileRead struct {
	path       string
	cursor     Cursor
	firstBytes int64
	max        int
	now        time.Time
	loc        *time.Location
	computer   string
	// own are the collector's sessions whose records are left out.
	own ownSessions
}

// startOffset decides where reading starts: at the cursor when it names
// this file and inode and is within it; at 0 when the file was rotated or
// truncated since; in the last firstBytes on the first round.
func startOffset(c Cursor, path string, inode uint64, size, firstBytes int64) (offset int64, skipPartial bool) {
	if c.File == path && c.File != "" {
		if c.Inode == inode && c.Offset <= size {
			return c.Offset, false
		}
		return 0, false // rotated (new inode) or truncated (shorter)
	}
	if size <= firstBytes {
		return 0, false
	}
	return size - firstBytes, true
}

// read returns the events of the complete lines after the cursor, how
// many records of the collector's own sessions it left out, and the cursor
// after the last line consumed.
func (r fileRead) read(ctx context.Context) ([]protocol.Event, int, Cursor, error) {
	f, err := os.Open(r.path)
	if err != nil {
		return nil, 0, r.cursor, fmt.Errorf("open auth log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, r.cursor, fmt.Errorf("stat auth log: %w", err)
	}
	inode := inodeOf(fi)
	offset, skipPartial := startOffset(r.cursor, r.path, inode, fi.Size(), r.firstBytes)
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, 0, r.cursor, fmt.Errorf("seek in auth log: %w", err)
	}
	br := bufio.NewReaderSize(io.LimitReader(f, maxReadBytes), 64<<10)
	if skipPartial && offset > 0 {
		// Start at a line boundary: drop the rest of the line cut in two.
		skipped, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			offset += int64(len(skipped))
			skipped, err = br.ReadSlice('\n')
		}
		if err != nil {
			return nil, 0, Cursor{File: r.path, Inode: inode, Offset: offset}, nil
		}
		offset += int64(len(skipped))
	}
	var events []protocol.Event
	own := 0
	for {
		if err := ctx.Err(); err != nil {
			return events, own, Cursor{File: r.path, Inode: inode, Offset: offset}, nil
		}
		line, err := readLine(br)
		if err != nil { // io.EOF or a partial last line: it is read next round
			break
		}
		start := offset
		offset += int64(len(line))
		rec := parseLine(string(bytes.TrimRight(line, "\n")), r.now, r.loc)
		id := recordID(strconv.FormatUint(inode, 10) + ":" + strconv.FormatInt(start, 10))
		ev, ok := toEvent(rec, id, r.computer)
		if !ok {
			continue
		}
		if r.own.has(ev) {
			own++
			continue
		}
		if len(events) == r.max {
			events = append(events, truncatedEvent(r.now, r.max, r.computer))
			offset = start
			break
		}
		events = append(events, ev)
	}
	return events, own, Cursor{File: r.path, Inode: inode, Offset: offset}, nil
}

// readLine returns one complete line with its "\n"; an overlong line is
// returned whole (it is cut when parsed). A last line without "\n" is an
// error: the writer may not have finished it.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == nil {
			return line, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}
