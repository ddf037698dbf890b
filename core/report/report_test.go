package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/internal/testkey"
)

const testNonce = "q1w2e3r4t5y6u7i8o9p0aZ"

// fixture returns testdata/report.json as a generic JSON object with the
// nonce and recipient filled in, ready to be mutated.
func fixture(t testing.TB, recipient string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["nonce"] = testNonce
	m["recipient"] = recipient
	return m
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func modules(m map[string]any) []any { return m["modules"].([]any) }
func module(m map[string]any, i int) map[string]any {
	return modules(m)[i].(map[string]any)
}
func metric(m map[string]any, mod, i int) map[string]any {
	return module(m, mod)["metrics"].([]any)[i].(map[string]any)
}

func TestOpenGood(t *testing.T) {
	id := testkey.New(t)
	ct := testkey.Seal(t, id.Recipient(), marshal(t, fixture(t, id.Recipient().String())))
	rep, err := Open(id, bytes.NewReader(ct), testNonce)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if rep.Nonce != testNonce || rep.Recipient != id.Recipient().String() || rep.Hostname != "web-01.intra" {
		t.Errorf("envelope = %q %q %q", rep.Nonce, rep.Recipient, rep.Hostname)
	}
	if len(rep.Modules) != 4 || !reflect.DeepEqual(rep.Modules[0].Metrics[0], protocol.Metric{Name: "cpu.percent", Value: 12.5, Unit: "percent"}) {
		t.Errorf("modules = %+v", rep.Modules)
	}
	if rep.Modules[3].Error == "" {
		t.Error("module error text lost")
	}
	if got := rep.CollectedAt.Nanosecond(); got != 123456789 {
		t.Errorf("collected_at nanoseconds = %d", got)
	}
}

func TestOpenRejects(t *testing.T) {
	id := testkey.New(t)
	me := id.Recipient().String()
	other := testkey.New(t)

	// sealed encrypts the fixture, changed by mutate, to the core's key.
	sealed := func(mutate func(m map[string]any)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			m := fixture(t, me)
			if mutate != nil {
				mutate(m)
			}
			return testkey.Seal(t, id.Recipient(), marshal(t, m))
		}
	}
	// raw encrypts the given plaintext, with NONCE and RECIPIENT filled in.
	raw := func(plain string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			plain = strings.NewReplacer("NONCE", testNonce, "RECIPIENT", me).Replace(plain)
			return testkey.Seal(t, id.Recipient(), []byte(plain))
		}
	}
	flip := func(pos func(n int) int) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			ct := sealed(nil)(t)
			ct[pos(len(ct))] ^= 0x01
			return ct
		}
	}
	fixtureText := func(t *testing.T) string {
		b, err := os.ReadFile(filepath.Join("testdata", "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	manyModules := func(m map[string]any) {
		var mods []any
		for i := range 5 {
			mods = append(mods, map[string]any{"name": fmt.Sprintf("m%d", i), "duration_ms": 0})
		}
		m["modules"] = mods
	}

	tests := map[string]struct {
		input    func(t *testing.T) []byte
		nonce    string
		limits   Limits
		wantErr  error
		wantText string
	}{
		"flipped body byte":   {input: flip(func(n int) int { return n - 1 }), wantErr: ErrDecrypt},
		"flipped header byte": {input: flip(func(n int) int { return 40 }), wantErr: ErrDecrypt},
		"flipped header MAC": {input: func(t *testing.T) []byte {
			ct := sealed(nil)(t)
			i := bytes.Index(ct, []byte("\n--- ")) + 6
			ct[i] ^= 0x04
			return ct
		}, wantErr: ErrDecrypt},
		"truncated": {input: func(t *testing.T) []byte {
			ct := sealed(nil)(t)
			return ct[:len(ct)-20]
		}, wantErr: ErrDecrypt},
		// Reports over 64 KiB span several chunks, each authenticated.
		"flipped byte in the first of two chunks": {input: func(t *testing.T) []byte {
			ct := sealed(func(m map[string]any) { m["agent_version"] = strings.Repeat("v", 70_000) })(t)
			ct[len(ct)-30_000] ^= 0x01
			return ct
		}, wantErr: ErrDecrypt},
		"cut at the end of the first of two chunks": {input: func(t *testing.T) []byte {
			ct := sealed(func(m map[string]any) { m["agent_version"] = strings.Repeat("v", 70_000) })(t)
			// The payload follows the header's MAC line and a 16-byte nonce;
			// a full chunk is 64 KiB and its 16-byte tag.
			mac := bytes.Index(ct, []byte("\n--- ")) + 1
			payload := mac + bytes.IndexByte(ct[mac:], '\n') + 1 + 16
			return ct[:payload+64<<10+16]
		}, wantErr: ErrDecrypt},
		"encrypted to another key": {
			input:    func(t *testing.T) []byte { return testkey.Seal(t, other.Recipient(), marshal(t, fixture(t, me))) },
			wantErr:  ErrDecrypt,
			wantText: "not encrypted to this core's key",
		},
		"plaintext json":       {input: func(t *testing.T) []byte { return marshal(t, fixture(t, me)) }, wantErr: ErrDecrypt},
		"empty output":         {input: func(*testing.T) []byte { return nil }, wantErr: ErrDecrypt},
		"wrong nonce":          {input: sealed(nil), nonce: "another-round-nonce", wantErr: ErrNonce},
		"nonce prefix":         {input: sealed(nil), nonce: testNonce[:10], wantErr: ErrNonce},
		"no expected nonce":    {input: sealed(nil), nonce: "", wantErr: ErrNonce},
		"empty report nonce":   {input: sealed(func(m map[string]any) { m["nonce"] = "" }), wantErr: ErrNonce},
		"another recipient":    {input: sealed(func(m map[string]any) { m["recipient"] = other.Recipient().String() }), wantErr: ErrRecipient},
		"missing recipient":    {input: sealed(func(m map[string]any) { delete(m, "recipient") }), wantErr: ErrRecipient},
		"newer version":        {input: sealed(func(m map[string]any) { m["version"] = 2; m["new_field"] = true }), wantErr: ErrVersion, wantText: "version 2"},
		"missing version":      {input: sealed(func(m map[string]any) { delete(m, "version") }), wantErr: ErrVersion},
		"not json":             {input: raw("hello"), wantErr: ErrMalformed},
		"nan value":            {input: func(t *testing.T) []byte { return raw(strings.Replace(fixtureText(t), "12.5", "NaN", 1))(t) }, wantErr: ErrMalformed},
		"infinite value":       {input: func(t *testing.T) []byte { return raw(strings.Replace(fixtureText(t), "12.5", "1e999", 1))(t) }, wantErr: ErrMalformed},
		"trailing data":        {input: func(t *testing.T) []byte { return raw(fixtureText(t) + `{"version":1}`)(t) }, wantErr: ErrMalformed},
		"unknown field":        {input: sealed(func(m map[string]any) { m["extra"] = 1 }), wantErr: ErrMalformed},
		"wrong field type":     {input: sealed(func(m map[string]any) { m["hostname"] = 42 }), wantErr: ErrMalformed},
		"huge hostname":        {input: sealed(func(m map[string]any) { m["hostname"] = strings.Repeat("h", 100_000) }), wantErr: ErrMalformed, wantText: "hostname"},
		"escape in hostname":   {input: sealed(func(m map[string]any) { m["hostname"] = "web\x1b[2J" }), wantErr: ErrMalformed, wantText: "non-printable"},
		"invalid utf8":         {input: raw(`{"version":1,"nonce":"NONCE","recipient":"RECIPIENT","hostname":"a` + "\xff" + `","os":"linux","arch":"amd64","collected_at":"2025-01-01T00:00:00Z","modules":[]}`), wantErr: ErrMalformed},
		"bad os":               {input: sealed(func(m map[string]any) { m["os"] = "Linux 6.1" }), wantErr: ErrMalformed},
		"missing time":         {input: sealed(func(m map[string]any) { delete(m, "collected_at") }), wantErr: ErrMalformed},
		"huge module error":    {input: sealed(func(m map[string]any) { module(m, 3)["error"] = strings.Repeat("e", 5000) }), wantErr: ErrMalformed},
		"control in error":     {input: sealed(func(m map[string]any) { module(m, 3)["error"] = "bad\x07bell" }), wantErr: ErrMalformed},
		"uppercase metric":     {input: sealed(func(m map[string]any) { metric(m, 0, 0)["name"] = "CPU.percent" }), wantErr: ErrMalformed},
		"metric with space":    {input: sealed(func(m map[string]any) { metric(m, 0, 0)["name"] = "cpu percent" }), wantErr: ErrMalformed},
		"long metric name":     {input: sealed(func(m map[string]any) { metric(m, 0, 0)["name"] = strings.Repeat("a", 65) }), wantErr: ErrMalformed},
		"empty metric name":    {input: sealed(func(m map[string]any) { metric(m, 0, 0)["name"] = "" }), wantErr: ErrMalformed},
		"odd unit":             {input: sealed(func(m map[string]any) { metric(m, 0, 0)["unit"] = "%" }), wantErr: ErrMalformed},
		"bad module name":      {input: sealed(func(m map[string]any) { module(m, 0)["name"] = "../cpu" }), wantErr: ErrMalformed},
		"duplicate module":     {input: sealed(func(m map[string]any) { module(m, 1)["name"] = "cpu" }), wantErr: ErrMalformed},
		"negative duration":    {input: sealed(func(m map[string]any) { module(m, 0)["duration_ms"] = -1 }), wantErr: ErrMalformed},
		"too many modules":     {input: sealed(manyModules), limits: Limits{MaxModules: 4}, wantErr: ErrMalformed, wantText: "5 module entries"},
		"too many metrics":     {input: sealed(nil), limits: Limits{MaxMetrics: 4}, wantErr: ErrMalformed, wantText: "metrics"},
		"oversized ciphertext": {input: sealed(func(m map[string]any) { m["agent_version"] = strings.Repeat("v", 2000) }), limits: Limits{MaxCiphertextBytes: 1500}, wantErr: ErrMalformed, wantText: "more than 1500 bytes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			nonce := tc.nonce
			if nonce == "" && tc.wantErr != ErrNonce {
				nonce = testNonce
			}
			rep, err := tc.limits.Open(id, bytes.NewReader(tc.input(t)), nonce)
			if err == nil {
				t.Fatalf("Open accepted the report: %+v", rep)
			}
			t.Log(err)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tc.wantErr)
			}
			for _, other := range []error{ErrDecrypt, ErrNonce, ErrRecipient, ErrVersion, ErrMalformed} {
				if other != tc.wantErr && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error = %q, want it to mention %q", err, tc.wantText)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error is %d bytes long; hostile content must not inflate it", len(err.Error()))
			}
			if strings.ContainsAny(err.Error(), "\x1b\x07") || strings.Contains(err.Error(), id.String()) {
				t.Errorf("error carries control characters or the secret key: %q", err)
			}
		})
	}
}

func TestOpenNilIdentity(t *testing.T) {
	if _, err := Open(nil, strings.NewReader("x"), testNonce); err == nil {
		t.Fatal("Open(nil identity) succeeded")
	}
}

func TestDefaultLimitsFillZeroFields(t *testing.T) {
	got := Limits{MaxModules: 3}.withDefaults()
	want := DefaultLimits()
	want.MaxModules = 3
	if got != want {
		t.Fatalf("withDefaults = %+v, want %+v", got, want)
	}
	if DefaultLimits().MaxCiphertextBytes != 16<<20 {
		t.Fatalf("default ciphertext cap = %d, want 16 MiB", DefaultLimits().MaxCiphertextBytes)
	}
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		if len(n) != 24 {
			t.Fatalf("nonce %q is %d characters, want 24", n, len(n))
		}
		if strings.Trim(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("nonce %q is not base64url", n)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

// BenchmarkOpen opens the fixture report, as the core does for every host.
func BenchmarkOpen(b *testing.B) {
	id := testkey.New(b)
	ct := testkey.Seal(b, id.Recipient(), marshal(b, fixture(b, id.Recipient().String())))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(id, bytes.NewReader(ct), testNonce); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOpenSkipsBanner: text a login shell prints before the report (a
// message of the day, a profile's output) is skipped; a report that does
// not start within the bound is still refused.
func TestOpenSkipsBanner(t *testing.T) {
	id := testkey.New(t)
	ct := testkey.Seal(t, id.Recipient(), marshal(t, fixture(t, id.Recipient().String())))
	tests := []struct {
		name   string
		banner string
		ok     bool
	}{
		{"none", "", true},
		{"motd", "Welcome to Windows Server 2022\r\nLast login: today\r\n", true},
		{"profile noise", "PS profile loaded\n\n", true},
		{"too much", strings.Repeat("x", 70<<10) + "\n", false},
	}
	for _, tt := range tests {
		_, err := Open(id, bytes.NewReader(append([]byte(tt.banner), ct...)), testNonce)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Open error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
