// Package zerofield finds the fields of a value that hold their zero value.
// Round-trip tests use it to prove their fixture sets every field, so that
// a field added to a contract type without being carried over the wire
// fails a test instead of vanishing silently.
package zerofield

import (
	"fmt"
	"reflect"
)

// Find returns the paths ("Collections[0].Timings.Exec") of every field
// reachable from v that holds its zero value, descending through structs,
// pointers, slices, arrays and maps. Empty slices and maps count as zero.
func Find(v any) []string {
	var zero []string
	walk(reflect.ValueOf(v), "", &zero)
	return zero
}

func walk(v reflect.Value, path string, zero *[]string) {
	if !v.IsValid() || v.IsZero() {
		*zero = append(*zero, orRoot(path))
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		walk(v.Elem(), path, zero)
	case reflect.Struct:
		t := v.Type()
		if t.PkgPath() == "time" {
			return // time.Time is a value; non-zero is all that matters
		}
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			walk(v.Field(i), join(path, t.Field(i).Name), zero)
		}
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			*zero = append(*zero, orRoot(path))
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes are data, not fields
		}
		for i := range v.Len() {
			walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), zero)
		}
	case reflect.Map:
		if v.Len() == 0 {
			*zero = append(*zero, orRoot(path))
			return
		}
		iter := v.MapRange()
		for iter.Next() {
			walk(iter.Value(), fmt.Sprintf("%s[%v]", path, iter.Key()), zero)
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orRoot(path string) string {
	if path == "" {
		return "(value)"
	}
	return path
}
