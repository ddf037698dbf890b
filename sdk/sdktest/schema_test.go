package sdktest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// mailConfig is a configuration struct with a field of every kind the
// schema types map to.
type mailConfig struct {
	Host       string            `json:"host"`
	Port       int               `json:"port,omitempty"`
	Timeout    string            `json:"timeout,omitempty"`
	Insecure   bool              `json:"insecure_skip_verify,omitempty"`
	To         []string          `json:"to"`
	Codes      []float64         `json:"codes,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Optional   *uint16           `json:"optional,omitempty"`
	Ignored    string            `json:"-"`
	unexported string
	tlsSettings
}

// tlsSettings is embedded without a tag: encoding/json promotes its keys.
type tlsSettings struct {
	CAFile string `json:"ca_file,omitempty"`
}

// level decodes itself from any JSON value.
type level int

func (l *level) UnmarshalJSON([]byte) error { *l = 1; return nil }

func mailSchema() []schema.Attribute {
	return []schema.Attribute{
		{Name: "host", Type: schema.String, Required: true},
		{Name: "port", Type: schema.Number},
		{Name: "timeout", Type: schema.Duration},
		{Name: "insecure_skip_verify", Type: schema.Bool},
		{Name: "to", Type: schema.ListOfString},
		{Name: "codes", Type: schema.ListOfNumber},
		{Name: "headers", Type: schema.MapOfString, Sensitive: true},
		{Name: "optional", Type: schema.Number},
		{Name: "ca_file", Type: schema.String},
	}
}

func TestSchemaMatchesStruct(t *testing.T) {
	t.Parallel()
	_ = mailConfig{}.unexported // read, so that vet sees the field used
	without := func(name string) []schema.Attribute {
		var out []schema.Attribute
		for _, a := range mailSchema() {
			if a.Name != name {
				out = append(out, a)
			}
		}
		return out
	}
	retyped := func(name string, typ schema.Type) []schema.Attribute {
		attrs := mailSchema()
		for i := range attrs {
			if attrs[i].Name == name {
				attrs[i].Type = typ
			}
		}
		return attrs
	}
	cases := map[string]struct {
		attrs []schema.Attribute
		v     any
		want  []string
	}{
		"matching":                   {attrs: mailSchema(), v: mailConfig{}},
		"matching through a pointer": {attrs: mailSchema(), v: &mailConfig{}},
		"no configuration":           {v: struct{}{}},
		"key not declared": {
			attrs: without("timeout"),
			v:     mailConfig{},
			want:  []string{`reads the key "timeout", which the schema does not declare`},
		},
		"key of an embedded struct not declared": {
			attrs: without("ca_file"),
			v:     mailConfig{},
			want:  []string{`"ca_file"`},
		},
		"attribute without a field": {
			attrs: append(mailSchema(), schema.Attribute{Name: "username", Type: schema.String}),
			v:     mailConfig{},
			want:  []string{`declares "username", which sdktest_test.mailConfig has no field for`},
		},
		"number declared for a string": {
			attrs: retyped("timeout", schema.Number),
			v:     mailConfig{},
			want:  []string{`declares "timeout" as "number", but its field in sdktest_test.mailConfig is a string: declare it as one of ["string" "duration"]`},
		},
		"string declared for a list": {
			attrs: retyped("to", schema.String),
			v:     mailConfig{},
			want:  []string{`"to" as "string"`, `["list(string)"]`},
		},
		"list of strings declared for numbers": {
			attrs: retyped("codes", schema.ListOfString),
			v:     mailConfig{},
			want:  []string{`["list(number)"]`},
		},
		"untagged field keeps its Go name": {
			attrs: []schema.Attribute{{Name: "path", Type: schema.String}},
			v:     struct{ Path string }{},
			want:  []string{`declares "path"`, `reads the key "Path"`},
		},
		"self-decoding field takes any type": {
			attrs: []schema.Attribute{{Name: "level", Type: schema.String}, {Name: "window", Type: schema.String}},
			v: struct {
				Level  level           `json:"level"`
				Window json.RawMessage `json:"window"`
			}{},
		},
		"duration field is a number of nanoseconds": {
			attrs: []schema.Attribute{{Name: "wait", Type: schema.Duration}},
			v: struct {
				Wait time.Duration `json:"wait"`
			}{},
			want: []string{`["number"]`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := schema.Schema{Attributes: tc.attrs}
			got := failures(t, func(tb testing.TB) { sdktest.SchemaMatchesStruct(tb, s, tc.v) })
			if len(tc.want) == 0 {
				checkFailures(t, got, nil)
				return
			}
			if len(got) == 0 {
				t.Fatalf("no failure, want ones mentioning %q", tc.want)
			}
			all := ""
			for _, g := range got {
				all += g + "\n"
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("failures %q do not mention %q", got, w)
				}
			}
		})
	}
}

func TestSchemaMatchesStructNeedsAStruct(t *testing.T) {
	t.Parallel()
	got := failures(t, func(tb testing.TB) { sdktest.SchemaMatchesStruct(tb, schema.Schema{}, map[string]any{}) })
	checkFailures(t, got, []string{"is not a struct"})
}
