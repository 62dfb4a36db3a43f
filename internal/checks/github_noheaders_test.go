package checks

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// A rate limit answered without any header (not GitHub's answer: a proxy's
// or a test double's) names no time to trust: the check waits a minute,
// and holds every check as long, rather than asking again at once.
func TestGitHubRateLimitWithoutHeaders(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})}
	g, err := NewGitHub(GitHubOptions{BaseURL: "https://api.github.com/", HTTPClient: hc,
		Clock: monitor.ClockFunc(func() time.Time { return now })})
	if err != nil {
		t.Fatal(err)
	}
	obs, err := g.Check(context.Background(), githubReq("o/r", 3, nil))
	if err != nil {
		t.Fatalf("got error %v, want an observation", err)
	}
	want := now.Add(time.Minute)
	if obs.Status != monitor.StatusError || !obs.NotBefore.Equal(want) {
		t.Errorf("got Status %q NotBefore %v (Detail %q), want Error and %v", obs.Status, obs.NotBefore, obs.Detail, want)
	}
	if got := g.held(); !got.Equal(want) {
		t.Errorf("got every check held until %v, want %v", got, want)
	}
}
