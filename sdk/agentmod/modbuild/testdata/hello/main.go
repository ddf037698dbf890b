// Command hello is a tiny agent module for modbuild's test: it reports
// hello.value = 42.
package main

import (
	"context"

	"github.com/cscs-dev/cscs/sdk/agentmod"
)

func main() {
	agentmod.Run(func(context.Context, agentmod.Request) (agentmod.Result, error) {
		return agentmod.Result{Metrics: []agentmod.Metric{{Name: "hello.value", Value: 42, Unit: "count"}}}, nil
	})
}
