package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Name is the source's name: the <alert type> and metric prefix.
const Name = "users"

// version is reported by Describe.
const version = "0.1.0"

// Metric names.
const (
	MetricLoggedIn = "users.logged_in"
	MetricDistinct = "users.distinct"
)

// moduleTimeout bounds one run of the script on a host; who(1) answers in
// milliseconds.
const moduleTimeout = 5 * time.Second

// script is the module shipped to Linux and macOS hosts.
//
//go:embed users.sh
var script []byte

// ErrUnsupportedPlatform is wrapped by Module's error for a platform the
// source cannot measure.
var ErrUnsupportedPlatform = errors.New("platform not supported")

// Source is the users source. It has no configuration.
type Source struct{}

var _ source.Source = Source{}

// Describe declares the metrics, the "users" alert type and the platforms.
func (Source) Describe(context.Context) (source.Description, error) {
	return description(), nil
}

// description is what Describe returns; Module serves exactly the
// platforms it declares.
func description() source.Description {
	return source.Description{
		Name:      Name,
		Version:   version,
		Platforms: []string{"linux/*", "darwin/*"},
		Metrics: []source.MetricInfo{
			{Name: MetricLoggedIn, Unit: "count", Description: "login sessions, one per line of who(1)"},
			{Name: MetricDistinct, Unit: "count", Description: "distinct user names with at least one session"},
		},
		AlertTypes: []source.AlertType{{Name: Name, Metric: MetricLoggedIn}},
		// The script reads no settings; the empty schema declares none,
		// so a module "users" block has nothing to set.
		Settings: schema.Schema{},
	}
}

// Module returns the script for Linux and macOS, run by /bin/sh, and an
// error wrapping ErrUnsupportedPlatform for anything else.
func (Source) Module(_ context.Context, p source.Platform) (source.Module, error) {
	switch {
	case p.OS == "windows":
		return source.Module{}, fmt.Errorf("users source on windows/%s: %w: it counts sessions with who(1), which Windows lacks; "+
			"leave the users source out for Windows hosts", p.Arch, ErrUnsupportedPlatform)
	case !description().Supports(p):
		return source.Module{}, fmt.Errorf("users source on %s/%s: %w: only linux and darwin hosts are supported", p.OS, p.Arch, ErrUnsupportedPlatform)
	}
	return source.Module{Artifact: &source.Artifact{
		FileName:    "users.sh",
		Data:        script,
		Interpreter: []string{"/bin/sh"},
		Timeout:     moduleTimeout,
	}}, nil
}
