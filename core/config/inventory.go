package config

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LoadOptions adjusts how configuration files are loaded.
type LoadOptions struct {
	// Env looks up environment variables for env:NAME secrets; nil means
	// os.LookupEnv. Tests pass a map lookup instead of changing the
	// process environment.
	Env func(name string) (value string, ok bool)
	// AlertTypes, when not empty, lists every alert type the sources
	// understand; an <alert type> outside it is an error. When empty, any
	// lower-case identifier is accepted.
	AlertTypes []string
}

// Names in config.xml.
const (
	rootElement   = "clients"
	clientElement = "client"
	alertElement  = "alert"
	defaultPort   = 22
)

var (
	clientAttributes = []string{"ip", "port", "username", "password", "key", "mail"}
	alertAttributes  = []string{"type", "limit", "for"}
	// publicAttributes may be quoted back to the operator in a fix; the
	// values of every other attribute (password, misspellings of it) may
	// be secret.
	publicAttributes = []string{"ip", "port", "username", "key", "mail", "type", "limit", "for"}
)

// LoadInventory reads and validates config.xml, the inventory of clients:
//
//	<clients>
//	  <client ip="192.0.2.10" port="22" username="collector"
//	          password="env:CSCS_PASSWORD" mail="ops@example.com">
//	    <alert type="memory" limit="50%"/>
//	    <alert type="cpu" limit="20%"/>
//	  </client>
//	</clients>
//
// The root element is <clients>. A file of bare <client> elements without
// a root, as in the original requirements, loads with a Warning. So do
// attribute values between typographic quotes (ip=’192.0.2.10’).
//
// Client attributes: ip (required; IP address or host name), port
// (default 22), username (required), password (plain text, env:NAME or
// file:PATH; see ParseSecret), key (path of a private key file; relative
// to the directory of config.xml, ~/ is the home directory), mail (where
// this client's alerts go; optional, with a Warning). Without password and
// key, only an ssh-agent can authenticate, which is a Warning. Alert
// attributes: type (required, a lower-case identifier) and limit
// (required, a number optionally followed by % or a unit, as in "50%",
// "2GiB", "10d"; its meaning belongs to the alert type). The built-in
// type DownAlertType is always accepted; its limit is a count of rounds
// or "off", read by core/alert.
//
// The Config is nil exactly when the Diagnostics hold an Error; see
// ReadInventory for what could be read of a file with errors.
func LoadInventory(path string, opts LoadOptions) (*Config, Diagnostics) {
	cfg, diags := ReadInventory(path, opts)
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, diags
}

// ReadInventory reads and validates config.xml as LoadInventory does,
// but returns what could be read even when the Diagnostics hold errors,
// so that the checks of a later stage (the alert rules against the alert
// types the sources declare) can report their problems in the same pass.
// Such a Config holds every client, including those with errors in their
// attributes, and every <alert> whose type passed this loader's checks
// (one whose limit did not has LimitReported set); it must not be used
// for a round. The Config is nil
// when the file cannot be read or is not well-formed XML: the rest of
// such a file cannot be trusted, so its syntax error is the only
// diagnostic.
func ReadInventory(path string, opts LoadOptions) (*Config, Diagnostics) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Diagnostics{readFailure(path, err,
			"create it (the config.xml at the top of the CSCS repository is a documented example) or give its path with --config")}
	}
	src := newSourceFile(path, data)
	text, quoted := straightenQuotes(withoutBOM(data))
	l := &inventoryLoader{
		src:    src,
		text:   text,
		quoted: quoted,
		dir:    filepath.Dir(path),
		opts:   opts,
		dec:    xml.NewDecoder(bytes.NewReader(text)),
		seen:   map[string]Pos{},
	}
	cfg := l.load()
	l.diags.Sort()
	if l.malformedXML {
		return nil, l.diags
	}
	return cfg, l.diags
}

// readFailure is the diagnostic for a configuration file that cannot be read.
func readFailure(path string, err error, createFix string) Diagnostic {
	d := Diagnostic{Severity: Error, Pos: Pos{File: path}}
	var pe *os.PathError
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.Message = "the file does not exist"
		d.Fix = createFix
	case errors.As(err, &pe):
		d.Message = "cannot read the file: " + pe.Err.Error()
	default:
		d.Message = "cannot read the file: " + err.Error()
	}
	return d
}

// errMalformed stops loading after the XML decoder failed; the failure is
// already recorded as a diagnostic.
var errMalformed = errors.New("malformed XML")

type openElement struct {
	name string
	off  int
}

type inventoryLoader struct {
	src    *sourceFile
	text   []byte            // the file with typographic quotes straightened
	quoted map[int][]rawAttr // attributes that were in typographic quotes, by tag offset
	dir    string            // directory of the file, for relative paths
	opts   LoadOptions
	dec    *xml.Decoder
	open   []openElement  // elements not closed yet, outermost first
	seen   map[string]Pos // client host:port → where it was first listed
	diags  Diagnostics
	nth    int  // clients seen so far
	bare   bool // a <client> without <clients> was reported
	// malformedXML is set when the decoder failed: the file is not
	// well-formed, and its syntax error is the only diagnostic.
	malformedXML bool
}

func (l *inventoryLoader) report(sev Severity, pos Pos, field, msg, fix string) {
	l.diags = append(l.diags, Diagnostic{Severity: sev, Pos: pos, Field: field, Message: msg, Fix: fix})
}

// next returns the next token and the offset where it starts. A decoder
// failure is recorded and turned into errMalformed; io.EOF passes through.
func (l *inventoryLoader) next() (xml.Token, int, error) {
	off := int(l.dec.InputOffset())
	tok, err := l.dec.Token()
	if err == io.EOF && len(l.open) == 0 {
		return nil, off, io.EOF
	}
	if err == io.EOF {
		err = &xml.SyntaxError{Msg: "unexpected EOF"}
	}
	if err != nil {
		// A syntax error is the one diagnostic worth reading: what was
		// found before it is dropped, and what follows cannot be read.
		l.diags = nil
		l.malformedXML = true
		l.malformed(err, off)
		return nil, off, errMalformed
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if lt := bytes.IndexByte(l.text[off:], '<'); lt >= 0 {
			off += lt
		}
		l.open = append(l.open, openElement{name: t.Name.Local, off: off})
	case xml.EndElement:
		l.open = l.open[:len(l.open)-1]
	}
	return tok, off, nil
}

// skip consumes the rest of the element whose start tag was just read.
func (l *inventoryLoader) skip() error {
	depth := len(l.open)
	for len(l.open) >= depth {
		if _, _, err := l.next(); err != nil {
			return err
		}
	}
	return nil
}

func (l *inventoryLoader) load() *Config {
	cfg := &Config{Path: l.src.path}
	// The file ends at io.EOF, or at a failure already recorded: either
	// way, what was read is checked below.
	_ = l.contents("the top of the file", func(t xml.StartElement, off int) error {
		switch t.Name.Local {
		case rootElement:
			return l.clientsElement(t, off, cfg)
		case clientElement:
			if !l.bare {
				l.bare = true
				l.report(Warning, l.src.pos(off), "",
					"<client> elements are not inside a <clients> root element; they are read as if they were",
					"wrap all <client> elements in one <clients> … </clients> element")
			}
			return l.clientElement(t, off, cfg)
		}
		l.report(Error, l.src.pos(off), "", fmt.Sprintf("unknown element <%s> at the top of the file", t.Name.Local),
			"the file holds one <clients> element with <client> elements inside")
		return l.skip()
	})
	if len(cfg.Clients) == 0 && !l.diags.HasErrors() {
		l.report(Warning, l.src.filePos(), "", "there are no <client> elements, so there is nothing to collect",
			"add <client ip='…' username='…' …/> elements inside <clients>")
	}
	return cfg
}

func (l *inventoryLoader) checkNoText(t xml.CharData, off int, where string) {
	if len(bytes.TrimSpace(t)) == 0 {
		return
	}
	lead := len(t) - len(bytes.TrimLeft(t, " \t\r\n"))
	l.report(Error, l.src.pos(off+lead), "", "unexpected text in "+where,
		"remove it; settings are written as attributes, and notes as <!-- comments -->")
}

func (l *inventoryLoader) clientsElement(start xml.StartElement, off int, cfg *Config) error {
	l.attributes(start, off, nil, "<clients>")
	return l.contents("<clients>", func(t xml.StartElement, off int) error {
		if t.Name.Local == clientElement {
			return l.clientElement(t, off, cfg)
		}
		l.report(Error, l.src.pos(off), "", fmt.Sprintf("unknown element <%s> inside <clients>", t.Name.Local),
			"<clients> holds only <client> elements")
		return l.skip()
	})
}

// contents reads the content of the element whose start tag was just
// read, up to its end tag (or, at the top of the file, to io.EOF): every
// child element goes to child, which reads it whole, and text other than
// white space is reported as being in where. It returns the first error
// of next or child.
func (l *inventoryLoader) contents(where string, child func(t xml.StartElement, off int) error) error {
	for {
		tok, off, err := l.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := child(t, off); err != nil {
				return err
			}
		case xml.CharData:
			l.checkNoText(t, off, where)
		}
	}
}

// attr is one attribute of an element, with its position.
type attr struct {
	value string
	pos   Pos
}

// attributes returns the element's known attributes by name and reports
// unknown and repeated ones. Where the raw start tag cannot be matched to
// the decoded attributes, positions fall back to the element's.
func (l *inventoryLoader) attributes(start xml.StartElement, off int, known []string, element string) map[string]attr {
	_, raw := scanStartTag(l.text, off, false)
	if len(raw) != len(start.Attr) {
		raw = nil
	}
	out := map[string]attr{}
	for i, a := range start.Attr {
		pos := l.src.pos(off)
		name := a.Name.Local
		if raw != nil {
			pos = l.src.pos(raw[i].nameOff)
			name = raw[i].name
		}
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		if a.Name.Space != "" || !slices.Contains(known, name) {
			l.report(Error, pos, "", fmt.Sprintf("unknown attribute %q on %s", name, element),
				unknownNameFix(name, known, "known attributes"))
			continue
		}
		if first, dup := out[name]; dup {
			l.report(Error, pos, "", fmt.Sprintf("attribute %s is given twice on %s (first at line %d)", name, element, first.pos.Line),
				"keep one of them")
			continue
		}
		out[name] = attr{value: a.Value, pos: pos}
	}
	return out
}

// required returns the attribute of attrs named attribute. When it is
// missing or empty, it reports that as an Error at the element (elemPos,
// name) with fix, and returns false.
func (l *inventoryLoader) required(attrs map[string]attr, attribute string, elemPos Pos, name, fix string) (attr, bool) {
	a, ok := attrs[attribute]
	if !ok || a.value == "" {
		l.report(Error, elemPos, name, "the "+attribute+" attribute is missing", fix)
		return a, false
	}
	return a, true
}

// warnTypographic reports, once per element, attribute values that were
// in typographic quotes and read as if in straight quotes.
func (l *inventoryLoader) warnTypographic(off int, field string) {
	attrs := l.quoted[off]
	if len(attrs) == 0 {
		return
	}
	var quotes []string
	for _, a := range attrs {
		for _, q := range []string{string(a.open), string(a.close)} {
			if !slices.Contains(quotes, q) {
				quotes = append(quotes, q)
			}
		}
	}
	first := attrs[0]
	example := "…"
	if slices.Contains(publicAttributes, first.name) {
		example = first.value
	}
	s := string(first.straight)
	quoteList := strings.Join(quotes, " and ")
	if len(quotes) > 2 {
		quoteList = strings.Join(quotes[:len(quotes)-1], ", ") + " and " + quotes[len(quotes)-1]
	}
	l.report(Warning, l.src.pos(first.nameOff), field,
		fmt.Sprintf("attribute values are in typographic quotes (%s…%s), which XML does not allow; %d value(s) read as if in straight quotes",
			string(first.open), string(first.close), len(attrs)),
		fmt.Sprintf("replace %s with %s (straight quotes): %s=%s%s%s", quoteList, s, first.name, s, example, s))
}

func (l *inventoryLoader) clientElement(start xml.StartElement, off int, cfg *Config) error {
	l.nth++
	attrs := l.attributes(start, off, clientAttributes, "<client>")
	elemPos := l.src.pos(off)
	c := Client{Pos: elemPos, Port: defaultPort}

	name := fmt.Sprintf("client #%d", l.nth)
	ip, hasIP := l.required(attrs, "ip", elemPos, name, "add ip='192.0.2.10' (the address or host name to connect to)")
	switch {
	case !hasIP:
		// Reported by required.
	case !isHost(ip.value):
		l.report(Error, ip.pos, name+" attribute ip", fmt.Sprintf("%q is not an IP address or host name", ip.value),
			hostFix(ip.value, func(h, p string) string {
				if p == "" {
					return "ip='" + h + "'"
				}
				return "ip='" + h + "' port='" + p + "'"
			}))
	default:
		c.IP = ip.value
		name = "client " + ip.value
	}
	field := func(attribute string) string { return name + " attribute " + attribute }
	l.warnTypographic(off, name)

	portOK := true
	if p, ok := attrs["port"]; ok {
		if n, valid := parsePort(p.value); valid {
			c.Port = n
		} else {
			portOK = false
			l.report(Error, p.pos, field("port"), fmt.Sprintf("%q is not a port number (1-65535)", p.value),
				"write a number such as 22, or leave the attribute out for 22")
		}
	}

	if u, ok := l.required(attrs, "username", elemPos, name, "add username='…' (the account to log in as over SSH)"); ok {
		c.Username = u.value
	}

	if p, ok := attrs["password"]; ok && p.value != "" {
		secret, err := ParseSecret(p.value, l.dir, l.opts.Env)
		if err != nil {
			l.report(Error, p.pos, field("password"), err.Error(), secretFix(p.value, "config.xml"))
		}
		c.Password = secret
	}

	if k, ok := attrs["key"]; ok && k.value != "" {
		keyPath, err := l.keyFile(k.value)
		if err != nil {
			l.report(Error, k.pos, field("key"), err.Error(),
				"correct the path (a relative path starts at the directory of config.xml, ~/ at your home directory) or remove the attribute")
		}
		c.Key = keyPath
	}
	if attrs["password"].value == "" && attrs["key"].value == "" {
		l.report(Warning, elemPos, name, "neither password nor key is given; only keys held by an ssh-agent (SSH_AUTH_SOCK) will be tried",
			"add password='env:NAME' or key='~/.ssh/id_ed25519', unless an ssh-agent holds the key")
	}

	if m, ok := attrs["mail"]; !ok || m.value == "" {
		l.report(Warning, elemPos, name, "the mail attribute is missing, so this client's alerts and event logs cannot be mailed",
			"add mail='ops@example.com'")
	} else if reason, valid := checkAddress(m.value); !valid {
		l.report(Error, m.pos, field("mail"), fmt.Sprintf("%q is not a mail address (%s)", m.value, reason),
			"write one address such as ops@example.com")
	} else {
		c.Mail = m.value
	}

	if c.IP != "" && portOK {
		key := hostKey(c.IP) + "|" + strconv.Itoa(c.Port)
		if first, dup := l.seen[key]; dup {
			l.report(Error, elemPos, name, fmt.Sprintf("%s port %d is listed twice: at line %d and at line %d", c.IP, c.Port, first.Line, elemPos.Line),
				"remove one of the two <client> elements, or merge their <alert> rules into one")
		} else {
			l.seen[key] = elemPos
		}
	}

	alerts := 0 // <alert> elements seen, to name those without a valid type
	err := l.contents("<client>", func(t xml.StartElement, off int) error {
		if t.Name.Local == alertElement {
			alerts++
			if a, keep := l.alertElement(t, off, name, alerts); keep {
				c.Alerts = append(c.Alerts, a)
			}
			return l.skipChildren("<alert>")
		}
		l.report(Error, l.src.pos(off), name, fmt.Sprintf("unknown element <%s> inside <client>", t.Name.Local),
			"<client> holds only <alert type='…' limit='…'/> elements")
		return l.skip()
	})
	if err != nil {
		return err
	}
	cfg.Clients = append(cfg.Clients, c)
	return nil
}

// skipChildren reads to the end of an element that takes no content,
// reporting any it has.
func (l *inventoryLoader) skipChildren(element string) error {
	return l.contents(element, func(t xml.StartElement, off int) error {
		l.report(Error, l.src.pos(off), "", fmt.Sprintf("unknown element <%s> inside %s", t.Name.Local, element),
			element+" takes only attributes; end it with />")
		return l.skip()
	})
}

// alertElement reads an <alert> element. keep is false when its type
// has an error; an alert whose limit has one is kept with LimitReported
// set, so that its type is checked against the sources too.
func (l *inventoryLoader) alertElement(start xml.StartElement, off int, client string, nth int) (a Alert, keep bool) {
	attrs := l.attributes(start, off, alertAttributes, "<alert>")
	elemPos := l.src.pos(off)
	a = Alert{Pos: elemPos}
	name := fmt.Sprintf("%s alert #%d", client, nth)

	t, hasType := l.required(attrs, "type", elemPos, name, "add type='memory' (or another alert type)")
	switch {
	case !hasType:
	case !alertTypePattern.MatchString(t.value):
		l.report(Error, t.pos, name+" attribute type", fmt.Sprintf("%q is not an alert type name", t.value), alertTypeFix(t.value))
	case len(l.opts.AlertTypes) > 0 && !slices.Contains(l.opts.AlertTypes, t.value) && t.value != DownAlertType:
		l.report(Error, t.pos, name+" attribute type", fmt.Sprintf("unknown alert type %q", t.value),
			unknownNameFix(t.value, l.opts.AlertTypes, "alert types"))
	default:
		a.Type = t.value
		name = client + " alert " + t.value
	}
	l.warnTypographic(off, name)

	missingFix := "add limit='50%' (or another threshold)"
	if a.Type == DownAlertType {
		missingFix = "add limit='3' (failed rounds in a row) or limit='off'"
	}
	lim, hasLimit := l.required(attrs, "limit", elemPos, name, missingFix)
	switch {
	case !hasLimit:
		a.LimitReported = true
	case a.Type == DownAlertType:
		a.Limit = lim.value // a count of rounds or "off": core/alert reads it
	case !limitPattern.MatchString(lim.value):
		a.LimitReported = true
		l.report(Error, lim.pos, name+" attribute limit", fmt.Sprintf("%q is not a limit", lim.value), limitFix(lim.value))
	default:
		a.Limit = lim.value
	}
	l.alertFor(attrs, &a, name)
	return a, a.Type != ""
}

// MaxRounds is the most rounds in a row an alert's for attribute, or a
// down alert's limit, may count (as an overlay alert's for).
const MaxRounds = 1000

// alertFor reads an <alert>'s optional for attribute: how many rounds in a
// row its limit must be broken before it fires.
func (l *inventoryLoader) alertFor(attrs map[string]attr, a *Alert, name string) {
	f, ok := attrs["for"]
	if !ok {
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(f.value))
	switch {
	case a.Type == DownAlertType:
		l.report(Error, f.pos, name+" attribute for", "a down alert counts its rounds in limit",
			"remove for and write the rounds in limit, such as limit='3'")
	case err != nil || n < 1 || n > MaxRounds:
		l.report(Error, f.pos, name+" attribute for", fmt.Sprintf("%q is not a count of rounds (1-%d)", f.value, MaxRounds),
			"write how many rounds in a row the limit must be broken, such as for='3'")
	default:
		a.For = n
	}
}

// alertTypeFix says how to correct a type attribute that is not an alert
// type name: its lower-case form when that is one.
func alertTypeFix(written string) string {
	if lower := strings.ToLower(strings.TrimSpace(written)); alertTypePattern.MatchString(lower) {
		return "write type='" + lower + "'"
	}
	return "write a lower-case name such as memory or cpu"
}

// limitFix says how to correct a limit attribute that is not a limit: the
// same without spaces when that is one.
func limitFix(written string) string {
	if squeezed := strings.Join(strings.Fields(written), ""); squeezed != written && limitPattern.MatchString(squeezed) {
		return "remove the spaces: limit='" + squeezed + "'"
	}
	return "write a number, optionally followed by % or a unit, such as 50% or 2GiB"
}

// keyFile resolves the key attribute to a path and checks that it names a
// file. It does not read the key.
func (l *inventoryLoader) keyFile(written string) (string, error) {
	path := written
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return written, fmt.Errorf("cannot find the home directory for %s: %w", written, err)
		}
		path = filepath.Join(home, rest)
	} else if !filepath.IsAbs(path) {
		path = filepath.Join(l.dir, path)
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return path, fmt.Errorf("key file %s does not exist", path)
	case err != nil:
		return path, fmt.Errorf("check key file: %w", err)
	case info.IsDir():
		return path, fmt.Errorf("key file %s is a directory", path)
	}
	return path, nil
}

// secretFix says how to correct a password written as env:NAME or file:PATH.
func secretFix(written, file string) string {
	switch {
	case strings.HasPrefix(written, "env:"):
		return "set the variable before running cscs, or put the password in a file and write file:PATH"
	case strings.HasPrefix(written, "file:"):
		return "create the file or correct the path (a relative path starts at the directory of " + file + ")"
	}
	return ""
}

// malformed records a decoder failure as one diagnostic with a position
// and a message in plain words.
func (l *inventoryLoader) malformed(err error, tokenOff int) {
	after := int(l.dec.InputOffset())
	off := max(after-1, 0)
	msg := err.Error()
	fix := ""
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg = se.Msg
		switch {
		case se.Msg == "unexpected EOF":
			l.unexpectedEOF(tokenOff)
			return
		case se.Msg == "unquoted or missing attribute value in element":
			msg = "an attribute value is not in quotes"
			fix = "write name='value' or name=\"value\" with straight quotes"
			if near := l.src.data[max(0, off-3):min(len(l.src.data), off+6)]; bytes.ContainsAny(near, "\u2018\u2019\u201C\u201D") {
				msg = "an attribute value is in typographic quotes that cannot be read as straight quotes (the closing quote is missing, or the value holds both ' and \")"
				fix = "write the value between straight quotes ' or \""
			}
		case se.Msg == "attribute name without = in element":
			msg = "an attribute has no = and value"
			fix = "write name='value'"
		case strings.HasPrefix(se.Msg, "invalid character entity"):
			// The decoder quotes the text after &, which may be part of a
			// password: say it in other words.
			if amp := bytes.LastIndexByte(l.text[:min(after, len(l.text))], '&'); amp >= 0 {
				off = amp
			}
			msg = "an & does not start an entity such as &amp; or &lt;"
			fix = "write a literal & as &amp;"
		case se.Msg == "unescaped < inside quoted string":
			msg = "an attribute value contains <"
			fix = "write < as &lt; inside attribute values"
		case strings.Contains(se.Msg, " closed by "):
			if lt := bytes.LastIndex(l.text[:min(after, len(l.text))], []byte("</")); lt >= 0 {
				off = lt
			}
			fix = "close elements in the reverse order they were opened; an element without children can end with />"
			if len(l.open) > 0 {
				inner := l.open[len(l.open)-1]
				msg = fmt.Sprintf("%s comes while <%s> (line %d) is still open", l.text[off:min(after, len(l.text))], inner.name, l.src.pos(inner.off).Line)
				fix = fmt.Sprintf("add </%s> before it, or end the <%s> start tag with /> when it has no children", inner.name, inner.name)
			}
		case strings.Contains(se.Msg, "invalid UTF-8"):
			fix = "save the file as UTF-8"
		}
	} else if strings.Contains(msg, "CharsetReader") {
		msg = "the file declares an encoding other than UTF-8"
		fix = "save the file as UTF-8 and declare <?xml version=\"1.0\" encoding=\"UTF-8\"?> or no declaration"
	}
	l.report(Error, l.src.pos(off), "", "malformed XML: "+msg, fix)
}

// unexpectedEOF reports a file that ends inside a tag or an element.
func (l *inventoryLoader) unexpectedEOF(tokenOff int) {
	if lt := bytes.IndexByte(l.text[tokenOff:], '<'); lt >= 0 && bytes.IndexByte(l.text[tokenOff+lt:], '>') < 0 {
		l.report(Error, l.src.pos(tokenOff+lt), "", "malformed XML: the tag starting here is not closed with >",
			"end the tag with > (or with /> when it has no children)")
		return
	}
	if len(l.open) > 0 {
		e := l.open[len(l.open)-1]
		l.report(Error, l.src.pos(e.off), "", fmt.Sprintf("malformed XML: <%s> is never closed", e.name),
			fmt.Sprintf("add </%s> after its last child, or end the start tag with /> when it has none", e.name))
		return
	}
	l.report(Error, l.src.pos(len(l.src.data)), "", "malformed XML: the file ends too early", "")
}
