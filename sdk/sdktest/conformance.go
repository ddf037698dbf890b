package sdktest

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/schema"
)

// callTimeout bounds one call a conformance check makes.
const callTimeout = 30 * time.Second

// snakeCase is the form of plugin and source names.
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// call makes one call of a conformance check, bounded by callTimeout, and
// returns its error.
func call(t testing.TB, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	return f(ctx)
}

// callFor is call for a call that returns a value.
func callFor[T any](t testing.TB, f func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	return f(ctx)
}

// checkName fails t when name is not lower_snake_case.
func checkName(t testing.TB, what, name string) {
	t.Helper()
	if !snakeCase.MatchString(name) {
		t.Errorf("%s name %q must be lower_snake_case (like \"sqlite\" or \"cpu\")", what, name)
	}
}

// checkDescribedFirst checks what Describe answered when called before
// the call that configures the plugin (before): it must succeed, name the
// plugin in lower_snake_case and declare a configuration schema that
// validates.
func checkDescribedFirst(t testing.TB, what, before, name string, config schema.Schema, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Describe before %s: %v (Describe must work before %s)", before, err, before)
	}
	checkName(t, what, name)
	checkSchema(t, what, name, "Config", config)
}
