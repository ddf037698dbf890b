package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envMap is a LoadOptions.Env that reads from a map instead of the process.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestParseSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("lf.txt", "from-lf\n")
	write("crlf.txt", "from-crlf\r\n")
	write("two.txt", "two-newlines\n\n")
	write("none.txt", "no-newline")
	write("empty.txt", "\n")
	abs := write("abs.txt", "absolute\n")
	env := envMap(map[string]string{"PASS": "from-env", "EMPTY": ""})

	tests := map[string]struct {
		written    string
		wantValue  string
		wantString string
		wantErr    string // substring; "" means success
	}{
		"plain text":             {written: "hunter2", wantValue: "hunter2", wantString: "********"},
		"empty":                  {written: "", wantValue: "", wantString: ""},
		"env set":                {written: "env:PASS", wantValue: "from-env", wantString: "env:PASS"},
		"env not set":            {written: "env:NOPE", wantErr: "environment variable NOPE is not set"},
		"env empty":              {written: "env:EMPTY", wantErr: "environment variable EMPTY is empty"},
		"env without name":       {written: "env:", wantErr: "needs a variable name"},
		"file relative, LF":      {written: "file:lf.txt", wantValue: "from-lf", wantString: "file:lf.txt"},
		"file CRLF":              {written: "file:crlf.txt", wantValue: "from-crlf"},
		"file only one newline":  {written: "file:two.txt", wantValue: "two-newlines\n"},
		"file without newline":   {written: "file:none.txt", wantValue: "no-newline"},
		"file absolute":          {written: "file:" + abs, wantValue: "absolute"},
		"file missing":           {written: "file:missing.txt", wantErr: filepath.Join(dir, "missing.txt") + " does not exist"},
		"file empty":             {written: "file:empty.txt", wantErr: "is empty"},
		"file without path":      {written: "file:", wantErr: "needs a path"},
		"prefix must be exact":   {written: "ENV:PASS", wantValue: "ENV:PASS", wantString: "********"},
		"colon later is literal": {written: "pa:ss", wantValue: "pa:ss"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := ParseSecret(tc.written, dir, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSecret(%q) error = %v, want one containing %q", tc.written, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSecret(%q): %v", tc.written, err)
			}
			if got := s.Reveal(); got != tc.wantValue {
				t.Errorf("Reveal() = %q, want %q", got, tc.wantValue)
			}
			if got := s.IsZero(); got != (tc.wantValue == "") {
				t.Errorf("IsZero() = %v for value %q", got, tc.wantValue)
			}
			if tc.wantString != "" || tc.wantValue == "" {
				if got := s.String(); got != tc.wantString {
					t.Errorf("String() = %q, want %q", got, tc.wantString)
				}
			}
		})
	}
}

func TestParseSecretDefaultsToProcessEnv(t *testing.T) {
	t.Setenv("CSCS_CONFIG_TEST_SECRET", "from-process")
	s, err := ParseSecret("env:CSCS_CONFIG_TEST_SECRET", ".", nil)
	if err != nil || s.Reveal() != "from-process" {
		t.Fatalf("ParseSecret with nil lookup = %q, %v; want the process environment's value", s.Reveal(), err)
	}
}

func TestSecretIsNeverPrinted(t *testing.T) {
	const value = "TOPSECRET-value"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p"), []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromEnv, err := ParseSecret("env:X", dir, envMap(map[string]string{"X": value}))
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := ParseSecret("file:p", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]struct {
		secret Secret
		mask   string
	}{
		"plain": {NewSecret(value), "********"},
		"env":   {fromEnv, "env:X"},
		"file":  {fromFile, "file:p"},
	}
	type exported struct{ Password Secret }
	type unexported struct{ password Secret }

	for name, s := range secrets {
		if s.secret.Reveal() != value {
			t.Fatalf("%s: Reveal() = %q, want the value", name, s.secret.Reveal())
		}
		outputs := map[string]string{
			"%v":              fmt.Sprintf("%v", s.secret),
			"%+v":             fmt.Sprintf("%+v", s.secret),
			"%#v":             fmt.Sprintf("%#v", s.secret),
			"%s":              fmt.Sprintf("%s", s.secret),
			"%q":              fmt.Sprintf("%q", s.secret),
			"%x":              fmt.Sprintf("%x", s.secret),
			"%10.3s":          fmt.Sprintf("%10.3s", s.secret),
			"Sprint":          fmt.Sprint(s.secret),
			"Sprintln":        fmt.Sprintln(s.secret),
			"pointer %v":      fmt.Sprintf("%v", &s.secret),
			"struct %+v":      fmt.Sprintf("%+v", exported{s.secret}),
			"struct %#v":      fmt.Sprintf("%#v", exported{s.secret}),
			"unexported %+v":  fmt.Sprintf("%+v", unexported{s.secret}),
			"unexported %#v":  fmt.Sprintf("%#v", unexported{s.secret}),
			"client %+v":      fmt.Sprintf("%+v", Client{IP: "192.0.2.1", Password: s.secret}),
			"error wrap":      fmt.Errorf("login with %v: %w", s.secret, os.ErrPermission).Error(),
			"String":          s.secret.String(),
			"GoString":        s.secret.GoString(),
			"json":            mustJSON(t, s.secret),
			"json in struct":  mustJSON(t, exported{s.secret}),
			"json email":      mustJSON(t, Email{Host: "h", Password: s.secret}),
			"text marshaller": mustText(t, s.secret),
			"slog text":       logged(slog.NewTextHandler, s.secret),
			"slog json":       logged(slog.NewJSONHandler, s.secret),
		}
		for how, out := range outputs {
			if strings.Contains(out, value) || strings.Contains(out, "TOPSECRET") {
				t.Errorf("%s secret printed with %s shows the value: %s", name, how, out)
			}
		}
		for _, how := range []string{"%v", "%s", "String", "Sprint"} {
			if outputs[how] != s.mask {
				t.Errorf("%s secret with %s = %q, want the mask %q", name, how, outputs[how], s.mask)
			}
		}
		if want := `"` + s.mask + `"`; outputs["json"] != want {
			t.Errorf("%s secret as JSON = %s, want %s", name, outputs["json"], want)
		}
	}
}

func TestZeroSecret(t *testing.T) {
	var s Secret
	if !s.IsZero() || s.Reveal() != "" || s.String() != "" || fmt.Sprint(s) != "" {
		t.Errorf("zero Secret: IsZero=%v Reveal=%q String=%q", s.IsZero(), s.Reveal(), s.String())
	}
	if !NewSecret("").IsZero() {
		t.Error(`NewSecret("") is not zero`)
	}
	if NewSecret("x").IsZero() {
		t.Error(`NewSecret("x") is zero`)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustText(t *testing.T, s Secret) string {
	t.Helper()
	b, err := s.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func logged[H slog.Handler](newHandler func(w io.Writer, opts *slog.HandlerOptions) H, s Secret) string {
	var buf bytes.Buffer
	slog.New(newHandler(&buf, nil)).Info("connect", "password", s, "client", Client{Password: s})
	return buf.String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
