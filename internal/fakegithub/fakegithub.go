package fakegithub

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Repo is a repository's content.
type Repo struct {
	Owner, Name string
	Private     bool
	// OpenIssues and OpenPulls are the open issues and open pull requests;
	// the issues endpoint lists both, newest first, interleaved.
	OpenIssues, OpenPulls int
	ClosedIssues          int
	// DisableIssues makes the issues endpoint answer 410 Gone, as GitHub
	// does for a repository with issues disabled.
	DisableIssues bool
}

type item struct {
	Number  int
	PR      bool
	Open    bool
	Created time.Time
}

type repo struct {
	Repo
	items []item // newest first
}

// Stats counts the requests the server has answered.
type Stats struct {
	Requests    int // all requests
	NotModified int // 304 answers
	RateLimited int // 403/429 rate-limit answers
	Counted     int // requests charged to the rate limit
}

// Server is a fake GitHub API on a loopback httptest.Server.
type Server struct {
	*httptest.Server

	mu          sync.Mutex
	repos       map[string]*repo
	tokens      map[string]bool
	limit       int
	remaining   map[string]int // per caller: the token, or "" for anonymous
	reset       time.Time
	now         func() time.Time
	intercept   func(w http.ResponseWriter, r *http.Request) bool
	stats       Stats
	secondary   int // answer this many requests with a secondary rate limit
	secondaryRA int // its Retry-After seconds
	offsetLimit int // the largest page offset a page number may reach; 0: none
}

// DefaultPageOffsetLimit is how far into a listing a page number reaches,
// as on api.github.com: a listing with more items pages by cursor.
const DefaultPageOffsetLimit = 1000

// New starts a server with no repositories, a rate limit of 5000 requests
// per caller and an hour's window. Close it when done.
func New() *Server {
	s := &Server{
		repos:       map[string]*repo{},
		tokens:      map[string]bool{},
		limit:       5000,
		remaining:   map[string]int{},
		now:         time.Now,
		offsetLimit: DefaultPageOffsetLimit,
	}
	s.reset = s.now().Add(time.Hour).Truncate(time.Second)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}", s.getRepo)
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues", s.listIssues)
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls", s.listPulls)
	mux.HandleFunc("GET /rate_limit", s.rateLimit)
	s.Server = httptest.NewServer(s.wrap(mux))
	return s
}

// BaseURL is the API base URL to configure a client with (ends in "/").
func (s *Server) BaseURL() string { return s.URL + "/" }

// AddRepo adds or replaces a repository. Its items are numbered from 1
// (oldest) and created a minute apart; pull requests are spread evenly
// among the issues.
func (s *Server) AddRepo(r Repo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := r.OpenIssues + r.OpenPulls + r.ClosedIssues
	items := make([]item, 0, total)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	prs, closed := 0, 0
	for i := 0; i < total; i++ {
		it := item{Number: i + 1, Open: true, Created: base.Add(time.Duration(i) * time.Minute)}
		// Spread pulls and closed issues evenly: item i is a pull when the
		// running share of pulls falls behind.
		switch {
		case r.OpenPulls > 0 && prs*total < (i+1)*r.OpenPulls:
			it.PR = true
			prs++
		case r.ClosedIssues > 0 && closed*total < (i+1)*r.ClosedIssues:
			it.Open = false
			closed++
		}
		items = append(items, it)
	}
	// Top up whatever rounding left out.
	for i := len(items) - 1; i >= 0 && prs < r.OpenPulls; i-- {
		if !items[i].PR && items[i].Open {
			items[i].PR = true
			prs++
		}
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	s.repos[key(r.Owner, r.Name)] = &repo{Repo: r, items: items}
}

// OpenIssue opens a new issue in a repository, as if someone filed one.
func (s *Server) OpenIssue(owner, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[key(owner, name)]
	n := len(rp.items) + 1
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
	rp.items = append([]item{{Number: n, Open: true, Created: created}}, rp.items...)
	rp.OpenIssues++
}

// CloseOldestIssue closes the oldest open issue (not a pull request), so
// every page from that item on changes.
func (s *Server) CloseOldestIssue(owner, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[key(owner, name)]
	for i := len(rp.items) - 1; i >= 0; i-- {
		if rp.items[i].Open && !rp.items[i].PR {
			rp.items[i].Open = false
			rp.OpenIssues--
			rp.ClosedIssues++
			return
		}
	}
}

// ReopenIssue reopens closed issue number, which keeps its place in the
// listing (by creation, newest first).
func (s *Server) ReopenIssue(owner, name string, number int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[key(owner, name)]
	for i := range rp.items {
		if it := &rp.items[i]; it.Number == number && !it.Open {
			it.Open = true
			if !it.PR {
				rp.OpenIssues++
				rp.ClosedIssues--
			}
		}
	}
}

// AddToken makes token a valid credential. Requests with any other token
// get 401 Bad credentials.
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = true
}

// SetRateLimit sets the rate limit's size, what is left of it for every
// caller, and when it resets.
func (s *Server) SetRateLimit(limit, remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = limit
	s.reset = reset.Truncate(time.Second)
	for k := range s.remaining {
		delete(s.remaining, k)
	}
	s.remaining["*"] = remaining
}

// SecondaryRateLimit answers the next n requests with a secondary rate
// limit: 429 with Retry-After: retryAfter seconds.
func (s *Server) SecondaryRateLimit(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secondary, s.secondaryRA = n, retryAfter
}

// Intercept installs a hook that runs before every request; when it
// returns true it has answered the request itself. Tests inject faults
// with it (500s, hangs, garbage). nil removes the hook.
func (s *Server) Intercept(h func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = h
}

// Stats returns the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func key(owner, name string) string { return strings.ToLower(owner + "/" + name) }

// caller authenticates r: the token, "" for anonymous, or ok=false for a
// bad credential.
func (s *Server) caller(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", true
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token") {
		return "", false
	}
	return tok, s.tokens[tok]
}

func (s *Server) left(caller string) int {
	if n, ok := s.remaining[caller]; ok {
		return n
	}
	if n, ok := s.remaining["*"]; ok {
		return n
	}
	return s.limit
}

// wrap applies authentication, rate limiting and interception around the
// API handlers.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats.Requests++
		hook := s.intercept
		s.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}

		s.mu.Lock()
		caller, ok := s.caller(r)
		if !ok {
			s.mu.Unlock()
			writeError(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
		if s.now().After(s.reset) {
			s.reset = s.now().Add(time.Hour).Truncate(time.Second)
			for k := range s.remaining {
				delete(s.remaining, k)
			}
		}
		left := s.left(caller)
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
		h.Set("X-RateLimit-Resource", "core")
		h.Set("X-GitHub-Media-Type", "github.v3; format=json")
		if s.secondary > 0 {
			s.secondary--
			s.stats.RateLimited++
			ra := s.secondaryRA
			s.mu.Unlock()
			h.Set("X-RateLimit-Remaining", strconv.Itoa(left))
			h.Set("X-RateLimit-Used", strconv.Itoa(s.limit-left))
			h.Set("Retry-After", strconv.Itoa(ra))
			writeJSON(w, http.StatusTooManyRequests, map[string]string{
				"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			})
			return
		}
		if left <= 0 {
			s.stats.RateLimited++
			s.mu.Unlock()
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Used", strconv.Itoa(s.limit))
			writeJSON(w, http.StatusForbidden, map[string]string{
				"message":           "API rate limit exceeded for " + callerName(caller) + ". (But here's the good news: Authenticated requests get a higher rate limit.)",
				"documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
			})
			return
		}
		s.mu.Unlock()

		rec := &recorder{ResponseWriter: w}
		// The handler decides the status; the rate limit is charged unless
		// an authenticated conditional request was answered 304, as on
		// GitHub.
		rec.before = func(status int) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if status == http.StatusNotModified {
				s.stats.NotModified++
			}
			if status != http.StatusNotModified || caller == "" {
				s.remaining[caller] = s.left(caller) - 1
				s.stats.Counted++
			}
			n := s.left(caller)
			h.Set("X-RateLimit-Remaining", strconv.Itoa(n))
			h.Set("X-RateLimit-Used", strconv.Itoa(s.limit-n))
		}
		next.ServeHTTP(rec, r.WithContext(withCaller(r.Context(), caller)))
	})
}

func callerName(caller string) string {
	if caller == "" {
		return "127.0.0.1"
	}
	return "user"
}

// recorder lets the wrapper set rate-limit headers once the status is
// known.
type recorder struct {
	http.ResponseWriter
	before func(status int)
	done   bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.done {
		r.done = true
		r.before(status)
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.done {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// lookup finds the repository of r's path, answering 404 when it does not
// exist or is private and the caller is anonymous.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*repo, bool) {
	s.mu.Lock()
	rp := s.repos[key(r.PathValue("owner"), r.PathValue("repo"))]
	s.mu.Unlock()
	if rp == nil || (rp.Private && callerOf(r.Context()) == "") {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil, false
	}
	return rp, true
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	open := 0
	for _, it := range rp.items {
		if it.Open {
			open++
		}
	}
	body := map[string]any{
		"id":                len(rp.Owner)*1000 + len(rp.Name),
		"name":              rp.Name,
		"full_name":         rp.Owner + "/" + rp.Name,
		"private":           rp.Private,
		"owner":             map[string]any{"login": rp.Owner, "type": "User"},
		"has_issues":        !rp.DisableIssues,
		"open_issues_count": open, // issues and pull requests, as on GitHub
		"open_issues":       open,
		"html_url":          "https://github.com/" + rp.Owner + "/" + rp.Name,
		"url":               s.URL + "/repos/" + rp.Owner + "/" + rp.Name,
	}
	s.mu.Unlock()
	s.writeConditional(w, r, body, "")
}

func (s *Server) listIssues(w http.ResponseWriter, r *http.Request) {
	s.list(w, r, false)
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	s.list(w, r, true)
}

// list answers the issues endpoint (pullsOnly false: issues and pull
// requests) or the pulls endpoint.
func (s *Server) list(w http.ResponseWriter, r *http.Request, pullsOnly bool) {
	rp, ok := s.lookup(w, r)
	if !ok {
		return
	}
	if rp.DisableIssues && !pullsOnly {
		writeError(w, http.StatusGone, "Issues are disabled for this repo")
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		writeValidation(w, "state", state)
		return
	}
	perPage := 30
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			n = 30
		}
		perPage = min(n, 100)
	}
	page := 1
	if v := q.Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 {
			page = n
		}
	}
	asc := q.Get("direction") == "asc"
	after, hasAfter := 0, q.Get("after") != ""
	if hasAfter {
		n, ok := decodeCursor(q.Get("after"))
		if !ok {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid cursor",
				"documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues", "status": "422"})
			return
		}
		after = n
	}

	s.mu.Lock()
	limit := s.offsetLimit
	if !hasAfter && limit > 0 && (page-1)*perPage >= limit {
		s.mu.Unlock()
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{
			"message":           "Pagination with the page parameter is not supported for large datasets, please use cursor based pagination (after/before)",
			"documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues",
			"status":            "422",
		})
		return
	}
	var sel []item
	for _, it := range rp.items {
		if pullsOnly && !it.PR {
			continue
		}
		if state == "all" || (state == "open") == it.Open {
			sel = append(sel, it)
		}
	}
	if asc {
		rev := make([]item, len(sel))
		for i := range sel {
			rev[len(sel)-1-i] = sel[i]
		}
		sel = rev
	}
	lastPage := max(1, (len(sel)+perPage-1)/perPage)
	from := min((page-1)*perPage, len(sel))
	if hasAfter {
		// Keyset pagination: the items after the cursor's item in the
		// listing's order, whether or not that item is still listed.
		from = len(sel)
		for i, it := range sel {
			if (!asc && it.Number < after) || (asc && it.Number > after) {
				from = i
				break
			}
		}
	}
	to := min(from+perPage, len(sel))
	out := make([]map[string]any, 0, to-from)
	for _, it := range sel[from:to] {
		out = append(out, s.render(rp, it, pullsOnly))
	}
	// A listing larger than the page-number limit links by cursor.
	cursors := hasAfter || (limit > 0 && len(sel) > limit)
	nextCursor := ""
	if cursors && to < len(sel) && to > from {
		nextCursor = encodeCursor(sel[to-1].Number)
	}
	s.mu.Unlock()

	// Link header as GitHub writes it: page numbers, or in a listing
	// larger than the page-number limit a cursor to the next page.
	var links []string
	link := func(param string, rel string) {
		// Keep the caller's parameter order and put page (or after) last,
		// as GitHub does.
		var params []string
		for _, kv := range strings.Split(r.URL.RawQuery, "&") {
			if kv != "" && !strings.HasPrefix(kv, "page=") && !strings.HasPrefix(kv, "after=") {
				params = append(params, kv)
			}
		}
		params = append(params, param)
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: strings.Join(params, "&")}
		links = append(links, fmt.Sprintf("<%s>; rel=%q", u.String(), rel))
	}
	switch {
	case cursors:
		if nextCursor != "" {
			link("after="+url.QueryEscape(nextCursor), "next")
		}
	default:
		pageLinks(page, lastPage, link)
	}
	s.writeConditional(w, r, out, strings.Join(links, ", "))
}

// pageLinks adds the page-number links: next and last unless on the last
// page, first and prev unless on the first.
func pageLinks(page, lastPage int, link func(param, rel string)) {
	pg := func(p int) string { return "page=" + strconv.Itoa(p) }
	if page > 1 {
		link(pg(page-1), "prev")
	}
	if page < lastPage {
		link(pg(page+1), "next")
		link(pg(lastPage), "last")
	}
	if page > 1 {
		link(pg(1), "first")
	}
}

// encodeCursor and decodeCursor make an opaque cursor naming the item a
// page ends with.
func encodeCursor(number int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(number)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:v2:"))
	return n, err == nil && strings.HasPrefix(string(b), "cursor:v2:")
}

func (s *Server) render(rp *repo, it item, pullsOnly bool) map[string]any {
	state := "closed"
	if it.Open {
		state = "open"
	}
	repoURL := s.URL + "/repos/" + rp.Owner + "/" + rp.Name
	kind := "issues"
	if it.PR {
		kind = "pull"
	}
	m := map[string]any{
		"id":         900000 + it.Number,
		"node_id":    fmt.Sprintf("I_%d", it.Number),
		"number":     it.Number,
		"title":      fmt.Sprintf("Item %d", it.Number),
		"state":      state,
		"locked":     false,
		"user":       map[string]any{"login": "octocat", "id": 1, "type": "User"},
		"labels":     []any{},
		"comments":   0,
		"created_at": it.Created.Format(time.RFC3339),
		"updated_at": it.Created.Format(time.RFC3339),
		"url":        fmt.Sprintf("%s/issues/%d", repoURL, it.Number),
		"html_url":   fmt.Sprintf("https://github.com/%s/%s/%s/%d", rp.Owner, rp.Name, kind, it.Number),
	}
	if it.PR && !pullsOnly {
		m["pull_request"] = map[string]any{
			"url":       fmt.Sprintf("%s/pulls/%d", repoURL, it.Number),
			"html_url":  fmt.Sprintf("https://github.com/%s/%s/pull/%d", rp.Owner, rp.Name, it.Number),
			"diff_url":  fmt.Sprintf("https://github.com/%s/%s/pull/%d.diff", rp.Owner, rp.Name, it.Number),
			"patch_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d.patch", rp.Owner, rp.Name, it.Number),
			"merged_at": nil,
		}
	}
	return m
}

// writeConditional writes v as JSON with a weak ETag over the body and
// the Link header, or 304 when the request's If-None-Match matches.
func (s *Server) writeConditional(w http.ResponseWriter, r *http.Request, v any, link string) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	sum := sha256.Sum256(append([]byte(link+"\n"), body...))
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	if link != "" {
		h.Set("Link", link)
	}
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// etagMatch reports whether an If-None-Match header matches etag, with
// the weak comparison that If-None-Match uses.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, c := range strings.Split(header, ",") {
		if strings.TrimSpace(c) == "*" || strip(c) == strip(etag) {
			return true
		}
	}
	return false
}

func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	core := map[string]any{"limit": s.limit, "remaining": s.left(callerOf(r.Context())),
		"reset": s.reset.Unix(), "used": s.limit - s.left(callerOf(r.Context())), "resource": "core"}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"resources": map[string]any{"core": core}, "rate": core})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string) {
	doc := "https://docs.github.com/rest"
	writeJSON(w, status, map[string]string{"message": message, "documentation_url": doc, "status": strconv.Itoa(status)})
}

func writeValidation(w http.ResponseWriter, field, value string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed",
		"errors": []map[string]string{{"resource": "Issue", "field": field, "code": "invalid",
			"value": url.QueryEscape(value)}},
		"documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues",
	})
}

type callerKey struct{}

func withCaller(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

func callerOf(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}
