package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a Diagnostic stops the configuration from being
// used (Error) or only points at something the operator should look at
// (Warning).
type Severity int

// Severities, from most to least severe.
const (
	Error Severity = iota + 1
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	default:
		return fmt.Sprintf("severity(%d)", int(s))
	}
}

// Diagnostic is one problem found in a configuration file.
type Diagnostic struct {
	Severity Severity
	// Pos is where the problem is: the attribute or JSON key itself when
	// there is one, else the element or the file (Line 0).
	Pos Pos
	// Field names the setting in words, e.g. "client 127.0.0.2 attribute port".
	Field string
	// Message says what is wrong. It never contains a secret.
	Message string
	// Fix says what to change, when that can be said; may be empty.
	Fix string
}

// String formats d as
//
//	config.xml:3:12: error: client 127.0.0.2 attribute port: "70000" is not a port number (1-65535); fix: write a number such as 22
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Pos.String())
	b.WriteString(": ")
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	if d.Field != "" {
		b.WriteString(d.Field)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	if d.Fix != "" {
		b.WriteString("; fix: ")
		b.WriteString(d.Fix)
	}
	return b.String()
}

// String formats p as file:line:col, leaving out the parts that are unknown.
func (p Pos) String() string {
	s := p.File
	if s == "" {
		s = "-"
	}
	if p.Line > 0 {
		s += fmt.Sprintf(":%d", p.Line)
		if p.Col > 0 {
			s += fmt.Sprintf(":%d", p.Col)
		}
	}
	return s
}

// Diagnostics is every problem found while loading configuration files.
// The loaders return them sorted by file, line and column.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an Error; a configuration
// with errors must not be used.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// String returns one diagnostic per line.
func (ds Diagnostics) String() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Error returns the same text as String, so Diagnostics can be returned
// as an error once HasErrors is true.
func (ds Diagnostics) Error() string { return ds.String() }

// Sort orders ds by file, line and column, keeping the order of
// diagnostics at the same position. Use it after appending the
// diagnostics of several files.
func (ds Diagnostics) Sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
		)
	})
}
