package alert

import (
	"context"
	"slices"
	"sync"
)

// MemoryStore is a StateStore held in memory, for tests and dry runs. Its
// zero value is not usable; use NewMemoryStore. It is safe for concurrent
// use.
type MemoryStore struct {
	mu     sync.Mutex
	states map[memoryKey]State
	values map[memoryKey][]TimedValue
}

// memoryKey is a host and a rule ID or metric name.
type memoryKey struct {
	ip   string
	port int
	name string
}

var _ StateStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{states: make(map[memoryKey]State), values: make(map[memoryKey][]TimedValue)}
}

// Get returns the state of a rule on a host.
func (m *MemoryStore) Get(ctx context.Context, hostIP string, hostPort int, ruleID string) (State, bool, error) {
	if err := ctx.Err(); err != nil {
		return State{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.states[memoryKey{hostIP, hostPort, ruleID}]
	return s, ok, nil
}

// Put replaces the state of a rule on a host.
func (m *MemoryStore) Put(ctx context.Context, hostIP string, hostPort int, ruleID string, s State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[memoryKey{hostIP, hostPort, ruleID}] = s
	return nil
}

// AddValue records a value of metric on a host, for RecentValues.
func (m *MemoryStore) AddValue(hostIP string, hostPort int, metric string, v TimedValue) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := memoryKey{hostIP, hostPort, metric}
	m.values[k] = append(m.values[k], v)
}

// RecentValues returns up to n of the latest values of metric on a host,
// oldest first.
func (m *MemoryStore) RecentValues(ctx context.Context, hostIP string, hostPort int, metric string, n int) ([]TimedValue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	vs := slices.Clone(m.values[memoryKey{hostIP, hostPort, metric}])
	m.mu.Unlock()
	slices.SortStableFunc(vs, func(a, b TimedValue) int { return a.Time.Compare(b.Time) })
	if n >= 0 && len(vs) > n {
		vs = vs[len(vs)-n:]
	}
	return vs, nil
}
