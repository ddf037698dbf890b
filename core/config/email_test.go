package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadEmail(t *testing.T) {
	env := envMap(map[string]string{"SMTP_PASSWORD": "smtp-pass"})
	tests := map[string]struct {
		want      *Email // nil when errors are expected
		wantDiags []wantDiag
	}{
		"good.json": {
			want: &Email{Host: "smtp.example.com", Port: 587, Security: "starttls", Username: "cscs",
				Password: secretFrom("smtp-pass", "env:SMTP_PASSWORD"), From: "CSCS <cscs@example.com>"},
		},
		"defaults.json": {
			want: &Email{Host: "127.0.0.1", Port: 25, Security: "none", From: "cscs@example.com"},
		},
		"port_string_tls.json": { // security follows port 465; the port may be a string; file: secret with CRLF
			want: &Email{Host: "smtp.example.com", Port: 465, Security: "tls", Username: "u",
				Password: secretFrom("smtp-from-file", "file:../secrets/smtp_password.txt"), From: "cscs@example.com"},
		},
		"plaintext_password.json": {
			want: &Email{Host: "smtp.example.com", Port: 25, Security: "none", Username: "u",
				Password: NewSecret("hunter2-plain"), From: "cscs@example.com"},
			wantDiags: []wantDiag{
				{Warning, 5, 3, "setting password", "the password is sent to smtp.example.com unencrypted", `"security": "starttls"`},
			},
		},
		"unknown_field.json": {wantDiags: []wantDiag{
			{Error, 3, 3, "", `unknown setting "prot"`, "did you mean port? known settings: host, port, security, username, password, from"},
			{Error, 4, 3, "", `unknown setting "sender"`, "known settings: host, port"},
		}},
		"invalid_values.json": {wantDiags: []wantDiag{
			{Error, 2, 3, "setting host", `"smtp.example.com:587" is not a host name or IP address`, `"host": "smtp.example.com", "port": 587`},
			{Error, 3, 3, "setting port", "0 is not a port number (1-65535)", "587"},
			{Error, 4, 3, "setting security", `"ssl" is not a security mode`, `write "tls"`},
			{Error, 5, 3, "setting username", "42 is not a string", "double quotes"},
			{Error, 6, 3, "setting from", `"nobody" is not a mail address`, "cscs@example.com"},
		}},
		"missing_required.json": {wantDiags: []wantDiag{
			{Error, 1, 1, "", `the "host" setting is missing`, `add "host"`},
			{Error, 1, 1, "", `the "from" setting is missing`, `add "from"`},
		}},
		"duplicate_key.json": {wantDiags: []wantDiag{
			{Error, 4, 3, "setting host", "host is set twice (first at line 2)", "keep one"},
		}},
		"not_object.json": {wantDiags: []wantDiag{
			{Error, 1, 1, "", "the file must hold one JSON object", `"host"`},
		}},
		"password_without_user.json": {wantDiags: []wantDiag{
			{Error, 1, 23, "setting password", "password is set but username is not", `add "username"`},
			{Error, 1, 23, "setting password", "environment variable MISSING_VAR is not set", "set the variable"},
		}},
		"syntax_trailing_comma.json": {wantDiags: []wantDiag{
			{Error, 4, 1, "", "malformed JSON: a comma before } has no setting after it", "remove the last comma"},
		}},
		"syntax_missing_comma.json": {wantDiags: []wantDiag{
			{Error, 3, 3, "", "malformed JSON: a comma is missing between two settings", "add ,"},
		}},
		"syntax_typographic.json": {wantDiags: []wantDiag{
			{Error, 2, 11, "", "malformed JSON: typographic quote “ where JSON needs a straight double quote", `with "`},
		}},
		"syntax_comment.json": {wantDiags: []wantDiag{
			{Error, 2, 3, "", "malformed JSON: JSON has no comments", "remove the comment"},
		}},
		"syntax_single_quotes.json": {wantDiags: []wantDiag{
			{Error, 1, 2, "", "malformed JSON: JSON strings and keys need double quotes", `"name": "value"`},
		}},
		"syntax_after_object.json": {wantDiags: []wantDiag{
			{Error, 2, 1, "", "malformed JSON: unexpected text after the closing }", "one JSON object"},
		}},
		"syntax_eof.json": {wantDiags: []wantDiag{
			{Error, 3, 1, "", "malformed JSON: the file ends before the JSON object is closed", "}"},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "email", name)
			got, diags := LoadEmail(path, LoadOptions{Env: env})
			checkDiagnostics(t, path, diags, tc.wantDiags)
			if tc.want != nil {
				tc.want.Path = path
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadEmail =\n%+v\nwant\n%+v", got, tc.want)
			}
			if strings.Contains(diags.String(), "hunter2") || strings.Contains(diags.String(), "smtp-pass") {
				t.Errorf("a password appears in the diagnostics:\n%s", diags)
			}
		})
	}
}

func TestLoadEmailMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "email_config.json")
	got, diags := LoadEmail(path, LoadOptions{})
	if got != nil {
		t.Error("Email returned for a missing file")
	}
	checkDiagnostics(t, path, diags, []wantDiag{
		{Error, 0, 0, "", "the file does not exist", "it is needed only to send mail"},
	})
	if !strings.Contains(diags[0].Fix, `"host"`) || !strings.Contains(diags[0].Fix, "--email-config") {
		t.Errorf("fix does not say how to create the file: %s", diags[0].Fix)
	}
}

func TestLoadEmailPortAndSecurityDefaults(t *testing.T) {
	tests := map[string]struct {
		json         string
		wantPort     int
		wantSecurity string
		wantWarning  string
	}{
		"security tls, no port":      {`{"host":"h","from":"a@b.c","security":"tls"}`, 465, "tls", ""},
		"security starttls, no port": {`{"host":"h","from":"a@b.c","security":"STARTTLS"}`, 587, "starttls", ""},
		"security none, no port":     {`{"host":"h","from":"a@b.c","security":"none"}`, 25, "none", ""},
		"port 587, no security":      {`{"host":"h","from":"a@b.c","port":587}`, 587, "starttls", ""},
		"port 2525, no security":     {`{"host":"h","from":"a@b.c","port":2525}`, 2525, "none", ""},
		"port 465 with starttls":     {`{"host":"h","from":"a@b.c","port":465,"security":"starttls"}`, 465, "starttls", "port 465 usually expects security tls"},
		"port 587 with tls":          {`{"host":"h","from":"a@b.c","port":587,"security":"tls"}`, 587, "tls", "port 587 usually expects security starttls"},
		"null is not set":            {`{"host":"h","from":"a@b.c","port":null,"security":null}`, 25, "none", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "email_config.json")
			writeFile(t, path, tc.json)
			got, diags := LoadEmail(path, LoadOptions{})
			if got == nil {
				t.Fatalf("not loaded:\n%s", diags)
			}
			if got.Port != tc.wantPort || got.Security != tc.wantSecurity {
				t.Errorf("port, security = %d, %s; want %d, %s", got.Port, got.Security, tc.wantPort, tc.wantSecurity)
			}
			switch {
			case tc.wantWarning == "" && len(diags) != 0:
				t.Errorf("unexpected diagnostics:\n%s", diags)
			case tc.wantWarning != "" && (len(diags) != 1 || !strings.Contains(diags[0].Message, tc.wantWarning) || diags[0].Severity != Warning):
				t.Errorf("diagnostics:\n%s\nwant one warning containing %q", diags, tc.wantWarning)
			}
		})
	}
}
