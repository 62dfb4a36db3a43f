package sqlitestore

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

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

func TestLanesUrgentFirst(t *testing.T) {
	tests := []struct {
		name string
		max  int
		want []string
	}{
		{"all", 10, []string{"u1", "u2", "n", "n", "n"}},
		{"a full batch keeps the urgent ones", 3, []string{"u1", "u2", "n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLanes[string]()
				for range 3 {
					go func() { l.normal <- "n" }()
				}
				synctest.Wait() // the background writes wait first
				go func() { l.urgent <- "u1" }()
				synctest.Wait()
				go func() { l.urgent <- "u2" }()
				synctest.Wait()

				r, ok := l.first(nil)
				if !ok || r != "u1" {
					t.Fatalf("first = %q, %v; want the urgent request", r, ok)
				}
				timer := time.NewTimer(time.Hour)
				timer.Stop()
				got := l.gather(nil, []string{r}, tt.max, timer, &soloPolicy{})
				if !slices.Equal(got, tt.want) {
					t.Errorf("batch = %v, want %v", got, tt.want)
				}
				// Let the senders left over finish.
				for range 5 - len(got) {
					<-l.normal
				}
			})
		})
	}
}

func TestLanesFirstStopsOnQuit(t *testing.T) {
	quit := make(chan struct{})
	close(quit)
	if _, ok := newLanes[int]().first(quit); ok {
		t.Error("first on a closed quit channel reported a request")
	}
}
