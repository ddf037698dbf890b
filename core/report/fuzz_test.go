package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// fuzzIdentity is the fixed key of testdata/fuzz_identity.txt: a corpus
// entry sealed to it opens in every fuzz worker and every run.
func fuzzIdentity(f *testing.F) *age.X25519Identity {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz_identity.txt"))
	if err != nil {
		f.Fatal(err)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil || len(ids) != 1 {
		f.Fatalf("testdata/fuzz_identity.txt: %v", err)
	}
	return ids[0].(*age.X25519Identity)
}

// reportSeeds are report JSON texts for the seeds: the fixture and a few
// variants near the limits.
func reportSeeds(f *testing.F, recipient string) [][]byte {
	f.Helper()
	good := fixture(f, recipient)
	variants := []func(m map[string]any){
		func(map[string]any) {},
		func(m map[string]any) { metric(m, 0, 0)["value"] = 1e308 },
		func(m map[string]any) { metric(m, 0, 1)["value"] = -1 },
		func(m map[string]any) { module(m, 3)["error"] = "line one\n\tline two" },
		func(m map[string]any) { m["version"] = 2 },
		func(m map[string]any) { m["extra"] = true },
		func(m map[string]any) { m["modules"] = []any{} },
	}
	var out [][]byte
	for _, v := range variants {
		m := fixture(f, recipient)
		v(m)
		out = append(out, marshal(f, m))
	}
	out = append(out, marshal(f, good)[:40], []byte(`{}`), []byte(`null`))
	return out
}

// checkOpenError checks what Open promises of an error: it wraps one of
// the sentinels, and its text, which quotes hostile bytes, is printable
// UTF-8 of bounded length.
func checkOpenError(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range []error{ErrDecrypt, ErrNonce, ErrRecipient, ErrVersion, ErrMalformed} {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("error %q wraps %d of the sentinel errors, want 1", err, n)
	}
	msg := err.Error()
	if !utf8.ValidString(msg) || strings.ContainsFunc(msg, func(c rune) bool { return !unicode.IsPrint(c) }) || len(msg) > 2048 {
		t.Errorf("error text is not short printable UTF-8: %q", msg)
	}
}

// checkOpened checks what Open promises of a report it returns: it
// answers the request and its content is within DefaultLimits.
func checkOpened(t *testing.T, rep *protocol.Report, recipient string) {
	t.Helper()
	if rep.Version != protocol.Version || rep.Nonce != testNonce || rep.Recipient != recipient {
		t.Errorf("report accepted with version %d, nonce %q, recipient %q", rep.Version, rep.Nonce, rep.Recipient)
	}
	printable := func(s string, multiline bool) bool {
		return utf8.ValidString(s) && !strings.ContainsFunc(s, func(c rune) bool {
			return c == utf8.RuneError || !unicode.IsPrint(c) && !(multiline && (c == '\n' || c == '\t'))
		})
	}
	if !printable(rep.Hostname, false) || !printable(rep.AgentVersion, false) || !isName(rep.OS, maxPlatformBytes) ||
		!isName(rep.Arch, maxPlatformBytes) || rep.CollectedAt.IsZero() {
		t.Errorf("report accepted with hostname %q, agent %q, platform %q/%q, collected_at %v",
			rep.Hostname, rep.AgentVersion, rep.OS, rep.Arch, rep.CollectedAt)
	}
	l := DefaultLimits()
	seen := map[string]bool{}
	metricCount := 0
	for _, m := range rep.Modules {
		if !isName(m.Name, maxNameBytes) || seen[m.Name] || !printable(m.Error, true) || len(m.Error) > l.MaxErrorBytes ||
			!isFinite(m.DurationMS) || m.DurationMS < 0 {
			t.Errorf("module accepted as %+v", m)
		}
		seen[m.Name] = true
		for _, mt := range m.Metrics {
			metricCount++
			if !isName(mt.Name, maxNameBytes) || !isFinite(mt.Value) || (mt.Unit != "" && !isName(mt.Unit, maxUnitBytes)) {
				t.Errorf("metric accepted as %+v", mt)
			}
		}
	}
	if len(rep.Modules) > l.MaxModules || metricCount > l.MaxMetrics {
		t.Errorf("%d modules and %d metrics accepted", len(rep.Modules), metricCount)
	}
}

// checkScreened screens rep as the core does and checks that every value
// kept is within its unit's bounds and collected_at within the skew.
func checkScreened(t *testing.T, rep *protocol.Report) {
	t.Helper()
	received := time.Date(2025, 3, 1, 10, 16, 0, 0, time.UTC) // the fixture's time, a little later
	requested := received.Add(-time.Minute)
	Screen(rep, builtinUnits, requested, received)
	if rep.CollectedAt.Before(requested.Add(-MaxClockSkew)) || rep.CollectedAt.After(received.Add(MaxClockSkew)) {
		t.Errorf("collected_at %v kept, off the core's clock", rep.CollectedAt)
	}
	for _, m := range rep.Modules {
		for _, mt := range m.Metrics {
			unit, ok := builtinUnits(mt.Name)
			if ok && unit != mt.Unit {
				t.Errorf("metric %s kept in unit %q, declared %q", mt.Name, mt.Unit, unit)
			}
			if !ok {
				unit = mt.Unit
			}
			v := mt.Value
			switch {
			case !isFinite(v),
				unit == metrics.Percent && (v < -PercentSlack || v > 100+PercentSlack),
				(unit == metrics.Bytes || unit == metrics.Seconds || unit == metrics.Count) && v < 0:
				t.Errorf("metric %s kept with value %v (unit %q)", mt.Name, v, unit)
			}
		}
	}
}

// FuzzOpen feeds Open fuzzed agent output: a sealed report, possibly
// after a banner, altered anywhere. Properties: no panic; a report or an
// error, never both nor neither; an error wraps exactly one sentinel and
// is short printable text; an accepted report answers the request and is
// within the limits.
func FuzzOpen(f *testing.F) {
	id := fuzzIdentity(f)
	me := id.Recipient().String()
	for _, plain := range reportSeeds(f, me) {
		sealed := testkey.Seal(f, id.Recipient(), plain)
		f.Add(sealed)
		f.Add(append([]byte("Welcome\r\nLast login: today\n"), sealed...))
		f.Add(plain)
	}
	f.Add([]byte(ageHeader))
	f.Fuzz(func(t *testing.T, out []byte) {
		rep, err := Open(id, bytes.NewReader(out), testNonce)
		if (rep == nil) == (err == nil) {
			t.Fatalf("Open returned report %v and error %v", rep != nil, err)
		}
		if err != nil {
			checkOpenError(t, err)
			return
		}
		checkOpened(t, rep, me)
	})
}

// FuzzReportJSON feeds Open fuzzed report JSON, sealed to the core's key
// (the placeholders NONCE and RECIPIENT stand for the request's), so that
// what the host wrote is fuzzed rather than the encryption. Properties:
// those of FuzzOpen; an accepted report encodes and opens again to the
// same report; after Screen every value kept is finite and within its
// unit's bounds.
func FuzzReportJSON(f *testing.F) {
	id := fuzzIdentity(f)
	me := id.Recipient().String()
	for _, plain := range reportSeeds(f, "RECIPIENT") {
		f.Add(bytes.ReplaceAll(plain, []byte(testNonce), []byte("NONCE")))
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		plain = bytes.ReplaceAll(plain, []byte(`"NONCE"`), []byte(`"`+testNonce+`"`))
		plain = bytes.ReplaceAll(plain, []byte(`"RECIPIENT"`), []byte(`"`+me+`"`))
		rep, err := Open(id, bytes.NewReader(testkey.Seal(t, id.Recipient(), plain)), testNonce)
		if (rep == nil) == (err == nil) {
			t.Fatalf("Open returned report %v and error %v", rep != nil, err)
		}
		if err != nil {
			checkOpenError(t, err)
			return
		}
		checkOpened(t, rep, me)
		again, err := json.Marshal(rep)
		if err != nil {
			t.Fatalf("an accepted report does not encode: %v", err)
		}
		rep2, err := Open(id, bytes.NewReader(testkey.Seal(t, id.Recipient(), again)), testNonce)
		if err != nil {
			t.Fatalf("an accepted report, encoded again, is refused: %v\n%s", err, again)
		}
		if again2, _ := json.Marshal(rep2); !bytes.Equal(again, again2) {
			t.Errorf("the report changes when encoded and opened again:\n%s\n%s", again, again2)
		}
		checkScreened(t, rep)
	})
}
