package sqlitestore

import (
	"fmt"
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

// gather lets a lone request wait for company: requests arriving at most
// linger apart join it, for at most maxLinger and up to max requests; a
// request later than that goes to the next batch.
func TestGatherLingers(t *testing.T) {
	tests := []struct {
		name string
		max  int
		gaps []time.Duration // between the first request and each next one
		want []string
	}{
		{"a request within linger joins", 10, []time.Duration{linger / 2}, []string{"first", "r1"}},
		{"a request after linger does not", 10, []time.Duration{linger * 3 / 2}, []string{"first"}},
		{"each request restarts linger", 10, []time.Duration{linger * 3 / 4, linger * 3 / 4}, []string{"first", "r1", "r2"}},
		{"lingering ends at maxLinger", 10, slices.Repeat([]time.Duration{linger * 9 / 10}, 5), // the fifth after maxLinger
			[]string{"first", "r1", "r2", "r3", "r4"}},
		{"a full batch commits at once", 3, []time.Duration{linger / 2, linger / 2, linger / 2}, []string{"first", "r1", "r2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newLanes[string]()
				go func() {
					for i, gap := range tt.gaps {
						time.Sleep(gap)
						l.normal <- fmt.Sprintf("r%d", i+1)
					}
				}()
				timer := time.NewTimer(time.Hour)
				timer.Stop()
				got := l.gather(nil, []string{"first"}, tt.max, timer, &soloPolicy{})
				if !slices.Equal(got, tt.want) {
					t.Errorf("batch = %v, want %v", got, tt.want)
				}
				for range len(tt.gaps) - (len(got) - 1) { // the requests left for the next batch
					<-l.normal
				}
			})
		})
	}
}

// A lone request that another one joined counts as joined: however many
// in a row, the next lone request lingers again.
func TestGatherCountsJoinedLingers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLanes[string]()
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		var solo soloPolicy
		for i := range soloMisses + 1 {
			go func() {
				time.Sleep(linger / 2)
				l.normal <- "second"
			}()
			if got := l.gather(nil, []string{"first"}, 10, timer, &solo); len(got) != 2 {
				<-l.normal // the second request, left for the next batch
				t.Fatalf("lone request %d: batch = %v, want the second request to join it", i+1, got)
			}
		}
	})
}
