package pool

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

func hosts(n int) []Host {
	out := make([]Host, n)
	for i := range out {
		out[i] = Host{IP: "127.0.0.1", Port: 2000 + i}
	}
	return out
}

func TestRunBoundsConcurrencyAndKeepsOrder(t *testing.T) {
	var inFlight, peak atomic.Int32
	c := CollectorFunc(func(ctx context.Context, i int) storage.Collection {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		if i%3 == 0 {
			return storage.Collection{Status: storage.StatusUnreachable, Error: "refused"}
		}
		return storage.Collection{Status: storage.StatusOK}
	})
	var calls int
	b := Run(context.Background(), hosts(20), c, Options{Concurrency: 4, Progress: func(done, total int, _ storage.Collection) {
		calls++
		if total != 20 || done != calls {
			t.Errorf("progress(%d, %d) after %d calls", done, total, calls)
		}
	}})
	if got := peak.Load(); got > 4 || got < 2 {
		t.Errorf("peak concurrency %d, want 2..4", got)
	}
	if len(b.Collections) != 20 || calls != 20 {
		t.Fatalf("%d collections, %d progress calls", len(b.Collections), calls)
	}
	for i, col := range b.Collections {
		if col.HostPort != 2000+i {
			t.Errorf("collection %d is for port %d", i, col.HostPort)
		}
		want := storage.StatusOK
		if i%3 == 0 {
			want = storage.StatusUnreachable
		}
		if col.Status != want {
			t.Errorf("host %d: status %s want %s", i, col.Status, want)
		}
		if col.Timings.Total <= 0 || col.FinishedAt.Before(col.StartedAt) {
			t.Errorf("host %d: bad timings %+v", i, col)
		}
	}
	if AllOK(b) {
		t.Error("AllOK true with failures")
	}
	if s := Summary(b); s[storage.StatusOK] != 13 || s[storage.StatusUnreachable] != 7 {
		t.Errorf("summary %v", s)
	}
}

func TestRunHostTimeoutIsPerHost(t *testing.T) {
	c := CollectorFunc(func(ctx context.Context, i int) storage.Collection {
		if i == 0 {
			<-ctx.Done()
			return storage.Collection{Status: storage.StatusTimeout, Error: ctx.Err().Error()}
		}
		return storage.Collection{Status: storage.StatusOK}
	})
	b := Run(context.Background(), hosts(3), c, Options{HostTimeout: 50 * time.Millisecond})
	if b.Collections[0].Status != storage.StatusTimeout {
		t.Fatalf("host 0: %s", b.Collections[0].Status)
	}
	for _, col := range b.Collections[1:] {
		if col.Status != storage.StatusOK {
			t.Fatalf("healthy host got %s", col.Status)
		}
	}
}

func TestRunCancelledRecordsTheRest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := CollectorFunc(func(ctx context.Context, i int) storage.Collection {
		if i == 1 {
			cancel()
		}
		<-ctx.Done()
		return storage.Collection{Status: storage.StatusCancelled, Error: "cancelled"}
	})
	b := Run(ctx, hosts(10), c, Options{Concurrency: 2})
	s := Summary(b)
	if s[storage.StatusCancelled] != 10 {
		t.Fatalf("summary %v", s)
	}
	for i, col := range b.Collections {
		if col.HostPort != 2000+i {
			t.Fatalf("collection %d missing (port %d)", i, col.HostPort)
		}
	}
}

func TestRunEmptyStatusIsAnError(t *testing.T) {
	b := Run(context.Background(), hosts(1), CollectorFunc(func(context.Context, int) storage.Collection {
		return storage.Collection{}
	}), Options{})
	if b.Collections[0].Status != storage.StatusAgentError {
		t.Fatalf("got %q", b.Collections[0].Status)
	}
}
