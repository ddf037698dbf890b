// Package member addresses one plugin among several that one process
// serves under the same kind. The host puts the plugin's name in the
// call's gRPC metadata; the server picks the implementation by it. A
// process serving a single plugin of the kind ignores the name.
package member

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// metadataKey is the gRPC metadata key carrying the plugin's name.
const metadataKey = "cscs-plugin-name"

// WithName returns ctx whose outgoing calls name the plugin name.
func WithName(ctx context.Context, name string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, metadataKey, name)
}

// name is the plugin name an incoming call carries, or "".
func name(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, metadataKey); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Pick returns the implementation an incoming call is for: single when
// the process serves one plugin of the kind, else the member of set the
// call names. A call naming no member, or an unknown one, fails with
// codes.NotFound listing what the process serves.
func Pick[T any](ctx context.Context, kind string, single T, set map[string]T) (T, error) {
	if set == nil {
		return single, nil
	}
	n := name(ctx)
	if impl, ok := set[n]; ok {
		return impl, nil
	}
	var zero T
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	slices.Sort(names)
	what := fmt.Sprintf("no %s named %q", kind, n)
	if n == "" {
		what = fmt.Sprintf("the call names no %s", kind)
	}
	return zero, status.Errorf(codes.NotFound, "%s; this process serves the %ss %s, and the host must name one per call", what, kind, strings.Join(names, ", "))
}
