package config

import (
	"slices"
	"testing"
)

func TestDiagnosticString(t *testing.T) {
	tests := map[string]struct {
		d    Diagnostic
		want string
	}{
		"full": {
			d: Diagnostic{Severity: Error, Pos: Pos{File: "config.xml", Line: 3, Col: 12},
				Field: "client 127.0.0.2 attribute port", Message: `"70000" is not a port number (1-65535)`, Fix: "write a number such as 22"},
			want: `config.xml:3:12: error: client 127.0.0.2 attribute port: "70000" is not a port number (1-65535); fix: write a number such as 22`,
		},
		"no field, no fix": {
			d:    Diagnostic{Severity: Warning, Pos: Pos{File: "config.xml", Line: 1, Col: 1}, Message: "m"},
			want: "config.xml:1:1: warning: m",
		},
		"file only": {
			d:    Diagnostic{Severity: Error, Pos: Pos{File: "email_config.json"}, Message: "the file does not exist", Fix: "create it"},
			want: "email_config.json: error: the file does not exist; fix: create it",
		},
		"line without column": {
			d:    Diagnostic{Severity: Error, Pos: Pos{File: "a", Line: 7}, Message: "m"},
			want: "a:7: error: m",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.d.String(); got != tc.want {
				t.Errorf("String() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestDiagnosticsSortAndErrors(t *testing.T) {
	at := func(sev Severity, file string, line, col int, msg string) Diagnostic {
		return Diagnostic{Severity: sev, Pos: Pos{File: file, Line: line, Col: col}, Message: msg}
	}
	ds := Diagnostics{
		at(Warning, "b.xml", 1, 1, "b"),
		at(Error, "a.xml", 10, 2, "a10"),
		at(Warning, "a.xml", 2, 5, "a2-first"),
		at(Error, "a.xml", 2, 5, "a2-second"),
		at(Warning, "a.xml", 2, 1, "a2c1"),
		at(Error, "a.xml", 0, 0, "file"),
	}
	ds.Sort()
	var got []string
	for _, d := range ds {
		got = append(got, d.Message)
	}
	want := []string{"file", "a2c1", "a2-first", "a2-second", "a10", "b"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted order = %v, want %v", got, want)
	}
	if !ds.HasErrors() {
		t.Error("HasErrors() = false with errors present")
	}
	if ds.Error() != ds.String() || ds.String() == "" {
		t.Error("Error() differs from String() or is empty")
	}
	warnings := Diagnostics{at(Warning, "a", 1, 1, "w")}
	if warnings.HasErrors() || Diagnostics(nil).HasErrors() {
		t.Error("HasErrors() = true without errors")
	}
	if got, want := (Diagnostics{at(Error, "a", 1, 2, "x"), at(Warning, "a", 3, 4, "y")}).String(), "a:1:2: error: x\na:3:4: warning: y"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
