package authlog

import (
	"strconv"
	"strings"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// sshConnectionEnv names the variable sshd sets in every session it runs:
// "client_ip client_port server_ip server_port".
const sshConnectionEnv = "SSH_CONNECTION"

// ownSessions are the client addresses ("ip port") of the collector's own
// SSH connections: the one this agent runs in, and the one of the last
// round (carried in the cursor). sshd logs every login record of a
// connection, accepted or failed, as "... from IP port PORT", with the
// same address SSH_CONNECTION holds, and a client port names one
// connection of that client at a time: so these records, and only these,
// are the collector's own.
type ownSessions []string

// sessionAddress reads the client address, "ip port", from the value of
// SSH_CONNECTION; "" when it is not one.
func sessionAddress(sshConnection string) string {
	f := strings.Fields(sshConnection)
	if len(f) != 4 {
		return ""
	}
	if p, err := strconv.ParseUint(f[1], 10, 16); err != nil || p == 0 {
		return ""
	}
	return f[0] + " " + f[1]
}

// newOwnSessions returns the current session's address (when known) and
// the last round's (when it differs).
func newOwnSessions(current, last string) ownSessions {
	var o ownSessions
	if current != "" {
		o = append(o, current)
	}
	if last != "" && last != current && len(last) <= maxField {
		o = append(o, last)
	}
	return o
}

// has reports whether ev is a login record of one of the sessions.
func (o ownSessions) has(ev protocol.Event) bool {
	if ev.Provider != "sshd" || len(o) == 0 {
		return false
	}
	ip, port := ev.Fields["source_ip"], ev.Fields["source_port"]
	if ip == "" || port == "" {
		return false
	}
	for _, a := range o {
		if a == ip+" "+port {
			return true
		}
	}
	return false
}
