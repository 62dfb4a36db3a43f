// Package suggest finds the names a mistyped one is likely a slip for: a
// command or a flag of the CLI, a field of an API request.
package suggest

import (
	"slices"
	"strings"
	"unicode"
)

// Like returns the names name is likely a slip for, at most two, the
// likeliest first: those it begins (an abbreviation, "stat" for status),
// then those within two edits of it ("stauts"), nearest first; none when
// more than two are equally likely ("s"). Case, underscores and hyphens
// are ignored ("pollingInterval" begins polling_interval_seconds); the
// names are returned as given.
func Like(name string, names []string) []string {
	name = fold(name)
	type candidate struct {
		name string
		rank int // 0 for a prefix, else the edit distance
	}
	var like []candidate
	for _, n := range names {
		lower := fold(n)
		switch d := Distance(name, lower); {
		case name == "":
		case strings.HasPrefix(lower, name):
			like = append(like, candidate{n, 0})
		case d <= 2 && d < len(name):
			like = append(like, candidate{n, d})
		}
	}
	slices.SortStableFunc(like, func(a, b candidate) int { return a.rank - b.rank })
	if len(like) > 2 && like[2].rank == like[0].rank {
		return nil
	}
	out := make([]string, 0, 2)
	for _, c := range like[:min(len(like), 2)] {
		out = append(out, c.name)
	}
	return out
}

// fold is name as Like compares it: lower case, without underscores and
// hyphens.
func fold(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' {
			return -1
		}
		return unicode.ToLower(r)
	}, name)
}

// Distance is the number of edits that turn a into b, in bytes: each
// insertion, deletion, substitution or swap of two neighbours counting one
// (the optimal string alignment distance).
func Distance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
