// Package schema lets a plugin declare the configuration it accepts, so
// that the core can check an operator's configuration block before the
// plugin ever sees it: a misspelt key or a value of the wrong type in a
// third-party plugin's block is reported by `cscs validate` with the file
// and line, instead of surfacing as a plugin error at the first round.
//
// A storage declares its Open configuration (storage.Description.Config),
// a notifier its Configure configuration (notifier.Description.Config) and
// a source the settings of its remote module (source.Description.Settings).
//
// # What the plugin receives
//
// The configuration a plugin receives is one JSON object whose keys are
// the attribute names of its schema. An attribute the operator left out is
// absent from the object. Each type arrives as:
//
//	Type          JSON value                     Example
//	string        string                         "path": "/var/lib/cscs/cscs.db"
//	number        number                         "port": 587
//	bool          true or false                  "insecure_skip_verify": false
//	duration      string holding a Go duration   "timeout": "30s"
//	list(string)  array of strings               "tags": ["a", "b"]
//	list(number)  array of numbers               "event_ids": [4624, 4625]
//	map(string)   object of string values        "headers": {"X-Team": "ops"}
//
// The core checks a duration with time.ParseDuration before passing it on;
// a value that needs another syntax (such as "90d") is a String that the
// plugin parses itself.
//
// The schema is a declaration, not a decoder: a plugin keeps checking its
// configuration itself (unknown keys, ranges, required values), because an
// older core, or a test, may hand it anything.
//
// This package is part of the public SDK and imports only the standard
// library and the SDK's internal packages.
package schema

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cscs-dev/cscs/sdk/internal/names"
)

// Type is an attribute's value type.
type Type string

// The attribute types. Their spelling is what the HCL overlay and the
// diagnostics show.
const (
	String Type = "string"
	Number Type = "number"
	Bool   Type = "bool"
	// Duration is a string holding a Go duration ("30s"); the core checks
	// it parses.
	Duration     Type = "duration"
	ListOfString Type = "list(string)"
	ListOfNumber Type = "list(number)"
	MapOfString  Type = "map(string)"
)

// allTypes returns every Type in the order the docs show them.
func allTypes() []Type {
	return []Type{String, Number, Bool, Duration, ListOfString, ListOfNumber, MapOfString}
}

// Attribute is one key of a plugin's configuration object.
type Attribute struct {
	// Name is the JSON key, lower_snake_case and unique in the schema.
	Name string
	Type Type
	// Required attributes must be set by the operator.
	Required bool
	// Sensitive marks a secret (a password, a token): the core masks it in
	// `cscs config show` and never logs it.
	Sensitive bool
	// Description is one line, shown in diagnostics and docs.
	Description string
}

// Schema is the configuration a plugin accepts. The zero Schema accepts no
// attributes: the plugin takes no configuration.
type Schema struct {
	Attributes []Attribute
}

// Validate checks the declaration itself: every name is lower_snake_case
// and unique, every type is known and every description is one line. The
// error names each offending attribute and says what to change.
func (s Schema) Validate() error {
	var errs []error
	seen := make(map[string]int, len(s.Attributes))
	for i, a := range s.Attributes {
		what := fmt.Sprintf("attribute %d (%q)", i+1, a.Name)
		switch {
		case a.Name == "":
			errs = append(errs, fmt.Errorf("attribute %d has no name: give it the JSON key the plugin reads, such as \"path\"", i+1))
		case !names.IsSnakeCase(a.Name):
			errs = append(errs, fmt.Errorf("%s: the name must be lower_snake_case (a-z, 0-9 and _, starting with a letter), such as %q", what, snakeSuggestion(a.Name)))
		}
		if first, dup := seen[a.Name]; dup && a.Name != "" {
			errs = append(errs, fmt.Errorf("%s: the name is already used by attribute %d; each name may appear once", what, first+1))
		} else {
			seen[a.Name] = i
		}
		if !slices.Contains(allTypes(), a.Type) {
			errs = append(errs, fmt.Errorf("%s: type %q is unknown; use one of %s", what, a.Type, typeList()))
		}
		if strings.ContainsAny(a.Description, "\r\n") {
			errs = append(errs, fmt.Errorf("%s: the description spans several lines; keep it to one", what))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("configuration schema: %w", errors.Join(errs...))
	}
	return nil
}

// Lookup returns the attribute named name.
func (s Schema) Lookup(name string) (Attribute, bool) {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Names returns the attribute names in declaration order.
func (s Schema) Names() []string {
	names := make([]string, len(s.Attributes))
	for i, a := range s.Attributes {
		names[i] = a.Name
	}
	return names
}

// snakeSuggestion turns name into a lower_snake_case spelling for an
// error message ("MaxEvents" → "max_events", "first-bytes" →
// "first_bytes"); it may still be invalid for odd input.
func snakeSuggestion(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
			b.WriteRune(r + ('a' - 'A'))
		case r == '-' || r == ' ' || r == '.':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// typeList is the known types quoted, for error messages.
func typeList() string {
	types := allTypes()
	quoted := make([]string, len(types))
	for i, t := range types {
		quoted[i] = fmt.Sprintf("%q", t)
	}
	return strings.Join(quoted, ", ")
}
