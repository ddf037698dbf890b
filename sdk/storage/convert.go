package storage

import (
	"strings"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/sdk/internal/convert"
	storagev1 "github.com/cscs-dev/cscs/sdk/proto/storage/v1"
)

// batchToProto returns b in its wire form (nil for nil).
func batchToProto(b *Batch) *storagev1.Batch {
	if b == nil {
		return nil
	}
	return &storagev1.Batch{
		RoundId:       b.RoundID,
		StartedAt:     convert.Timestamp(b.StartedAt),
		FinishedAt:    convert.Timestamp(b.FinishedAt),
		Collections:   convert.Slice(b.Collections, collectionToProto),
		Alerts:        convert.Slice(b.Alerts, alertToProto),
		Notifications: convert.Slice(b.Notifications, notificationToProto),
	}
}

func alertToProto(a AlertState) *storagev1.AlertState {
	return &storagev1.AlertState{
		HostIp:       a.HostIP,
		HostPort:     int64(a.HostPort),
		RuleId:       a.RuleID,
		Type:         a.Type,
		Metric:       a.Metric,
		Condition:    a.Condition,
		Firing:       a.Firing,
		Since:        convert.Timestamp(a.Since),
		LastNotified: convert.Timestamp(a.LastNotified),
		LastValue:    a.LastValue,
		UpdatedAt:    convert.Timestamp(a.UpdatedAt),
	}
}

func notificationToProto(n NotificationRecord) *storagev1.NotificationRecord {
	return &storagev1.NotificationRecord{
		Id:         n.ID,
		Kind:       n.Kind,
		HostIp:     n.HostIP,
		HostPort:   int64(n.HostPort),
		Recipients: convert.Strings(n.Recipients),
		Subject:    n.Subject,
		Status:     n.Status,
		Attempts:   int64(n.Attempts),
		LastError:  n.LastError,
		CreatedAt:  convert.Timestamp(n.CreatedAt),
		SentAt:     convert.Timestamp(n.SentAt),
		UpdatedAt:  convert.Timestamp(n.UpdatedAt),
		Channel:    n.Channel,
	}
}

func collectionToProto(c Collection) *storagev1.Collection {
	return &storagev1.Collection{
		HostIp:        c.HostIP,
		HostPort:      int64(c.HostPort),
		Hostname:      c.Hostname,
		Os:            c.OS,
		Arch:          c.Arch,
		AgentVersion:  c.AgentVersion,
		Status:        string(c.Status),
		Error:         c.Error,
		StartedAt:     convert.Timestamp(c.StartedAt),
		FinishedAt:    convert.Timestamp(c.FinishedAt),
		AgentUploaded: c.AgentUploaded,
		Timings: &storagev1.Timings{
			Connect: convert.Duration(c.Timings.Connect),
			Detect:  convert.Duration(c.Timings.Detect),
			Upload:  convert.Duration(c.Timings.Upload),
			Exec:    convert.Duration(c.Timings.Exec),
			Total:   convert.Duration(c.Timings.Total),
		},
		Samples: convert.Slice(c.Samples, sampleToProto),
		Events:  convert.Slice(c.Events, eventToProto),
	}
}

func sampleToProto(s Sample) *storagev1.Sample {
	return &storagev1.Sample{
		Metric: s.Metric,
		Value:  s.Value,
		Unit:   s.Unit,
		Time:   convert.Timestamp(s.Time),
		Labels: s.Labels,
	}
}

// eventToProto returns e on the wire. Protobuf strings must be UTF-8 and
// event text comes from hosts: invalid bytes become U+FFFD instead of
// failing the whole batch.
func eventToProto(e Event) *storagev1.Event {
	pe := &storagev1.Event{
		Channel:  validUTF8(e.Channel),
		RecordId: e.RecordID,
		Time:     convert.Timestamp(e.Time),
		Level:    validUTF8(e.Level),
		Provider: validUTF8(e.Provider),
		EventId:  int64(e.EventID),
		Computer: validUTF8(e.Computer),
		Message:  validUTF8(e.Message),
	}
	if len(e.Fields) > 0 {
		pe.Fields = make(map[string]string, len(e.Fields))
		for k, v := range e.Fields {
			pe.Fields[validUTF8(k)] = validUTF8(v)
		}
	}
	return pe
}

// validUTF8 is s with every invalid UTF-8 byte sequence replaced by U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// batchFromProto returns the Batch pb carries (the zero Batch for nil).
func batchFromProto(pb *storagev1.Batch) Batch {
	return Batch{
		RoundID:       pb.GetRoundId(),
		StartedAt:     convert.Time(pb.GetStartedAt()),
		FinishedAt:    convert.Time(pb.GetFinishedAt()),
		Collections:   convert.Slice(pb.GetCollections(), collectionFromProto),
		Alerts:        convert.Slice(pb.GetAlerts(), alertFromProto),
		Notifications: convert.Slice(pb.GetNotifications(), notificationFromProto),
	}
}

func alertFromProto(pa *storagev1.AlertState) AlertState {
	return AlertState{
		HostIP:       pa.GetHostIp(),
		HostPort:     int(pa.GetHostPort()),
		RuleID:       pa.GetRuleId(),
		Type:         pa.GetType(),
		Metric:       pa.GetMetric(),
		Condition:    pa.GetCondition(),
		Firing:       pa.GetFiring(),
		Since:        convert.Time(pa.GetSince()),
		LastNotified: convert.Time(pa.GetLastNotified()),
		LastValue:    pa.GetLastValue(),
		UpdatedAt:    convert.Time(pa.GetUpdatedAt()),
	}
}

func notificationFromProto(pn *storagev1.NotificationRecord) NotificationRecord {
	return NotificationRecord{
		ID:         pn.GetId(),
		Kind:       pn.GetKind(),
		HostIP:     pn.GetHostIp(),
		HostPort:   int(pn.GetHostPort()),
		Recipients: convert.Strings(pn.GetRecipients()),
		Subject:    pn.GetSubject(),
		Status:     pn.GetStatus(),
		Attempts:   int(pn.GetAttempts()),
		LastError:  pn.GetLastError(),
		CreatedAt:  convert.Time(pn.GetCreatedAt()),
		SentAt:     convert.Time(pn.GetSentAt()),
		UpdatedAt:  convert.Time(pn.GetUpdatedAt()),
		Channel:    pn.GetChannel(),
	}
}

func collectionFromProto(pc *storagev1.Collection) Collection {
	t := pc.GetTimings()
	return Collection{
		HostIP:        pc.GetHostIp(),
		HostPort:      int(pc.GetHostPort()),
		Hostname:      pc.GetHostname(),
		OS:            pc.GetOs(),
		Arch:          pc.GetArch(),
		AgentVersion:  pc.GetAgentVersion(),
		Status:        Status(pc.GetStatus()),
		Error:         pc.GetError(),
		StartedAt:     convert.Time(pc.GetStartedAt()),
		FinishedAt:    convert.Time(pc.GetFinishedAt()),
		AgentUploaded: pc.GetAgentUploaded(),
		Timings: Timings{
			Connect: convert.FromDuration(t.GetConnect()),
			Detect:  convert.FromDuration(t.GetDetect()),
			Upload:  convert.FromDuration(t.GetUpload()),
			Exec:    convert.FromDuration(t.GetExec()),
			Total:   convert.FromDuration(t.GetTotal()),
		},
		Samples: convert.Slice(pc.GetSamples(), sampleFromProto),
		Events:  convert.Slice(pc.GetEvents(), eventFromProto),
	}
}

func sampleFromProto(ps *storagev1.Sample) Sample {
	return Sample{
		Metric: ps.GetMetric(),
		Value:  ps.GetValue(),
		Unit:   ps.GetUnit(),
		Time:   convert.Time(ps.GetTime()),
		Labels: ps.GetLabels(),
	}
}

// eventFromProto returns the Event pe carries; no fields read as nil.
func eventFromProto(pe *storagev1.Event) Event {
	return Event{
		Channel:  pe.GetChannel(),
		RecordID: pe.GetRecordId(),
		Time:     convert.Time(pe.GetTime()),
		Level:    pe.GetLevel(),
		Provider: pe.GetProvider(),
		EventID:  int(pe.GetEventId()),
		Computer: pe.GetComputer(),
		Message:  pe.GetMessage(),
		Fields:   convert.StringMap(pe.GetFields()),
	}
}
