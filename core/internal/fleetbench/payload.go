package fleetbench

import "strings"

// FloorPayloadSize is the size of the file the floor uploads: the agent's
// size when the fleet-speed targets were set.
const FloorPayloadSize = 2_600_000

// Payload returns a POSIX shell script of exactly size bytes (at least its
// header) that prints FloorCommand's output and exits before reading the
// padding that follows, so uploading it costs what uploading a binary of
// that size costs while running it costs next to nothing.
func Payload(size int) []byte {
	header := "#!/bin/sh\n" + FloorCommand + "\nexit 0\n"
	if size < len(header) {
		size = len(header)
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(header)
	line := "# padding: the shell exits before reading this ............................\n"
	for b.Len()+len(line) <= size {
		b.WriteString(line)
	}
	b.WriteString(strings.Repeat("#", size-b.Len()))
	return []byte(b.String())
}
