package eventlog

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Size caps of one parsed event. Beyond them text is cut and the event is
// marked Truncated; the per-round budget of Read sits on top of them.
const (
	// MaxEventXMLBytes is how much of one event's XML is parsed. An
	// event cut there is kept if its System section came before the cut.
	MaxEventXMLBytes = 256 << 10
	// MaxFieldBytes caps one Data value.
	MaxFieldBytes = 2 << 10
	// MaxFields caps the number of Data entries.
	MaxFields = 64
	// MaxDataBytes caps the sum of Data keys and values.
	MaxDataBytes = 16 << 10
	// MaxMessageBytes caps Message.
	MaxMessageBytes = 4 << 10

	maxKeyBytes      = 128
	maxSystemBytes   = 256
	maxUserDataDepth = 16
)

// eventNamespace is the namespace of rendered event XML.
const eventNamespace = "http://schemas.microsoft.com/win/2004/08/events/event"

// Keywords bits of Security audit events, whose Level is 0.
const (
	keywordAuditFailure = 0x10000000000000
	keywordAuditSuccess = 0x20000000000000
)

// ParseEventXML parses one event as EvtRender(EvtRenderEventXml) renders it
// (optionally with the RenderingInfo of EvtFormatMessageXml). The input is
// treated as hostile; see the package documentation and the Max* caps. An
// error wraps ErrMalformedEvent and concerns this event only.
func ParseEventXML(b []byte) (Event, error) {
	doc, cut := prepareXML(b)
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	// The bytes were decoded already (prepareXML); a declared encoding
	// is ignored rather than trusted.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	p := eventParser{d: d}
	err := p.document()
	var syntax *xml.SyntaxError
	if err != nil && cut && p.systemDone && errors.As(err, &syntax) && d.InputOffset() >= int64(len(doc)) {
		// The cut ended the document early; keep what came before.
		p.ev.Truncated, err = true, nil
	}
	if err == nil {
		err = p.finish()
	}
	if err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	return p.ev, nil
}

// eventParser walks the tokens of one event.
type eventParser struct {
	d          *xml.Decoder
	ev         Event
	dataBytes  int
	unnamed    int
	systemSeen bool
	systemDone bool
	// Parsed System values, checked by finish.
	eventID, recordID, created, level bool
	levelValue                        int
	keywords                          uint64
	renderedMessage                   string
}

// token returns the next token, refusing document type declarations
// anywhere in the document.
func (p *eventParser) token() (xml.Token, error) {
	t, err := p.d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if _, ok := t.(xml.Directive); ok {
		return nil, errors.New("document type declarations are not allowed")
	}
	return t, nil
}

// document reads the prolog, the Event element and what follows it.
func (p *eventParser) document() error {
	seenRoot := false
	for {
		t, err := p.d.Token()
		if err == io.EOF {
			if !seenRoot {
				return errors.New("no Event element")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.Directive:
			return errors.New("document type declarations are not allowed")
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) > 0 {
				return errors.New("text outside the Event element")
			}
		case xml.StartElement:
			if seenRoot {
				return errors.New("more than one root element")
			}
			if t.Name.Local != "Event" || t.Name.Space != eventNamespace && t.Name.Space != "" {
				return fmt.Errorf("root element is <%s>, want <Event>", clip(t.Name.Local))
			}
			seenRoot = true
			if err := p.event(); err != nil {
				return err
			}
		}
	}
}

// children reads the element just opened up to its end tag, passing each
// child element to read, which must consume it; text between children is
// ignored.
func (p *eventParser) children(read func(xml.StartElement) error) error {
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := read(t); err != nil {
				return err
			}
		}
	}
}

// event reads the children of Event up to its end tag.
func (p *eventParser) event() error {
	return p.children(func(t xml.StartElement) error {
		switch t.Name.Local {
		case "System":
			return p.system()
		case "EventData":
			return p.eventData()
		case "UserData":
			return p.userData(nil, 0)
		case "RenderingInfo":
			return p.renderingInfo()
		}
		return p.skip()
	})
}

// system reads System's children.
func (p *eventParser) system() error {
	if p.systemSeen {
		return errors.New("more than one System element")
	}
	p.systemSeen = true
	if err := p.children(p.systemField); err != nil {
		return err
	}
	p.systemDone = true
	return nil
}

// systemField reads one child of System.
func (p *eventParser) systemField(t xml.StartElement) error {
	switch t.Name.Local {
	case "Provider":
		name := attr(t, "Name")
		if name == "" {
			name = attr(t, "EventSourceName")
		}
		p.ev.Provider, _ = cleanValue(name, maxSystemBytes)
		return p.skip()
	case "TimeCreated":
		if p.created {
			return errors.New("more than one TimeCreated")
		}
		p.created = true
		raw := attr(t, "SystemTime")
		at, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return fmt.Errorf("TimeCreated SystemTime %q is not an RFC 3339 time", clip(raw))
		}
		// A report holds times in UTC, and JSON has no year outside these.
		if y := at.UTC().Year(); y < 0 || y > 9999 {
			return fmt.Errorf("TimeCreated SystemTime %q is outside the years 0000 to 9999 in UTC", clip(raw))
		}
		p.ev.Time = at.UTC()
		return p.skip()
	}
	text, _, err := p.text(maxSystemBytes)
	if err != nil {
		return err
	}
	text, _ = cleanValue(text, maxSystemBytes)
	switch t.Name.Local {
	case "EventID":
		if p.eventID {
			return errors.New("more than one EventID")
		}
		p.eventID = true
		id, err := strconv.Atoi(text)
		if err != nil || id < 0 || id > 0xFFFF {
			return fmt.Errorf("EventID %q is not a number 0..65535", clip(text))
		}
		p.ev.EventID = id
	case "EventRecordID":
		if p.recordID {
			return errors.New("more than one EventRecordID")
		}
		p.recordID = true
		id, err := strconv.ParseUint(text, 10, 64)
		if err != nil || id == 0 {
			return fmt.Errorf("EventRecordID %q is not a positive number", clip(text))
		}
		p.ev.RecordID = id
	case "Level":
		if n, err := strconv.ParseUint(text, 10, 8); err == nil {
			p.level, p.levelValue = true, int(n)
		}
	case "Keywords":
		p.keywords, _ = strconv.ParseUint(text, 0, 64)
	case "Channel":
		p.ev.Channel = text
	case "Computer":
		p.ev.Computer = text
	}
	return nil
}

// eventData reads EventData's Data and Binary children.
func (p *eventParser) eventData() error {
	return p.children(func(t xml.StartElement) error {
		var key string
		switch t.Name.Local {
		case "Data":
			key, _ = cleanValue(attr(t, "Name"), maxKeyBytes)
			if key == "" {
				p.unnamed++
				key = "Data" + strconv.Itoa(p.unnamed)
			}
		case "Binary":
			key = "Binary"
		default:
			return p.skip()
		}
		value, err := p.cappedText(2 * MaxFieldBytes)
		if err != nil {
			return err
		}
		p.addField(key, value)
		return nil
	})
}

// userData flattens the element just opened below UserData (or UserData
// itself, path nil): leaves become Data entries keyed by their path,
// attributes "path/@name".
func (p *eventParser) userData(path []string, depth int) error {
	if depth > maxUserDataDepth {
		p.ev.Truncated = true
		return p.skip()
	}
	var text strings.Builder
	hasChildren := false
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.CharData:
			if room := 2*MaxFieldBytes - text.Len(); room < len(t) {
				p.ev.Truncated = true
				text.Write(t[:max(room, 0)])
			} else {
				text.Write(t)
			}
		case xml.StartElement:
			hasChildren = true
			child := append(path[:len(path):len(path)], t.Name.Local)
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					p.addField(strings.Join(child, "/")+"/@"+a.Name.Local, a.Value)
				}
			}
			if err := p.userData(child, depth+1); err != nil {
				return err
			}
		case xml.EndElement:
			if !hasChildren && len(path) > 0 {
				p.addField(strings.Join(path, "/"), text.String())
			}
			return nil
		}
	}
}

// renderingInfo reads the Message of RenderingInfo.
func (p *eventParser) renderingInfo() error {
	return p.children(func(t xml.StartElement) error {
		if t.Name.Local != "Message" {
			return p.skip()
		}
		msg, err := p.cappedText(2 * MaxMessageBytes)
		if err != nil {
			return err
		}
		p.renderedMessage = msg
		return nil
	})
}

// text returns the character data up to the end of the element just
// opened, including that of nested elements, keeping at most limit bytes
// (cut reports more).
func (p *eventParser) text(limit int) (s string, cut bool, err error) {
	var b strings.Builder
	for depth := 1; ; {
		t, err := p.token()
		if err != nil {
			return "", false, err
		}
		switch t := t.(type) {
		case xml.CharData:
			room := limit - b.Len()
			if room < len(t) {
				cut = true
			}
			b.Write(t[:min(len(t), max(room, 0))])
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth--; depth == 0 {
				return b.String(), cut, nil
			}
		}
	}
}

// cappedText is text that marks the event Truncated when it cuts.
func (p *eventParser) cappedText(limit int) (string, error) {
	s, cut, err := p.text(limit)
	p.ev.Truncated = p.ev.Truncated || cut
	return s, err
}

// skip consumes the element just opened, through token so that nothing
// escapes the checks.
func (p *eventParser) skip() error {
	_, _, err := p.text(0)
	return err
}

// addField cleans key and value and adds them to Data within the caps.
func (p *eventParser) addField(key, value string) {
	key, keyCut := cleanValue(key, maxKeyBytes)
	value, valueCut := cleanValue(value, MaxFieldBytes)
	if keyCut || valueCut {
		p.ev.Truncated = true
	}
	if p.ev.Data == nil {
		p.ev.Data = map[string]string{}
	}
	if len(p.ev.Data) >= MaxFields || p.dataBytes+len(key)+len(value) > MaxDataBytes {
		p.ev.Truncated = true
		return
	}
	unique := key
	for n := 2; ; n++ {
		if _, taken := p.ev.Data[unique]; !taken {
			break
		}
		unique = key + "#" + strconv.Itoa(n)
	}
	p.ev.Data[unique] = value
	p.dataBytes += len(unique) + len(value)
}

// finish checks the required System values and derives Level and Message.
func (p *eventParser) finish() error {
	switch {
	case !p.systemSeen:
		return errors.New("no System element")
	case !p.recordID:
		return errors.New("no EventRecordID")
	case !p.eventID:
		return errors.New("no EventID")
	case !p.created:
		return errors.New("no TimeCreated")
	}
	p.ev.Level = levelName(p.level, p.levelValue, p.keywords)
	if msg, cut := cleanMessage(p.renderedMessage, MaxMessageBytes); msg != "" {
		p.ev.Message = msg
		p.ev.Truncated = p.ev.Truncated || cut
	} else {
		p.ev.Message = describe(p.ev.Provider, p.ev.EventID)
	}
	return nil
}

// attr returns the value of t's attribute local, or "".
func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// clip shortens hostile text quoted in an error.
func clip(s string) string {
	s, _ = cleanValue(s, 40)
	return s
}
