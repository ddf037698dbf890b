package agentmod_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/cscs-dev/cscs/sdk/agentmod"
)

// A module reporting the number of runnable and existing threads, from
// /proc/loadavg. Its main function is this call.
func ExampleRun() {
	agentmod.Run(func(ctx context.Context, req agentmod.Request) (agentmod.Result, error) {
		data, err := os.ReadFile("/proc/loadavg")
		if err != nil {
			return agentmod.Result{}, fmt.Errorf("read load average: %w", err)
		}
		fields := strings.Fields(string(data)) // "0.10 0.20 0.30 2/345 6789"
		if len(fields) < 4 {
			return agentmod.Result{}, fmt.Errorf("unexpected /proc/loadavg: %q", data)
		}
		running, total, _ := strings.Cut(fields[3], "/")
		var r, t float64
		if _, err := fmt.Sscan(running, &r); err != nil {
			return agentmod.Result{}, fmt.Errorf("parse runnable threads: %w", err)
		}
		if _, err := fmt.Sscan(total, &t); err != nil {
			return agentmod.Result{}, fmt.Errorf("parse threads: %w", err)
		}
		return agentmod.Result{Metrics: []agentmod.Metric{
			{Name: req.Source + ".running", Value: r, Unit: "count"},
			{Name: req.Source + ".threads", Value: t, Unit: "count"},
		}}, nil
	})
}

// The agent's rules, for a module's own tests.
func ExampleResult_Validate() {
	res := agentmod.Result{Metrics: []agentmod.Metric{{Name: "cpu.percent", Value: 12, Unit: "percent"}}}
	fmt.Println(res.Validate("users"))
	// Output: metric name "cpu.percent" does not start with "users."; prefix every metric with the source name
}
