package source_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/internal/schemafixture"
	"github.com/cscs-dev/cscs/sdk/internal/zerofield"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/source"
)

// users is a source that ships a script artifact on linux, a built-in
// module on windows and refuses other platforms.
type users struct {
	artifact []byte
}

func fullDescription() source.Description {
	return source.Description{
		Name:      "users",
		Version:   "2.0.1",
		Platforms: []string{"linux/*", "windows/amd64"},
		Metrics: []source.MetricInfo{
			{Name: "users.logged_in", Unit: "count", Description: "sessions open", Labels: []string{"tty", "seat"}},
			{Name: "users.idle_seconds", Unit: "seconds", Description: "longest idle session", Labels: []string{"tty"}},
		},
		AlertTypes:   []source.AlertType{{Name: "users", Metric: "users.logged_in"}},
		YieldsEvents: true,
		Decodes:      true,
		Settings:     schemafixture.Full(),
	}
}

func (u *users) Describe(context.Context) (source.Description, error) {
	return fullDescription(), nil
}

func (u *users) Module(_ context.Context, p source.Platform) (source.Module, error) {
	switch p.OS {
	case "linux":
		return source.Module{Artifact: &source.Artifact{
			FileName:    "users.sh",
			Data:        u.artifact,
			Interpreter: []string{"/bin/sh", "-eu"},
			Timeout:     7*time.Second + 3,
		}}, nil
	case "windows":
		return source.Module{Builtin: "users"}, nil
	}
	return source.Module{}, fmt.Errorf("users does not support %s/%s", p.OS, p.Arch)
}

// decodingUsers is users plus a Decoder.
type decodingUsers struct {
	users
}

func fullDecoded(p source.Platform, raw []byte) source.Decoded {
	return source.Decoded{
		Metrics: []source.Metric{
			{Name: "users.logged_in", Value: float64(len(raw)), Unit: "count", Labels: map[string]string{"tty": "pts/0", "seat": "1"}},
			{Name: "users.idle_seconds", Value: 12.5, Unit: "seconds", Labels: map[string]string{"tty": "pts/0"}},
		},
		Events: []source.Event{{
			Channel:  "auth/" + p.OS + "/" + p.Arch,
			RecordID: 1<<63 + 5,
			Time:     time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC),
			Level:    "warning",
			Provider: "sshd",
			EventID:  -4625,
			Message:  "Failed password for root from 192.0.2.7",
			Fields:   map[string]string{"user": "root", "from": "192.0.2.7"},
		}},
	}
}

func (d *decodingUsers) Decode(_ context.Context, p source.Platform, raw []byte) (source.Decoded, error) {
	if bytes.Equal(raw, []byte("garbage")) {
		return source.Decoded{}, errors.New("line 1: want \"user idle\", got \"garbage\"")
	}
	return fullDecoded(p, raw), nil
}

func TestDescribeRoundTrip(t *testing.T) {
	t.Parallel()
	if zero := zerofield.Find(fullDescription()); len(zero) > 0 {
		t.Fatalf("fullDescription leaves fields zero, set them: %v", zero)
	}
	client := sdktest.Source(t, &users{})
	got, err := client.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := fullDescription(); !reflect.DeepEqual(got, want) {
		t.Errorf("Describe = %+v, want %+v", got, want)
	}
}

// described is a users source that describes itself as desc.
type described struct {
	users
	desc source.Description
}

func (d *described) Describe(context.Context) (source.Description, error) { return d.desc, nil }

func TestDescribeCarriesTheSettingsSchema(t *testing.T) {
	t.Parallel()
	schemafixture.TestDescribe(t, func(t *testing.T, s schema.Schema) (any, any, error) {
		want := source.Description{Name: "described", Version: "0.0.1", Settings: s}
		got, err := sdktest.Source(t, &described{desc: want}).Describe(t.Context())
		return want, got, err
	})
}

func TestModuleRoundTrip(t *testing.T) {
	t.Parallel()
	// Larger than gRPC's default 4 MiB message: artifacts are programs.
	big := bytes.Repeat([]byte("#!/bin/sh\necho users 1\n\x00\xff"), 300_000)
	client := sdktest.Source(t, &users{artifact: big})
	cases := map[string]struct {
		platform source.Platform
		want     source.Module
		wantErr  string
	}{
		"artifact with bytes": {
			platform: source.Platform{OS: "linux", Arch: "arm64"},
			want: source.Module{Artifact: &source.Artifact{
				FileName: "users.sh", Data: big, Interpreter: []string{"/bin/sh", "-eu"}, Timeout: 7*time.Second + 3,
			}},
		},
		"built in": {
			platform: source.Platform{OS: "windows", Arch: "amd64"},
			want:     source.Module{Builtin: "users"},
		},
		"unsupported platform": {
			platform: source.Platform{OS: "plan9", Arch: "386"},
			wantErr:  "users does not support plan9/386",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := client.Module(t.Context(), tc.platform)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Module = %+v, want %+v", got, tc.want)
			}
		})
	}
	if zero := zerofield.Find(*cases["artifact with bytes"].want.Artifact); len(zero) > 0 {
		t.Errorf("the artifact fixture leaves fields zero, set them: %v", zero)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	p := source.Platform{OS: "linux", Arch: "riscv64"}
	raw := []byte("alice 12\nbob 0\n")
	if zero := zerofield.Find(fullDecoded(p, raw)); len(zero) > 0 {
		t.Fatalf("fullDecoded leaves fields zero, set them: %v", zero)
	}
	cases := map[string]struct {
		impl      source.Source
		raw       []byte
		want      source.Decoded
		wantErr   string
		wantNoDec bool
	}{
		"decoder present": {impl: &decodingUsers{}, raw: raw, want: fullDecoded(p, raw)},
		"decoder error":   {impl: &decodingUsers{}, raw: []byte("garbage"), wantErr: `line 1: want "user idle", got "garbage"`},
		"decoder absent":  {impl: &users{}, raw: raw, wantNoDec: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client := sdktest.Source(t, tc.impl)
			dec, ok := client.(source.Decoder)
			if !ok {
				t.Fatal("the client is no source.Decoder")
			}
			got, err := dec.Decode(t.Context(), p, tc.raw)
			switch {
			case tc.wantNoDec:
				if !errors.Is(err, source.ErrNoDecoder) {
					t.Errorf("error = %v, want one wrapping ErrNoDecoder", err)
				}
			case tc.wantErr != "":
				if err == nil || err.Error() != tc.wantErr || errors.Is(err, source.ErrNoDecoder) {
					t.Errorf("error = %v, want %q", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Decode = %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}

func TestConformanceOverGRPC(t *testing.T) {
	t.Parallel()
	sdktest.SourceConformance(t, sdktest.Source(t, &decodingUsers{users{artifact: []byte("#!/bin/sh\n")}}))
}

func TestSourceSetAnswersTheNamedSource(t *testing.T) {
	t.Parallel()
	first := source.Description{Name: "first", Version: "1.0.0"}
	client := sdktest.SourceSet(t, map[string]source.Source{
		"first":  &described{desc: first},
		"second": &decodingUsers{},
	})
	tests := []struct {
		name    string
		want    string
		wantErr string
	}{
		{name: "first", want: first.Name},
		{name: "second", want: "users"},
		{name: "third", wantErr: `no source named "third"; this process serves the sources first, second`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.Describe(sdkplugin.CallFor(t.Context(), tt.name))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Describe error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Name != tt.want {
				t.Fatalf("Describe = %q, %v; want %q", got.Name, err, tt.want)
			}
		})
	}
	// Decode goes to the named source too: only "second" decodes.
	dec := client.(source.Decoder)
	p := source.Platform{OS: "linux", Arch: "amd64"}
	if _, err := dec.Decode(sdkplugin.CallFor(t.Context(), "first"), p, []byte("x")); !errors.Is(err, source.ErrNoDecoder) {
		t.Errorf("Decode on first: %v, want ErrNoDecoder", err)
	}
	if got, err := dec.Decode(sdkplugin.CallFor(t.Context(), "second"), p, []byte("x")); err != nil || !reflect.DeepEqual(got, fullDecoded(p, []byte("x"))) {
		t.Errorf("Decode on second = %+v, %v; want the decoded output", got, err)
	}
}
