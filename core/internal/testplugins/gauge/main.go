// Command gauge is a test source plugin named "gauge": its module is a
// shell script that reports gauge.value, read from a file whose path is set
// at build time (-ldflags "-X main.valueFile=..."), so a test can move the
// value between rounds and watch alerts fire and resolve.
package main

import (
	"context"
	"fmt"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
)

var valueFile = "/nonexistent"

type gauge struct{}

func (gauge) Describe(context.Context) (source.Description, error) {
	return source.Description{
		Name: "gauge", Version: "0.0.1", Platforms: []string{"linux/*"},
		Metrics:    []source.MetricInfo{{Name: "gauge.value", Unit: "percent", Description: "a value the test sets"}},
		AlertTypes: []source.AlertType{{Name: "gauge", Metric: "gauge.value"}},
	}, nil
}

func (gauge) Module(context.Context, source.Platform) (source.Module, error) {
	script := fmt.Sprintf("#!/bin/sh\ncat >/dev/null\nprintf '{\"metrics\":[{\"name\":\"gauge.value\",\"value\":%%s,\"unit\":\"percent\"}]}' \"$(cat %s)\"\n", valueFile)
	return source.Module{Artifact: &source.Artifact{FileName: "gauge.sh", Data: []byte(script), Interpreter: []string{"/bin/sh"}}}, nil
}

func main() { sdkplugin.Serve(sdkplugin.ServeConfig{Source: gauge{}}) }
