package source

import "testing"

func TestSupports(t *testing.T) {
	tests := map[string]struct {
		patterns []string
		platform Platform
		want     bool
	}{
		"no patterns match everything": {nil, Platform{OS: "plan9", Arch: "386"}, true},
		"os wildcard":                  {[]string{"linux/*"}, Platform{OS: "linux", Arch: "riscv64"}, true},
		"exact pair":                   {[]string{"darwin/arm64"}, Platform{OS: "darwin", Arch: "arm64"}, true},
		"exact pair, other arch":       {[]string{"darwin/arm64"}, Platform{OS: "darwin", Arch: "amd64"}, false},
		"arch wildcard over os":        {[]string{"*/arm64"}, Platform{OS: "windows", Arch: "arm64"}, true},
		"everything":                   {[]string{"*/*"}, Platform{OS: "aix", Arch: "ppc64"}, true},
		"other os":                     {[]string{"linux/*", "darwin/*"}, Platform{OS: "windows", Arch: "amd64"}, false},
		"malformed pattern":            {[]string{"linux"}, Platform{OS: "linux", Arch: "amd64"}, false},
		"os is not a prefix":           {[]string{"lin/*"}, Platform{OS: "linux", Arch: "amd64"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (Description{Platforms: tc.patterns}).Supports(tc.platform); got != tc.want {
				t.Fatalf("Supports(%q, %v) = %v, want %v", tc.patterns, tc.platform, got, tc.want)
			}
		})
	}
}
