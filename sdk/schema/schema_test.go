package schema_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/schema"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	attr := func(name string, typ schema.Type) schema.Attribute {
		return schema.Attribute{Name: name, Type: typ, Description: "a setting"}
	}
	cases := map[string]struct {
		schema schema.Schema
		// want are substrings the error must hold; none means no error.
		want []string
	}{
		"empty": {schema: schema.Schema{}},
		"one of every type": {schema: schema.Schema{Attributes: []schema.Attribute{
			attr("path", schema.String), attr("port", schema.Number), attr("insecure", schema.Bool),
			attr("timeout", schema.Duration), attr("tags", schema.ListOfString),
			attr("event_ids", schema.ListOfNumber), attr("headers", schema.MapOfString),
			{Name: "password", Type: schema.String, Required: true, Sensitive: true},
		}}},
		"digits and underscores": {schema: schema.Schema{Attributes: []schema.Attribute{attr("ipv6_only2", schema.Bool)}}},
		"camel case": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("maxEvents", schema.Number)}},
			want:   []string{`attribute 1 ("maxEvents")`, "lower_snake_case", `"max_events"`},
		},
		"dash": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("first-bytes", schema.Number)}},
			want:   []string{`"first_bytes"`},
		},
		"leading digit": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("2fa", schema.Bool)}},
			want:   []string{`("2fa")`, "starting with a letter"},
		},
		"leading underscore": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("_x", schema.Bool)}},
			want:   []string{`("_x")`, "lower_snake_case"},
		},
		"no name": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("path", schema.String), attr("", schema.String)}},
			want:   []string{"attribute 2 has no name"},
		},
		"duplicate": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("path", schema.String), attr("port", schema.Number), attr("path", schema.Duration)}},
			want:   []string{`attribute 3 ("path")`, "already used by attribute 1"},
		},
		"unknown type": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("port", "int")}},
			want:   []string{`("port")`, `type "int" is unknown`, `"list(number)"`},
		},
		"no type": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("port", "")}},
			want:   []string{`type "" is unknown`},
		},
		"description of two lines": {
			schema: schema.Schema{Attributes: []schema.Attribute{{Name: "path", Type: schema.String, Description: "the file\nto write"}}},
			want:   []string{`("path")`, "one"},
		},
		"every problem is reported": {
			schema: schema.Schema{Attributes: []schema.Attribute{attr("Path", schema.String), attr("port", "integer")}},
			want:   []string{`("Path")`, `("port")`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.schema.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestLookupAndNames(t *testing.T) {
	t.Parallel()
	s := schema.Schema{Attributes: []schema.Attribute{
		{Name: "host", Type: schema.String, Required: true},
		{Name: "port", Type: schema.Number},
		{Name: "password", Type: schema.String, Sensitive: true},
	}}
	if got, want := s.Names(), []string{"host", "port", "password"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q (declaration order)", got, want)
	}
	cases := map[string]struct {
		name  string
		want  schema.Attribute
		found bool
	}{
		"first":         {name: "host", want: s.Attributes[0], found: true},
		"last":          {name: "password", want: s.Attributes[2], found: true},
		"absent":        {name: "user"},
		"case matters":  {name: "Host"},
		"empty is none": {name: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := s.Lookup(tc.name)
			if ok != tc.found || got != tc.want {
				t.Errorf("Lookup(%q) = %+v, %t; want %+v, %t", tc.name, got, ok, tc.want, tc.found)
			}
		})
	}
	if got := (schema.Schema{}).Names(); len(got) != 0 {
		t.Errorf("Names() of the empty schema = %q, want none", got)
	}
}
