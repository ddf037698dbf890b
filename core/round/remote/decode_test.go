package remote

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/core/pipeline/sources"
	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/source"
)

// rawDecoder turns "name=value" raw output into one metric.
type rawDecoder struct{}

func (rawDecoder) Decode(_ context.Context, _ source.Platform, raw []byte) (source.Decoded, error) {
	name, val, ok := strings.Cut(strings.TrimSpace(string(raw)), "=")
	if !ok {
		return source.Decoded{}, errors.New("want name=value")
	}
	v, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return source.Decoded{}, err
	}
	return source.Decoded{Metrics: []source.Metric{{Name: name, Value: v, Unit: "count"}}}, nil
}

type decodingPlanner struct{}

func (decodingPlanner) PlanFor(context.Context, source.Platform) sources.Plan { return sources.Plan{} }
func (decodingPlanner) Unit(string) (string, bool)                            { return "", false }
func (decodingPlanner) Decoder(name string) (source.Decoder, bool) {
	return rawDecoder{}, name == "raw"
}

func TestDecodeHandsRawOutputToTheSource(t *testing.T) {
	rep := &protocol.Report{Modules: []protocol.ModuleResult{
		{Name: "raw", Raw: "raw.queue_depth=7\n"},
		{Name: "raw2", Raw: "ignored=1"}, // its source does not decode
		{Name: "cpu", Metrics: []protocol.Metric{{Name: "cpu.percent", Value: 1, Unit: "percent"}}},
	}}
	bad := &protocol.Report{Modules: []protocol.ModuleResult{{Name: "raw", Raw: "garbage"}}}
	c := &Collector{s: Settings{Sources: decodingPlanner{}}}
	plat := transport.Platform{OS: "linux", Arch: "amd64"}
	c.decode(context.Background(), plat, rep)
	c.decode(context.Background(), plat, bad)

	if got := rep.Modules[0].Metrics; len(got) != 1 || got[0].Name != "raw.queue_depth" || got[0].Value != 7 {
		t.Errorf("decoded metrics %+v", got)
	}
	if len(rep.Modules[1].Metrics) != 0 || len(rep.Modules[2].Metrics) != 1 {
		t.Errorf("modules without a decoder changed: %+v", rep.Modules[1:])
	}
	if !strings.Contains(bad.Modules[0].Error, "decoding its output: want name=value") {
		t.Errorf("decode error not reported: %q", bad.Modules[0].Error)
	}
}
