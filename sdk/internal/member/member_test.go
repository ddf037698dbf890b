package member

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// incoming turns what WithName put on the way out into what a server sees.
func incoming(ctx context.Context) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	return metadata.NewIncomingContext(context.Background(), md)
}

func TestPick(t *testing.T) {
	set := map[string]string{"cpu": "the cpu source", "memory": "the memory source"}
	tests := []struct {
		name    string
		ctx     context.Context
		set     map[string]string
		want    string
		wantErr string
	}{
		{name: "single ignores the name", ctx: incoming(WithName(context.Background(), "anything")), want: "single"},
		{name: "single without a name", ctx: context.Background(), want: "single"},
		{name: "named member", ctx: incoming(WithName(context.Background(), "memory")), set: set, want: "the memory source"},
		{name: "unknown member", ctx: incoming(WithName(context.Background(), "disk")), set: set, wantErr: `no source named "disk"; this process serves the sources cpu, memory`},
		{name: "no name", ctx: context.Background(), set: set, wantErr: "the call names no source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pick(tt.ctx, "source", "single", tt.set)
			if tt.wantErr != "" {
				if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Pick error = %v, want NotFound containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Pick = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
