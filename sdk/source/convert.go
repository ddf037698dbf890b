package source

import (
	"github.com/cscs-dev/cscs/sdk/internal/convert"
	sourcev1 "github.com/cscs-dev/cscs/sdk/proto/source/v1"
)

func descriptionToProto(d Description) *sourcev1.Description {
	pd := &sourcev1.Description{
		Name:           d.Name,
		Version:        d.Version,
		Platforms:      convert.Strings(d.Platforms),
		YieldsEvents:   d.YieldsEvents,
		Decodes:        d.Decodes,
		SettingsSchema: convert.Schema(d.Settings),
	}
	for _, m := range d.Metrics {
		pd.Metrics = append(pd.Metrics, &sourcev1.MetricInfo{Name: m.Name, Unit: m.Unit, Description: m.Description})
	}
	for _, a := range d.AlertTypes {
		pd.AlertTypes = append(pd.AlertTypes, &sourcev1.AlertType{Name: a.Name, Metric: a.Metric})
	}
	return pd
}

func descriptionFromProto(pd *sourcev1.Description) Description {
	d := Description{
		Name:         pd.GetName(),
		Version:      pd.GetVersion(),
		Platforms:    convert.Strings(pd.GetPlatforms()),
		YieldsEvents: pd.GetYieldsEvents(),
		Decodes:      pd.GetDecodes(),
		Settings:     convert.FromSchema(pd.GetSettingsSchema()),
	}
	for _, m := range pd.GetMetrics() {
		d.Metrics = append(d.Metrics, MetricInfo{Name: m.GetName(), Unit: m.GetUnit(), Description: m.GetDescription()})
	}
	for _, a := range pd.GetAlertTypes() {
		d.AlertTypes = append(d.AlertTypes, AlertType{Name: a.GetName(), Metric: a.GetMetric()})
	}
	return d
}

func platformToProto(p Platform) *sourcev1.Platform {
	return &sourcev1.Platform{Os: p.OS, Arch: p.Arch}
}

func platformFromProto(pp *sourcev1.Platform) Platform {
	return Platform{OS: pp.GetOs(), Arch: pp.GetArch()}
}

func moduleToProto(m Module) *sourcev1.Module {
	pm := &sourcev1.Module{Builtin: m.Builtin}
	if a := m.Artifact; a != nil {
		pm.Artifact = &sourcev1.Artifact{
			FileName:    a.FileName,
			Data:        a.Data,
			Interpreter: convert.Strings(a.Interpreter),
			Timeout:     convert.Duration(a.Timeout),
		}
	}
	return pm
}

func moduleFromProto(pm *sourcev1.Module) Module {
	m := Module{Builtin: pm.GetBuiltin()}
	if pa := pm.GetArtifact(); pa != nil {
		m.Artifact = &Artifact{
			FileName:    pa.GetFileName(),
			Data:        convert.Bytes(pa.GetData()),
			Interpreter: convert.Strings(pa.GetInterpreter()),
			Timeout:     convert.FromDuration(pa.GetTimeout()),
		}
	}
	return m
}

func decodedToProto(d Decoded) *sourcev1.Decoded {
	pd := &sourcev1.Decoded{}
	for _, m := range d.Metrics {
		pd.Metrics = append(pd.Metrics, &sourcev1.Metric{Name: m.Name, Value: m.Value, Unit: m.Unit})
	}
	for _, e := range d.Events {
		pd.Events = append(pd.Events, &sourcev1.Event{
			Channel:  e.Channel,
			RecordId: e.RecordID,
			Time:     convert.Timestamp(e.Time),
			Level:    e.Level,
			Provider: e.Provider,
			EventId:  int64(e.EventID),
			Message:  e.Message,
			Fields:   e.Fields,
		})
	}
	return pd
}

func decodedFromProto(pd *sourcev1.Decoded) Decoded {
	var d Decoded
	for _, m := range pd.GetMetrics() {
		d.Metrics = append(d.Metrics, Metric{Name: m.GetName(), Value: m.GetValue(), Unit: m.GetUnit()})
	}
	for _, e := range pd.GetEvents() {
		ev := Event{
			Channel:  e.GetChannel(),
			RecordID: e.GetRecordId(),
			Time:     convert.Time(e.GetTime()),
			Level:    e.GetLevel(),
			Provider: e.GetProvider(),
			EventID:  int(e.GetEventId()),
			Message:  e.GetMessage(),
		}
		if len(e.GetFields()) > 0 {
			ev.Fields = e.GetFields()
		}
		d.Events = append(d.Events, ev)
	}
	return d
}
