package serve

import (
	"math"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// statusView is how a host's status shows: its text and the CSS class of
// its badge.
type statusView struct {
	Text  string
	Class string
	// Down is set when the host's "down" alert fires; Detail is then the
	// latest collection's status, when there is one.
	Down   bool
	Detail string
}

// hostStatus is how a host shows: DOWN when its down alert fires, else
// the status of its latest collection c ("not collected yet" before one;
// "ok, errors" when something of it is missing).
func hostStatus(c storage.Collection, collected, down bool) statusView {
	status := c.Status
	switch {
	case down:
		return statusView{Text: "DOWN", Class: "down", Down: true, Detail: string(status)}
	case !collected:
		return statusView{Text: "not collected yet", Class: "none"}
	case round.PartlyFailed(c):
		return statusView{Text: "ok, errors", Class: "warn"}
	case status == storage.StatusOK:
		return statusView{Text: string(status), Class: "ok"}
	case status == storage.StatusCancelled:
		return statusView{Text: string(status), Class: "warn"}
	}
	return statusView{Text: string(status), Class: "bad"}
}

// downHosts are the labels of the hosts whose down alert fires.
func downHosts(alerts []round.FiringAlert) map[string]bool {
	out := map[string]bool{}
	for _, a := range alerts {
		if a.RuleID == round.DownRule {
			out[round.HostLabel(a.HostIP, a.HostPort)] = true
		}
	}
	return out
}

// hostRow is one host as the pages list it.
type hostRow struct {
	Label, Link, Hostname string
	Status                statusView
	// Error is the latest collection's error: what failed and the fix.
	Error      string
	FinishedAt time.Time
}

// hostRows lists the plan's hosts in the inventory's order with the
// latest collection of each (when there is one: rounds may collect some
// hosts only, see Service.Run).
func hostRows(plan *round.Plan, hosts []HostView, down map[string]bool) []hostRow {
	collected := map[string]storage.Collection{}
	for _, h := range hosts {
		collected[h.Label] = h.Collection
	}
	var rows []hostRow
	if plan != nil && plan.Config != nil {
		for _, cl := range plan.Config.Inventory.Clients {
			label := round.HostLabel(cl.IP, cl.Port)
			c, ok := collected[label]
			rows = append(rows, hostRow{Label: label, Link: hostLink(label), Hostname: c.Hostname,
				Status: hostStatus(c, ok, down[label]), Error: c.Error, FinishedAt: c.FinishedAt})
		}
	}
	return rows
}

// hostLink is the path of a host's page.
func hostLink(label string) string { return "/hosts/" + url.PathEscape(label) }

// statusCount is how many hosts (or notifications) are in one status.
type statusCount struct {
	Status string
	Class  string
	N      int
}

// countByStatus counts the rows per status text, DOWN first, then the
// order of storage.Statuses.
func countByStatus(rows []hostRow) []statusCount {
	counts := map[string]*statusCount{}
	var out []*statusCount
	for _, r := range rows {
		c := counts[r.Status.Text]
		if c == nil {
			c = &statusCount{Status: r.Status.Text, Class: r.Status.Class}
			counts[r.Status.Text] = c
			out = append(out, c)
		}
		c.N++
	}
	rank := func(s string) int {
		if s == "DOWN" {
			return -1
		}
		for i, st := range storage.Statuses {
			if string(st) == s {
				return i
			}
		}
		return len(storage.Statuses)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].Status) < rank(out[j].Status) })
	res := make([]statusCount, len(out))
	for i, c := range out {
		res[i] = *c
	}
	return res
}

// alertRow is one firing alert as the pages list it.
type alertRow struct {
	Host, Link, Rule, Value string
	Since                   time.Time
	Down                    bool
}

func alertRows(alerts []round.FiringAlert) []alertRow {
	out := make([]alertRow, len(alerts))
	for i, a := range alerts {
		label := round.HostLabel(a.HostIP, a.HostPort)
		value := ""
		if !math.IsNaN(a.LastValue) {
			value = strconv.FormatFloat(a.LastValue, 'g', 6, 64)
		}
		out[i] = alertRow{Host: label, Link: hostLink(label), Rule: a.RuleID, Value: value, Since: a.Since, Down: a.RuleID == round.DownRule}
	}
	return out
}

// refreshSeconds is how often the pages reload themselves: every
// interval, at most every 30 s and at least 5 s apart.
func refreshSeconds(interval time.Duration) int {
	return int(min(max(interval, 5*time.Second), 30*time.Second) / time.Second)
}
