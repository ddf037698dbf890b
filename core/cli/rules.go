package cli

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/sdk/source"
)

// compileRules compiles every client's <alert> rules against the alert
// types the sources declare; rules[i] belongs to cfg.Clients[i].
func compileRules(cfg *config.Config, descs []source.Description) ([][]alert.Rule, config.Diagnostics) {
	types := alert.TypesFrom(descs)
	rules := make([][]alert.Rule, len(cfg.Clients))
	var all config.Diagnostics
	for i, cl := range cfg.Clients {
		r, diags := alert.Compile(cl.Alerts, types)
		for j := range diags {
			diags[j].Field = "client " + cl.IP + " " + diags[j].Field
		}
		rules[i] = r
		all = append(all, diags...)
	}
	all.Sort()
	return rules, all
}

// sourceDescriptions describes the sources a round would use (built-ins in
// process, installed external sources launched), for checking alert types
// without collecting.
func sourceDescriptions(ctx context.Context, env *Env, pluginsDir string, declared []pipeline.Declared) ([]source.Description, []error) {
	pipe, err := pipeline.Assemble(ctx, pipeline.Options{
		Version: env.Version, PluginsDir: pluginsDir, InProcess: true, SourcesOnly: true, Declared: declared,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "cscs", Output: env.Stderr, Level: hclog.Warn}),
	})
	if err != nil {
		return nil, []error{err}
	}
	defer pipe.Close(ctx)
	return pipe.Sources.Descriptions(), pipe.Warnings
}
