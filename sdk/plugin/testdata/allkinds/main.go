// Command allkinds is a test plugin binary serving one plugin of each
// kind from memory.
package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// memStore keeps batches by round. WriteBatch of a round named "count"
// fails with a message that counts the samples received, so that a test
// can see what arrived.
type memStore struct {
	mu     sync.Mutex
	open   bool
	rounds map[string]int
}

func (m *memStore) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "memory", Version: "1.0.0"}, nil
}

func (m *memStore) Open(_ context.Context, config []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if string(config) != `{"ok":true}` {
		return fmt.Errorf("config must be {\"ok\":true}, got %s", config)
	}
	m.open = true
	m.rounds = map[string]int{}
	return nil
}

func (m *memStore) WriteBatch(_ context.Context, b *storage.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.open {
		return errors.New("write batch before open")
	}
	n := 0
	for _, c := range b.Collections {
		n += len(c.Samples)
	}
	if b.RoundID == "count" {
		return fmt.Errorf("received %d samples", n)
	}
	m.rounds[b.RoundID] = n
	return nil
}

func (m *memStore) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.open = false
	return nil
}

type cpuSource struct{}

func (cpuSource) Describe(context.Context) (source.Description, error) {
	return source.Description{
		Name:       "cpu",
		Version:    "1.0.0",
		Platforms:  []string{"linux/*", "windows/amd64"},
		Metrics:    []source.MetricInfo{{Name: "cpu.used_percent", Unit: "percent"}},
		AlertTypes: []source.AlertType{{Name: "cpu", Metric: "cpu.used_percent"}},
	}, nil
}

func (cpuSource) Module(_ context.Context, p source.Platform) (source.Module, error) {
	if p.OS == "linux" || p == (source.Platform{OS: "windows", Arch: "amd64"}) {
		return source.Module{Builtin: "cpu"}, nil
	}
	return source.Module{}, fmt.Errorf("cpu does not support %s/%s", p.OS, p.Arch)
}

type logNotifier struct{}

func (logNotifier) Describe(context.Context) (notifier.Description, error) {
	return notifier.Description{Name: "log", Version: "1.0.0"}, nil
}

func (logNotifier) Configure(context.Context, []byte) error { return nil }

func (logNotifier) Send(_ context.Context, n notifier.Notification) error {
	if n.Subject == "fail" {
		return notifier.Temporary(errors.New("mail server busy"))
	}
	return nil
}

func main() {
	sdkplugin.Serve(sdkplugin.ServeConfig{
		Source:   cpuSource{},
		Storage:  &memStore{},
		Notifier: logNotifier{},
		Logger:   sdkplugin.NewLogger("allkinds"),
	})
}
