// Package suggest finds the name a misspelt one most likely meant, for
// "did you mean" hints in diagnostics.
package suggest

import "strings"

// Closest returns the known name that name is most likely a misspelling
// of, or "" when none is close.
func Closest(name string, known []string) string {
	lower := strings.ToLower(strings.TrimSpace(name))
	if lower == "" {
		return ""
	}
	best, bestDist := "", 0
	for _, k := range known {
		if k == lower || (len(lower) >= 3 && (strings.HasPrefix(k, lower) || strings.HasPrefix(lower, k))) {
			return k
		}
		d := Distance(lower, k)
		if d <= max(1, len(k)/3) && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// Distance is the edit distance between a and b, in runes: how many
// runes to insert, delete or replace, or adjacent pairs to swap (the
// commonest typo: "lsit" for "list"), to turn one into the other
// (optimal string alignment).
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// rows i-2, i-1 and i of the table
	before, prev, cur := make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], before[j-2]+1)
			}
		}
		before, prev, cur = prev, cur, before
	}
	return prev[len(rb)]
}
