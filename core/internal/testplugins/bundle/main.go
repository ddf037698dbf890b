// Command bundle is a test plugin binary serving two sources, "north" and
// "south", and a storage, "bundle_store", from one process, as a
// third-party bundle would. Each start appends a line to the file set at
// build time (-ldflags "-X main.startLog=..."), so a test can count the
// processes a round launched; the storage appends one line per stored
// collection, "<host> <metric>…", to the file its configuration names.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

var startLog = "/nonexistent"

// gauge is a source whose module reports name.value = value.
type gauge struct {
	name  string
	value int
}

func (g gauge) Describe(context.Context) (source.Description, error) {
	return source.Description{
		Name: g.name, Version: "0.3.0", Platforms: []string{"linux/*"},
		Metrics: []source.MetricInfo{{Name: g.name + ".value", Unit: "count", Description: "a fixed value"}},
	}, nil
}

func (g gauge) Module(context.Context, source.Platform) (source.Module, error) {
	script := fmt.Sprintf("#!/bin/sh\ncat >/dev/null\nprintf '{\"metrics\":[{\"name\":\"%s.value\",\"value\":%d,\"unit\":\"count\"}]}'\n", g.name, g.value)
	return source.Module{Artifact: &source.Artifact{FileName: g.name + ".sh", Data: []byte(script), Interpreter: []string{"/bin/sh"}}}, nil
}

// lines is a storage writing one line per collection.
type lines struct {
	mu   sync.Mutex
	path string
}

func (s *lines) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "bundle_store", Version: "0.3.0"}, nil
}

func (s *lines) Open(_ context.Context, config []byte) error {
	var cfg struct {
		Path string `json:"path"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil || cfg.Path == "" {
		return fmt.Errorf("bundle_store wants {\"path\": \"...\"}: %v", err)
	}
	s.path = cfg.Path
	return nil
}

func (s *lines) WriteBatch(_ context.Context, b *storage.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out strings.Builder
	for _, c := range b.Collections {
		var metrics []string
		for _, m := range c.Samples {
			metrics = append(metrics, m.Metric)
		}
		slices.Sort(metrics)
		fmt.Fprintf(&out, "%s %s\n", c.HostIP, strings.Join(metrics, " "))
	}
	f, err := os.OpenFile(s.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(out.String())
	return err
}

func (s *lines) Close(context.Context) error { return nil }

func main() {
	if f, err := os.OpenFile(startLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		fmt.Fprintln(f, os.Getpid())
		f.Close()
	}
	sdkplugin.Serve(sdkplugin.ServeConfig{
		Sources: map[string]source.Source{"north": gauge{name: "north", value: 1}, "south": gauge{name: "south", value: 2}},
		Storage: &lines{},
	})
}
