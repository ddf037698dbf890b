package alert

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestFormatValue(t *testing.T) {
	tests := map[string]struct {
		v    float64
		unit string
		want string
	}{
		"percent":           {93.24, "percent", "93.2%"},
		"percent zero":      {0, "percent", "0.0%"},
		"bytes small":       {512, "bytes", "512 B"},
		"bytes KiB":         {1536, "bytes", "1.5 KiB"},
		"bytes GiB":         {3.25 * (1 << 30), "bytes", "3.2 GiB"},
		"bytes TiB":         {2 * (1 << 40), "bytes", "2.0 TiB"},
		"bytes huge":        {3 * (1 << 60), "bytes", "3072.0 PiB"},
		"bytes negative":    {-2048, "bytes", "-2.0 KiB"},
		"seconds":           {45, "seconds", "45s"},
		"seconds fraction":  {0.25, "seconds", "0.2s"},
		"minutes":           {750, "seconds", "12m30s"},
		"whole minutes":     {600, "seconds", "10m"},
		"hours":             {4*3600 + 12*60 + 10, "seconds", "4h12m"},
		"whole hours":       {7200, "seconds", "2h"},
		"days":              {3*86400 + 4*3600 + 59, "seconds", "3d4h"},
		"whole days":        {10 * 86400, "seconds", "10d"},
		"count":             {11, "count", "11"},
		"count fraction":    {2.5, "count", "2.50"},
		"ratio":             {4.125, "", "4.12"},
		"unknown unit":      {1.5, "furlongs", "1.50"},
		"not a number":      {math.NaN(), "percent", "NaN"},
		"infinite":          {math.Inf(1), "bytes", "+Inf"},
		"negative duration": {-90, "seconds", "-1m30s"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := formatValue(tc.v, tc.unit); got != tc.want {
				t.Errorf("formatValue(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
			}
		})
	}
}

func TestCleanText(t *testing.T) {
	tests := map[string]struct {
		in   string
		max  int
		want string
	}{
		"plain":                 {"web-01", 64, "web-01"},
		"header injection":      {"web\r\nBcc: x@example.com", 64, "webBcc: x@example.com"},
		"terminal escape":       {"a\x1b]0;pwned\x07b", 64, "a]0;pwnedb"},
		"bidi override":         {"abc\u202etxt.exe", 64, "abctxt.exe"},
		"zero width":            {"we\u200bb\ufeff", 64, "web"},
		"invalid utf-8":         {"a\xffb", 64, "a\uFFFDb"},
		"tabs and nul":          {"a\tb\x00c", 64, "abc"},
		"unicode kept":          {"sérveur-東京", 64, "sérveur-東京"},
		"cut":                   {strings.Repeat("é", 70), 64, strings.Repeat("é", 64) + "…"},
		"exactly max":           {strings.Repeat("a", 64), 64, strings.Repeat("a", 64)},
		"only controls":         {"\r\n\x1b", 64, ""},
		"spaces trimmed":        {"  web  ", 64, "web"},
		"cut counts no control": {strings.Repeat("\n", 100) + "ab", 2, "ab"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := cleanText(tc.in, tc.max); got != tc.want {
				t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	if got := formatTime(time.Time{}); got != "unknown" {
		t.Errorf("zero time = %q", got)
	}
	if got := formatTime(t0); got != "2025-03-04 10:00:00 UTC" {
		t.Errorf("formatTime = %q", got)
	}
}
