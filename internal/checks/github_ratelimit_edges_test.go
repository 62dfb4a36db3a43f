package checks

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/fakegithub"
	"github.com/stepmon/stepmon/internal/monitor"
)

// Rate limits that go-github does not name as such (it knows a 403 with
// X-RateLimit-Remaining 0 and a 403 whose documentation_url is the
// secondary limits' page) are still rate limits: the check waits until the
// time the answer names and the monitor is not failed. A 403 with
// Retry-After and an older wording of the secondary limit is not a
// repository the caller may not read; a 429 with X-RateLimit-Remaining 0 is
// the primary limit, held until X-RateLimit-Reset.
func TestGitHubRateLimitsByHeaders(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	reset := now.Add(17 * time.Minute)
	tests := []struct {
		name          string
		status        int
		header        map[string]string
		body          string
		wantNotBefore time.Time
		wantDetail    string
	}{
		{name: "403 with Retry-After, old wording", status: http.StatusForbidden,
			header:        map[string]string{"Retry-After": "120"},
			body:          `{"message":"You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."}`,
			wantNotBefore: now.Add(120 * time.Second), wantDetail: "GitHub secondary rate limit (HTTP 403)"},
		{name: "429 with nothing remaining", status: http.StatusTooManyRequests,
			header:        map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)},
			body:          `{"message":"API rate limit exceeded"}`,
			wantNotBefore: reset, wantDetail: "GitHub API rate limit exhausted"},
		// A reset of 0 names no time: a minute, not a wait that ended
		// in 1970 and a check again at once.
		{name: "429 with nothing remaining, reset 0", status: http.StatusTooManyRequests,
			header:        map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"},
			body:          `{"message":"API rate limit exceeded"}`,
			wantNotBefore: now.Add(time.Minute), wantDetail: "GitHub API rate limit exhausted"},
		{name: "429 with some remaining", status: http.StatusTooManyRequests,
			header:        map[string]string{"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)},
			body:          `{"message":"Too many requests"}`,
			wantNotBefore: now.Add(time.Minute), wantDetail: "GitHub secondary rate limit (HTTP 429)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, g := newGitHubFixture(t, GitHubOptions{Clock: monitor.ClockFunc(func() time.Time { return now })})
			srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
			srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
				return true
			})
			obs, err := g.Check(context.Background(), githubReq("octo/r", 3, nil))
			if err != nil {
				t.Fatalf("got error %v, want an observation", err)
			}
			if obs.Status != monitor.StatusError || !obs.NotBefore.Equal(tt.wantNotBefore) {
				t.Errorf("got Status %q NotBefore %v, want Error and %v", obs.Status, obs.NotBefore, tt.wantNotBefore)
			}
			if !strings.Contains(obs.Detail, tt.wantDetail) {
				t.Errorf("got Detail %q, want it to contain %q", obs.Detail, tt.wantDetail)
			}
		})
	}
}

// A 202 Accepted is no listing: GitHub answers it while it computes an
// answer, and an empty array in it is not "no open issues". The check
// reports an unreadable answer and keeps its memo.
func TestGitHubAcceptedIsNoListing(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
	answer(http.StatusAccepted, `[]`)(srv)
	obs, err := g.Check(context.Background(), githubReq("octo/r", 3, nil))
	if err != nil {
		t.Fatalf("got error %v, want an observation", err)
	}
	if obs.Status != monitor.StatusError || obs.OpenIssues != nil || obs.ConditionMet || obs.Done {
		t.Errorf("got %+v, want an Error with no count", obs)
	}
	if !strings.Contains(obs.Detail, "unreadable answer") {
		t.Errorf("got Detail %q, want an unreadable answer", obs.Detail)
	}
}

// The hold every check waits for ends at the latest end a rate limit
// named, maxHold from now at most: a shorter limit met by a check that
// was already under way (a secondary limit's minute) must not end a
// longer one (the primary limit's reset) early, and an end hours away is
// cut to maxHold.
func TestGitHubHoldKeepsTheLaterEnd(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	_, g := newGitHubFixture(t, GitHubOptions{Clock: monitor.ClockFunc(func() time.Time { return now })})
	steps := []struct {
		hold time.Duration
		want time.Duration
	}{
		{20 * time.Minute, 20 * time.Minute},
		{time.Minute, 20 * time.Minute},
		{-time.Minute, 20 * time.Minute},
		{30 * time.Minute, 30 * time.Minute},
		{5 * time.Hour, maxHold},
		{2 * maxHold, maxHold},
	}
	for _, s := range steps {
		g.hold(now.Add(s.hold))
		if got, want := g.held(), now.Add(s.want); !got.Equal(want) {
			t.Errorf("after a hold of %v: got held until %v, want %v", s.hold, got, want)
		}
	}
}
