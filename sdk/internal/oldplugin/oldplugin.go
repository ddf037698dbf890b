// Package oldplugin serves a plugin service as a plugin built before some
// of its methods existed, for the tests of protocol additions: the
// methods left out answer UNIMPLEMENTED, as gRPC answers for a method a
// server does not know.
package oldplugin

import (
	"context"
	"net"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// Conn serves impl under desc without the methods and streams named in
// leftOut, in process, and returns a client connection to it; both end
// with the test. It fails the test when desc has no such method, so that
// a renamed method does not leave the test checking nothing.
func Conn(t testing.TB, desc grpc.ServiceDesc, impl any, leftOut ...string) *grpc.ClientConn {
	t.Helper()
	old := desc
	old.Methods = slices.DeleteFunc(slices.Clone(desc.Methods), func(m grpc.MethodDesc) bool { return slices.Contains(leftOut, m.MethodName) })
	old.Streams = slices.DeleteFunc(slices.Clone(desc.Streams), func(s grpc.StreamDesc) bool { return slices.Contains(leftOut, s.StreamName) })
	if len(desc.Methods)+len(desc.Streams)-len(old.Methods)-len(old.Streams) != len(leftOut) {
		t.Fatalf("%s has not every method of %v to leave out", desc.ServiceName, leftOut)
	}
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer()
	srv.RegisterService(&old, impl)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///old-plugin",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
