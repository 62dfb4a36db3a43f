package fakegithub

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url string, header map[string]string) (*http.Response, []map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var items []map[string]any
	json.Unmarshal(body, &items)
	return resp, items
}

func TestIssuesPaginationAndPulls(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddRepo(Repo{Owner: "octo", Name: "big", OpenIssues: 210, OpenPulls: 40, ClosedIssues: 5})
	url := s.URL + "/repos/octo/big/issues?state=open&per_page=100"
	issues, pulls, pages := 0, 0, 0
	for url != "" {
		resp, items := get(t, url, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		pages++
		for _, it := range items {
			if it["state"] != "open" {
				t.Errorf("item %v is %v", it["number"], it["state"])
			}
			if _, ok := it["pull_request"]; ok {
				pulls++
			} else {
				issues++
			}
		}
		url = ""
		for _, l := range strings.Split(resp.Header.Get("Link"), ", ") {
			if strings.HasSuffix(l, `rel="next"`) {
				url = strings.Trim(strings.Split(l, ";")[0], "<>")
			}
		}
	}
	if issues != 210 || pulls != 40 || pages != 3 {
		t.Errorf("issues %d pulls %d pages %d, want 210 40 3", issues, pulls, pages)
	}
	resp, _ := get(t, s.URL+"/repos/octo/big/issues?per_page=100&page=2", nil)
	link := resp.Header.Get("Link")
	for _, rel := range []string{`page=1>; rel="prev"`, `page=3>; rel="next"`, `page=3>; rel="last"`, `page=1>; rel="first"`} {
		if !strings.Contains(link, rel) {
			t.Errorf("Link %q lacks %s", link, rel)
		}
	}
}

// nextLink returns the Link header's rel="next" URL, or "".
func nextLink(resp *http.Response) string {
	for _, l := range strings.Split(resp.Header.Get("Link"), ", ") {
		if strings.HasSuffix(l, `rel="next"`) {
			return strings.Trim(strings.Split(l, ";")[0], "<>")
		}
	}
	return ""
}

// A listing larger than the page-number limit pages by cursor, and a page
// number past the limit is refused, as on api.github.com.
func TestLargeListingPagesByCursor(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddRepo(Repo{Owner: "octo", Name: "huge", OpenIssues: 1150, OpenPulls: 50, ClosedIssues: 20})

	resp, _ := get(t, s.URL+"/repos/octo/huge/issues?per_page=100&page=11", nil)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("page 11: %s, want 422", resp.Status)
	}

	url := s.URL + "/repos/octo/huge/issues?state=open&per_page=100&page=1"
	seen, pages := map[float64]bool{}, 0
	for url != "" {
		resp, items := get(t, url, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		if pages > 0 && !strings.Contains(url, "after=") {
			t.Errorf("next link %s has no cursor", url)
		}
		pages++
		for _, it := range items {
			n := it["number"].(float64)
			if seen[n] {
				t.Errorf("item %v listed twice", n)
			}
			seen[n] = true
		}
		url = nextLink(resp)
	}
	if len(seen) != 1200 || pages != 12 {
		t.Errorf("listed %d items on %d pages, want 1200 on 12", len(seen), pages)
	}
}

func TestConditionalAndRateLimit(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddToken("t")
	s.AddRepo(Repo{Owner: "octo", Name: "r", OpenIssues: 3})
	auth := map[string]string{"Authorization": "Bearer t"}
	url := s.URL + "/repos/octo/r/issues"
	resp, _ := get(t, url, auth)
	etag := resp.Header.Get("ETag")
	remaining := resp.Header.Get("X-RateLimit-Remaining")
	if !strings.HasPrefix(etag, `W/"`) || remaining != "4999" {
		t.Fatalf("ETag %q remaining %q", etag, remaining)
	}
	resp, _ = get(t, url, map[string]string{"Authorization": "Bearer t", "If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified || resp.Header.Get("X-RateLimit-Remaining") != "4999" {
		t.Errorf("conditional: %s remaining %s, want 304 and 4999", resp.Status, resp.Header.Get("X-RateLimit-Remaining"))
	}
	reset := time.Now().Add(time.Hour)
	s.SetRateLimit(60, 0, reset)
	resp, _ = get(t, url, nil)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-RateLimit-Remaining") != "0" ||
		resp.Header.Get("X-RateLimit-Reset") != fmt.Sprint(reset.Unix()) {
		t.Errorf("limited: %s %v", resp.Status, resp.Header)
	}
	for _, tc := range []struct {
		path   string
		header map[string]string
		want   int
	}{
		{"/repos/octo/missing/issues", auth, 404},
		{"/repos/octo/r/issues", map[string]string{"Authorization": "Bearer wrong"}, 401},
	} {
		s.SetRateLimit(60, 60, reset)
		if resp, _ := get(t, s.URL+tc.path, tc.header); resp.StatusCode != tc.want {
			t.Errorf("%s: %s, want %d", tc.path, resp.Status, tc.want)
		}
	}
}

func ExampleServer() {
	s := New()
	defer s.Close()
	s.AddRepo(Repo{Owner: "octo", Name: "hello", OpenIssues: 2, OpenPulls: 1})
	resp, _ := http.Get(s.URL + "/repos/octo/hello")
	var repo struct {
		OpenIssuesCount int `json:"open_issues_count"`
	}
	json.NewDecoder(resp.Body).Decode(&repo)
	resp.Body.Close()
	fmt.Println(repo.OpenIssuesCount, "open issues and pull requests")
	// Output: 3 open issues and pull requests
}
