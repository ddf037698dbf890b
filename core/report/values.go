package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

// Report values are screened after Open (and after a source decoded its
// module's raw output): a metric whose value cannot be right for its unit
// is dropped and named in the returned errors, the rest of the report is
// kept. A report whose collection time is off the core's clock is kept
// with its samples timed at the core's clock. The host stays ok; the
// caller records the errors on the collection, as it does module errors.

// MaxClockSkew is how far a report's collected_at may be from the core's
// clock: not before the request was made minus MaxClockSkew, not after the
// report was received plus MaxClockSkew.
const MaxClockSkew = 10 * time.Minute

// PercentSlack is how far a percent value may fall outside 0..100 and
// still be kept (unchanged): float rounding of busy/total*100 can give
// 100.00000000000001.
const PercentSlack = 1e-6

// valueDigits is the precision of a value quoted in an error: 1e+308, not
// 309 digits.
const valueDigits = 6

// UnitOf returns the declared unit of a metric; ok is false for a metric
// no source declares.
type UnitOf func(metric string) (unit string, ok bool)

// CheckValue returns an error when v cannot be a value in unit: not a
// finite number, a percent outside 0..100 (give or take PercentSlack), or
// a negative number of bytes, seconds or items. Any other unit (a ratio,
// or a unit the core does not know) only needs a finite number.
func CheckValue(unit string, v float64) error {
	if !isFinite(v) {
		return fmt.Errorf("value %s is not a finite number", formatValue(v))
	}
	switch unit {
	case metrics.Percent:
		if v < -PercentSlack || v > 100+PercentSlack {
			return fmt.Errorf("value %s is outside 0 to 100 (unit percent)", formatValue(v))
		}
	case metrics.Bytes, metrics.Seconds, metrics.Count, metrics.BytesPerSecond, metrics.PerSecond:
		if v < 0 {
			return fmt.Errorf("value %s is negative (unit %s)", formatValue(v), unit)
		}
	}
	return nil
}

// CheckMetric checks a metric against its declared unit (declared, when
// ok) or, for a metric no source declares, against the unit it came with.
// A metric that comes with another unit than the declared one is refused:
// its value would be stored in the wrong unit.
func CheckMetric(mt protocol.Metric, declared string, ok bool) error {
	unit := mt.Unit
	if ok {
		if mt.Unit != declared {
			return fmt.Errorf("metric %.80q comes in unit %.40q, but its source declares %q", mt.Name, mt.Unit, declared)
		}
		unit = declared
	}
	if err := CheckValue(unit, mt.Value); err != nil {
		return fmt.Errorf("metric %.80q: %w", mt.Name, err)
	}
	return nil
}

// CheckCollectedAt returns an error when at is off the core's clock: before
// requested-MaxClockSkew or after received+MaxClockSkew, requested being
// when the core started on this host and received when the report arrived.
func CheckCollectedAt(at, requested, received time.Time) error {
	earliest, latest := requested.Add(-MaxClockSkew), received.Add(MaxClockSkew)
	if at.Before(earliest) || at.After(latest) {
		return fmt.Errorf("collected_at %s is more than %v off the core's clock (allowed %s to %s)",
			at.UTC().Format(time.RFC3339), MaxClockSkew, earliest.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339))
	}
	return nil
}

// Screen drops from rep every metric that fails CheckMetric, and replaces
// a collected_at that fails CheckCollectedAt with received. It returns one
// error per change, each saying what was found and what the core did;
// none when rep is kept as it came.
func Screen(rep *protocol.Report, unitOf UnitOf, requested, received time.Time) []error {
	var errs []error
	if err := CheckCollectedAt(rep.CollectedAt, requested, received); err != nil {
		errs = append(errs, fmt.Errorf("%w; samples are stored at the core's time; check the host's clock (NTP)", err))
		rep.CollectedAt = received
	}
	for i := range rep.Modules {
		m := &rep.Modules[i]
		kept := m.Metrics[:0]
		for _, mt := range m.Metrics {
			declared, ok := unitOf(mt.Name)
			if err := CheckMetric(mt, declared, ok); err != nil {
				errs = append(errs, fmt.Errorf("%w; the sample is dropped, check module %s on this host", err, m.Name))
				continue
			}
			kept = append(kept, mt)
		}
		m.Metrics = kept
	}
	return errs
}

// formatValue writes v short enough for an error message.
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', valueDigits, 64)
}
