package checks

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/stepmon/stepmon/internal/awssecret"
	"github.com/stepmon/stepmon/internal/fakegithub"
	"github.com/stepmon/stepmon/internal/monitor"
)

const testToken = "ghp_testtoken"

func newGitHubFixture(t *testing.T, opts GitHubOptions) (*fakegithub.Server, *GitHub) {
	t.Helper()
	srv := fakegithub.New()
	t.Cleanup(srv.Close)
	srv.AddToken(testToken)
	opts.BaseURL = srv.BaseURL()
	if opts.Token == nil {
		opts.Token = StaticToken(testToken)
	}
	g, err := NewGitHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv, g
}

func githubReq(repo string, min int, memo []byte) monitor.CheckRequest {
	return monitor.CheckRequest{InstanceID: "m1", Number: 1, Memo: memo,
		Target: monitor.Target{Type: monitor.TargetGitHub, Repo: repo, MinOpenIssues: min}}
}

func TestGitHubCountsIssuesNotPulls(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "big", OpenIssues: 210, OpenPulls: 40, ClosedIssues: 30})
	ctx := context.Background()

	tests := []struct {
		min  int
		want bool
	}{{211, false}, {210, true}}
	for _, tt := range tests {
		obs, err := g.Check(ctx, githubReq("octo/big", tt.min, nil))
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if obs.OpenIssues == nil || *obs.OpenIssues != 210 {
			t.Fatalf("OpenIssues = %v, want 210", obs.OpenIssues)
		}
		if obs.ConditionMet != tt.want || obs.Status != monitor.StatusRunning || obs.Done {
			t.Errorf("min %d: ConditionMet = %v, Status %q, Done %v; want %v, Running, false", tt.min, obs.ConditionMet, obs.Status, obs.Done, tt.want)
		}
		if strings.Contains(obs.Detail, "at least") {
			t.Errorf("min %d: Detail = %q; every page was read, the count is exact", tt.min, obs.Detail)
		}
	}
	if got := srv.Stats().Requests; got != 2*3 {
		t.Errorf("requests = %d, want 6 (250 open items are 3 pages of 100)", got)
	}
}

// A check reads no further than the page on which the count reaches the
// threshold: a threshold of 3 usually costs one request. The count is then
// a lower bound, and the detail says so.
func TestGitHubStopsAtThreshold(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "big", OpenIssues: 210, OpenPulls: 40, ClosedIssues: 30})
	ctx := context.Background()

	first, err := g.Check(ctx, githubReq("octo/big", 3, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Stats().Requests; got != 1 {
		t.Errorf("requests = %d, want 1 (the first page holds 3 open issues)", got)
	}
	n := *first.OpenIssues
	if !first.ConditionMet || first.Status != monitor.StatusRunning || n < 3 || n >= 100 {
		t.Errorf("ConditionMet %v, Status %q, OpenIssues %d; want true, Running, the first page's open issues", first.ConditionMet, first.Status, n)
	}
	if want := fmt.Sprintf("at least %d open issues in octo/big (stopped reading at the threshold, after 1 page; alert at 3 or more)", n); first.Detail != want {
		t.Errorf("Detail = %q, want %q", first.Detail, want)
	}

	// Unchanged: the one page read is answered 304.
	before := srv.Stats()
	second, err := g.Check(ctx, githubReq("octo/big", 3, first.Memo))
	if err != nil {
		t.Fatal(err)
	}
	if after := srv.Stats(); after.Requests-before.Requests != 1 || after.NotModified-before.NotModified != 1 {
		t.Errorf("second check: %d requests, %d answered 304; want 1 and 1", after.Requests-before.Requests, after.NotModified-before.NotModified)
	}
	if *second.OpenIssues != n || !second.ConditionMet || !strings.Contains(second.Detail, "at least") || !strings.Contains(second.Detail, "unchanged") {
		t.Errorf("second check: OpenIssues %d, ConditionMet %v, Detail %q", *second.OpenIssues, second.ConditionMet, second.Detail)
	}

	// A memo of a read that stopped early serves a read that goes further
	// (a higher threshold), which then counts exactly.
	third, err := g.Check(ctx, githubReq("octo/big", 211, second.Memo))
	if err != nil {
		t.Fatal(err)
	}
	if *third.OpenIssues != 210 || third.ConditionMet || strings.Contains(third.Detail, "at least") {
		t.Errorf("third check: OpenIssues %d, ConditionMet %v, Detail %q; want 210, false, an exact count", *third.OpenIssues, third.ConditionMet, third.Detail)
	}
}

// Without a threshold (0: none; a start always sets one) a check counts
// every page up to the cap.
func TestGitHubNoThresholdCountsEveryPage(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{MaxPages: 2})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "mid", OpenIssues: 150})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "huge", OpenIssues: 450})
	ctx := context.Background()
	obs, err := g.Check(ctx, githubReq("octo/mid", 0, nil))
	if err != nil || *obs.OpenIssues != 150 || obs.Status != monitor.StatusRunning || strings.Contains(obs.Detail, "at least") {
		t.Errorf("octo/mid: %+v, %v; want 150 open issues, Running, exact", obs, err)
	}
	obs, err = g.Check(ctx, githubReq("octo/huge", 0, nil))
	if err != nil || *obs.OpenIssues != 200 || obs.Status != monitor.StatusRunning || !strings.Contains(obs.Detail, "at least 200") {
		t.Errorf("octo/huge: %+v, %v; want at least 200 open issues, Running", obs, err)
	}
}

// When pull requests fill the pages a check may read, so that they hold
// fewer open issues than the threshold while more pages follow, whether
// the threshold is met cannot be told: the status says so (Unknown), not
// Running.
func TestGitHubThresholdBeyondPagesRead(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{}) // production default: 100 pages
	// 12,000 open issues and 3,000 pull requests: the first 10,000 items
	// hold 8,000 issues.
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "huge", OpenIssues: 12000, OpenPulls: 3000})
	ctx := context.Background()

	obs, err := g.Check(ctx, githubReq("octo/huge", 9000, nil))
	if err != nil {
		t.Fatal(err)
	}
	if obs.Status != monitor.StatusUnknown || obs.ConditionMet || *obs.OpenIssues != 8000 {
		t.Errorf("Status %q, ConditionMet %v, OpenIssues %d; want Unknown, false, 8000", obs.Status, obs.ConditionMet, *obs.OpenIssues)
	}
	want := "at least 8000 open issues in octo/huge, fewer than the threshold of 9000: " +
		"the first 100 pages (10000 items, 2000 of them pull requests) are as many as a check reads, and more follow"
	if obs.Detail != want {
		t.Errorf("Detail = %q\nwant     %q", obs.Detail, want)
	}

	// A threshold the pages read reach is met, reading no further.
	n := srv.Stats().Requests
	obs, err = g.Check(ctx, githubReq("octo/huge", 7900, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !obs.ConditionMet || obs.Status != monitor.StatusRunning || *obs.OpenIssues < 7900 || !strings.Contains(obs.Detail, "at least") {
		t.Errorf("threshold 7900: %+v", obs)
	}
	if got := srv.Stats().Requests - n; got >= 100 {
		t.Errorf("threshold 7900: %d requests, want fewer than 100", got)
	}

	// A start cannot ask for more than a check can count.
	if _, err := monitor.ParseStartRequest([]byte(`{"target":{"type":"github","repo":"octo/huge","minOpenIssues":11000},"alert":{"phone":"+14255550100"}}`)); err == nil ||
		!strings.Contains(err.Error(), "target.minOpenIssues must be between 1 and 10000") {
		t.Errorf("start with minOpenIssues 11000: %v; want it refused", err)
	}
}

func TestGitHubConditionalRequests(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "big", OpenIssues: 210, OpenPulls: 40})
	ctx := context.Background()

	first, err := g.Check(ctx, githubReq("octo/big", 300, nil))
	if err != nil || *first.OpenIssues != 210 {
		t.Fatalf("first check = %v, %v; want 210 open issues", first.OpenIssues, err)
	}
	before := srv.Stats()

	// Nothing changed: every page is answered 304 and costs no rate limit.
	second, err := g.Check(ctx, githubReq("octo/big", 300, first.Memo))
	if err != nil {
		t.Fatal(err)
	}
	after := srv.Stats()
	if *second.OpenIssues != 210 {
		t.Errorf("second check OpenIssues = %d, want 210", *second.OpenIssues)
	}
	if got := after.NotModified - before.NotModified; got != 3 {
		t.Errorf("304 answers = %d, want 3", got)
	}
	if got := after.Counted - before.Counted; got != 0 {
		t.Errorf("rate limit charged %d requests, want 0", got)
	}
	if !strings.Contains(second.Detail, "unchanged") {
		t.Errorf("Detail = %q, want it to say unchanged", second.Detail)
	}

	// The listing is oldest first: a new issue changes only the last
	// page (of 50 items), the one request charged.
	srv.OpenIssue("octo", "big")
	before = srv.Stats()
	third, err := g.Check(ctx, githubReq("octo/big", 211, second.Memo))
	if err != nil {
		t.Fatal(err)
	}
	if *third.OpenIssues != 211 || !third.ConditionMet {
		t.Errorf("after a new issue: OpenIssues = %d, ConditionMet %v; want 211, true", *third.OpenIssues, third.ConditionMet)
	}
	if got := srv.Stats().Counted - before.Counted; got != 1 {
		t.Errorf("after a new issue the rate limit charged %d requests, want 1 (the last page)", got)
	}

	// Closing the oldest issue shifts every page.
	srv.CloseOldestIssue("octo", "big")
	before = srv.Stats()
	fourth, err := g.Check(ctx, githubReq("octo/big", 211, third.Memo))
	if err != nil {
		t.Fatal(err)
	}
	if *fourth.OpenIssues != 210 || fourth.ConditionMet {
		t.Errorf("after closing one: OpenIssues = %d, ConditionMet %v; want 210, false", *fourth.OpenIssues, fourth.ConditionMet)
	}
	if got := srv.Stats().Counted - before.Counted; got != 3 {
		t.Errorf("after closing the oldest issue the rate limit charged %d requests, want 3", got)
	}
}

// TestGitHubFailureKeepsPagesRead: a check that fails part-way through
// the listing (a timeout, a 502) keeps the ETags of the pages it read,
// so the next check is answered 304 for them instead of reading them in
// full again; a check cut short by its time limit at every poll would
// otherwise pay for the same pages, and never get further.
func TestGitHubFailureKeepsPagesRead(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "big", OpenIssues: 250})
	var fail atomic.Bool
	fail.Store(true)
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if fail.Load() && r.URL.Query().Get("page") == "3" {
			http.Error(w, "<html>Bad gateway</html>", http.StatusBadGateway)
			return true
		}
		return false
	})
	ctx := context.Background()
	first, err := g.Check(ctx, githubReq("octo/big", 300, nil))
	if err != nil || first.Status != monitor.StatusError || !strings.Contains(first.Detail, "HTTP 502") {
		t.Fatalf("first check: %+v, %v; want Error HTTP 502", first, err)
	}
	fail.Store(false)
	before := srv.Stats()
	second, err := g.Check(ctx, githubReq("octo/big", 300, first.Memo))
	if err != nil || second.OpenIssues == nil || *second.OpenIssues != 250 {
		t.Fatalf("second check: %+v, %v; want 250 open issues", second, err)
	}
	after := srv.Stats()
	if nm, charged := after.NotModified-before.NotModified, after.Counted-before.Counted; nm != 2 || charged != 1 {
		t.Errorf("second check: %d answers 304 and %d charged, want 2 (the pages read before the failure) and 1", nm, charged)
	}
}

// A memo is used only for the repository it was written for (its name
// compared as GitHub compares it, ignoring case): a monitor's memo
// carried to a check of another repository (a target edited, a memo
// mixed up) must not make its requests conditional on the other
// repository's ETags, whose pages it would then take for this one's.
func TestGitHubMemoOfAnotherRepository(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "a", OpenIssues: 5})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "b", OpenIssues: 7})
	first, err := g.Check(context.Background(), githubReq("octo/a", 100, nil))
	if err != nil || first.OpenIssues == nil || *first.OpenIssues != 5 {
		t.Fatalf("check of octo/a = %+v, %v; want 5 open issues", first, err)
	}
	for _, tc := range []struct {
		name, repo  string
		want        int
		conditional bool // If-None-Match sent
	}{
		{"the memo's repository", "octo/a", 5, true},
		{"the memo's repository in another case", "Octo/A", 5, true},
		{"another repository", "octo/b", 7, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ifNoneMatch atomic.Int64
			srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Header.Get("If-None-Match") != "" {
					ifNoneMatch.Add(1)
				}
				return false
			})
			defer srv.Intercept(nil)
			obs, err := g.Check(context.Background(), githubReq(tc.repo, 100, first.Memo))
			if err != nil || obs.OpenIssues == nil || *obs.OpenIssues != tc.want {
				t.Fatalf("got %+v, %v; want %d open issues", obs, err, tc.want)
			}
			if got := ifNoneMatch.Load() > 0; got != tc.conditional {
				t.Errorf("got If-None-Match sent %t, want %t", got, tc.conditional)
			}
		})
	}
}

// GitHub pages a listing of more than about a thousand items by cursor
// (Link: <...&after=...>; rel="next") and answers 422 to a page number past
// that: the check follows the Link header, not page numbers.
func TestGitHubLargeRepositoryPagesByCursor(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "huge", OpenIssues: 1250, OpenPulls: 30})
	ctx := context.Background()
	first, err := g.Check(ctx, githubReq("octo/huge", 1200, nil))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if first.OpenIssues == nil || *first.OpenIssues != 1250 || !first.ConditionMet {
		t.Fatalf("first check: OpenIssues %v, ConditionMet %v, Detail %q; want 1250, true", first.OpenIssues, first.ConditionMet, first.Detail)
	}

	n := srv.Stats()
	second, err := g.Check(ctx, githubReq("octo/huge", 1200, first.Memo))
	if err != nil || *second.OpenIssues != 1250 {
		t.Fatalf("second check = %v, %v; want 1250", second.OpenIssues, err)
	}
	if got := srv.Stats().NotModified - n.NotModified; got != 13 {
		t.Errorf("304 answers = %d, want 13 (every page unchanged)", got)
	}

	// A new issue changes every page, and every cursor after the first.
	srv.OpenIssue("octo", "huge")
	third, err := g.Check(ctx, githubReq("octo/huge", 1200, second.Memo))
	if err != nil || *third.OpenIssues != 1251 {
		t.Fatalf("third check = %v, %v; want 1251", third.OpenIssues, err)
	}
}

// The token goes only to the API's host: a next-page link elsewhere is
// not followed.
func TestGitHubNextLinkToAnotherHost(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		w.Write([]byte(`[]`))
	}))
	defer other.Close()
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Link", "<"+other.URL+"/repos/octo/r/issues?page=2>; rel=\"next\"")
		return false
	})
	obs, err := g.Check(context.Background(), githubReq("octo/r", 3, nil))
	if err != nil || obs.Status != monitor.StatusError || !strings.Contains(obs.Detail, "not on the API's host") {
		t.Errorf("Check = %+v, %v; want Error naming the foreign link", obs, err)
	}
	if leaked.Load() != 0 {
		t.Errorf("the other host got %d requests, want 0", leaked.Load())
	}
}

// A next-page link on the API's origin is followed whether or not it and
// the base URL spell the scheme's default port: with a GitHub Enterprise
// base of https://ghe.example.com:443/api/v3/ every repository of more
// than 100 items reported Error, its Link headers naming the host alone.
func TestGitHubNextLinkDefaultPort(t *testing.T) {
	for _, tt := range []struct{ base, next string }{
		{"https://ghe.example.com:443/api/v3/", "https://ghe.example.com/api/v3/repositories/1/issues?page=2"},
		{"https://ghe.example.com/api/v3/", "https://GHE.example.com:443/api/v3/repositories/1/issues?page=2"},
	} {
		var pages []string
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			pages = append(pages, r.URL.String())
			h := http.Header{"Content-Type": {"application/json"}}
			body := "[" + strings.Repeat(`{"number":1},`, 4) + `{"number":1}]`
			if r.URL.Query().Get("page") != "2" {
				h.Set("Link", "<"+tt.next+`>; rel="next"`)
				body = "[" + strings.Repeat(`{"number":1},`, 99) + `{"number":1}]`
			}
			return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		})}
		g, err := NewGitHub(GitHubOptions{BaseURL: tt.base, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		// A threshold past the first page, so that the check reads on.
		obs, err := g.Check(context.Background(), githubReq("o/r", 200, nil))
		if err != nil || obs.OpenIssues == nil || *obs.OpenIssues != 105 {
			t.Errorf("base %s, next %s: Check = %+v, %v; want 105 open issues (requests %q)", tt.base, tt.next, obs, err, pages)
		}
	}
}

// An old issue reopened lands past the end of a full last page, which
// itself stays the same: the check still finds the page after it.
func TestGitHubFullLastPageProbesFurther(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "even", OpenIssues: 200, ClosedIssues: 1}) // #1, the oldest, is closed
	ctx := context.Background()
	first, err := g.Check(ctx, githubReq("octo/even", 500, nil))
	if err != nil || *first.OpenIssues != 200 {
		t.Fatalf("first = %v, %v", first.OpenIssues, err)
	}
	n := srv.Stats()
	second, err := g.Check(ctx, githubReq("octo/even", 500, first.Memo))
	if err != nil || *second.OpenIssues != 200 {
		t.Fatalf("second = %v, %v", second.OpenIssues, err)
	}
	if got := srv.Stats().Counted - n.Counted; got != 1 {
		t.Errorf("second check charged %d requests, want 1 (a 304 and the full last page again)", got)
	}
	srv.ReopenIssue("octo", "even", 1)
	third, err := g.Check(ctx, githubReq("octo/even", 500, second.Memo))
	if err != nil || *third.OpenIssues != 201 {
		t.Fatalf("after reopening the oldest issue: %v, %v; want 201", third.OpenIssues, err)
	}
}

func TestGitHubRateLimits(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := monitor.ClockFunc(func() time.Time { return now })
	ctx := context.Background()

	t.Run("primary", func(t *testing.T) {
		// The fake API's window runs on the system clock: the checker's
		// stands still at the moment the test starts.
		start := time.Now()
		srv, g := newGitHubFixture(t, GitHubOptions{Clock: monitor.ClockFunc(func() time.Time { return start })})
		srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
		first, err := g.Check(ctx, githubReq("octo/r", 3, nil))
		if err != nil {
			t.Fatal(err)
		}
		reset := start.Add(20 * time.Minute).Truncate(time.Second)
		srv.SetRateLimit(5000, 0, reset)
		obs, err := g.Check(ctx, githubReq("octo/r", 3, first.Memo))
		if err != nil {
			t.Fatalf("rate limit returned error %v, want an observation", err)
		}
		if obs.Status != monitor.StatusError || !obs.NotBefore.Equal(reset) {
			t.Errorf("Status %q NotBefore %v, want Error and %v", obs.Status, obs.NotBefore, reset)
		}
		if obs.ConditionMet || obs.Done {
			t.Errorf("a rate limit must neither alert nor end the monitor: %+v", obs)
		}
		if string(obs.Memo) != string(first.Memo) {
			t.Errorf("memo not kept across the rate limit")
		}
		if !strings.Contains(obs.Detail, "rate limit") {
			t.Errorf("Detail = %q", obs.Detail)
		}
		// The client now knows the limit is exhausted and does not ask.
		n := srv.Stats().Requests
		obs, err = g.Check(ctx, githubReq("octo/r", 3, first.Memo))
		if err != nil || !heldUntil(obs.NotBefore, reset) {
			t.Errorf("second limited check = %+v, %v", obs, err)
		}
		if got := srv.Stats().Requests - n; got != 0 {
			t.Errorf("made %d requests while the limit is known to be exhausted, want 0", got)
		}
	})

	t.Run("secondary", func(t *testing.T) {
		srv, g := newGitHubFixture(t, GitHubOptions{Clock: clock})
		srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
		srv.SecondaryRateLimit(1, 120)
		obs, err := g.Check(ctx, githubReq("octo/r", 3, nil))
		if err != nil {
			t.Fatal(err)
		}
		if want := now.Add(120 * time.Second); obs.Status != monitor.StatusError || !obs.NotBefore.Equal(want) {
			t.Errorf("Status %q NotBefore %v, want Error and %v", obs.Status, obs.NotBefore, want)
		}
	})

	// A secondary limit GitHub answers with 429 (or a 403 that go-github
	// does not recognise) holds every check of the deployment, not only
	// the one that met it: asking again before Retry-After ends prolongs
	// the limit and risks the integration being banned.
	t.Run("secondary limit holds other checks until it ends", func(t *testing.T) {
		at := now
		clock := monitor.ClockFunc(func() time.Time { return at })
		tests := []struct {
			name  string
			limit func(*fakegithub.Server)
		}{
			{"429 Retry-After", func(s *fakegithub.Server) { s.SecondaryRateLimit(1, 120) }},
			{"403 Retry-After", func(s *fakegithub.Server) {
				first := true
				s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
					if !first {
						return false
					}
					first = false
					w.Header().Set("Retry-After", "120")
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusForbidden)
					w.Write([]byte(`{"message":"You have exceeded a secondary rate limit."}`))
					return true
				})
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				at = now
				srv, g := newGitHubFixture(t, GitHubOptions{Clock: clock})
				srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
				srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "s", OpenIssues: 5})
				tt.limit(srv)
				if _, err := g.Check(ctx, githubReq("octo/r", 3, nil)); err != nil {
					t.Fatal(err)
				}
				n := srv.Stats().Requests
				at = now.Add(time.Minute)
				obs, err := g.Check(ctx, githubReq("octo/s", 3, nil))
				if err != nil {
					t.Fatal(err)
				}
				if got := srv.Stats().Requests - n; got != 0 {
					t.Errorf("made %d requests during the secondary limit, want 0", got)
				}
				if want := now.Add(120 * time.Second); obs.Status != monitor.StatusError || !heldUntil(obs.NotBefore, want) {
					t.Errorf("Status %q NotBefore %v, want Error and %v, spread by less than %v", obs.Status, obs.NotBefore, want, holdSpread)
				}
				at = now.Add(121 * time.Second)
				obs, err = g.Check(ctx, githubReq("octo/s", 3, nil))
				if err != nil || obs.Status != monitor.StatusRunning || *obs.OpenIssues != 5 {
					t.Errorf("after the limit: %+v, %v; want 5 open issues", obs, err)
				}
			})
		}
	})

	// An answer that names a far-off end (a proxy's, a clock's skew)
	// holds the other checks, and the check that met it, for an hour at
	// most, as the HTTP job check caps Retry-After.
	t.Run("a huge Retry-After holds checks for an hour at most", func(t *testing.T) {
		at := now
		srv, g := newGitHubFixture(t, GitHubOptions{Clock: monitor.ClockFunc(func() time.Time { return at })})
		srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
		srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "s", OpenIssues: 5})
		srv.SecondaryRateLimit(1, 999999)
		obs, err := g.Check(ctx, githubReq("octo/r", 3, nil))
		if want := now.Add(time.Hour); err != nil || !obs.NotBefore.Equal(want) ||
			!strings.HasSuffix(obs.Detail, "no check before 2025-06-01T13:00:00Z") {
			t.Fatalf("the limited check: NotBefore %v, Detail %q, %v; want %v", obs.NotBefore, obs.Detail, err, want)
		}
		at = now.Add(time.Hour + time.Second)
		obs, err = g.Check(ctx, githubReq("octo/s", 3, nil))
		if err != nil || obs.Status != monitor.StatusRunning || obs.OpenIssues == nil || *obs.OpenIssues != 5 {
			t.Errorf("another repository an hour later: %+v, %v; want 5 open issues", obs, err)
		}
	})

	t.Run("403 with Retry-After", func(t *testing.T) {
		srv, g := newGitHubFixture(t, GitHubOptions{Clock: clock})
		srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
		srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Retry-After", "30")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`))
			return true
		})
		obs, err := g.Check(ctx, githubReq("octo/r", 3, nil))
		if err != nil {
			t.Fatal(err)
		}
		if want := now.Add(30 * time.Second); !obs.NotBefore.Equal(want) {
			t.Errorf("NotBefore %v, want %v", obs.NotBefore, want)
		}
	})
}

func TestGitHubFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		setup     func(*fakegithub.Server)
		repo      string
		opts      GitHubOptions
		permanent string // substring of the *PermanentError; "" for an observation
		input     bool   // the *PermanentError blames the monitor's input
		detail    string // substring of the observation's Detail
		memo      string // the check's memo; "" for a page with an ETag, "null" for none
	}{
		{name: "missing repo", repo: "octo/nope", permanent: "repository octo/nope not found or private", input: true},
		{name: "private repo, anonymous", repo: "octo/secret", opts: GitHubOptions{Token: StaticToken("")},
			setup: func(s *fakegithub.Server) {
				s.AddRepo(fakegithub.Repo{Owner: "octo", Name: "secret", Private: true, OpenIssues: 4})
			},
			permanent: "repository octo/secret not found or private", input: true},
		{name: "issues disabled", repo: "octo/noissues",
			setup: func(s *fakegithub.Server) {
				s.AddRepo(fakegithub.Repo{Owner: "octo", Name: "noissues", DisableIssues: true})
			},
			permanent: "issues disabled", input: true},
		{name: "bad repo name", repo: "octo/..", permanent: "not owner/name", input: true},
		// A GitHub Enterprise web server's 404 page: the base URL lacks
		// /api/v3/, and the error says so rather than blaming the repo.
		{name: "base URL is not the API", repo: "octo/r", permanent: "is not a GitHub REST API (HTTP 404 text/html",
			setup: func(s *fakegithub.Server) {
				s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					w.WriteHeader(http.StatusNotFound)
					w.Write([]byte("<html>Page not found</html>"))
					return true
				})
			}},
		// GitHub Enterprise Server in private mode redirects a request
		// outside /api/v3/ to its sign-in page, which answers 200.
		{name: "base URL is a web server's sign-in", repo: "octo/r", permanent: "is not a GitHub REST API (HTTP 200 text/html, a web page)",
			setup: func(s *fakegithub.Server) {
				s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != "/login" {
						http.Redirect(w, r, "/login?return_to="+url.QueryEscape(r.URL.Path), http.StatusFound)
						return true
					}
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					w.Write([]byte("<!DOCTYPE html><html><title>Sign in</title></html>"))
					return true
				})
			}},
		// A 403 that is not a rate limit fails the monitor, whose
		// repository it is, though the cause may be the token's (SSO,
		// scopes) or an IP allow list: a caller must not be able to
		// raise the operators' alarms by naming a repository.
		{name: "forbidden by SSO", repo: "octo/r", permanent: "forbidden (HTTP 403): Resource protected by organization SAML enforcement", input: true,
			setup: func(s *fakegithub.Server) {
				s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusForbidden)
					w.Write([]byte(`{"message":"Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization."}`))
					return true
				})
			}},
		// A repository blocked by a DMCA takedown or for other legal
		// reasons is the caller's choice, as a missing one is.
		{name: "unavailable for legal reasons", repo: "octo/r", permanent: "repository octo/r is unavailable for legal reasons (HTTP 451): Repository access blocked", input: true,
			setup: func(s *fakegithub.Server) {
				s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
					w.WriteHeader(http.StatusUnavailableForLegalReasons)
					w.Write([]byte(`{"message":"Repository access blocked","block":{"reason":"dmca","created_at":"2024-01-01T00:00:00Z"}}`))
					return true
				})
			}},
		{name: "bad token", repo: "octo/r", opts: GitHubOptions{Token: StaticToken("wrong")}, detail: "HTTP 401"},
		{name: "server error", repo: "octo/r", detail: "HTTP 502",
			setup: func(s *fakegithub.Server) {
				s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
					http.Error(w, "<html>Bad gateway</html>", http.StatusBadGateway)
					return true
				})
			}},
		{name: "garbage", repo: "octo/r", detail: "unreadable",
			setup: func(s *fakegithub.Server) {
				s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
					w.Write([]byte("}{ not json"))
					return true
				})
			}},
		// GitHub answers an empty listing with []: an empty body or null
		// (a proxy's truncation) is not "0 open issues".
		{name: "empty answer", repo: "octo/r", detail: "unreadable answer: github: an empty answer", setup: answer(http.StatusOK, ``)},
		{name: "null", repo: "octo/r", detail: "unreadable answer: github: a page of issues that is not a JSON array (starts with null)", setup: answer(http.StatusOK, `null`)},
		{name: "object", repo: "octo/r", detail: "unreadable answer", setup: answer(http.StatusOK, `{"message":"hi"}`)},
		// The memo's page has no ETag: no If-None-Match was sent.
		{name: "unsolicited 304", repo: "octo/r", memo: `{"repo":"octo/r","count":1,"pages":[{"etag":"","issues":1,"items":1}]}`,
			detail: "GitHub API sent an unreadable answer (HTTP 304 without a conditional request)", setup: answer(http.StatusNotModified, ``)},
		{name: "unsolicited 304, first check", repo: "octo/r", memo: "null",
			detail: "GitHub API sent an unreadable answer (HTTP 304 without a conditional request)", setup: answer(http.StatusNotModified, ``)},
		{name: "error without a message shows no query", repo: "octo/r", permanent: "HTTP 400: GET http://",
			setup: answer(http.StatusBadRequest, `{}`)},
		// The form of the request, the same for every repository, is
		// the deployment's fault.
		{name: "422", repo: "octo/r", permanent: "HTTP 422: Validation Failed", setup: answer(http.StatusUnprocessableEntity, `{"message":"Validation Failed"}`)},
		{name: "406", repo: "octo/r", permanent: "HTTP 406", setup: answer(http.StatusNotAcceptable, `{}`)},
		// A proxy that gave up waiting, or a status the listing is not
		// answered with, is the check's Error: the monitor polls on.
		{name: "408", repo: "octo/r", detail: "GitHub API answered HTTP 408", setup: answer(http.StatusRequestTimeout, `{"message":"timeout"}`)},
		{name: "425", repo: "octo/r", detail: "GitHub API answered HTTP 425", setup: answer(http.StatusTooEarly, `{}`)},
		{name: "409", repo: "octo/r", detail: "GitHub API answered HTTP 409: Conflict", setup: answer(http.StatusConflict, `{"message":"Conflict"}`)},
		{name: "418 shows no query", repo: "octo/r", detail: "GitHub API answered HTTP 418: GET http://", setup: answer(http.StatusTeapot, `{}`)},
		{name: "timeout", repo: "octo/r", opts: GitHubOptions{CheckTimeout: 100 * time.Millisecond}, detail: "timed out",
			setup: func(s *fakegithub.Server) {
				s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
					select {
					case <-r.Context().Done():
					case <-time.After(2 * time.Second):
					}
					return true
				})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, g := newGitHubFixture(t, tt.opts)
			srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
			if tt.setup != nil {
				tt.setup(srv)
			}
			memo := []byte(`{"repo":"` + tt.repo + `","count":1,"pages":[{"etag":"W/\"x\"","issues":1,"items":1}]}`)
			switch tt.memo {
			case "":
			case "null":
				memo = nil
			default:
				memo = []byte(tt.memo)
			}
			obs, err := g.Check(ctx, githubReq(tt.repo, 3, memo))
			if tt.permanent != "" {
				var pe *monitor.PermanentError
				if !errors.As(err, &pe) || err != error(pe) {
					t.Fatalf("err = %#v, want an unwrapped *monitor.PermanentError", err)
				}
				if !strings.Contains(pe.Message, tt.permanent) {
					t.Errorf("message = %q, want %q", pe.Message, tt.permanent)
				}
				if pe.Input != tt.input {
					t.Errorf("%q blames the monitor's input: %v, want %v", pe.Message, pe.Input, tt.input)
				}
				if strings.Contains(pe.Message, "per_page=") || strings.Contains(pe.Message, "state=") {
					t.Errorf("message = %q shows the request's query", pe.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want an observation", err)
			}
			if obs.Status != monitor.StatusError || !strings.Contains(obs.Detail, tt.detail) {
				t.Errorf("Status %q Detail %q, want Error and %q", obs.Status, obs.Detail, tt.detail)
			}
			if strings.Contains(obs.Detail, "per_page=") || strings.Contains(obs.Detail, "state=") {
				t.Errorf("Detail = %q shows the request's query", obs.Detail)
			}
			if obs.ConditionMet || obs.Done || obs.OpenIssues != nil {
				t.Errorf("a failed check must report no count: %+v", obs)
			}
			if string(obs.Memo) != string(memo) {
				t.Errorf("memo = %s, want the previous one kept", obs.Memo)
			}
		})
	}
}

// answer returns a TestGitHubFailures setup that answers every request
// with status and the JSON body.
func answer(status int, body string) func(*fakegithub.Server) {
	return func(s *fakegithub.Server) {
		s.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body)
			return true
		})
	}
}

// A 403 whose message names a secondary rate limit, without Retry-After,
// X-RateLimit-Remaining or the documentation_url go-github looks for, is
// a rate limit (a minute's wait), not a repository the caller may not read.
func TestGitHubSecondaryLimitByMessage(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	srv, g := newGitHubFixture(t, GitHubOptions{Clock: monitor.ClockFunc(func() time.Time { return now })})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"You have exceeded a Secondary Rate Limit. Please wait a few minutes before you try again."}`))
		return true
	})
	obs, err := g.Check(context.Background(), githubReq("octo/r", 3, nil))
	if err != nil {
		t.Fatalf("err = %v, want an observation", err)
	}
	if want := now.Add(time.Minute); obs.Status != monitor.StatusError || !obs.NotBefore.Equal(want) || !strings.Contains(obs.Detail, "secondary rate limit") {
		t.Errorf("Status %q NotBefore %v Detail %q; want Error, %v, a secondary rate limit", obs.Status, obs.NotBefore, obs.Detail, want)
	}
}

// A page of issues larger than the check reads (a proxy or a captive
// portal answering for the API) is an unreadable answer, not buffered whole.
func TestGitHubPageTooLarge(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "[")
		spaces := strings.Repeat(" ", 1<<20)
		for range maxGitHubPage>>20 + 1 {
			io.WriteString(w, spaces)
		}
		io.WriteString(w, "]")
		return true
	})
	obs, err := g.Check(context.Background(), githubReq("octo/r", 3, nil))
	if err != nil {
		t.Fatalf("err = %v, want an observation", err)
	}
	if obs.Status != monitor.StatusError || !strings.Contains(obs.Detail, "larger than 32 MiB") {
		t.Errorf("Status %q Detail %q; want Error, a page larger than 32 MiB", obs.Status, obs.Detail)
	}
}

// A page holds at most the 100 items asked for: an answer with more is not
// GitHub's, and is the check's Error rather than a count (a 30 MiB
// "[{},{},...]" would otherwise be ten million open issues, and as many
// decoded items in memory). Reading stops at the item past the 100th.
func TestGitHubPageOfTooManyItems(t *testing.T) {
	for _, n := range []int{githubPerPage + 1, 1 << 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			srv, g := newGitHubFixture(t, GitHubOptions{})
			srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
			body := "[" + strings.Repeat("{},", n-1) + "{}]"
			srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, body)
				return true
			})
			obs, err := g.Check(context.Background(), githubReq("octo/r", 3, nil))
			if err != nil {
				t.Fatalf("err = %v, want an observation", err)
			}
			if obs.Status != monitor.StatusError || obs.OpenIssues != nil || obs.ConditionMet ||
				!strings.Contains(obs.Detail, "unreadable answer") || !strings.Contains(obs.Detail, "more than 100 issues") {
				t.Errorf("Status %q OpenIssues %v ConditionMet %v Detail %q; want Error, no count, a page of more than 100 issues",
					obs.Status, obs.OpenIssues, obs.ConditionMet, obs.Detail)
			}
		})
	}
}

// What a check reads of an answer is bounded after the transport's gzip
// decompression: an error page (which go-github would read whole) up to
// maxGitHubError, a page of issues up to maxGitHubPage. Half a megabyte of
// gzip on the wire is half a gigabyte once decompressed.
func TestGitHubAnswerBytesBounded(t *testing.T) {
	const size = 64 << 20 // decompressed; about 64 KiB on the wire
	tests := []struct {
		name   string
		status int
		fill   byte
		max    int64
		detail string
	}{
		{"error page", http.StatusBadGateway, 'x', maxGitHubError, "HTTP 502"},
		{"page of issues", http.StatusOK, ' ', maxGitHubPage + 1, "larger than 32 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write([]byte("["))
			chunk := bytes.Repeat([]byte{tt.fill}, 1<<20)
			for range size >> 20 {
				zw.Write(chunk)
			}
			zw.Close()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", "gzip")
				w.WriteHeader(tt.status)
				w.Write(gz.Bytes())
			}))
			t.Cleanup(srv.Close)
			// Counts what is read of the decompressed body.
			var read atomic.Int64
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := http.DefaultTransport.RoundTrip(r)
				if err == nil {
					resp.Body = &readCounter{ReadCloser: resp.Body, n: &read}
				}
				return resp, err
			})}
			g, err := NewGitHub(GitHubOptions{BaseURL: srv.URL + "/", HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			obs, err := g.Check(context.Background(), githubReq("octo/r", 3, nil))
			if err != nil {
				t.Fatalf("err = %v, want an observation", err)
			}
			if obs.Status != monitor.StatusError || !strings.Contains(obs.Detail, tt.detail) {
				t.Errorf("Status %q Detail %q; want Error, %q", obs.Status, obs.Detail, tt.detail)
			}
			// The JSON decoder reads ahead by its buffer at most.
			if got := read.Load(); got > tt.max+64<<10 {
				t.Errorf("read %d bytes of the decompressed answer, want %d at most", got, tt.max)
			}
		})
	}
}

// readCounter adds what is read through it to n.
type readCounter struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// A Link header whose next page is one already read (itself, or an
// earlier page, its query in another order) is an unreadable answer: the
// page is not counted again, nor followed to the cap.
func TestGitHubNextLinkRepeatsAPage(t *testing.T) {
	tests := []struct {
		name   string
		next   map[string]string // page → the page its Link names next
		detail string
	}{
		{"itself", map[string]string{"1": "1"}, "the Link header of page 1 names page 1 again"},
		{"an earlier page", map[string]string{"1": "2", "2": "1"}, "the Link header of page 2 names page 1 again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, g := newGitHubFixture(t, GitHubOptions{})
			var requests atomic.Int32
			srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				requests.Add(1)
				next := tt.next[r.URL.Query().Get("page")]
				w.Header().Set("Link", fmt.Sprintf(`<%srepos/octo/r/issues?direction=asc&state=open&per_page=100&page=%s>; rel="next"`, srv.BaseURL(), next))
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `[{"number":1}]`)
				return true
			})
			obs, err := g.Check(context.Background(), githubReq("octo/r", 3, nil))
			if err != nil {
				t.Fatalf("err = %v, want an observation", err)
			}
			if obs.Status != monitor.StatusError || obs.ConditionMet || obs.OpenIssues != nil ||
				!strings.Contains(obs.Detail, "unreadable answer") || !strings.Contains(obs.Detail, tt.detail) {
				t.Errorf("Status %q ConditionMet %v OpenIssues %v Detail %q; want Error, no count, %q",
					obs.Status, obs.ConditionMet, obs.OpenIssues, obs.Detail, tt.detail)
			}
			if got, want := int(requests.Load()), len(tt.next); got != want {
				t.Errorf("requests = %d, want %d (each page once)", got, want)
			}
		})
	}
}

func TestGitHubPrivateRepoWithToken(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "secret", Private: true, OpenIssues: 4, OpenPulls: 2})
	obs, err := g.Check(context.Background(), githubReq("octo/secret", 3, nil))
	if err != nil || *obs.OpenIssues != 4 || !obs.ConditionMet {
		t.Fatalf("Check = %+v, %v; want 4 open issues, condition met", obs, err)
	}
}

// A token stored in Secrets Manager from a file usually ends in a newline,
// which no header may carry: the check trims the token.
func TestGitHubTokenAroundWhitespace(t *testing.T) {
	for _, tok := range []string{testToken + "\n", testToken + "\r\n", " " + testToken + "\t"} {
		t.Run(strconv.Quote(tok), func(t *testing.T) {
			srv, g := newGitHubFixture(t, GitHubOptions{Token: StaticToken(tok)})
			srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "secret", Private: true, OpenIssues: 4})
			obs, err := g.Check(context.Background(), githubReq("octo/secret", 3, nil))
			if err != nil || obs.OpenIssues == nil || *obs.OpenIssues != 4 {
				t.Fatalf("Check = %+v, %v; want 4 open issues", obs, err)
			}
		})
	}
}

// A token that cannot be read, or whose read stalls, is recorded as Error
// and the monitor polls on, as for a token GitHub rejects (401): the next
// check reads the secret again. The read is bounded whatever the
// invocation's deadline.
// A token that cannot be read is an Error observation with a fixed detail:
// the detail is public (any API caller reads the custom status), and the
// read's error names the secret's ARN, the account and the function's
// role. The error goes to the check function's log, at warn.
func TestGitHubTokenReadFails(t *testing.T) {
	const arnErr = "awssecret: read arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf: " +
		"operation error Secrets Manager: GetSecretValue, AccessDeniedException: User: " +
		"arn:aws:sts::123456789012:assumed-role/stepmon-check/fn is not authorized"
	tests := []struct {
		name    string
		token   TokenFunc
		wantLog string
	}{
		{"error", func(context.Context) (string, error) { return "", errors.New("secretsmanager: throttled") }, "secretsmanager: throttled"},
		{"arn", func(context.Context) (string, error) { return "", errors.New(arnErr) }, arnErr},
		{"stall", func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() }, "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			_, g := newGitHubFixture(t, GitHubOptions{Token: tt.token, Logger: slog.New(slog.NewJSONHandler(&log, nil))})
			g.tokenTimeout = 50 * time.Millisecond
			memo := []byte(`{"repo":"octo/r","count":1,"pages":[]}`)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the invocation's
			defer cancel()
			obs, err := g.Check(ctx, githubReq("octo/r", 3, memo))
			if ctx.Err() != nil {
				t.Errorf("Check returned at the invocation's deadline; the token read must end at its own timeout")
			}
			const want = "could not read the GitHub token; see the check function's log"
			if err != nil || obs.Status != monitor.StatusError || obs.Detail != want {
				t.Fatalf("Check = %+v, %v; want Error with detail %q", obs, err, want)
			}
			if strings.Contains(obs.Detail, "arn:") {
				t.Errorf("detail %q names an ARN", obs.Detail)
			}
			if string(obs.Memo) != string(memo) {
				t.Errorf("memo = %s, want the previous one kept", obs.Memo)
			}
			got := log.String()
			for _, w := range []string{`"level":"WARN"`, `"instanceId":"m1"`, `"repo":"octo/r"`, strconv.Quote(tt.wantLog)} {
				if !strings.Contains(got, w) {
					t.Errorf("log = %s\nwant it to contain %s", got, w)
				}
			}
		})
	}
}

func TestGitHubMaxPages(t *testing.T) {
	srv, g := newGitHubFixture(t, GitHubOptions{MaxPages: 2})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "huge", OpenIssues: 450})
	obs, err := g.Check(context.Background(), githubReq("octo/huge", 1000, nil))
	if err != nil {
		t.Fatal(err)
	}
	if *obs.OpenIssues != 200 || !strings.Contains(obs.Detail, "at least 200") {
		t.Errorf("OpenIssues %d Detail %q, want at least 200", *obs.OpenIssues, obs.Detail)
	}
	if obs.Status != monitor.StatusUnknown || obs.ConditionMet {
		t.Errorf("Status %q ConditionMet %v; want Unknown, false: the pages not read may hold the rest", obs.Status, obs.ConditionMet)
	}
}

// Every rate limit GitHub answers, primary or secondary, 403 or 429, holds
// the other checks until it ends, for an hour at most, or for a minute
// when the answer names no time; the check that met it waits as long as
// it was told.
// heldUntil reports whether a deferred check's NotBefore is the hold's end
// spread by its monitor's offset.
func heldUntil(notBefore, end time.Time) bool {
	return !notBefore.Before(end) && notBefore.Before(end.Add(holdSpread))
}

// The monitors a hold deferred check again spread over holdSpread, each
// at an offset of its own that stays the same, not all in the second the
// hold ends (the burst GitHub's secondary limits punish).
func TestGitHubHoldSpreadsMonitors(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	srv, g := newGitHubFixture(t, GitHubOptions{Clock: monitor.ClockFunc(func() time.Time { return now })})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 5})
	srv.SecondaryRateLimit(1, 60)
	ctx := context.Background()
	if _, err := g.Check(ctx, githubReq("octo/r", 3, nil)); err != nil {
		t.Fatal(err)
	}
	end := now.Add(time.Minute)
	seconds := map[int64]bool{}
	for i := range 20 {
		req := githubReq("octo/r", 3, nil)
		req.InstanceID = fmt.Sprintf("m%d", i)
		first, err := g.Check(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := g.Check(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !heldUntil(first.NotBefore, end) || !again.NotBefore.Equal(first.NotBefore) {
			t.Errorf("%s: NotBefore %v then %v; want the same time, %v spread by less than %v", req.InstanceID, first.NotBefore, again.NotBefore, end, holdSpread)
		}
		seconds[first.NotBefore.Unix()] = true
	}
	if len(seconds) < 3 {
		t.Errorf("20 monitors deferred check again in %d distinct seconds, want them spread over %v", len(seconds), holdSpread)
	}
}

func TestGitHubRateLimitHoldsOtherChecks(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	secondary := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`))
	}
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter) // the first request's answer
		first  time.Time                   // the limited check's NotBefore
		held   time.Time                   // the other checks' NotBefore
	}{
		{"403 secondary with Retry-After 7200", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7200")
			w.Header().Set("X-RateLimit-Remaining", "4000")
			secondary(w)
		}, now.Add(maxHold), now.Add(maxHold)},
		{"403 primary with the reset in 3 hours", func(w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(3*time.Hour).Unix(), 10))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`))
		}, now.Add(maxHold), now.Add(maxHold)},
		{"403 secondary without Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Remaining", "4000")
			secondary(w)
		}, now.Add(time.Minute), now.Add(time.Minute)},
		{"429 without Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"message":"You have exceeded a secondary rate limit."}`))
		}, now.Add(time.Minute), now.Add(time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := now
			srv, g := newGitHubFixture(t, GitHubOptions{Clock: monitor.ClockFunc(func() time.Time { return at })})
			for _, name := range []string{"r", "s", "u"} {
				srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: name, OpenIssues: 5})
			}
			var answered atomic.Bool
			srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if answered.Swap(true) {
					return false
				}
				tt.answer(w)
				return true
			})

			obs, err := g.Check(ctx, githubReq("octo/r", 3, nil))
			if err != nil {
				t.Fatal(err)
			}
			if obs.Status != monitor.StatusError || !obs.NotBefore.Equal(tt.first) || !strings.Contains(obs.Detail, "rate limit") {
				t.Errorf("the limited check: Status %q NotBefore %v Detail %q; want Error, %v and a rate limit", obs.Status, obs.NotBefore, obs.Detail, tt.first)
			}

			n := srv.Stats().Requests
			at = now.Add(30 * time.Second)
			for _, repo := range []string{"octo/s", "octo/u"} {
				obs, err := g.Check(ctx, githubReq(repo, 3, nil))
				if err != nil {
					t.Fatal(err)
				}
				if obs.Status != monitor.StatusError || !heldUntil(obs.NotBefore, tt.held) {
					t.Errorf("%s while held: Status %q NotBefore %v; want Error and %v, spread by less than %v", repo, obs.Status, obs.NotBefore, tt.held, holdSpread)
				}
				// The repository never answered: the detail says the
				// check was deferred, not that it failed.
				if want := "deferred, GitHub not asked: a GitHub rate limit another check met holds every check until " +
					tt.held.UTC().Format(time.RFC3339) + "; no check before " +
					obs.NotBefore.UTC().Format(time.RFC3339); obs.Detail != want {
					t.Errorf("%s while held: Detail %q, want %q", repo, obs.Detail, want)
				}
			}
			if got := srv.Stats().Requests - n; got != 0 {
				t.Errorf("made %d requests while the limit holds, want 0", got)
			}

			// Once the hold ends, other repositories are checked again.
			at = tt.held.Add(time.Second)
			obs, err = g.Check(ctx, githubReq("octo/s", 3, nil))
			if err != nil || obs.Status != monitor.StatusRunning || obs.OpenIssues == nil || *obs.OpenIssues != 5 {
				t.Errorf("after the hold: %+v, %v; want 5 open issues", obs, err)
			}
		})
	}
}

// roundTripFunc answers a client's requests without a network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// secretVersions stands in for Secrets Manager: each read returns the
// next of values, the last one for good.
type secretVersions struct {
	values []string
	reads  int
}

func (s *secretVersions) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v := s.values[min(s.reads, len(s.values)-1)]
	s.reads++
	return &secretsmanager.GetSecretValueOutput{SecretString: &v}, nil
}

// A token GitHub rejects (rotated in Secrets Manager, the old one revoked)
// is read again for the next check, within the cache's TTL, as the Lambda
// main wires the cache (lambdas/check).
func TestGitHubRejectedTokenIsReadAgain(t *testing.T) {
	sm := &secretVersions{values: []string{"ghp_revoked", testToken}}
	secret := awssecret.New(sm, "arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf", time.Hour)
	srv, g := newGitHubFixture(t, GitHubOptions{Token: secret.Value, TokenRejected: secret.Invalidate})
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "secret", Private: true, OpenIssues: 4})

	obs, err := g.Check(context.Background(), githubReq("octo/secret", 3, nil))
	if err != nil || !strings.Contains(obs.Detail, "HTTP 401") {
		t.Fatalf("first check = %+v, %v; want GitHub's 401 recorded", obs, err)
	}
	obs, err = g.Check(context.Background(), githubReq("octo/secret", 3, nil))
	if err != nil || obs.OpenIssues == nil || *obs.OpenIssues != 4 {
		t.Fatalf("second check = %+v, %v; want 4 open issues with the new token", obs, err)
	}
	if sm.reads != 2 {
		t.Errorf("secret read %d times, want 2", sm.reads)
	}
}
