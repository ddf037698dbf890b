package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Settings in email_config.json and values of "security".
var (
	emailSettings = []string{"host", "port", "security", "username", "password", "from"}
	securityModes = []string{"none", "starttls", "tls"}
)

const emailCreateFix = `create it, e.g. {"host": "smtp.example.com", "port": 587, "security": "starttls", ` +
	`"username": "cscs", "password": "env:CSCS_SMTP_PASSWORD", "from": "cscs@example.com"}, ` +
	`or give its path with --email-config; it is needed only to send mail`

func emailSettingName(key string) string { return "setting " + key }

// securityForPort is the security mode a port implies when none is written.
func securityForPort(port int) string {
	switch port {
	case 465:
		return "tls"
	case 587:
		return "starttls"
	}
	return "none"
}

// portForSecurity is the port a security mode implies when none is written.
func portForSecurity(mode string) int {
	switch mode {
	case "tls":
		return 465
	case "starttls":
		return 587
	}
	return 25
}

// LoadEmail reads and validates email_config.json, the SMTP sender:
//
//	{
//	  "host": "smtp.example.com",
//	  "port": 587,
//	  "security": "starttls",
//	  "username": "cscs",
//	  "password": "env:CSCS_SMTP_PASSWORD",
//	  "from": "CSCS <cscs@example.com>"
//	}
//
// host and from are required. security is "none" (plain SMTP),
// "starttls" (upgrade after connecting) or "tls" (TLS from the first
// byte). When security is left out it follows the port — "tls" for 465,
// "starttls" for 587, "none" otherwise; when port is left out it follows
// security — 465 for tls, 587 for starttls, 25 for none (and for both
// left out). port may be a number or a string of digits. username and
// password go together; password may be plain text, env:NAME or
// file:PATH (see ParseSecret). A password over an unencrypted connection
// to a host other than loopback is a Warning.
//
// The Email is nil exactly when the Diagnostics hold an Error.
func LoadEmail(path string, opts LoadOptions) (*Email, Diagnostics) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Diagnostics{readFailure(path, err, emailCreateFix)}
	}
	l := &emailLoader{src: newSourceFile(path, data), text: withoutBOM(data), dir: filepath.Dir(path), opts: opts}
	e := l.load()
	l.diags.Sort()
	if l.diags.HasErrors() {
		return nil, l.diags
	}
	return e, l.diags
}

type emailLoader struct {
	src   *sourceFile
	text  []byte // the file with a byte order mark blanked out
	dir   string
	opts  LoadOptions
	diags Diagnostics
}

// jsonSetting is one key of the top-level object and its raw value.
type jsonSetting struct {
	raw json.RawMessage
	pos Pos // of the key
}

func (l *emailLoader) report(sev Severity, pos Pos, field, msg, fix string) {
	l.diags = append(l.diags, Diagnostic{Severity: sev, Pos: pos, Field: field, Message: msg, Fix: fix})
}

func (l *emailLoader) load() *Email {
	// Check the whole document first: json.Unmarshal reports syntax errors
	// at absolute offsets, which Decoder.Token does not.
	var whole any
	if err := json.Unmarshal(l.text, &whole); err != nil {
		l.syntaxError(err)
		return nil
	}
	objOff := len(l.text) - len(bytes.TrimLeft(l.text, " \t\r\n"))
	if _, isObject := whole.(map[string]any); !isObject {
		l.report(Error, l.src.pos(objOff), "", "the file must hold one JSON object { … }", emailCreateFix)
		return nil
	}
	settings, ok := l.settings()
	if !ok {
		return nil
	}
	objPos := l.src.pos(objOff)
	e := &Email{Path: l.src.path}

	host, hostSet := l.stringSetting(settings, "host")
	switch {
	case !hostSet || host == "":
		l.report(Error, objPos, "", `the "host" setting is missing`, `add "host": "smtp.example.com" (the SMTP server)`)
	case !isHost(host):
		l.report(Error, settings["host"].pos, emailSettingName("host"), fmt.Sprintf("%q is not a host name or IP address", host),
			hostFix(host, func(h, p string) string {
				if p == "" {
					return `"host": "` + h + `"`
				}
				return `"host": "` + h + `", "port": ` + p
			}))
	default:
		e.Host = host
	}

	portWritten := false
	if s, set := settings["port"]; set && string(s.raw) != "null" {
		portWritten = true
		text := string(s.raw)
		if unquoted, err := strconv.Unquote(text); err == nil {
			text = unquoted
		}
		if n, valid := parsePort(text); valid {
			e.Port = n
		} else {
			l.report(Error, s.pos, emailSettingName("port"), fmt.Sprintf("%s is not a port number (1-65535)", s.raw),
				`write a number such as 587 (starttls), 465 (tls) or 25 (none)`)
		}
	}

	security, securitySet := l.stringSetting(settings, "security")
	if securitySet && security != "" {
		mode := strings.ToLower(strings.TrimSpace(security))
		if slices.Contains(securityModes, mode) {
			e.Security = mode
		} else {
			fix := `write "none", "starttls" or "tls"`
			if mode == "ssl" || mode == "smtps" {
				fix = `write "tls" (TLS from the first byte, usually port 465)`
			} else if c := closest(mode, securityModes); c != "" {
				fix = `did you mean "` + c + `"? ` + fix
			}
			l.report(Error, settings["security"].pos, emailSettingName("security"), fmt.Sprintf("%q is not a security mode", security), fix)
		}
	}
	if e.Security == "" {
		e.Security = securityForPort(e.Port) // "none" when no port is written either
	}
	if !portWritten {
		e.Port = portForSecurity(e.Security)
	}
	if securitySet && e.Security != "" && portWritten {
		l.checkPortMatchesSecurity(e, settings["port"].pos)
	}

	username, _ := l.stringSetting(settings, "username")
	password, _ := l.stringSetting(settings, "password")
	e.Username = username
	switch {
	case username != "" && password == "":
		l.report(Error, settings["username"].pos, emailSettingName("username"), "username is set but password is not",
			`add "password": "env:NAME" (or plain text, or file:PATH), or remove username to send without logging in`)
	case username == "" && password != "":
		l.report(Error, settings["password"].pos, emailSettingName("password"), "password is set but username is not",
			`add "username": "…", or remove password to send without logging in`)
	}
	if password != "" {
		secret, err := ParseSecret(password, l.dir, l.opts.Env)
		if err != nil {
			l.report(Error, settings["password"].pos, emailSettingName("password"), err.Error(), secretFix(password, "email_config.json"))
		}
		e.Password = secret
		if e.Security == "none" && e.Host != "" && !isLoopback(e.Host) {
			l.report(Warning, settings["password"].pos, emailSettingName("password"),
				fmt.Sprintf("with security none the password is sent to %s unencrypted", e.Host),
				`set "security": "starttls" (port 587) or "tls" (port 465)`)
		}
	}

	from, fromSet := l.stringSetting(settings, "from")
	switch {
	case !fromSet || from == "":
		l.report(Error, objPos, "", `the "from" setting is missing`, `add "from": "cscs@example.com" (the sender of alert mails)`)
	default:
		if reason, valid := checkAddress(from); valid {
			e.From = from
		} else {
			l.report(Error, settings["from"].pos, emailSettingName("from"), fmt.Sprintf("%q is not a mail address (%s)", from, reason),
				`write an address such as "cscs@example.com" or "CSCS <cscs@example.com>"`)
		}
	}
	return e
}

// checkPortMatchesSecurity warns about the usual mix-ups of port and mode.
func (l *emailLoader) checkPortMatchesSecurity(e *Email, pos Pos) {
	switch {
	case e.Port == 465 && e.Security != "tls":
		l.report(Warning, pos, emailSettingName("port"), fmt.Sprintf("port 465 usually expects security tls, not %s", e.Security),
			`set "security": "tls", or check the server's documentation`)
	case e.Port == 587 && e.Security == "tls":
		l.report(Warning, pos, emailSettingName("port"), "port 587 usually expects security starttls, not tls",
			`set "security": "starttls", or check the server's documentation`)
	}
}

// settings reads the keys of the top-level object with their positions,
// reporting unknown and repeated keys. The document is known to be valid
// JSON.
func (l *emailLoader) settings() (map[string]jsonSetting, bool) {
	dec := json.NewDecoder(bytes.NewReader(l.text))
	if _, err := dec.Token(); err != nil { // {
		l.report(Error, l.src.filePos(), "", "cannot read the JSON object: "+err.Error(), "")
		return nil, false
	}
	out := map[string]jsonSetting{}
	for dec.More() {
		keyOff := int(dec.InputOffset())
		for keyOff < len(l.text) && (isXMLSpace(l.text[keyOff]) || l.text[keyOff] == ',') {
			keyOff++
		}
		tok, err := dec.Token()
		var raw json.RawMessage
		if err == nil {
			err = dec.Decode(&raw)
		}
		if err != nil {
			l.report(Error, l.src.pos(keyOff), "", "cannot read the JSON object: "+err.Error(), "")
			return nil, false
		}
		key, _ := tok.(string)
		pos := l.src.pos(keyOff)
		switch first, dup := out[key]; {
		case !slices.Contains(emailSettings, key):
			l.report(Error, pos, "", fmt.Sprintf("unknown setting %q", key), unknownNameFix(key, emailSettings, "known settings"))
		case dup:
			l.report(Error, pos, emailSettingName(key), fmt.Sprintf("%s is set twice (first at line %d)", key, first.pos.Line), "keep one of them")
		default:
			out[key] = jsonSetting{raw: raw, pos: pos}
		}
	}
	return out, true
}

// stringSetting returns a setting that must be a JSON string. A missing
// key or null is not set; another type is an error.
func (l *emailLoader) stringSetting(settings map[string]jsonSetting, key string) (string, bool) {
	s, ok := settings[key]
	if !ok || string(s.raw) == "null" {
		return "", false
	}
	var v string
	if err := json.Unmarshal(s.raw, &v); err != nil {
		shown := string(s.raw)
		if key == "password" {
			shown = "the value"
		}
		l.report(Error, s.pos, emailSettingName(key), fmt.Sprintf("%s is not a string", shown), `write the value in double quotes, as in "`+key+`": "…"`)
		return "", false
	}
	return v, true
}

func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// syntaxError reports malformed JSON at the offending character, in plain words.
func (l *emailLoader) syntaxError(err error) {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		l.report(Error, l.src.filePos(), "", "malformed JSON: "+err.Error(), "")
		return
	}
	off := int(se.Offset) - 1
	msg, fix := se.Error(), ""
	if off >= len(l.text)-1 && strings.Contains(msg, "unexpected end") {
		off = len(l.text)
		msg, fix = "the file ends before the JSON object is closed", `add the missing closing " or }`
		l.report(Error, l.src.pos(off), "", "malformed JSON: "+msg, fix)
		return
	}
	off = max(0, min(off, len(l.text)-1))
	r, _ := utf8.DecodeRune(l.text[off:])
	switch {
	case r == '\u201C' || r == '\u201D' || r == '\u2018' || r == '\u2019':
		msg, fix = fmt.Sprintf("typographic quote %c where JSON needs a straight double quote", r), `replace “ and ” (or ‘ and ’) with "`
	case r == '\'':
		msg, fix = "JSON strings and keys need double quotes, not single quotes", `write "name": "value"`
	case r == '/' || r == '#':
		msg, fix = "JSON has no comments", "remove the comment"
	case r == '}' && strings.Contains(msg, "beginning of object key"):
		msg, fix = "a comma before } has no setting after it", "remove the last comma"
	case strings.Contains(msg, "after object key:value pair"):
		msg, fix = "a comma is missing between two settings", "add , after the previous value"
	case strings.Contains(msg, "after top-level value"):
		msg, fix = "unexpected text after the closing }", "remove it; the file holds one JSON object"
	case r >= utf8.RuneSelf:
		msg = fmt.Sprintf("unexpected character %q", r)
	}
	l.report(Error, l.src.pos(off), "", "malformed JSON: "+msg, fix)
}
