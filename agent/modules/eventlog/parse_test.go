package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the parser's output")

// golden is what testdata/golden/<fixture>.json holds: the parsed event or
// the error.
type golden struct {
	Error string `json:"error,omitempty"`
	Event *Event `json:"event,omitempty"`
}

func TestParseEventXMLFixtures(t *testing.T) {
	tests := map[string]struct {
		wantErr string // substring of the error; "" means success
		check   func(t *testing.T, e Event)
	}{
		"security-4624-logon": {check: func(t *testing.T, e Event) {
			want(t, "RecordID", e.RecordID, uint64(48213))
			want(t, "EventID", e.EventID, 4624)
			want(t, "Time", e.Time, time.Date(2026, 3, 2, 8, 14, 27, 391826500, time.UTC))
			want(t, "Level", e.Level, "audit_success")
			want(t, "Provider", e.Provider, "Microsoft-Windows-Security-Auditing")
			want(t, "Computer", e.Computer, "WS-ACCT-07.corp.example.org")
			want(t, "Channel", e.Channel, "Security")
			want(t, "Message", e.Message, "An account was successfully logged on.")
			want(t, "len(Data)", len(e.Data), 27)
			want(t, "LogonType", e.Data["LogonType"], "10")
			want(t, "LogonProcessName (padded with a space)", e.Data["LogonProcessName"], "User32")
			want(t, "ProcessName", e.Data["ProcessName"], `C:\Windows\System32\svchost.exe`)
			want(t, "ImpersonationLevel (unresolved insert)", e.Data["ImpersonationLevel"], "%%1833")
			want(t, "Truncated", e.Truncated, false)
		}},
		"security-4625-failed-logon": {check: func(t *testing.T, e Event) {
			want(t, "RecordID", e.RecordID, uint64(48207))
			want(t, "Time (9 fractional digits)", e.Time, time.Date(2026, 3, 2, 8, 13, 55, 120944500, time.UTC))
			want(t, "Level", e.Level, "audit_failure")
			want(t, "IpAddress", e.Data["IpAddress"], "198.51.100.23")
			want(t, "TargetUserName", e.Data["TargetUserName"], "administrator")
			if !strings.HasPrefix(e.Message, "An account failed to log on.\n\nSubject:\n\tSecurity ID:\t\tS-1-0-0\n") {
				t.Errorf("Message = %q, want RenderingInfo's text with LF line ends and tabs", e.Message)
			}
			if strings.ContainsRune(e.Message, '\r') {
				t.Errorf("Message keeps CR: %q", e.Message)
			}
		}},
		"security-4672-special-privileges": {check: func(t *testing.T, e Event) {
			want(t, "Level", e.Level, "audit_success")
			want(t, "PrivilegeList", e.Data["PrivilegeList"], "SeSecurityPrivilege SeBackupPrivilege SeRestorePrivilege "+
				"SeTakeOwnershipPrivilege SeDebugPrivilege SeSystemEnvironmentPrivilege SeLoadDriverPrivilege "+
				"SeImpersonatePrivilege SeDelegateSessionUserImpersonatePrivilege")
			want(t, "Message", e.Message, "Special privileges assigned to new logon.")
		}},
		"security-4720-user-created": {check: func(t *testing.T, e Event) {
			want(t, "EventID", e.EventID, 4720)
			want(t, "SamAccountName", e.Data["SamAccountName"], "svc-backup2")
			want(t, "UserAccountControl", e.Data["UserAccountControl"], "%%2080 %%2082 %%2084")
			want(t, "len(Data)", len(e.Data), 26)
		}},
		"security-1102-log-cleared": {check: func(t *testing.T, e Event) {
			want(t, "RecordID", e.RecordID, uint64(1))
			want(t, "Provider", e.Provider, "Microsoft-Windows-Eventlog")
			want(t, "Level (keywords say audit success)", e.Level, "audit_success")
			want(t, "SubjectUserName", e.Data["LogFileCleared/SubjectUserName"], "Administrator")
			want(t, "len(Data)", len(e.Data), 4)
			want(t, "clear event of Security", isClearEvent(e, "Security"), true)
		}},
		"system-104-log-cleared": {check: func(t *testing.T, e Event) {
			want(t, "Channel", e.Data["LogFileCleared/Channel"], "Application")
			if v, ok := e.Data["LogFileCleared/BackupPath"]; !ok || v != "" {
				t.Errorf("BackupPath = %q, %v; want an empty entry", v, ok)
			}
			want(t, "clear event of Application", isClearEvent(e, "application"), true)
			want(t, "clear event of System", isClearEvent(e, "System"), false)
			want(t, "Message", e.Message, "An event log was cleared.")
		}},
		"encoding-utf16le-bom": {check: func(t *testing.T, e Event) {
			want(t, "TargetUserName", e.Data["TargetUserName"], "Jürgen-Ω")
			want(t, "RecordID", e.RecordID, uint64(48391))
		}},
		"encoding-utf16be-declared-utf8": {check: func(t *testing.T, e Event) {
			want(t, "EventID", e.EventID, 1102)
			want(t, "SubjectDomainName", e.Data["LogFileCleared/SubjectDomainName"], "WS-ACCT-07")
		}},
		"encoding-utf8-declared-utf16": {check: func(t *testing.T, e Event) {
			want(t, "TargetUserName", e.Data["TargetUserName"], "jürgen.müller")
		}},
		"encoding-utf16le-no-bom": {check: func(t *testing.T, e Event) {
			want(t, "EventID", e.EventID, 4672)
			want(t, "SubjectUserName", e.Data["SubjectUserName"], "Administrator")
		}},
		"hostile-huge-field": {check: func(t *testing.T, e Event) {
			cmd := e.Data["CommandLine"]
			if len(cmd) > MaxFieldBytes || !strings.HasPrefix(cmd, "powershell.exe -enc QUFB") || !strings.HasSuffix(cmd, "…") {
				t.Errorf("CommandLine is %d bytes (%.30q…), want at most %d ending in …", len(cmd), cmd, MaxFieldBytes)
			}
			want(t, "Truncated", e.Truncated, true)
			want(t, "SubjectUserName", e.Data["SubjectUserName"], "mhoffmann")
		}},
		"hostile-control-chars": {check: func(t *testing.T, e Event) {
			want(t, "Computer", e.Computer, "WS-ACCT-07")
			want(t, "TargetUserName", e.Data["TargetUserName"], "ad[31mmin[0m")
			want(t, "WorkstationName", e.Data["WorkstationName"], "exe.txt")
			want(t, "IpAddress", e.Data["IpAddress"], "203.0.113.9 Subject: password reset ok")
			want(t, "Name", e.Data["Name"], "x")
			want(t, "ProcessName", e.Data["ProcessName"], `C:\caf`+"\uFFFD"+`.exe`)
		}},
		"hostile-malformed":           {wantErr: "closed by </EventData>"},
		"hostile-doctype-entities":    {wantErr: "document type declarations are not allowed"},
		"hostile-external-entity":     {wantErr: "document type declarations are not allowed"},
		"hostile-truncated":           {wantErr: "unexpected EOF"},
		"hostile-no-record-id":        {wantErr: "no EventRecordID"},
		"hostile-duplicate-record-id": {wantErr: "more than one EventRecordID"},
		"hostile-wrong-root":          {wantErr: "root element is <Evnt>"},
		"hostile-two-events":          {wantErr: "more than one root element"},
		"hostile-bad-time":            {wantErr: `TimeCreated SystemTime "yesterday"`},
		"hostile-empty":               {wantErr: "no Event element"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join("testdata", name+".xml"))
			if err != nil {
				t.Fatal(err)
			}
			e, err := ParseEventXML(input)
			got := golden{Event: &e}
			if err != nil {
				got = golden{Error: err.Error()}
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("ParseEventXML: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("ParseEventXML = %+v, want an error with %q", e, tc.wantErr)
			case tc.wantErr != "":
				if !errors.Is(err, ErrMalformedEvent) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q, want ErrMalformedEvent with %q", err, tc.wantErr)
				}
			default:
				tc.check(t, e)
				assertSafe(t, e)
			}
			compareGolden(t, filepath.Join("testdata", "golden", name+".json"), got)
		})
	}
}

// compareGolden compares got with the golden file, or rewrites it with -update.
func compareGolden(t *testing.T, path string, got golden) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wantBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b, wantBytes) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, b, wantBytes)
	}
}

func TestParseEventXMLGenerated(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("testdata", "security-4624-logon.xml"))
	if err != nil {
		t.Fatal(err)
	}
	withEventData := func(inner string) []byte {
		s := string(base)
		start, end := strings.Index(s, "<EventData>"), strings.Index(s, "</EventData>")
		return []byte(s[:start] + "<EventData>" + inner + s[end:])
	}
	manyFields := func(n, size int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "<Data Name='F%03d'>%s</Data>", i, strings.Repeat("v", size))
		}
		return b.String()
	}
	tests := map[string]struct {
		input   []byte
		wantErr string
		check   func(t *testing.T, e Event)
	}{
		"too many fields": {
			input: withEventData(manyFields(200, 1)),
			check: func(t *testing.T, e Event) {
				want(t, "len(Data)", len(e.Data), MaxFields)
				want(t, "Truncated", e.Truncated, true)
				want(t, "first field", e.Data["F000"], "v")
			},
		},
		"data bytes over budget": {
			input: withEventData(manyFields(20, 1500)),
			check: func(t *testing.T, e Event) {
				want(t, "len(Data)", len(e.Data), MaxDataBytes/(1500+4))
				want(t, "Truncated", e.Truncated, true)
			},
		},
		"unnamed and repeated data": {
			input: withEventData("<Data>first</Data><Data Name='X'>1</Data><Data>second</Data><Data Name='X'>2</Data><Binary>0A0B</Binary>"),
			check: func(t *testing.T, e Event) {
				want(t, "Data", fmt.Sprint(e.Data), "map[Binary:0A0B Data1:first Data2:second X:1 X#2:2]")
				want(t, "Truncated", e.Truncated, false)
			},
		},
		"oversized XML keeps System and the fields before the cut": {
			input: withEventData("<Data Name='A'>kept</Data>" + manyFields(40, 8000)),
			check: func(t *testing.T, e Event) {
				want(t, "RecordID", e.RecordID, uint64(48213))
				want(t, "A", e.Data["A"], "kept")
				want(t, "Truncated", e.Truncated, true)
			},
		},
		"oversized XML with System after the cut": {
			input:   []byte("<Event><EventData><Data Name='A'>" + strings.Repeat("x", MaxEventXMLBytes) + "</Data></EventData><System/></Event>"),
			wantErr: "unexpected EOF",
		},
		"nested UserData deeper than the cap": {
			input: []byte("<Event><System><EventID>1</EventID><EventRecordID>2</EventRecordID><TimeCreated SystemTime='2026-01-01T00:00:00Z'/></System><UserData>" +
				strings.Repeat("<a>", 40) + "deep" + strings.Repeat("</a>", 40) + "<b c='d'>e</b></UserData></Event>"),
			check: func(t *testing.T, e Event) {
				want(t, "Data", fmt.Sprint(e.Data), "map[b:e b/@c:d]")
				want(t, "Truncated", e.Truncated, true)
			},
		},
		"event without namespace and level": {
			input: []byte("<Event><System><EventID>7</EventID><EventRecordID>9</EventRecordID><TimeCreated SystemTime='2026-01-01T01:00:00+01:00'/></System></Event>"),
			check: func(t *testing.T, e Event) {
				want(t, "Time in UTC", e.Time, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
				want(t, "Level", e.Level, "")
				want(t, "Data", len(e.Data), 0)
			},
		},
		"document type declaration inside the event": {
			input:   withEventData("<!DOCTYPE x [<!ENTITY e 'boom'>]><Data Name='A'>b</Data>"),
			wantErr: "document type declarations are not allowed",
		},
		"foreign namespace": {
			input:   []byte("<Event xmlns='urn:other'><System/></Event>"),
			wantErr: "root element is <Event>",
		},
		"record id zero": {
			input:   bytes.Replace(base, []byte("<EventRecordID>48213<"), []byte("<EventRecordID>0<"), 1),
			wantErr: "EventRecordID \"0\" is not a positive number",
		},
		"event id out of range": {
			input:   bytes.Replace(base, []byte("<EventID>4624<"), []byte("<EventID>70000<"), 1),
			wantErr: "EventID \"70000\"",
		},
		"unknown entity": {
			input:   withEventData("<Data Name='A'>&xxe;</Data>"),
			wantErr: "invalid character entity &xxe;",
		},
		"text after the event": {
			input:   append(bytes.Clone(base), "trailing"...),
			wantErr: "text outside the Event element",
		},
		"processing instruction and comments are ignored": {
			input: append([]byte("<?xml version='1.0' encoding='windows-1252'?><!-- c -->"), base...),
			check: func(t *testing.T, e Event) { want(t, "RecordID", e.RecordID, uint64(48213)) },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEventXML(tc.input)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrMalformedEvent) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseEventXML error = %v, want ErrMalformedEvent with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEventXML: %v", err)
			}
			tc.check(t, e)
			assertSafe(t, e)
		})
	}
}

func TestPrepareXML(t *testing.T) {
	tests := map[string]struct {
		input   []byte
		want    string
		wantCut bool
	}{
		"plain":                       {input: []byte("<a/>"), want: "<a/>"},
		"utf-8 bom":                   {input: []byte("\uFEFF<a/>"), want: "<a/>"},
		"utf-16le bom":                {input: []byte{0xFF, 0xFE, '<', 0, 'a', 0, '/', 0, '>', 0}, want: "<a/>"},
		"utf-16be bom":                {input: []byte{0xFE, 0xFF, 0, '<', 0, 'a', 0, '/', 0, '>'}, want: "<a/>"},
		"utf-16le odd byte":           {input: []byte{'<', 0, 'a', 0, '>', 0, 'x'}, want: "<a>\uFFFD"},
		"utf-16 lone surrogate":       {input: []byte{'<', 0, 0x00, 0xD8, '>', 0}, want: "<\uFFFD>"},
		"terminating nul":             {input: []byte("<a/>\x00\x00"), want: "<a/>"},
		"invalid utf-8":               {input: []byte("<a>\xC3</a>"), want: "<a>\uFFFD</a>"},
		"raw controls":                {input: []byte("<a>\x00\x01\t\n\x1F</a>"), want: "<a>\t\n</a>"},
		"illegal references":          {input: []byte("<a>&#0;&#x1b;&#12;&#xFFFE;&#xD800;&#99999999999;</a>"), want: "<a></a>"},
		"legal references stay":       {input: []byte("<a>&#9;&#x41;&#233;&amp;</a>"), want: "<a>&#9;&#x41;&#233;&amp;</a>"},
		"malformed reference stays":   {input: []byte("<a>&#xZZ;&#;&#12</a>"), want: "<a>&#xZZ;&#;&#12</a>"},
		"reference without semicolon": {input: []byte("&#1 and then a long text;"), want: "&#1 and then a long text;"},
		"cut":                         {input: bytes.Repeat([]byte("a"), MaxEventXMLBytes+1), want: strings.Repeat("a", MaxEventXMLBytes), wantCut: true},
		"cut utf-16":                  {input: append([]byte{0xFF, 0xFE}, bytes.Repeat([]byte{'a', 0}, MaxEventXMLBytes+5)...), want: strings.Repeat("a", MaxEventXMLBytes), wantCut: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, cut := prepareXML(tc.input)
			if got != tc.want || cut != tc.wantCut {
				t.Errorf("prepareXML = %.60q, %v; want %.60q, %v", got, cut, tc.want, tc.wantCut)
			}
		})
	}
}

func TestCleanValue(t *testing.T) {
	tests := map[string]struct {
		in, want string
		limit    int
		wantCut  bool
	}{
		"line ends and tabs collapse": {in: " a\r\n\t\tb\n", want: "a b", limit: 100},
		"controls and bidi removed":   {in: "a\x00\x7f\u0085\u202eb\u2066", want: "ab", limit: 100},
		"cut on a rune boundary":      {in: "ääää", want: "ä…", limit: 6, wantCut: true},
		"exact fit":                   {in: "abc", want: "abc", limit: 3},
		"tiny limit":                  {in: "abcdef", want: "…", limit: 2, wantCut: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, cut := cleanValue(tc.in, tc.limit)
			if got != tc.want || cut != tc.wantCut {
				t.Errorf("cleanValue(%q, %d) = %q, %v; want %q, %v", tc.in, tc.limit, got, cut, tc.want, tc.wantCut)
			}
		})
	}
}

func FuzzParseEventXML(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEventXML(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedEvent) {
				t.Fatalf("error %v does not wrap ErrMalformedEvent", err)
			}
			return
		}
		assertSafe(t, e)
	})
}

// assertSafe checks the guarantees every parsed event gives, whatever the input.
func assertSafe(t *testing.T, e Event) {
	t.Helper()
	if e.RecordID == 0 || e.Time.Location() != time.UTC {
		t.Errorf("RecordID %d, time zone %v: want a positive id and UTC", e.RecordID, e.Time.Location())
	}
	if _, err := e.Time.MarshalJSON(); err != nil {
		t.Errorf("time %v cannot be put in a report: %v", e.Time, err)
	}
	if len(e.Data) > MaxFields || len(e.Message) > MaxMessageBytes {
		t.Errorf("%d fields, message of %d bytes: over the caps", len(e.Data), len(e.Message))
	}
	single := map[string]string{"Level": e.Level, "Provider": e.Provider, "Computer": e.Computer, "Channel": e.Channel}
	total := 0
	for k, v := range e.Data {
		single["Data key "+k] = k
		single["Data "+k] = v
		total += len(k) + len(v)
		if len(v) > MaxFieldBytes {
			t.Errorf("Data[%q] is %d bytes", k, len(v))
		}
	}
	if total > MaxDataBytes {
		t.Errorf("Data holds %d bytes", total)
	}
	for what, s := range single {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || isBidiControl(r) }) {
			t.Errorf("%s = %q: invalid UTF-8 or control characters", what, s)
		}
	}
	if !utf8.ValidString(e.Message) || strings.ContainsFunc(e.Message, func(r rune) bool {
		return r != '\n' && r != '\t' && (unicode.IsControl(r) || isBidiControl(r))
	}) {
		t.Errorf("Message = %q: invalid UTF-8 or control characters", e.Message)
	}
}

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
