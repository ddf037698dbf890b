// Package schemafixture holds the configuration schemas that the gRPC
// round-trip tests of every plugin kind send through a real client and
// server, so that each kind is tested against the same cases.
package schemafixture

import (
	"reflect"
	"testing"

	"github.com/cscs-dev/cscs/sdk/internal/zerofield"
	"github.com/cscs-dev/cscs/sdk/schema"
)

// Full returns a schema with one attribute of every type, and every field
// of every attribute set, so that zerofield.Find proves nothing is left
// out of a fixture that embeds it.
func Full() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "path", Type: schema.String, Required: true, Sensitive: true, Description: "the database file"},
		{Name: "port", Type: schema.Number, Required: true, Sensitive: true, Description: "TCP port, 1..65535"},
		{Name: "insecure_skip_verify", Type: schema.Bool, Required: true, Sensitive: true, Description: "accept any certificate"},
		{Name: "timeout", Type: schema.Duration, Required: true, Sensitive: true, Description: `bound of one call, such as "10s"`},
		{Name: "recipients", Type: schema.ListOfString, Required: true, Sensitive: true, Description: "mail addresses"},
		{Name: "event_ids", Type: schema.ListOfNumber, Required: true, Sensitive: true, Description: "event numbers to keep"},
		{Name: "headers", Type: schema.MapOfString, Required: true, Sensitive: true, Description: "HTTP headers — “quoted” ünïcode"},
	}}
}

// Cases returns named schemas that must survive the wire unchanged.
func Cases() map[string]schema.Schema {
	return map[string]schema.Schema{
		"none (what an older plugin sends)": {},
		"every type and field set":          Full(),
		"flags mixed, descriptions empty": {Attributes: []schema.Attribute{
			{Name: "host", Type: schema.String, Required: true},
			{Name: "password", Type: schema.String, Sensitive: true},
			{Name: "max", Type: schema.Number},
		}},
		// A newer plugin may declare a type this SDK does not know: it
		// arrives verbatim, for Validate to name.
		"type unknown to this SDK": {Attributes: []schema.Attribute{{Name: "when", Type: "cron"}}},
	}
}

// TestDescribe runs a parallel subtest per case of Cases, after checking
// that Full sets every field. describe serves a plugin whose description
// declares s through a real client and server, and returns the
// description it declared (want) and what the client's Describe returned
// (got, err); the subtest fails unless got equals want.
func TestDescribe(t *testing.T, describe func(t *testing.T, s schema.Schema) (want, got any, err error)) {
	t.Helper()
	if zero := zerofield.Find(Full()); len(zero) > 0 {
		t.Fatalf("schemafixture.Full leaves fields zero, set them: %v", zero)
	}
	for name, s := range Cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, got, err := describe(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Describe = %+v, want %+v", got, want)
			}
		})
	}
}
