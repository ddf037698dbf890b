package convert

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cscs-dev/cscs/sdk/internal/schemafixture"
	schemav1 "github.com/cscs-dev/cscs/sdk/proto/schema/v1"
	"github.com/cscs-dev/cscs/sdk/schema"
)

func TestTimeRoundTrip(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		in   time.Time
		want time.Time
	}{
		"zero stays zero":         {in: time.Time{}, want: time.Time{}},
		"nanoseconds survive":     {in: time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC), want: time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)},
		"before 1970":             {in: time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC), want: time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC)},
		"zone becomes UTC":        {in: time.Date(2026, 1, 1, 12, 0, 0, 5, time.FixedZone("CET", 3600)), want: time.Date(2026, 1, 1, 11, 0, 0, 5, time.UTC)},
		"monotonic reading drops": {in: time.Unix(1700000000, 42).UTC().Round(0), want: time.Unix(1700000000, 42).UTC()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := Time(Timestamp(tc.in))
			if got != tc.want {
				t.Errorf("round trip of %v = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDurationRoundTrip(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, 1, -1, 1500 * time.Millisecond, 3*time.Hour + 7, time.Duration(1<<63 - 1)} {
		if got := FromDuration(Duration(d)); got != d {
			t.Errorf("round trip of %d = %d", d, got)
		}
	}
	if Duration(0) != nil {
		t.Error("Duration(0) is not nil")
	}
}

func TestStatusRoundTrip(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		err      error
		wantText string
		wantIs   error
	}{
		"plugin error keeps its text": {err: errors.New("disk full"), wantText: "disk full"},
		"deadline":                    {err: fmt.Errorf("writing: %w", context.DeadlineExceeded), wantText: "writing: context deadline exceeded", wantIs: context.DeadlineExceeded},
		"cancel":                      {err: context.Canceled, wantText: "context canceled", wantIs: context.Canceled},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := FromStatus(ToStatus(tc.err))
			if got.Error() != tc.wantText {
				t.Errorf("text = %q, want %q", got.Error(), tc.wantText)
			}
			if tc.wantIs != nil && !errors.Is(got, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", got, tc.wantIs)
			}
		})
	}
	if FromStatus(ToStatus(nil)) != nil {
		t.Error("nil does not stay nil")
	}
}

func TestFromStatusUnavailable(t *testing.T) {
	t.Parallel()
	err := FromStatus(status.Error(codes.Unavailable, "error reading from server: EOF"))
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("errors.Is(%v, ErrUnavailable) = false", err)
	}
	if want := "plugin unavailable: error reading from server: EOF"; err.Error() != want {
		t.Errorf("text = %q, want %q", err.Error(), want)
	}
	if got := FromStatus(status.Error(codes.Internal, "")); got.Error() != "Internal" {
		t.Errorf("empty message: text = %q, want the code", got.Error())
	}
}

func TestSchemaRoundTrip(t *testing.T) {
	t.Parallel()
	for name, in := range schemafixture.Cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := FromSchema(Schema(in)); !reflect.DeepEqual(got, in) {
				t.Errorf("round trip of %+v = %+v", in, got)
			}
		})
	}
}

// TestSchemaFromOlderPlugin covers a description without a schema, as a
// plugin built before schemas sends it: no attributes, and nil ones so
// that an empty schema and none read the same.
func TestSchemaFromOlderPlugin(t *testing.T) {
	t.Parallel()
	for name, ps := range map[string]*schemav1.Schema{"unset": nil, "empty": {}} {
		if got := FromSchema(ps); got.Attributes != nil {
			t.Errorf("%s: FromSchema = %+v, want the zero Schema", name, got)
		}
	}
	if ps := Schema(schema.Schema{Attributes: []schema.Attribute{}}); ps != nil {
		t.Errorf("an empty schema goes on the wire as %v, want nothing", ps)
	}
}

func TestSliceKeepsEmptyAsNil(t *testing.T) {
	t.Parallel()
	double := func(i int) int { return 2 * i }
	if got := Slice([]int{1, 2, 3}, double); !reflect.DeepEqual(got, []int{2, 4, 6}) {
		t.Errorf("Slice = %v, want [2 4 6]", got)
	}
	for name, in := range map[string][]int{"nil": nil, "empty": {}} {
		if got := Slice(in, double); got != nil {
			t.Errorf("%s: Slice = %#v, want nil", name, got)
		}
	}
}

func TestEmptyBecomesNil(t *testing.T) {
	t.Parallel()
	if Strings([]string{}) != nil || Bytes([]byte{}) != nil || StringMap(map[string]string{}) != nil {
		t.Error("an empty slice or map is not nil after conversion")
	}
	if got := StringMap(map[string]string{"k": "v"}); !reflect.DeepEqual(got, map[string]string{"k": "v"}) {
		t.Errorf("StringMap = %v, want the map itself", got)
	}
}

func TestReplyAndResult(t *testing.T) {
	t.Parallel()
	resp := &schemav1.Schema{}
	if got, err := Reply(resp, nil); got != resp || err != nil {
		t.Errorf("Reply(resp, nil) = %v, %v; want resp, nil", got, err)
	}
	got, err := Reply(resp, context.DeadlineExceeded)
	if got != nil || status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("Reply(resp, deadline) = %v, %v; want nil and a DeadlineExceeded status", got, err)
	}
	if v, err := Result("value", nil); v != "value" || err != nil {
		t.Errorf("Result(v, nil) = %q, %v; want v, nil", v, err)
	}
	v, err := Result("partial", status.Error(codes.Internal, "disk full"))
	if v != "" || err == nil || err.Error() != "disk full" {
		t.Errorf("Result(v, status) = %q, %v; want the zero value and the plugin's message", v, err)
	}
	if err := Unsupported(errors.New("no decoder")); !IsUnimplemented(err) || status.Convert(err).Message() != "no decoder" {
		t.Errorf("Unsupported = %v, want UNIMPLEMENTED with the error's text", err)
	}
}
