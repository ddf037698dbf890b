package config

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Canaries the fuzz targets plant as secrets; none may reach a diagnostic.
const (
	plainCanary = "Qz7plainCANARY"
	envCanary   = "Qz7envCANARY"
	fileCanary  = "Qz7fileCANARY"
)

// fuzzDir makes the directory a fuzzed file is written to: the secret and
// key files the fixtures name hold canaries. A fuzz worker runs one input
// at a time, so one directory serves them all.
func fuzzDir(f *testing.F) string {
	f.Helper()
	dir := f.TempDir()
	files := map[string]string{
		"secrets/client_password.txt":  fileCanary + "\n",
		"secrets/smtp_password.txt":    fileCanary + "\r\n",
		"../secrets/smtp_password.txt": fileCanary + "\n",
		"keys/id_test":                 "not a key\n",
		"pw.txt":                       fileCanary,
	}
	for name, content := range files {
		path := filepath.Join(dir, "in", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	return filepath.Join(dir, "in")
}

// addFixtures adds every file matching the patterns (under testdata) as a seed.
func addFixtures(f *testing.F, patterns ...string) {
	f.Helper()
	for _, p := range patterns {
		files, err := filepath.Glob(filepath.Join("testdata", p))
		if err != nil || len(files) == 0 {
			f.Fatalf("no fixtures match %s: %v", p, err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// escapesDir reports whether a fuzzed file may name a secret file outside
// the fuzz directory (file:/dev/..., file:../..., an entity spelling a
// slash): such inputs are skipped, so the fuzzer never reads a device or a
// file of the machine it runs on.
func escapesDir(b []byte) bool {
	if !bytes.Contains(b, []byte("file:")) {
		return false
	}
	for _, s := range []string{"file:/", "file:\\", "file:~", "../..", "/..", "&", `\u`, `\/`} {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// fuzzEnv answers every env:NAME with the env canary.
func fuzzEnv(name string) (string, bool) { return envCanary, name != "" }

var (
	// secretAttr matches an attribute whose value may be secret: any but
	// the public ones, in straight or typographic quotes.
	secretAttr = regexp.MustCompile(`([A-Za-z_:][-A-Za-z0-9_.:]*)(\s*=\s*)("[^"<&]*"|'[^'<&]*'|[‘’][^‘’<&]*[‘’]|[“”][^“”<&]*[“”])`)
	// jsonPassword matches the password setting of email_config.json
	// when it is a string without escapes.
	jsonPassword = regexp.MustCompile(`("password"\s*:\s*)"([^"\\]*)"`)
)

// plantPlainSecrets replaces the value of every attribute that may be
// secret by plainCanary, unless it is an env: or file: reference or empty.
func plantPlainSecrets(b []byte) []byte {
	return secretAttr.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := secretAttr.FindSubmatch(m)
		// The XML declaration's pseudo-attributes are no secret either.
		if slices.Contains(publicAttributes, string(sub[1])) || slices.Contains([]string{"version", "encoding", "standalone"}, string(sub[1])) {
			return m
		}
		open, _ := utf8.DecodeRune(sub[3])
		closing, _ := utf8.DecodeLastRune(sub[3])
		value := sub[3][utf8.RuneLen(open) : len(sub[3])-utf8.RuneLen(closing)]
		if len(value) == 0 || bytes.HasPrefix(value, []byte("env:")) || bytes.HasPrefix(value, []byte("file:")) {
			return m
		}
		return slices.Concat(sub[1], sub[2], []byte(string(open)), []byte(plainCanary), []byte(string(closing)))
	})
}

// canaryOnlyInSecrets reports whether every plainCanary in b is the whole
// value of an attribute that may be secret, as the loader reads the file
// (typographic quotes straightened, up to the first syntax error). When it
// is not, a diagnostic may quote it rightly, as part of another value.
func canaryOnlyInSecrets(b []byte) bool {
	text, _ := straightenQuotes(withoutBOM(b))
	dec := xml.NewDecoder(bytes.NewReader(text))
	found := 0
	for {
		tok, err := dec.RawToken()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Value == plainCanary && !slices.Contains(publicAttributes, a.Name.Local) {
					found++
				}
			}
		}
	}
	return found == bytes.Count(b, []byte(plainCanary))
}

// checkDiagnosticsShape checks what every loader promises of its
// diagnostics: sorted, each naming the file, a line of the file (or 0 for
// the file as a whole) and a column on it, a severity and a message, and
// no canary.
func checkDiagnosticsShape(t *testing.T, path string, src []byte, diags Diagnostics, plainChecked bool) {
	t.Helper()
	lines := bytes.Count(src, []byte("\n")) + 1
	for i, d := range diags {
		if d.Pos.File != path {
			t.Errorf("diagnostic %q names file %q, want %q", d, d.Pos.File, path)
		}
		if d.Pos.Line < 0 || d.Pos.Line > lines || (d.Pos.Line > 0 && d.Pos.Col < 1) || (d.Pos.Line == 0 && d.Pos.Col != 0) {
			t.Errorf("diagnostic %q: position %d:%d is not in the file of %d lines", d, d.Pos.Line, d.Pos.Col, lines)
		}
		if d.Severity != Error && d.Severity != Warning || d.Message == "" {
			t.Errorf("diagnostic %d %q has no severity or no message", i, d)
		}
		if i > 0 && (diags[i-1].Pos.Line > d.Pos.Line || diags[i-1].Pos.Line == d.Pos.Line && diags[i-1].Pos.Col > d.Pos.Col) {
			t.Errorf("diagnostics not sorted: %q before %q", diags[i-1], d)
		}
	}
	text := diags.String()
	for _, c := range []string{plainCanary, envCanary, fileCanary} {
		if strings.Contains(text, c) && (c != plainCanary || plainChecked) {
			t.Errorf("a secret (%s) appears in the diagnostics:\n%s", c, text)
		}
	}
}

// writeFuzzFile writes b as name in dir and returns its path.
func writeFuzzFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// FuzzLoadInventory loads fuzzed config.xml files. Properties: no panic;
// the Config is nil exactly when there is an Error; diagnostics name the
// file with a line and column inside it and are sorted; no password
// (plain, env: or file:) nor the value of any attribute that may be
// secret appears in a diagnostic; a loaded Config holds only clients with
// an address, a user, a port in 1-65535, unique host:port, and alerts with
// a type and a limit; loading the same file again gives the same result.
func FuzzLoadInventory(f *testing.F) {
	addFixtures(f, "*.xml", "bad/*.xml")
	dir := fuzzDir(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if escapesDir(b) || bytes.Contains(b, []byte(plainCanary[:4])) {
			t.Skip()
		}
		b = plantPlainSecrets(b)
		path := writeFuzzFile(t, dir, "config.xml", b)
		opts := LoadOptions{Env: fuzzEnv}
		cfg, diags := LoadInventory(path, opts)
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("Config %v with diagnostics:\n%s", cfg != nil, diags)
		}
		checkDiagnosticsShape(t, path, b, diags, canaryOnlyInSecrets(b))
		if cfg != nil {
			seen := map[string]bool{}
			for _, c := range cfg.Clients {
				if c.IP == "" || c.Username == "" || c.Port < 1 || c.Port > 65535 {
					t.Errorf("client loaded with ip %q, user %q, port %d", c.IP, c.Username, c.Port)
				}
				key := c.IP + "/" + strconv.Itoa(c.Port)
				if seen[key] {
					t.Errorf("client %s:%d loaded twice", c.IP, c.Port)
				}
				seen[key] = true
				for _, a := range c.Alerts {
					if a.Type == "" || a.Limit == "" || a.For < 0 || a.LimitReported {
						t.Errorf("client %s: alert loaded as %+v", c.IP, a)
					}
				}
			}
		}
		cfg2, diags2 := LoadInventory(path, opts)
		if !reflect.DeepEqual(diags, diags2) || !reflect.DeepEqual(cfg, cfg2) {
			t.Errorf("a second load differs:\n%s\n---\n%s", diags, diags2)
		}
	})
}

// FuzzLoadEmail loads fuzzed email_config.json files. Properties: no
// panic; the Email is nil exactly when there is an Error; diagnostics
// name the file with a line and column inside it and are sorted; no
// password (plain, env: or file:) appears in a diagnostic; a loaded Email
// has a host, a sender, a port in 1-65535, a known security mode, and a
// username exactly when it has a password; loading again gives the same.
func FuzzLoadEmail(f *testing.F) {
	addFixtures(f, "email/*.json")
	dir := fuzzDir(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if escapesDir(b) || bytes.Contains(b, []byte(plainCanary[:4])) {
			t.Skip()
		}
		b = jsonPassword.ReplaceAllFunc(b, func(m []byte) []byte {
			sub := jsonPassword.FindSubmatch(m)
			if len(sub[2]) == 0 || bytes.HasPrefix(sub[2], []byte("env:")) || bytes.HasPrefix(sub[2], []byte("file:")) {
				return m
			}
			return slices.Concat(sub[1], []byte(`"`+plainCanary+`"`))
		})
		path := writeFuzzFile(t, dir, "email_config.json", b)
		opts := LoadOptions{Env: fuzzEnv}
		e, diags := LoadEmail(path, opts)
		if (e == nil) != diags.HasErrors() {
			t.Fatalf("Email %v with diagnostics:\n%s", e != nil, diags)
		}
		checkDiagnosticsShape(t, path, b, diags, true)
		if e != nil {
			if e.Host == "" || e.From == "" || e.Port < 1 || e.Port > 65535 || !slices.Contains(securityModes, e.Security) ||
				(e.Username == "") != e.Password.IsZero() {
				t.Errorf("Email loaded as %+v", e)
			}
			if s := e.Password.String(); strings.Contains(s, plainCanary) || strings.Contains(s, envCanary) || strings.Contains(s, fileCanary) {
				t.Errorf("the password prints as %q", s)
			}
		}
		e2, diags2 := LoadEmail(path, opts)
		if !reflect.DeepEqual(diags, diags2) || !reflect.DeepEqual(e, e2) {
			t.Errorf("a second load differs:\n%s\n---\n%s", diags, diags2)
		}
	})
}
