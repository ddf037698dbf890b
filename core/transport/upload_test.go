package transport

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestArtifactRemoteName(t *testing.T) {
	data := []byte("#!/bin/sh\necho '{}'\n")
	raw := sha256.Sum256(data)
	sum := hex.EncodeToString(raw[:])
	h := sum[:16]
	linux := Platform{OS: "linux", Arch: "amd64"}
	windows := Platform{OS: "windows", Arch: "amd64"}
	tests := map[string]struct {
		artifact Artifact
		platform Platform
		want     string
		wantErr  string
	}{
		"agent on linux":          {artifact: Artifact{Name: "cscs-agent", Data: data}, platform: linux, want: "cscs-agent-" + h},
		"agent on windows":        {artifact: Artifact{Name: "cscs-agent", Data: data}, platform: windows, want: "cscs-agent-" + h + ".exe"},
		"script keeps extension":  {artifact: Artifact{Name: "users.sh", Data: data}, platform: linux, want: "users-" + h + ".sh"},
		"powershell on windows":   {artifact: Artifact{Name: "users.ps1", Data: data}, platform: windows, want: "users-" + h + ".ps1"},
		"exe keeps one extension": {artifact: Artifact{Name: "users.exe", Data: data}, platform: windows, want: "users-" + h + ".exe"},
		"last extension only":     {artifact: Artifact{Name: "users.v2.py", Data: data}, platform: linux, want: "users.v2-" + h + ".py"},
		"given checksum matches":  {artifact: Artifact{Name: "users.sh", Data: data, SHA256: strings.ToUpper(sum)}, platform: linux, want: "users-" + h + ".sh"},
		"given checksum trusted":  {artifact: Artifact{Name: "users.sh", Data: data, SHA256: strings.Repeat("0", 64)}, platform: linux, want: "users-0000000000000000.sh"},
		"malformed checksum":      {artifact: Artifact{Name: "users.sh", Data: data, SHA256: "abc"}, platform: linux, wantErr: "not 64 hex digits"},
		"path in name":            {artifact: Artifact{Name: "../users.sh", Data: data}, platform: linux, wantErr: "letters, digits"},
		"empty name":              {artifact: Artifact{Data: data}, platform: linux, wantErr: "letters, digits"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tc.artifact.RemoteName(tc.platform)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || KindOf(err) != Config {
					t.Fatalf("RemoteName = %q, %v; want a Config error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("RemoteName = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
