package disk

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseMountinfo: any mount table either parses or is refused; every
// mount it yields has a mount point, and selecting from them never
// panics.
func FuzzParseMountinfo(f *testing.F) {
	for _, name := range []string{"testdata/mountinfo-host", "testdata/mountinfo-container"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"))
	f.Add([]byte("1 2 3:4 / / - \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		mounts, err := parseMountinfo(b)
		if err != nil {
			return
		}
		for _, m := range mounts {
			if m.Point == "" {
				t.Fatalf("mount without a point: %+v", m)
			}
		}
		selected(mounts, Settings{})
	})
}

// FuzzParseSettings: settings either parse or are refused with an error
// that starts with the module's name; what parses encodes again and
// parses to the same.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{`{}`, `{"mounts": ["/", "/var/"]}`, `{"types": ["ext4"], "exclude_mounts": ["C:\\"]}`, `{"mount": 1}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := ParseSettings(json.RawMessage(raw))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "disk") || !utf8.ValidString(err.Error()) {
				t.Fatalf("error %q does not start with the module's name", err)
			}
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSettings(again); err != nil {
			t.Fatalf("settings %s parsed, but their encoding %s does not: %v", raw, again, err)
		}
	})
}
