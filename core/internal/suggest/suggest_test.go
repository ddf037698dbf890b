package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"memory", "memory", 0},
		{"memory", "memorx", 1},
		{"concurency", "concurrency", 1},
		{"cpu", "cup", 1}, // a swap of two neighbours is one edit
		{"list", "lsit", 1},
		{"abc", "ca", 3}, // optimal string alignment: no edit of a swapped pair
		{"", "load", 4},
		{"’cpu’", "'cpu'", 2}, // runes, not bytes
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"concurrency", "cpu_sample", "interval", "host_timeout"}
	for in, want := range map[string]string{
		"concurency":  "concurrency",
		"Interval":    "interval",
		"host_time":   "host_timeout",
		"cpu_smaple":  "cpu_sample",
		"zzz":         "",
		"  interval ": "interval",
	} {
		if got := Closest(in, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
