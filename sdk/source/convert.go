package source

import (
	"github.com/cscs-dev/cscs/sdk/internal/convert"
	sourcev1 "github.com/cscs-dev/cscs/sdk/proto/source/v1"
)

func descriptionToProto(d Description) *sourcev1.Description {
	return &sourcev1.Description{
		Name:           d.Name,
		Version:        d.Version,
		Platforms:      convert.Strings(d.Platforms),
		YieldsEvents:   d.YieldsEvents,
		Decodes:        d.Decodes,
		SettingsSchema: convert.Schema(d.Settings),
		Metrics: convert.Slice(d.Metrics, func(m MetricInfo) *sourcev1.MetricInfo {
			return &sourcev1.MetricInfo{Name: m.Name, Unit: m.Unit, Description: m.Description, Labels: m.Labels}
		}),
		AlertTypes: convert.Slice(d.AlertTypes, func(a AlertType) *sourcev1.AlertType {
			return &sourcev1.AlertType{Name: a.Name, Metric: a.Metric}
		}),
	}
}

func descriptionFromProto(pd *sourcev1.Description) Description {
	return Description{
		Name:         pd.GetName(),
		Version:      pd.GetVersion(),
		Platforms:    convert.Strings(pd.GetPlatforms()),
		YieldsEvents: pd.GetYieldsEvents(),
		Decodes:      pd.GetDecodes(),
		Settings:     convert.FromSchema(pd.GetSettingsSchema()),
		Metrics: convert.Slice(pd.GetMetrics(), func(m *sourcev1.MetricInfo) MetricInfo {
			return MetricInfo{Name: m.GetName(), Unit: m.GetUnit(), Description: m.GetDescription(), Labels: m.GetLabels()}
		}),
		AlertTypes: convert.Slice(pd.GetAlertTypes(), func(a *sourcev1.AlertType) AlertType {
			return AlertType{Name: a.GetName(), Metric: a.GetMetric()}
		}),
	}
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
	return &sourcev1.Decoded{
		Metrics: convert.Slice(d.Metrics, func(m Metric) *sourcev1.Metric {
			return &sourcev1.Metric{Name: m.Name, Value: m.Value, Unit: m.Unit, Labels: m.Labels}
		}),
		Events: convert.Slice(d.Events, eventToProto),
	}
}

func eventToProto(e Event) *sourcev1.Event {
	return &sourcev1.Event{
		Channel:  e.Channel,
		RecordId: e.RecordID,
		Time:     convert.Timestamp(e.Time),
		Level:    e.Level,
		Provider: e.Provider,
		EventId:  int64(e.EventID),
		Message:  e.Message,
		Fields:   e.Fields,
	}
}

func decodedFromProto(pd *sourcev1.Decoded) Decoded {
	return Decoded{
		Metrics: convert.Slice(pd.GetMetrics(), func(m *sourcev1.Metric) Metric {
			return Metric{Name: m.GetName(), Value: m.GetValue(), Unit: m.GetUnit(), Labels: m.GetLabels()}
		}),
		Events: convert.Slice(pd.GetEvents(), eventFromProto),
	}
}

// eventFromProto returns the Event pe carries; no fields read as nil.
func eventFromProto(pe *sourcev1.Event) Event {
	return Event{
		Channel:  pe.GetChannel(),
		RecordID: pe.GetRecordId(),
		Time:     convert.Time(pe.GetTime()),
		Level:    pe.GetLevel(),
		Provider: pe.GetProvider(),
		EventID:  int(pe.GetEventId()),
		Message:  pe.GetMessage(),
		Fields:   convert.StringMap(pe.GetFields()),
	}
}
