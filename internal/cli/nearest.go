package cli

import (
	"strings"
	"unicode/utf8"
)

// Nearest is the name among candidates closest to name by edit distance (Levenshtein, on
// characters, ignoring case), if it is close enough to be a plausible typo: at most a third
// of the name's length, and at least 2, edits away. Ties go to the candidate listed first.
// It returns "" when nothing is close, or when name itself is among the candidates.
func Nearest(name string, candidates []string) string {
	limit := max(2, utf8.RuneCountInString(name)/3)
	best, bestDistance := "", limit+1
	for _, c := range candidates {
		if c == name {
			return ""
		}
		if d := EditDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// EditDistance is the Levenshtein distance between a and b: the fewest insertions,
// deletions and substitutions of characters that turn one into the other.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
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
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
