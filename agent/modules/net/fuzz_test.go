package net

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// FuzzParseNetDev: any /proc/net/dev either parses or is refused with an
// error naming a line (or saying it is empty); every interface it yields has a name without
// space or '/'.
func FuzzParseNetDev(f *testing.F) {
	for _, name := range []string{"testdata/netdev_typical.txt", "testdata/netdev_odd.txt", "testdata/netdev_missing.txt", "testdata/netdev_headers_only.txt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ifcs, err := parseNetDev(b)
		if err != nil {
			if !strings.Contains(err.Error(), "line ") && err.Error() != "the file is empty" {
				t.Fatalf("error %q names no line", err)
			}
			return
		}
		for _, i := range ifcs {
			if i.Name == "" || strings.ContainsAny(i.Name, " /\t\n") {
				t.Fatalf("interface name %q", i.Name)
			}
		}
		toMetrics(ifcs, Settings{})
	})
}

// FuzzParseSettings: settings either parse or are refused with an error
// that starts with the module's name; what parses encodes again and
// parses to the same.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{`{}`, `{"interfaces": ["eth*", "lo"]}`, `{"include_virtual": true}`, `{"interfaces": ["eth["]}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := ParseSettings(json.RawMessage(raw))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "net") {
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
