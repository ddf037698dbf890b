package eventlog

import (
	"strconv"
	"strings"
)

// Providers whose events describe() knows.
const (
	providerSecurityAuditing = "Microsoft-Windows-Security-Auditing"
	providerEventlog         = "Microsoft-Windows-Eventlog"
)

// levelName names an event's level. Security audits have level 0 and say
// success or failure in their keywords, which take precedence.
func levelName(known bool, level int, keywords uint64) string {
	switch {
	case keywords&keywordAuditFailure != 0:
		return "audit_failure"
	case keywords&keywordAuditSuccess != 0:
		return "audit_success"
	case !known:
		return ""
	}
	switch level {
	case 0, 4:
		return "information"
	case 1:
		return "critical"
	case 2:
		return "error"
	case 3:
		return "warning"
	case 5:
		return "verbose"
	}
	return "level " + strconv.Itoa(level)
}

// describe returns a one-line description of well-known events, for
// XML rendered without RenderingInfo (EvtRender does not format messages).
func describe(provider string, eventID int) string {
	switch provider {
	case providerEventlog:
		switch eventID {
		case 1102:
			return "The audit log was cleared."
		case 104:
			return "An event log was cleared."
		}
	case providerSecurityAuditing:
		switch eventID {
		case 4624:
			return "An account was successfully logged on."
		case 4625:
			return "An account failed to log on."
		case 4634:
			return "An account was logged off."
		case 4647:
			return "User initiated logoff."
		case 4648:
			return "A logon was attempted using explicit credentials."
		case 4672:
			return "Special privileges assigned to new logon."
		case 4719:
			return "System audit policy was changed."
		case 4720:
			return "A user account was created."
		case 4722:
			return "A user account was enabled."
		case 4723:
			return "An attempt was made to change an account's password."
		case 4724:
			return "An attempt was made to reset an account's password."
		case 4725:
			return "A user account was disabled."
		case 4726:
			return "A user account was deleted."
		case 4732:
			return "A member was added to a security-enabled local group."
		case 4740:
			return "A user account was locked out."
		}
	}
	return ""
}

// isClearEvent reports whether e records that channel was cleared: 1102
// in the Security log, 104 (in System) naming the channel.
func isClearEvent(e Event, channel string) bool {
	if e.Provider != providerEventlog {
		return false
	}
	switch e.EventID {
	case 1102:
		return true
	case 104:
		for key, value := range e.Data {
			if (key == "Channel" || strings.HasSuffix(key, "/Channel")) && equalChannel(value, channel) {
				return true
			}
		}
	}
	return false
}
