package storage

import (
	labelset "github.com/cscs-dev/cscs/sdk/internal/labels"

	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Validate reports what makes a batch unfit to store: a missing round id,
// a collection without host, port, known status or start time, a sample
// without name, with a NaN value or with invalid labels, two samples of
// one metric and labels, and alert or notification records a
// database would refuse. Storage plugins call it before writing anything,
// so a batch is stored whole or not at all.
func (b *Batch) Validate() error {
	if b == nil {
		return errors.New("batch is nil")
	}
	if strings.TrimSpace(b.RoundID) == "" {
		return errors.New("batch has no round id; the core must give every round an id")
	}
	for i := range b.Collections {
		c := &b.Collections[i]
		if c.HostIP == "" {
			return fmt.Errorf("collection %d has no host ip", i)
		}
		host := net.JoinHostPort(c.HostIP, strconv.Itoa(c.HostPort))
		if c.HostPort < 1 || c.HostPort > 65535 {
			return fmt.Errorf("host %s: port %d is outside 1-65535", host, c.HostPort)
		}
		if !slices.Contains(Statuses, c.Status) {
			names := make([]string, len(Statuses))
			for i, s := range Statuses {
				names[i] = string(s)
			}
			return fmt.Errorf("host %s: unknown status %q (want one of %s)", host, c.Status, strings.Join(names, ", "))
		}
		if c.StartedAt.IsZero() && b.StartedAt.IsZero() {
			return fmt.Errorf("host %s: collection has no start time and neither has the batch", host)
		}
		if err := validateSamples(host, c.Samples); err != nil {
			return err
		}
	}
	return b.validateState()
}

// validateSamples checks one collection's samples: a name, a value that is
// a number, valid labels, and one sample per metric and labels.
func validateSamples(host string, samples []Sample) error {
	var seen map[string]bool
	for _, s := range samples {
		if s.Metric == "" {
			return fmt.Errorf("host %s: a sample has no metric name", host)
		}
		if math.IsNaN(s.Value) {
			return fmt.Errorf("host %s: metric %q is NaN", host, s.Metric)
		}
		if len(s.Labels) == 0 {
			continue
		}
		if err := labelset.Check(s.Labels); err != nil {
			return fmt.Errorf("host %s: metric %q: %w", host, s.Metric, err)
		}
		if seen == nil {
			seen = make(map[string]bool)
		}
		key := FoldedName(s.Metric, s.Labels)
		if seen[key] {
			return fmt.Errorf("host %s: two samples of %s; a collection holds one sample per metric and labels", host, key)
		}
		seen[key] = true
	}
	return nil
}

func (b *Batch) validateState() error {
	noBatchTime := b.FinishedAt.IsZero() && b.StartedAt.IsZero()
	for i := range b.Alerts {
		a := &b.Alerts[i]
		if a.HostIP == "" {
			return fmt.Errorf("alert %d (rule %q) has no host ip", i, a.RuleID)
		}
		host := net.JoinHostPort(a.HostIP, strconv.Itoa(a.HostPort))
		if a.HostPort < 1 || a.HostPort > 65535 {
			return fmt.Errorf("alert %q on %s: port %d is outside 1-65535", a.RuleID, host, a.HostPort)
		}
		if strings.TrimSpace(a.RuleID) == "" {
			return fmt.Errorf("alert %d on %s has no rule id", i, host)
		}
		if a.UpdatedAt.IsZero() && noBatchTime {
			return fmt.Errorf("alert %q on %s has no update time and the batch has no time either", a.RuleID, host)
		}
	}
	for i := range b.Notifications {
		n := &b.Notifications[i]
		if strings.TrimSpace(n.ID) == "" {
			return fmt.Errorf("notification %d has no id", i)
		}
		if !slices.Contains(NotificationKinds, n.Kind) {
			return fmt.Errorf("notification %s: unknown kind %q (want one of %s)", n.ID, n.Kind, strings.Join(NotificationKinds, ", "))
		}
		if !slices.Contains(NotificationStatuses, n.Status) {
			return fmt.Errorf("notification %s: unknown status %q (want one of %s)", n.ID, n.Status, strings.Join(NotificationStatuses, ", "))
		}
		if n.HostPort < 0 || n.HostPort > 65535 {
			return fmt.Errorf("notification %s: port %d is outside 0-65535", n.ID, n.HostPort)
		}
		if n.Attempts < 0 {
			return fmt.Errorf("notification %s: %d attempts; want 0 or more", n.ID, n.Attempts)
		}
		if n.UpdatedAt.IsZero() && noBatchTime {
			return fmt.Errorf("notification %s has no update time and the batch has no time either", n.ID)
		}
	}
	return nil
}
