package sdktest

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/schema"
)

// checkSchema fails t when the schema a plugin declares does not
// validate; field names the Description field that holds it.
func checkSchema(t testing.TB, what, name, field string, s schema.Schema) {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Errorf("%s %q declares a schema in Description.%s that is not valid: %v", what, name, field, err)
	}
}

// SchemaMatchesStruct checks that s declares exactly the JSON keys of the
// struct v (a value or pointer) that the plugin decodes its configuration
// into, and that each attribute's type fits its field: string or duration
// for a string field, number for an integer or float, bool, list(string)
// or list(number) for a slice, map(string) for a map of strings. Keys come
// from json tags as encoding/json reads them (untagged embedded structs
// included, "-" skipped). A field whose type decodes itself
// (json.Unmarshaler, encoding.TextUnmarshaler) may have any attribute type.
// Call it from a plugin's test so that the schema and the decoder cannot
// drift apart.
func SchemaMatchesStruct(t testing.TB, s schema.Schema, v any) {
	t.Helper()
	st := reflect.TypeOf(v)
	for st != nil && st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st == nil || st.Kind() != reflect.Struct {
		t.Fatalf("SchemaMatchesStruct: %T is not a struct; pass the configuration struct the plugin decodes into", v)
	}
	fields := jsonFields(st)
	for _, a := range s.Attributes {
		ft, ok := fields[a.Name]
		if !ok {
			t.Errorf("the schema declares %q, which %s has no field for (add the field, or remove the attribute)", a.Name, st)
			continue
		}
		if want := fittingTypes(ft); !slices.Contains(want, a.Type) {
			t.Errorf("the schema declares %q as %q, but its field in %s is a %s: declare it as one of %q", a.Name, a.Type, st, ft, want)
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, ok := s.Lookup(k); !ok {
			t.Errorf("%s reads the key %q, which the schema does not declare (add an attribute for it)", st, k)
		}
	}
}

// jsonFields returns the JSON keys encoding/json decodes into st, with
// their field types.
func jsonFields(st reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range st.NumField() {
		f := st.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, ft := range jsonFields(et) {
					if _, shadowed := out[k]; !shadowed {
						out[k] = ft
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if !hasTag || name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// fittingTypes returns the schema types a field of type ft can hold.
func fittingTypes(ft reflect.Type) []schema.Type {
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if decodesItself(ft) {
		return []schema.Type{schema.String, schema.Number, schema.Bool, schema.Duration,
			schema.ListOfString, schema.ListOfNumber, schema.MapOfString}
	}
	switch {
	case ft.Kind() == reflect.String:
		return []schema.Type{schema.String, schema.Duration}
	case isNumber(ft):
		return []schema.Type{schema.Number}
	case ft.Kind() == reflect.Bool:
		return []schema.Type{schema.Bool}
	case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Uint8:
		return []schema.Type{schema.String} // encoding/json reads []byte from base64 text
	case ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array:
		switch el := ft.Elem(); {
		case el.Kind() == reflect.String:
			return []schema.Type{schema.ListOfString}
		case isNumber(el):
			return []schema.Type{schema.ListOfNumber}
		}
	case ft.Kind() == reflect.Map:
		if ft.Key().Kind() == reflect.String && ft.Elem().Kind() == reflect.String {
			return []schema.Type{schema.MapOfString}
		}
	}
	return nil
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// decodesItself reports whether t (or *t) unmarshals itself from JSON.
func decodesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(reflect.TypeFor[json.Unmarshaler]()) || pt.Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}
