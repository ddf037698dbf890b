package overlay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/cscs-dev/cscs/sdk/schema"
)

// brokenCatalog is webhookCatalog where the plugins named in broken fail
// to start with errBroken.
type brokenCatalog struct {
	catalog
	broken map[string]bool
}

var errBroken = errors.New("checksum mismatch: reinstall it")

func (c brokenCatalog) Schema(ctx context.Context, kind, name string) (schema.Schema, error) {
	if c.broken[kind+"/"+name] {
		return schema.Schema{}, fmt.Errorf("plugin %s: %w", name, errBroken)
	}
	return c.catalog.Schema(ctx, kind, name)
}

// TestResolveLeftOut: a storage, a notifier and a source whose plugins
// cannot be started are left out with warnings naming them and what is
// skipped when the options leave broken plugins out (a round), and are
// errors otherwise (cscs validate); an unknown plugin stays an error.
func TestResolveLeftOut(t *testing.T) {
	leaveBroken := func(err error) bool { return errors.Is(err, errBroken) }
	tests := map[string]struct {
		leaveOut  func(error) bool
		broken    []string
		wantError bool
		// want are texts the diagnostics hold.
		want []string
		// leftOut are the instances Resolve marks left out.
		leftOut []string
	}{
		"round leaves broken plugins out": {
			leaveOut: leaveBroken, broken: []string{"storage/jsonl", "notifier/webhook"},
			want: []string{
				`Cannot use storage plugin "jsonl": left out of this round`, `stored in storage "archive" once the plugin works`,
				`Cannot use notifier plugin "webhook": left out of this round`, `routed to notifier "chat" wait in the outbox`,
				`Cannot use source "users": left out of this round`, `Group "web" runs its other sources`,
				"Its module settings are not used", `Alert "crowded" is not evaluated`,
			},
			leftOut: []string{"archive", "chat"},
		},
		"validate reports them as errors": {
			broken: []string{"storage/jsonl", "notifier/webhook"}, wantError: true,
			want: []string{`Cannot use storage plugin "jsonl"`, `Cannot use notifier plugin "webhook"`, `Cannot use source "users"`, "checksum mismatch"},
		},
		"an unknown plugin stays an error in a round": {
			leaveOut: leaveBroken, wantError: true,
			want: []string{`Cannot use storage plugin "jsonl"`, `is built in, declared or installed`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ov, diags := Load([]string{"testdata/leftout/broken.hcl"}, Options{})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			cat := brokenCatalog{catalog: webhookCatalog(), broken: map[string]bool{}}
			for _, b := range tc.broken {
				cat.broken[b] = true
			}
			diags = ov.Resolve(context.Background(), ResolveOptions{
				Schemas: cat, Sources: builtinSources(t), LeaveOut: tc.leaveOut,
				LeftOut: map[string]error{"users": fmt.Errorf("plugin users: %w", errBroken)},
			})
			if diags.HasErrors() != tc.wantError {
				t.Errorf("has errors %v, want %v:\n%s", diags.HasErrors(), tc.wantError, diags)
			}
			text := diagText(diags)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "Unknown source") || strings.Contains(text, "Unknown metric") {
				t.Errorf("a left-out source is reported as unknown:\n%s", text)
			}
			var leftOut []string
			for _, in := range append(ov.Storages, ov.Notifiers...) {
				if in.LeftOut != nil {
					leftOut = append(leftOut, in.Name)
				}
			}
			if strings.Join(leftOut, ",") != strings.Join(tc.leftOut, ",") {
				t.Errorf("left out %v, want %v", leftOut, tc.leftOut)
			}
		})
	}
}

// diagText is every diagnostic's severity, summary and detail, one a line.
func diagText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		fmt.Fprintf(&b, "%s: %s: %s\n", sev, d.Summary, d.Detail)
	}
	return b.String()
}
