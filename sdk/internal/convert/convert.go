// Package convert turns the SDK's Go values into their protobuf wire form
// and back, for what every plugin kind shares: times, durations, lists,
// errors (and the replies and results of the gRPC glue that carry them)
// and configuration schemas.
// The per-kind conversions live beside each kind's gRPC glue.
package convert

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Timestamp returns t on the wire, or nil for the zero time. The instant
// and its nanoseconds survive; the location does not (times come back in
// UTC).
func Timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Time returns the instant ts denotes in UTC, or the zero time for nil.
func Time(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return time.Unix(ts.GetSeconds(), int64(ts.GetNanos())).UTC()
}

// Duration returns d on the wire, or nil for zero.
func Duration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// FromDuration returns the duration pd denotes, or zero for nil. Values
// beyond time.Duration's range saturate.
func FromDuration(pd *durationpb.Duration) time.Duration {
	if pd == nil {
		return 0
	}
	return pd.AsDuration()
}

// Slice returns f applied to each element of in, or nil when in is empty,
// so that an empty list and no list read the same after a round trip.
func Slice[A, B any](in []A, f func(A) B) []B {
	if len(in) == 0 {
		return nil
	}
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = f(a)
	}
	return out
}

// Strings returns s, or nil when s is empty, so that an empty list and no
// list read the same after a round trip.
func Strings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// StringMap returns m, or nil when m is empty.
func StringMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// Bytes returns b, or nil when b is empty.
func Bytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
