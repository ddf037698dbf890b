package serve

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// chromiumPath is Debian's chromium, which `make test` installs when run
// as root; without it the test skips, or fails under CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	const path = "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI has no %s (scripts/install-deps.sh test installs it): %v", path, err)
		}
		t.Skipf("no %s (apt-get install chromium, or make test as root): %v", path, err)
	}
	return path
}

// browser starts a headless chromium for the test and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // the tests may run as root
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// screenshot writes a full-page PNG of the current page to dir.
func screenshot(t *testing.T, dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tab)
		if err != nil {
			return fmt.Errorf("screenshot %s: %w", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o600); err != nil {
			return err
		}
		t.Logf("screenshot: %s", path)
		return nil
	})
}

// evaluate runs expression in the page and returns its value.
func evaluate[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("%s: %v", expression, err)
	}
	return v
}

// TestStatusPagesInABrowser: in a real browser, after rounds of the
// in-process fleet and a host that refuses connections, the fleet page
// lists every host with its status (the failing one DOWN, its down alert
// fired) and the failing host's error; a
// healthy host's page draws a chart of each stored metric with one point
// per stored value; the fleet page fits a 375 px wide phone; no page
// holds a script. Screenshots are kept in the test's temporary directory.
func TestStatusPagesInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs rounds against an in-process SSH fleet and a browser")
	}
	ctx := browser(t)
	svc, plan, failing := fleetRounds(t)
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	last, _, _ := svc.Last()
	shots := t.TempDir()
	if dir := os.Getenv("CSCS_SCREENSHOT_DIR"); dir != "" { // to keep them
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		shots = dir
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.hosts")),
		screenshot(t, shots, "fleet.png"),
	)
	if err != nil {
		t.Fatalf("fleet page: %v", err)
	}
	rows := evaluate[[][]string](t, ctx, `Array.from(document.querySelectorAll("table.hosts tbody tr")).map(r => [r.cells[0].innerText, r.cells[2].innerText])`)
	failingText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("ul.failing")))
	if err != nil {
		t.Fatalf("fleet page: failing hosts: %v", err)
	}
	status := map[string]string{}
	for _, r := range rows {
		status[r[0]] = r[1]
	}
	for _, c := range last.Batch.Collections {
		label := round.HostLabel(c.HostIP, c.HostPort)
		if want := shownStatus(c, failing); status[label] != want {
			t.Errorf("fleet page: %s shows %q, want %q", label, status[label], want)
		}
		if c.Status != storage.StatusOK && !strings.Contains(failingText, c.Error) {
			t.Errorf("fleet page: the failing host %s's error %q is not shown; failing hosts: %q", label, c.Error, failingText)
		}
	}
	if len(rows) != len(last.Batch.Collections) || last.Batch.Collections[2].Status != storage.StatusUnreachable {
		t.Errorf("fleet page rows %v; want %d hosts, %s unreachable", rows, len(last.Batch.Collections), failing)
	}
	if scripts := evaluate[int](t, ctx, `document.scripts.length`); scripts != 0 {
		t.Errorf("the fleet page holds %d scripts", scripts)
	}

	healthy := last.Batch.Collections[0]
	host, err := round.ReadHost(t.Context(), plan, healthy.HostIP, healthy.HostPort)
	if err != nil || len(host.Series) == 0 {
		t.Fatalf("ReadHost: %d series, %v", len(host.Series), err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+hostLink(round.HostLabel(healthy.HostIP, healthy.HostPort))),
		chromedp.WaitVisible(chromedp.CSS("svg")),
		screenshot(t, shots, "host.png"),
	)
	if err != nil {
		t.Fatalf("host page: %v", err)
	}
	series := host.Series[0]
	points := evaluate[int](t, ctx, fmt.Sprintf(`document.querySelectorAll('svg[data-metric=%q] circle').length`, series.Metric))
	if points != len(series.Points) || points == 0 {
		t.Errorf("host page: the chart of %s has %d points, %d values are stored", series.Metric, points, len(series.Points))
	}
	if charts := evaluate[int](t, ctx, `document.querySelectorAll('figure.chart svg polyline').length`); charts != len(host.Series) {
		t.Errorf("host page: %d charts, %d metrics stored", charts, len(host.Series))
	}

	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.hosts")),
		screenshot(t, shots, "fleet-375px.png"),
	)
	if err != nil {
		t.Fatalf("375 px wide: %v", err)
	}
	if width := evaluate[int](t, ctx, `document.documentElement.scrollWidth`); width > 375 {
		wide := evaluate[[]string](t, ctx, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 375 && !e.closest(".scroll")).map(e => e.tagName + "." + e.className)`)
		t.Errorf("at 375 px wide the fleet page is %d px wide: it scrolls sideways; too wide: %v", width, wide)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+hostLink(failing)),
		chromedp.WaitVisible(chromedp.CSS("pre.error")),
		screenshot(t, shots, "failing-host-375px.png"),
	)
	if err != nil {
		t.Fatalf("375 px wide, failing host: %v", err)
	}
}
