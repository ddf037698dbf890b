package serve

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// The status pages are HTML from templates and one style sheet embedded in
// the binary: no script, no CDN; charts are SVG drawn by the server.
//
//go:embed templates/*.html static/*
var assets embed.FS

// pageReadTimeout bounds a page's reads of the state database.
const pageReadTimeout = 10 * time.Second

// pages are the status pages' templates, parsed once.
type pages struct {
	fleet, host, notFound *template.Template
	static                http.Handler
}

// newPages parses the embedded templates; they are part of the binary,
// so a parse error is a bug of the build.
func newPages() *pages {
	parse := func(page string) *template.Template {
		return template.Must(template.New(page).Funcs(template.FuncMap{
			"when":     formatWhen,
			"clock":    formatClock,
			"duration": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
		}).ParseFS(assets, "templates/layout.html", "templates/"+page))
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embed pattern names static/
	}
	return &pages{
		fleet: parse("fleet.html"), host: parse("host.html"), notFound: parse("notfound.html"),
		static: http.StripPrefix("/static/", http.FileServerFS(static)),
	}
}

// formatWhen writes a time for the pages, in UTC; "—" for none.
func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// formatClock writes the time of day of t, in UTC; "—" for none.
func formatClock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05")
}

// page is what every page's layout shows.
type page struct {
	Title   string
	Refresh int
	// Problem, when set, is why part of the page could not be read.
	Problem string
}

// fleetPage is the fleet at a glance.
type fleetPage struct {
	page
	// Round is the latest round that ran to its end; nil before the first.
	Round    *round.Result
	EndedAt  time.Time
	Took     time.Duration
	Counts   []statusCount
	Hosts    []hostRow
	Failing  []hostRow
	Alerts   []alertRow
	Outbox   []statusCount
	Spools   []round.SpoolBacklog
	Storages string
	// Cluster is the cluster the service is a member of; nil outside one.
	Cluster *clusterView
}

// hostPage is one host: its latest status and error, its firing alerts,
// its recent values as charts and its latest event-log mails.
type hostPage struct {
	page
	Host       hostRow
	Alerts     []alertRow
	Charts     []chart
	EventMails []round.Mail
}

// serveFleet renders the fleet page.
func (s *Service) serveFleet(w http.ResponseWriter, r *http.Request) {
	plan := s.currentPlan()
	last, endedAt, took := s.Last()
	ctx, cancel := context.WithTimeout(r.Context(), pageReadTimeout)
	defer cancel()
	fleet, err := round.ReadFleet(ctx, plan)
	p := fleetPage{page: s.page("CSCS fleet", err), Round: last, EndedAt: endedAt, Took: took,
		Alerts: alertRows(fleet.Alerts), Spools: fleet.Spools, Storages: plan.Storages()}
	p.Hosts = hostRows(plan, s.Hosts(), downHosts(fleet.Alerts))
	cv, cerr := s.readCluster(ctx)
	if cerr != nil && p.Problem == "" {
		p.Problem = cerr.Error()
	}
	if p.Cluster = cv; cv != nil {
		// Each member collects a share: the others' hosts are theirs.
		for i := range p.Hosts {
			if p.Hosts[i].Status.Class == "none" {
				p.Hosts[i].Status.Text = "collected by another member"
			}
		}
	}
	p.Counts = countByStatus(p.Hosts)
	for _, h := range p.Hosts {
		if h.Status.Class != "ok" && h.Status.Class != "none" {
			p.Failing = append(p.Failing, h)
		}
	}
	for _, st := range storage.NotificationStatuses {
		if n, ok := fleet.Outbox[st]; ok {
			p.Outbox = append(p.Outbox, statusCount{Status: st, N: n, Class: outboxClass(st, n)})
		}
	}
	s.render(w, http.StatusOK, s.pages.fleet, p)
}

// outboxClass marks failed notifications as a problem.
func outboxClass(status string, n int) string {
	if status == storage.NotificationFailed && n > 0 {
		return "bad"
	}
	return ""
}

// serveHost renders the page of the host /hosts/{host} names (as
// round.HostLabel writes it), or a 404 page for a host not in the
// inventory.
func (s *Service) serveHost(w http.ResponseWriter, r *http.Request) {
	plan := s.currentPlan()
	label := r.PathValue("host")
	ip, port, ok := hostAddress(plan, label)
	if !ok {
		s.render(w, http.StatusNotFound, s.pages.notFound, struct {
			page
			Host string
		}{s.page("Host not found", nil), label})
		return
	}
	hosts := s.Hosts()
	ctx, cancel := context.WithTimeout(r.Context(), pageReadTimeout)
	defer cancel()
	host, err := round.ReadHost(ctx, plan, ip, port)
	p := hostPage{page: s.page(label+" — CSCS", err), Alerts: alertRows(host.Alerts), EventMails: host.EventMails}
	for _, h := range hostRows(plan, hosts, downHosts(host.Alerts)) {
		if h.Label == label {
			p.Host = h
		}
	}
	units := sampleUnits(hosts, label)
	for _, series := range host.Series {
		p.Charts = append(p.Charts, newChart(series, units[series.Metric]))
	}
	s.render(w, http.StatusOK, s.pages.host, p)
}

// hostAddress is the address of the host the inventory labels label;
// false when it has none.
func hostAddress(plan *round.Plan, label string) (ip string, port int, ok bool) {
	if plan == nil || plan.Config == nil {
		return "", 0, false
	}
	for _, cl := range plan.Config.Inventory.Clients {
		if round.HostLabel(cl.IP, cl.Port) == label {
			return cl.IP, cl.Port, true
		}
	}
	return "", 0, false
}

// sampleUnits are the units of a host's metrics in its latest
// collection.
func sampleUnits(hosts []HostView, label string) map[string]string {
	units := map[string]string{}
	for _, h := range hosts {
		if h.Label != label {
			continue
		}
		for _, sm := range h.Collection.Samples {
			units[storage.FoldedName(sm.Metric, sm.Labels)] = sm.Unit
		}
	}
	return units
}

// page is the layout's part of a page; err, when not nil, is shown as
// the page's problem.
func (s *Service) page(title string, err error) page {
	p := page{Title: title, Refresh: refreshSeconds(s.Tick())}
	if err != nil {
		p.Problem = err.Error()
		s.opts.Logger.Warn("status page: reading the state", "error", err)
	}
	return p
}

// render executes t into a buffer first, so a template error is a 500
// with its reason instead of half a page.
func (s *Service) render(w http.ResponseWriter, code int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.opts.Logger.Error("status page", "error", err)
		http.Error(w, fmt.Sprintf("rendering the page failed: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}
