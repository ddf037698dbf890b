package config

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// wantDiag is an expected diagnostic: exact severity, position and field,
// and substrings of the message and fix.
type wantDiag struct {
	sev       Severity
	line, col int
	field     string
	msg       string
	fix       string
}

// checkDiagnostics compares diagnostics with the expected ones in order.
func checkDiagnostics(t *testing.T, file string, got Diagnostics, want []wantDiag) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%s", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		wantPos := Pos{File: file, Line: w.line, Col: w.col}
		if g.Severity != w.sev || g.Pos != wantPos || g.Field != w.field ||
			!strings.Contains(g.Message, w.msg) || !strings.Contains(g.Fix, w.fix) {
			t.Errorf("diagnostic %d:\n got  %s\n want %s: %s: %s: …%s…; fix: …%s…", i, g, wantPos, w.sev, w.field, w.msg, w.fix)
		}
	}
}

func secretFrom(value, source string) Secret { return Secret{value: &value, source: source} }

func TestLoadInventoryGood(t *testing.T) {
	path := filepath.Join("testdata", "good.xml")
	cfg, diags := LoadInventory(path, LoadOptions{Env: envMap(map[string]string{"DB1_PASSWORD": "db1-pass"})})
	if len(diags) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", diags)
	}
	at := func(line, col int) Pos { return Pos{File: path, Line: line, Col: col} }
	want := &Config{Path: path, Clients: []Client{
		{IP: "192.0.2.10", Port: 2222, Username: "collector", Password: NewSecret("plain-pass"), Mail: "ops@example.com",
			Alerts: []Alert{{Type: "memory", Limit: "50%", Pos: at(6, 5)}, {Type: "cpu", Limit: "20%", Pos: at(7, 5)}}, Pos: at(4, 3)},
		{IP: "db1.example.com", Port: 22, Username: "collector", Password: secretFrom("db1-pass", "env:DB1_PASSWORD"),
			Mail: "Ops Team <ops@example.com>", Pos: at(9, 3)},
		{IP: "2001:db8::1", Port: 22, Username: "collector", Password: secretFrom("from-file", "file:secrets/client_password.txt"),
			Key: filepath.Join("testdata", "keys", "id_test"), Mail: "ops@example.com",
			Alerts: []Alert{{Type: "disk_free", Limit: "2GiB", Pos: at(11, 5)}, {Type: "uptime", Limit: "<10m", Pos: at(12, 5)}}, Pos: at(10, 3)},
	}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("LoadInventory =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestLoadInventoryDiagnostics(t *testing.T) {
	portFix := "write a number such as 22"
	tests := map[string]struct {
		opts   LoadOptions
		want   []wantDiag
		loaded bool // a Config comes back (only warnings)
	}{
		"port_out_of_range.xml": {want: []wantDiag{
			{Error, 3, 26, "client 127.0.0.2 attribute port", `"70000" is not a port number (1-65535)`, portFix},
		}},
		"port_not_number.xml": {want: []wantDiag{
			{Error, 2, 26, "client 127.0.0.1 attribute port", `"ssh" is not a port number`, portFix},
		}},
		"bom_crlf.xml": {want: []wantDiag{
			{Error, 2, 26, "client 127.0.0.1 attribute port", `"0" is not a port number`, portFix},
		}},
		"ip_missing.xml": {want: []wantDiag{
			{Error, 2, 3, "client #1", "the ip attribute is missing", "add ip="},
		}},
		"ip_invalid.xml": {want: []wantDiag{
			{Error, 2, 11, "client #1 attribute ip", `"127.0.0.1:2222" is not an IP address or host name`, "ip='127.0.0.1' port='2222'"},
			{Error, 3, 11, "client #2 attribute ip", `"bad host" is not an IP address or host name`, "such as 192.0.2.10"},
			{Error, 4, 11, "client #3 attribute ip", `"10.0.0" is not`, ""},
		}},
		"username_missing.xml": {want: []wantDiag{
			{Error, 2, 3, "client 127.0.0.1", "the username attribute is missing", "add username="},
		}},
		"unknown_attribute.xml": {want: []wantDiag{
			{Error, 2, 26, "", `unknown attribute "prot" on <client>`, "did you mean port? known attributes: ip, port, username, password, key, mail"},
			{Error, 2, 83, "", `unknown attribute "colour" on <client>`, "known attributes: ip, port"},
		}},
		"duplicate_attribute.xml": {want: []wantDiag{
			{Error, 2, 73, "", "attribute username is given twice on <client> (first at line 2)", "keep one"},
		}},
		"duplicate_client.xml": {want: []wantDiag{
			{Error, 4, 3, "client 127.0.0.1", "127.0.0.1 port 22 is listed twice: at line 2 and at line 4", "remove one"},
		}},
		"unknown_child.xml": {want: []wantDiag{
			{Error, 4, 5, "client 127.0.0.1", "unknown element <alarm> inside <client>", "<alert type="},
			{Error, 6, 3, "", "unknown element <server> inside <clients>", "only <client>"},
		}},
		"unknown_root.xml": {want: []wantDiag{
			{Error, 1, 1, "", "unknown element <config> at the top of the file", "<clients>"},
		}},
		"text_in_client.xml": {want: []wantDiag{
			{Error, 3, 5, "", "unexpected text in <client>", "attributes"},
		}},
		"alert_invalid.xml": {want: []wantDiag{
			{Error, 3, 5, "client 127.0.0.1 alert #1", "the type attribute is missing", "add type="},
			{Error, 4, 12, "client 127.0.0.1 alert #2 attribute type", `"Memory" is not an alert type name`, "type='memory'"},
			{Error, 5, 5, "client 127.0.0.1 alert memory", "the limit attribute is missing", "add limit="},
			{Error, 6, 26, "client 127.0.0.1 alert memory attribute limit", `"50 %" is not a limit`, "limit='50%'"},
			{Error, 7, 26, "client 127.0.0.1 alert memory attribute limit", `"half" is not a limit`, "such as 50%"},
		}},
		"alert_unknown_type.xml": {
			opts: LoadOptions{AlertTypes: []string{"cpu", "memory"}},
			want: []wantDiag{
				{Error, 4, 12, "client 127.0.0.1 alert #2 attribute type", `unknown alert type "cpuu"`, "did you mean cpu? alert types: cpu, memory"},
			}},
		"alert_down.xml": { // the built-in type is known without a source; its limit is read by core/alert
			opts: LoadOptions{AlertTypes: []string{"cpu", "memory"}},
			want: []wantDiag{
				{Error, 4, 5, "client 127.0.0.1 alert down", "the limit attribute is missing", "add limit='3' (failed rounds in a row) or limit='off'"},
			}},
		"alert_for.xml": {want: []wantDiag{ // for="3" on line 3 is fine
			{Error, 4, 38, "client 127.0.0.1 alert memory attribute for", `"0" is not a count of rounds (1-1000)`, "such as for='3'"},
			{Error, 5, 38, "client 127.0.0.1 alert memory attribute for", `"three" is not a count of rounds (1-1000)`, "such as for='3'"},
			{Error, 6, 34, "client 127.0.0.1 alert down attribute for", "a down alert counts its rounds in limit", "limit='3'"},
		}},
		"mail_invalid.xml": {want: []wantDiag{
			{Error, 2, 52, "client 127.0.0.1 attribute mail", `"not an address" is not a mail address`, "ops@example.com"},
		}},
		"warnings.xml": {loaded: true, want: []wantDiag{
			{Warning, 2, 3, "client 127.0.0.1", "neither password nor key", "ssh-agent"},
			{Warning, 2, 3, "client 127.0.0.1", "the mail attribute is missing", "add mail="},
		}},
		"empty.xml": {loaded: true, want: []wantDiag{
			{Warning, 0, 0, "", "there are no <client> elements", ""},
		}},
		"secret_env_missing.xml": {
			opts: LoadOptions{Env: envMap(map[string]string{"EMPTY": ""})},
			want: []wantDiag{
				{Error, 2, 39, "client 127.0.0.1 attribute password", "environment variable NOT_SET is not set", "set the variable"},
				{Error, 3, 39, "client 127.0.0.2 attribute password", "environment variable EMPTY is empty", "set the variable"},
			}},
		"secret_file_missing.xml": {want: []wantDiag{
			{Error, 2, 39, "client 127.0.0.1 attribute password",
				"secret file " + filepath.Join("testdata", "bad", "secrets", "nope.txt") + " does not exist", "create the file"},
			{Error, 3, 39, "client 127.0.0.2 attribute key",
				"key file " + filepath.Join("testdata", "bad", "keys", "nope") + " does not exist", "correct the path"},
		}},
		"malformed_unclosed.xml": {want: []wantDiag{
			{Error, 4, 1, "", "malformed XML: </clients> comes while <client> (line 2) is still open", "add </client> before it"},
		}},
		"alert_child.xml": {want: []wantDiag{
			{Error, 2, 39, "client 127.0.0.1 attribute key", "key file " + filepath.Join("testdata", "bad", "keys") + " is a directory", "correct the path"},
			{Error, 3, 35, "", "unknown element <limit> inside <alert>", "end it with />"},
			{Error, 4, 35, "", "unexpected text in <alert>", ""},
		}},
		"malformed_open_tag.xml": {want: []wantDiag{
			{Error, 2, 3, "", "malformed XML: the tag starting here is not closed with >", "end the tag with >"},
		}},
		"malformed_after_errors.xml": {want: []wantDiag{ // only the syntax error, not the bad port before it
			{Error, 3, 3, "", "malformed XML: the tag starting here is not closed with >", ""},
		}},
		"malformed_eof.xml": {want: []wantDiag{
			{Error, 1, 1, "", "malformed XML: <clients> is never closed", "add </clients>"},
		}},
		"malformed_unquoted.xml": {want: []wantDiag{
			{Error, 2, 14, "", "malformed XML: an attribute value is not in quotes", "straight quotes"},
		}},
		"malformed_typographic.xml": {want: []wantDiag{
			{Error, 2, 27, "", "malformed XML: an attribute value is in typographic quotes that cannot be read", "straight quotes"},
		}},
		"malformed_entity.xml": {want: []wantDiag{
			{Error, 2, 50, "", "malformed XML: an & does not start an entity", "&amp;"},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", name)
			cfg, diags := LoadInventory(path, tc.opts)
			checkDiagnostics(t, path, diags, tc.want)
			if (cfg != nil) != tc.loaded {
				t.Errorf("Config returned = %v, want %v (nil exactly when there are errors)", cfg != nil, tc.loaded)
			}
		})
	}
}

func TestLoadInventoryTypographicQuotes(t *testing.T) {
	t.Run("requirements sample loads with warnings", func(t *testing.T) {
		path := filepath.Join("testdata", "requirements_sample.xml")
		cfg, diags := LoadInventory(path, LoadOptions{})
		checkDiagnostics(t, path, diags, []wantDiag{
			{Warning, 1, 1, "", "not inside a <clients> root element", "wrap all <client> elements in one <clients>"},
			{Warning, 1, 9, "client 192.168.1.10", "typographic quotes (’…’)", ""},
		})
		if got, want := diags[1].Fix, "replace ’ with ' (straight quotes): ip='192.168.1.10'"; got != want {
			t.Errorf("fix = %q, want %q", got, want)
		}
		if cfg == nil {
			t.Fatal("no Config")
		}
		at := func(line, col int) Pos { return Pos{File: path, Line: line, Col: col} }
		want := []Client{{IP: "192.168.1.10", Port: 22, Username: "user", Password: NewSecret("pass"), Mail: "ops@example.com",
			Alerts: []Alert{{Type: "memory", Limit: "50%", Pos: at(2, 3)}, {Type: "cpu", Limit: "20%", Pos: at(3, 3)}}, Pos: at(1, 1)}}
		if !reflect.DeepEqual(cfg.Clients, want) {
			t.Errorf("clients =\n%+v\nwant\n%+v", cfg.Clients, want)
		}
	})

	t.Run("mixed quotes; straight-quoted values untouched", func(t *testing.T) {
		path := filepath.Join("testdata", "typographic.xml")
		cfg, diags := LoadInventory(path, LoadOptions{})
		checkDiagnostics(t, path, diags, []wantDiag{
			{Warning, 3, 11, "client 10.0.0.1", "1 value(s)", "replace ‘ and ’ with ' (straight quotes): ip='10.0.0.1'"},
			{Warning, 4, 11, "client 10.0.0.2", "4 value(s)", "replace “, ” and ’ with '"},
			{Warning, 5, 12, "client 10.0.0.2 alert memory", "2 value(s)", "type='memory'"},
		})
		if cfg == nil {
			t.Fatal("no Config")
		}
		c1, c2 := cfg.Clients[0], cfg.Clients[1]
		if c1.IP != "10.0.0.1" || c1.Username != "it’s" || c1.Password.Reveal() != "it’s a secret" {
			t.Errorf("client 1 = %q %q %q; typographic quotes inside straight quotes must stay", c1.IP, c1.Username, c1.Password.Reveal())
		}
		if c2.IP != "10.0.0.2" || c2.Username != "root" || c2.Password.Reveal() != "it’s" || c2.Mail != "ops@example.com" {
			t.Errorf("client 2 = %q %q %q %q; want the values inside the quotes", c2.IP, c2.Username, c2.Password.Reveal(), c2.Mail)
		}
		if len(c2.Alerts) != 1 || c2.Alerts[0].Type != "memory" || c2.Alerts[0].Limit != "90%" {
			t.Errorf("client 2 alerts = %+v", c2.Alerts)
		}
	})

	t.Run("positions count characters of the original file", func(t *testing.T) {
		// port='70000' follows two typographically quoted values (6 bytes
		// of quotes each) on the same line: its column counts characters.
		path := filepath.Join("testdata", "typographic_bad_port.xml")
		_, diags := LoadInventory(path, LoadOptions{})
		checkDiagnostics(t, path, diags, []wantDiag{
			{Warning, 2, 11, "client 10.0.0.1", "5 value(s)", "ip='10.0.0.1'"},
			{Error, 2, 38, "client 10.0.0.1 attribute port", `"70000" is not a port number`, ""},
		})
	})

	t.Run("password value is not shown in the fix", func(t *testing.T) {
		path := filepath.Join("testdata", "typographic_password.xml")
		cfg, diags := LoadInventory(path, LoadOptions{})
		checkDiagnostics(t, path, diags, []wantDiag{
			{Warning, 1, 46, "client 127.0.0.1", "1 value(s)", "password='…'"},
		})
		if cfg == nil || cfg.Clients[0].Password.Reveal() != "hunter2-plain" {
			t.Errorf("password not loaded: %+v", cfg)
		}
	})
}

func TestLoadInventoryNeverShowsPasswords(t *testing.T) {
	path := filepath.Join("testdata", "bad", "secrets_in_errors.xml")
	_, diags := LoadInventory(path, LoadOptions{})
	if !diags.HasErrors() {
		t.Fatalf("want errors, got:\n%s", diags)
	}
	if strings.Contains(diags.String(), "hunter2") {
		t.Errorf("a password appears in the diagnostics:\n%s", diags)
	}
	checkDiagnostics(t, path, diags, []wantDiag{
		{Error, 2, 39, "", `unknown attribute "passwd"`, "did you mean password?"},
		{Error, 3, 3, "client 127.0.0.1", "listed twice", ""},
		{Error, 3, 64, "", "attribute password is given twice", ""},
		{Warning, 4, 3, "client #3", "neither password nor key", ""}, // "pass" is no password attribute
		{Error, 4, 11, "client #3 attribute ip", `"bad host"`, ""},
		{Error, 4, 38, "", `unknown attribute "pass"`, "known attributes"},
		{Warning, 4, 38, "client #3", "typographic quotes", "pass='…'"},
	})
}

func TestLoadInventoryMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.xml")
	cfg, diags := LoadInventory(path, LoadOptions{})
	if cfg != nil {
		t.Error("Config returned for a missing file")
	}
	checkDiagnostics(t, path, diags, []wantDiag{{Error, 0, 0, "", "the file does not exist", "--config"}})
}

func TestSampleFilesLoad(t *testing.T) {
	root := filepath.Join("..", "..")
	cfg, diags := LoadInventory(filepath.Join(root, "config.xml"),
		LoadOptions{Env: envMap(nil), AlertTypes: []string{"cpu", "memory"}})
	if len(diags) != 0 {
		t.Fatalf("config.xml sample has diagnostics:\n%s", diags)
	}
	if len(cfg.Clients) != 2 || cfg.Clients[0].IP != "127.0.0.1" || cfg.Clients[1].IP != "127.0.0.2" ||
		cfg.Clients[1].Password.Reveal() != "cscs-demo" {
		t.Errorf("config.xml sample = %+v", cfg)
	}
	email, diags := LoadEmail(filepath.Join(root, "email_config.json"), LoadOptions{})
	if len(diags) != 0 {
		t.Fatalf("email_config.json sample has diagnostics:\n%s", diags)
	}
	if email.Host != "localhost" || email.Port != 2525 || email.Security != "none" {
		t.Errorf("email_config.json sample = %+v", email)
	}
}

func TestStraightenQuotes(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"single typographic":     {`<a x=’1’/>`, `<a x=  '1'  />`},
		"left and right single":  {`<a x=‘1’ y="2">`, `<a x=  '1'   y="2">`},
		"double typographic":     {`<a x=“1”>`, `<a x=  '1'  >`},
		"value with apostrophe":  {`<a x=’it's’>`, `<a x=  "it's"  >`},
		"inner typographic kept": {`<a x=’it’s’>`, `<a x=  'it’s'  >`},
		"spaces around =":        {"<a x = ’1’\n y=’2’/>", "<a x =   '1'  \n y=  '2'  />"},
		"inside straight quotes": {`<a x="it’s" y='‘q’'/>`, `<a x="it’s" y='‘q’'/>`},
		"comment":                {`<!-- x=’1’ --><a/>`, `<!-- x=’1’ --><a/>`},
		"cdata and text":         {`<a>x=’1’<![CDATA[<b y=’2’>]]></a>`, `<a>x=’1’<![CDATA[<b y=’2’>]]></a>`},
		"processing instruction": {`<?p x=’1’?><a/>`, `<?p x=’1’?><a/>`},
		"unclosed is left alone": {`<a x=’1/>`, `<a x=’1/>`},
		"both straight quotes":   {`<a x=’'"’/>`, `<a x=’'"’/>`},
		"end tag":                {`<a></a x=’1’>`, `<a></a x=’1’>`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, _ := straightenQuotes([]byte(tc.in))
			if string(got) != tc.want {
				t.Errorf("straightenQuotes(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
			}
			if len(got) != len(tc.in) {
				t.Errorf("length changed from %d to %d; offsets would move", len(tc.in), len(got))
			}
		})
	}
}

func TestStraightenedXMLDecodes(t *testing.T) {
	in := "<clients>\n<client ip=’1’ user=“u”><alert type=‘cpu’ limit=’20%’/></client>\n</clients>"
	out, rewritten := straightenQuotes([]byte(in))
	dec := xml.NewDecoder(bytes.NewReader(out))
	var attrs []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("rewritten XML does not decode: %v\n%s", err, out)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				attrs = append(attrs, a.Name.Local+"="+a.Value)
			}
		}
	}
	if got, want := strings.Join(attrs, " "), "ip=1 user=u type=cpu limit=20%"; got != want {
		t.Errorf("attributes = %q, want %q", got, want)
	}
	if len(rewritten) != 2 || len(rewritten[10]) != 2 || len(rewritten[len("<clients>\n<client ip=’1’ user=“u”>")]) != 2 {
		t.Errorf("rewritten attributes by tag offset = %+v", rewritten)
	}
}

func TestLoadInventoryKeyInHomeDirectory(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	writeFile(t, filepath.Join(home, "id_test"), "not a real key\n")
	path := filepath.Join(t.TempDir(), "config.xml")
	writeFile(t, path, `<clients><client ip="127.0.0.1" username="u" key="~/id_test" mail="a@example.com"/></clients>`)
	cfg, diags := LoadInventory(path, LoadOptions{})
	if len(diags) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", diags)
	}
	if got, want := cfg.Clients[0].Key, filepath.Join(home, "id_test"); got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
}

// TestLoadInventoryDownAlert: a down alert's limit is a count of rounds
// or "off", kept as written for core/alert, even where the sources' alert
// types are checked.
func TestLoadInventoryDownAlert(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.xml")
	xmlText := `<clients>
  <client ip="127.0.0.1" username="u" password="p" mail="a@example.com">
    <alert type="down" limit="5 rounds"/>
  </client>
  <client ip="127.0.0.2" username="u" password="p" mail="a@example.com">
    <alert type="down" limit="off"/>
  </client>
</clients>
`
	if err := os.WriteFile(path, []byte(xmlText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := LoadInventory(path, LoadOptions{AlertTypes: []string{"cpu", "memory"}})
	if len(diags) != 0 || cfg == nil {
		t.Fatalf("diagnostics:\n%s", diags)
	}
	want := []Alert{
		{Type: DownAlertType, Limit: "5 rounds", Pos: Pos{File: path, Line: 3, Col: 5}},
		{Type: DownAlertType, Limit: "off", Pos: Pos{File: path, Line: 6, Col: 5}},
	}
	for i, w := range want {
		if got := cfg.Clients[i].Alerts; len(got) != 1 || got[0] != w {
			t.Errorf("client %d alerts %+v, want %+v", i, got, w)
		}
	}
}

// TestReadInventoryKeepsWhatCanBeChecked: with errors, ReadInventory
// still returns the clients and the alerts whose type could be read (an
// alert whose limit was reported is marked so), so that the alert rules
// can be checked in the same pass; a file that is not well-formed XML
// returns no Config, and its syntax error is the only diagnostic.
func TestReadInventoryKeepsWhatCanBeChecked(t *testing.T) {
	alertInvalid := func(line int) Pos {
		return Pos{File: filepath.Join("testdata", "bad", "alert_invalid.xml"), Line: line, Col: 5}
	}
	tests := map[string]struct {
		clients int     // clients returned
		alerts  []Alert // alerts of the first client
	}{
		"alert_invalid.xml": {clients: 1, alerts: []Alert{ // no type, type "Memory": left out
			{Type: "memory", LimitReported: true, Pos: alertInvalid(5)},
			{Type: "memory", LimitReported: true, Pos: alertInvalid(6)},
			{Type: "memory", LimitReported: true, Pos: alertInvalid(7)},
		}},
		"port_out_of_range.xml":      {clients: 2},
		"malformed_after_errors.xml": {clients: -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", name)
			cfg, diags := ReadInventory(path, LoadOptions{})
			if !diags.HasErrors() {
				t.Fatalf("no errors:\n%s", diags)
			}
			if tc.clients < 0 {
				if cfg != nil || len(diags) != 1 {
					t.Errorf("Config = %+v with\n%s\nwant none and only the syntax error", cfg, diags)
				}
				return
			}
			if cfg == nil || len(cfg.Clients) != tc.clients {
				t.Fatalf("Config = %+v, want %d clients", cfg, tc.clients)
			}
			if !reflect.DeepEqual(cfg.Clients[0].Alerts, tc.alerts) {
				t.Errorf("alerts =\n%+v\nwant\n%+v", cfg.Clients[0].Alerts, tc.alerts)
			}
		})
	}
}
