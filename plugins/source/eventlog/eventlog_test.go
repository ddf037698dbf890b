package eventlog

import (
	"context"
	"testing"

	"github.com/cscs-dev/cscs/sdk/source"
)

func TestModulePerPlatform(t *testing.T) {
	tests := map[string]struct {
		platform source.Platform
		want     string
		wantErr  bool
	}{
		"windows amd64": {platform: source.Platform{OS: "windows", Arch: "amd64"}, want: Name},
		"windows arm64": {platform: source.Platform{OS: "windows", Arch: "arm64"}, want: Name},
		"linux":         {platform: source.Platform{OS: "linux", Arch: "amd64"}, wantErr: true},
		"darwin":        {platform: source.Platform{OS: "darwin", Arch: "arm64"}, wantErr: true},
	}
	s := New("1.0")
	d, err := s.Describe(context.Background())
	if err != nil || !d.YieldsEvents || len(d.Metrics) != 0 || d.Name != Name || d.Version != "1.0" {
		t.Fatalf("description %+v, %v", d, err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := s.Module(context.Background(), tc.platform)
			if (err != nil) != tc.wantErr || m.Builtin != tc.want {
				t.Fatalf("module %+v err %v", m, err)
			}
		})
	}
}
