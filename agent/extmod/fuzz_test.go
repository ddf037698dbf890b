package extmod

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/agentmod"
)

// maxReportError is how long a module's error may be for the core to
// accept the report (core/report's MaxErrorBytes).
const maxReportError = 4096

// printedJSON matches the JSON the test modules in testdata print.
var printedJSON = regexp.MustCompile(`(?m)^(?:echo|printf '%s\\n') '(\{.*\})'$`)

// reportable reports whether s may stand in a report as a module's error
// or text: valid UTF-8, printable characters, tabs and newlines only, no
// U+FFFD (the core refuses all others).
func reportable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return r == utf8.RuneError || !unicode.IsPrint(r) && r != '\n' && r != '\t'
	})
}

// FuzzParseResult feeds parseResult fuzzed module output (the exec
// protocol's stdout). Properties: no panic; an error is short reportable
// text, since it goes into the report as the module's error; an accepted
// result holds only metrics the core accepts (names of the source, known
// units, finite values), events with a channel and a UTC time a report
// can encode, a bounded cursor; it encodes, as a module would print it,
// to output that parses to the same result.
func FuzzParseResult(f *testing.F) {
	scripts, err := filepath.Glob(filepath.Join("testdata", "*.sh"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range scripts {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range printedJSON.FindAllSubmatch(b, -1) {
			f.Add(m[1])
		}
	}
	f.Add([]byte("Users logged in: 3\n"))
	f.Fuzz(func(t *testing.T, stdout []byte) {
		const source = "users"
		res, err := parseResult(source, stdout)
		if err != nil {
			if msg := err.Error(); !reportable(msg) || len(msg) > maxReportError {
				t.Fatalf("error is not reportable text of at most %d bytes: %q", maxReportError, msg)
			}
			if !reflect.DeepEqual(res, protocol.ModuleResult{}) {
				t.Errorf("result %+v returned with error %v", res, err)
			}
			return
		}
		for _, m := range res.Metrics {
			if agentmod.ValidateMetricName(source, m.Name) != nil || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) ||
				!strings.Contains("|percent|bytes|seconds|count||", "|"+m.Unit+"|") {
				t.Errorf("metric accepted as %+v", m)
			}
		}
		for _, e := range res.Events {
			if e.Channel == "" || e.Time.IsZero() || e.Time.Location() != time.UTC {
				t.Errorf("event accepted with channel %q, time %v", e.Channel, e.Time)
			}
		}
		if len(res.Cursor) > agentmod.MaxCursorBytes {
			t.Errorf("cursor of %d bytes accepted", len(res.Cursor))
		}
		if _, err := json.Marshal(protocol.Report{Modules: []protocol.ModuleResult{res}}); err != nil {
			t.Fatalf("an accepted result cannot be put in a report: %v", err)
		}

		// As a module would print the result it got back.
		again := agentmod.Result{Cursor: res.Cursor, Raw: res.Raw}
		for _, m := range res.Metrics {
			again.Metrics = append(again.Metrics, agentmod.Metric{Name: m.Name, Value: m.Value, Unit: m.Unit})
		}
		for _, e := range res.Events {
			again.Events = append(again.Events, agentmod.Event{Channel: e.Channel, RecordID: e.RecordID,
				Time: e.Time.Format(time.RFC3339Nano), Level: e.Level, Provider: e.Provider, EventID: e.EventID,
				Message: e.Message, Fields: e.Fields})
		}
		out, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		res2, err := parseResult(source, out)
		if err != nil {
			t.Fatalf("an accepted result, printed again, is refused: %v\n%s", err, out)
		}
		a, _ := json.Marshal(res)
		b, _ := json.Marshal(res2)
		if !bytes.Equal(a, b) {
			t.Errorf("result changes when printed again:\n%s\n%s", a, b)
		}
	})
}
