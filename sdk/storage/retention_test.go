package storage

import (
	"strings"
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		"days":              {in: "90d", want: 90 * 24 * time.Hour},
		"one day":           {in: "1d", want: 24 * time.Hour},
		"spaces":            {in: " 7d ", want: 7 * 24 * time.Hour},
		"go duration":       {in: "36h", want: 36 * time.Hour},
		"compound duration": {in: "1h30m", want: 90 * time.Minute},
		"empty":             {in: "", wantErr: "age is empty"},
		"zero days":         {in: "0d", wantErr: "whole number of days"},
		"negative days":     {in: "-3d", wantErr: "whole number of days"},
		"fractional days":   {in: "1.5d", wantErr: "whole number of days"},
		"too many days":     {in: "99999999d", wantErr: "whole number of days"},
		"zero duration":     {in: "0s", wantErr: "positive"},
		"negative duration": {in: "-1h", wantErr: "positive"},
		"weeks":             {in: "2w", wantErr: `age "2w"`},
		"bare number":       {in: "90", wantErr: `age "90"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseAge(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseAge(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseAge(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}
