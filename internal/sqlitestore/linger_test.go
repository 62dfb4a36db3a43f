package sqlitestore

import "testing"

func TestSoloPolicy(t *testing.T) {
	// Each step is a lone request: whether it lingers, and if so whether
	// anyone joined it.
	type step struct {
		wantLinger bool
		joined     bool
	}
	lonely := func(n int) []step { // n lingers nobody joins
		s := make([]step, n)
		for i := range s {
			s[i] = step{wantLinger: true}
		}
		return s
	}
	skipped := func(n int) []step {
		return make([]step, n)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"joined lingers keep lingering", []step{{true, true}, {true, true}, {true, true}, {true, true}}},
		{"two misses in a row are tolerated", append(lonely(2), step{true, true}, step{true, false}, step{true, false}, step{true, true})},
		{"three misses in a row skip, then try again",
			append(append(lonely(soloMisses), skipped(soloSkip)...), step{true, true}, step{true, true})},
		{"a lone sequential caller lingers on 3 commits in 67",
			append(append(append(lonely(soloMisses), skipped(soloSkip)...), lonely(soloMisses)...), skipped(soloSkip)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p soloPolicy
			for i, s := range tt.steps {
				got := p.linger()
				if got != s.wantLinger {
					t.Fatalf("request %d: linger = %v, want %v", i, got, s.wantLinger)
				}
				if got {
					p.joined(s.joined)
				}
			}
		})
	}
}
