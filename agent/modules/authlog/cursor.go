package authlog

import (
	"encoding/json"
	"fmt"
)

// maxCursorBytes bounds a cursor from the core; real ones are under 300.
const maxCursorBytes = 2048

// Cursor is where the module read up to; the core keeps it (as JSON) per
// host. Journal is set when the journal was read, File/Inode/Offset when a
// log file was.
type Cursor struct {
	// Journal is journald's __CURSOR of the last entry read.
	Journal string `json:"journal,omitempty"`
	// File is the log file's path, Inode its inode number and Offset the
	// byte just after the last complete line read.
	File   string `json:"file,omitempty"`
	Inode  uint64 `json:"inode,omitempty"`
	Offset int64  `json:"offset,omitempty"`
	// Own is the client address ("ip port") of the collector's SSH
	// connection in the round that returned the cursor: the next round
	// leaves that connection's records out too, should one be logged late.
	Own string `json:"own,omitempty"`
}

// Encode returns the cursor's opaque text; "" for the zero cursor.
func (c Cursor) Encode() string {
	if c == (Cursor{}) {
		return ""
	}
	b, _ := json.Marshal(c) // a struct of strings and numbers always encodes
	return string(b)
}

// DecodeCursor parses what Encode returned; "" is the zero cursor.
func DecodeCursor(s string) (Cursor, error) {
	var c Cursor
	if s == "" {
		return c, nil
	}
	if len(s) > maxCursorBytes {
		return Cursor{}, fmt.Errorf("auth log cursor is %d bytes, more than %d: it was not written by this agent", len(s), maxCursorBytes)
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return Cursor{}, fmt.Errorf("auth log cursor is not valid: %w", err)
	}
	if c.Offset < 0 {
		return Cursor{}, fmt.Errorf("auth log cursor has a negative offset")
	}
	return c, nil
}
