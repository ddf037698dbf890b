package sdktest

import (
	"context"
	"regexp"
	"testing"
	"time"
)

// callTimeout bounds one call a conformance check makes.
const callTimeout = 30 * time.Second

// snakeCase is the form of plugin and source names.
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// callContext returns a context for one call of a conformance check.
func callContext(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), callTimeout)
}

// checkName fails t when name is not lower_snake_case.
func checkName(t testing.TB, what, name string) {
	t.Helper()
	if !snakeCase.MatchString(name) {
		t.Errorf("%s name %q must be lower_snake_case (like \"sqlite\" or \"cpu\")", what, name)
	}
}
