package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
)

// DefaultGitHubAPIURL is api.github.com's REST base URL.
const DefaultGitHubAPIURL = "https://api.github.com/"

// TokenFunc returns the GitHub token to authenticate with, or "" to call
// the API anonymously (60 requests an hour instead of 5,000). It is called
// once per check; an implementation should cache, and drop the cached
// token when GitHubOptions.TokenRejected is called, so that a rotated
// secret is picked up at the next check. A call has 10 seconds; one that
// fails is recorded as the check's Error, with a fixed detail (the error
// goes to GitHubOptions.Logger), and the monitor polls on.
type TokenFunc func(ctx context.Context) (string, error)

// StaticToken returns a TokenFunc that always returns token.
func StaticToken(token string) TokenFunc {
	return func(context.Context) (string, error) { return token, nil }
}

// GitHubOptions configures a GitHub checker.
type GitHubOptions struct {
	// BaseURL is the REST API's base URL; "" means api.github.com. For
	// GitHub Enterprise Server use "https://HOST/api/v3/".
	BaseURL string
	// Token supplies the token; nil means anonymous. White space around
	// it is ignored. The token is never logged or put in an error.
	Token TokenFunc
	// TokenRejected, when not nil, is called when GitHub rejects the
	// token (HTTP 401), so that a cached token is read again for the
	// next check (awssecret.Cache.Invalidate): the secret was rotated and
	// the old token revoked.
	TokenRejected func()
	// HTTPClient sends the requests; nil means a client with a 30-second
	// timeout. Its transport is wrapped to add the token and conditional
	// request headers.
	HTTPClient *http.Client
	// CheckTimeout bounds one check, all pages together; 0 means 60 s.
	CheckTimeout time.Duration
	// MaxPages caps the pages (of 100 items) read per check; 0 means
	// monitor.GitHubMaxPages (100), which bounds the threshold a start
	// accepts (monitor.MaxMinOpenIssues). A check stops reading once it
	// has counted the threshold; a repository whose first MaxPages pages
	// hold fewer open issues than the threshold, with more pages after
	// them, is reported with status Unknown.
	MaxPages int
	// Clock turns Retry-After into a time; nil means the system clock.
	Clock monitor.Clock
	// Logger receives what a check's custom status must not show (a
	// token read's error, which names the secret); nil means
	// slog.Default().
	Logger *slog.Logger
}

// GitHub counts a repository's open issues, pull requests excluded, and
// reports the condition met when there are at least Target.MinOpenIssues.
//
// It lists GET /repos/{owner}/{repo}/issues?state=open&per_page=100 page by
// page, following each answer's Link rel="next" (page numbers, or for a
// listing of more than about a thousand items a cursor: GitHub refuses
// page numbers that far in), and skips the items that carry a
// "pull_request" object. It stops at the page on which the count reaches
// Target.MinOpenIssues (the count is then a lower bound, and the detail
// says "at least"), or after GitHubOptions.MaxPages pages: when those hold
// fewer open issues than the threshold and more pages follow, whether the
// threshold is met cannot be told, and the Observation's Status is
// monitor.StatusUnknown. (The
// repository's open_issues_count counts pull requests too, and the search
// API is rate-limited separately and lags behind.) Every page is requested
// conditionally with the ETag it had on the previous check, carried in the
// Observation's Memo, so an unchanged page is answered 304 Not Modified,
// reuses its count and, for an authenticated caller, costs no rate limit.
//
// Failures are reported as the monitor needs them: a missing or private
// repository is a *monitor.PermanentError (the monitor ends); a rate limit
// is an Observation with Status monitor.StatusError and NotBefore at the
// limit's reset, an hour at most (and, the limit being the caller's, no
// check of any repository by this GitHub value asks GitHub again before
// then: it defers, and the monitors it deferred check again spread over a
// few seconds; the hold is in memory, so other processes, such as other
// execution environments of a Lambda function, learn of the limit from an
// answer of their own); a 408, a 5xx, a timeout, a network error or an
// unreadable answer (not a JSON array, a page of more than 100 items, a
// Link header naming a page already read) is an Observation with Status
// monitor.StatusError, and the monitor polls on.
type GitHub struct {
	client       *github.Client
	http         *http.Client // client's, with the token and ETag transport
	token        TokenFunc
	rejected     func() // GitHubOptions.TokenRejected
	checkTimeout time.Duration
	tokenTimeout time.Duration // of one token read: tokenReadTimeout
	maxPages     int
	clock        monitor.Clock
	logger       *slog.Logger

	// heldUntil is when the last rate limit GitHub answered ends, as far
	// as it holds every check (maxHold at most). Until then no check asks
	// GitHub: the limit is the caller's, not the repository's. Requests
	// are sent past go-github's own memory of limits, which has no such
	// bound, so that this is the only hold.
	mu        sync.Mutex
	heldUntil time.Time
}

var _ monitor.Checker = (*GitHub)(nil)

// tokenReadTimeout bounds one call of the TokenFunc: a secret read that
// gets no answer must not hold the check until its function is killed.
const tokenReadTimeout = 10 * time.Second

const githubPerPage = monitor.GitHubPageSize

// NewGitHub returns a GitHub checker.
func NewGitHub(opts GitHubOptions) (*GitHub, error) {
	base := opts.BaseURL
	if base == "" {
		base = DefaultGitHubAPIURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("checks: github base URL %q: must be an absolute http(s) URL", opts.BaseURL)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	wrapped := *hc
	base2 := hc.Transport
	if base2 == nil {
		base2 = http.DefaultTransport
	}
	wrapped.Transport = &githubTransport{base: base2, api: u}
	client := github.NewClient(&wrapped)
	client.BaseURL = u
	client.UserAgent = "stepmon"

	g := &GitHub{client: client, http: &wrapped, token: opts.Token, rejected: opts.TokenRejected, checkTimeout: opts.CheckTimeout, maxPages: opts.MaxPages, clock: opts.Clock}
	if g.checkTimeout == 0 {
		g.checkTimeout = 60 * time.Second
	}
	g.tokenTimeout = tokenReadTimeout
	if g.maxPages == 0 {
		g.maxPages = monitor.GitHubMaxPages
	}
	if g.clock == nil {
		g.clock = monitor.SystemClock
	}
	g.logger = opts.Logger
	if g.logger == nil {
		g.logger = slog.Default()
	}
	return g, nil
}

// githubMemo is what a GitHub check carries to the next one.
type githubMemo struct {
	Repo  string       `json:"repo"`
	Count int          `json:"count"`
	Pages []githubPage `json:"pages"`
}

// githubPage is one page of the listing as last seen.
type githubPage struct {
	ETag   string `json:"etag"`
	Issues int    `json:"issues"` // items that are not pull requests
	Items  int    `json:"items"`  // all items
	Next   bool   `json:"next"`   // a next page existed
	// Link is the next page's path and query from the Link header (a
	// page number, or for a large listing a cursor); "" in a memo written
	// before it was kept, when the next page is asked for by number.
	Link string `json:"link,omitempty"`
}

// Check counts the open issues of req.Target.Repo.
func (g *GitHub) Check(ctx context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
	owner, name, ok := strings.Cut(req.Target.Repo, "/")
	if !ok || owner == "" || name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return monitor.Observation{}, monitor.InputError("github: repository %q is not owner/name", req.Target.Repo)
	}
	var memo githubMemo
	if len(req.Memo) > 0 {
		if err := json.Unmarshal(req.Memo, &memo); err != nil || !strings.EqualFold(memo.Repo, req.Target.Repo) {
			memo = githubMemo{}
		}
	}

	if until := g.held(); !until.IsZero() {
		// Nothing was asked: the detail says the check was deferred,
		// not that the repository failed. The monitors held check again
		// spread over holdSpread, not all in the second the hold ends.
		// "no check before": the monitor's expiry, which the checker does
		// not know, may come first.
		at := until.Add(holdOffset(req))
		return monitor.Observation{Status: monitor.StatusError, Memo: req.Memo, NotBefore: at, Deferred: true,
			Detail: fmt.Sprintf("deferred, GitHub not asked: a GitHub rate limit another check met holds every check until %s; no check before %s",
				until.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))}, nil
	}

	token := ""
	if g.token != nil {
		tctx, cancel := context.WithTimeout(ctx, g.tokenTimeout)
		t, err := g.token(tctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return monitor.Observation{}, &monitor.TransientError{Message: "github: read token: " + ctx.Err().Error()}
			}
			// As for a token GitHub rejects: the next check reads it again.
			// The error names the secret's ARN (and, when access is denied,
			// the function's role): it goes to the log, not to the custom
			// status, which every API caller reads.
			g.logger.WarnContext(ctx, "could not read the GitHub token", "instanceId", req.InstanceID, "repo", req.Target.Repo, "err", err)
			return monitor.Observation{Status: monitor.StatusError, Memo: req.Memo, Detail: "could not read the GitHub token; see the check function's log"}, nil
		}
		// A secret written from a file ends in a newline, which no
		// header may carry.
		token = strings.TrimSpace(t)
	}

	cctx, cancel := context.WithTimeout(ctx, g.checkTimeout)
	defer cancel()
	cctx = context.WithValue(cctx, tokenKey{}, token)

	next := githubMemo{Repo: req.Target.Repo}
	// A threshold of 0 (none) counts every page, up to the cap.
	threshold := req.Target.MinOpenIssues
	count, items, notModified := 0, 0, 0
	truncated := false       // the cap stopped the read, more pages following
	reached := false         // the threshold stopped the read, more pages following
	link := ""               // the next page as the last one linked it; "" asks by number
	read := map[string]int{} // the pages asked for, by pageKey, and their numbers
	for page := 1; ; page++ {
		if page > g.maxPages {
			truncated = true
			break
		}
		// A Link header naming a page already read would count it again,
		// and one naming itself be followed to the cap at every check.
		key := g.pageKey(owner, name, page, link)
		if n, ok := read[key]; ok {
			return monitor.Observation{Status: monitor.StatusError, Memo: req.Memo,
				Detail: fmt.Sprintf("GitHub API sent an unreadable answer: the Link header of page %d names page %d again as the next page", page-1, n)}, nil
		}
		read[key] = page
		var prev *githubPage
		if page <= len(memo.Pages) {
			prev = &memo.Pages[page-1]
		}
		// A full last page may have gained a successor while it stayed
		// the same (an old issue reopened past its end): it is asked for
		// unconditionally, so that its Link header tells.
		fullLast := prev != nil && !prev.Next && prev.Items == githubPerPage && page == len(memo.Pages)
		pctx := cctx
		conditional := prev != nil && prev.ETag != "" && !fullLast
		if conditional {
			pctx = context.WithValue(cctx, etagKey{}, prev.ETag)
		}
		pageItems, pageIssues, resp, err := g.listPage(pctx, owner, name, page, link)
		var pg githubPage
		switch {
		case conditional && resp != nil && resp.StatusCode == http.StatusNotModified:
			pg = *prev
			notModified++
		case err != nil:
			if ctx.Err() != nil {
				return monitor.Observation{}, &monitor.TransientError{Message: "github: check " + req.Target.Repo + ": " + ctx.Err().Error()}
			}
			// The pages read before this one keep their ETags for the
			// next check (a check cut short by its time limit would
			// otherwise read them again in full, and again, each time).
			return g.failure(ctx, req, owner, name, partialMemo(next, memo, req.Memo), resp, err)
		default:
			nextLink, ok := g.nextPage(resp.Header)
			if !ok {
				return monitor.Observation{Status: monitor.StatusError, Memo: req.Memo,
					Detail: "GitHub API sent an unreadable answer: its Link header's next page is not on the API's host"}, nil
			}
			pg = githubPage{ETag: resp.Header.Get("ETag"), Issues: pageIssues, Items: pageItems, Next: nextLink != "", Link: nextLink}
		}
		next.Pages = append(next.Pages, pg)
		count += pg.Issues
		items += pg.Items
		if !pg.Next {
			break
		}
		if threshold > 0 && count >= threshold {
			// The pages after this one can only add to the count.
			reached = true
			break
		}
		link = pg.Link
	}
	next.Count = count
	memoJSON, _ := json.Marshal(next)

	n := count
	obs := monitor.Observation{
		Status:       monitor.StatusRunning,
		ConditionMet: count >= req.Target.MinOpenIssues,
		OpenIssues:   &n,
		Memo:         memoJSON,
	}
	obs.Detail = fmt.Sprintf("%d open issues in %s (alert at %d or more)", count, req.Target.Repo, threshold)
	switch {
	case reached:
		obs.Detail = fmt.Sprintf("at least %d open issues in %s (stopped reading at the threshold, after %s; alert at %d or more)",
			count, req.Target.Repo, plural(len(next.Pages), "page"), threshold)
	case truncated && count < threshold:
		// Pull requests among the pages read (or a MaxPages below the
		// default) kept the count short: the open issues after them may
		// or may not reach the threshold.
		obs.Status = monitor.StatusUnknown
		obs.Detail = fmt.Sprintf("at least %d open issues in %s, fewer than the threshold of %d: "+
			"the first %d pages (%d items, %d of them pull requests) are as many as a check reads, and more follow",
			count, req.Target.Repo, threshold, g.maxPages, items, items-count)
	case truncated:
		obs.Detail = fmt.Sprintf("at least %d open issues in %s (read the first %d pages; alert at %d or more)",
			count, req.Target.Repo, g.maxPages, threshold)
	}
	if notModified > 0 && notModified == len(next.Pages) {
		obs.Detail += "; unchanged since the last check"
	}
	return obs, nil
}

// plural returns n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// listPage asks for one page of open issues: the one link names (a path
// and query on the API's host, from the previous page's Link header), or
// when link is "" page number page. It returns the page's items and the
// open issues among them (the items that are not pull requests).
func (g *GitHub) listPage(ctx context.Context, owner, name string, page int, link string) (items, issues int, _ *github.Response, _ error) {
	if link == "" {
		link = pageLink(owner, name, page)
	}
	req, err := g.client.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Accept", "application/vnd.github.squirrel-girl-preview+json")
	resp, err := g.do(ctx, req)
	if err != nil {
		return 0, 0, resp, err
	}
	defer resp.Body.Close()
	body := &countingReader{r: io.LimitReader(resp.Body, maxGitHubPage+1)}
	items, issues, err = countPage(body)
	if body.n > maxGitHubPage {
		return 0, 0, resp, fmt.Errorf("github: a page of issues larger than %d MiB", maxGitHubPage>>20)
	}
	if err != nil {
		return 0, 0, resp, err
	}
	return items, issues, resp, nil
}

// pageLink is the path and query of page number page of the listing,
// oldest first: an issue or pull request opened changes only the last
// page (newest first, it shifted every page, and every page's ETag
// changed), and closing a recent one only the pages from it on; the
// cursors of a large listing's earlier pages stay valid too. (A memo of
// the newest-first order, written before, costs one full read.)
func pageLink(owner, name string, page int) string {
	return fmt.Sprintf("repos/%s/%s/issues?direction=asc&page=%d&per_page=%d&state=open",
		url.PathEscape(owner), url.PathEscape(name), page, githubPerPage)
}

// pageKey names the page listPage asks for, whatever the order of its
// query's parameters.
func (g *GitHub) pageKey(owner, name string, page int, link string) string {
	if link == "" {
		link = pageLink(owner, name, page)
	}
	u, err := g.client.BaseURL.Parse(link)
	if err != nil {
		return link
	}
	return u.EscapedPath() + "?" + u.Query().Encode()
}

// countPage reads a page of the listing, a JSON array of issues, one item
// at a time, and counts its items and the open issues among them. A page
// holds githubPerPage items at most, which is what was asked for: an
// answer with more is not GitHub's (a proxy's, a misconfigured base URL's),
// and reading stops at the item past that, so that what the page costs is
// bounded by one item, not by the page's bytes.
func countPage(r io.Reader) (items, issues int, _ error) {
	dec := json.NewDecoder(fullReader{r})
	// An empty answer or null (a proxy's truncation, a captive portal's
	// 200) is not a page without issues: GitHub answers [].
	tok, err := dec.Token()
	if err == io.EOF {
		return 0, 0, errors.New("github: an empty answer, not a page of issues")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("github: a page of issues that is not a JSON array: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		shown := fmt.Sprint(tok)
		if tok == nil {
			shown = "null"
		}
		return 0, 0, fmt.Errorf("github: a page of issues that is not a JSON array (starts with %.20s)", shown)
	}
	for dec.More() {
		if items == githubPerPage {
			return 0, 0, fmt.Errorf("github: a page of more than %d issues, the most a page is asked for", githubPerPage)
		}
		// Only whether an item is a pull request matters: decoding
		// into github.Issue would allocate every field of every item.
		var it struct {
			PullRequest *struct{} `json:"pull_request"`
		}
		if err := dec.Decode(&it); err != nil {
			return 0, 0, fmt.Errorf("github: a page of issues: %w", err)
		}
		items++
		if it.PullRequest == nil {
			issues++
		}
	}
	if _, err := dec.Token(); err != nil {
		return 0, 0, fmt.Errorf("github: a page of issues: %w", err)
	}
	return items, issues, nil
}

// fullReader fills each read's buffer, as far as r has bytes. A
// json.Decoder looking for the next token scans the white space before
// it again after each read: fed a body a few kilobytes per read (as gzip
// decompresses it), a page of white space would cost time quadratic in
// its length. Filled reads double the decoder's buffer each time.
type fullReader struct{ r io.Reader }

func (f fullReader) Read(p []byte) (int, error) {
	n, err := io.ReadFull(f.r, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// maxGitHubPage bounds the answer of one page of issues. GitHub's pages
// of 100 issues, each body at most 65,536 characters, stay well below
// it; a proxy or a captive portal that sends more must not make the
// check function buffer it.
const maxGitHubPage = 32 << 20

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// do sends req and reads an error answer as go-github's Client.Do does
// (github.CheckResponse), but without go-github's memory of rate limits:
// that memory answers for GitHub, with a synthesised 403, until whatever
// time GitHub last named, hours if it said so, and forgets a secondary
// limit answered without Retry-After. The checker's own hold (g.hold),
// bounded by maxHold, is the one place rate limits are remembered.
func (g *GitHub) do(ctx context.Context, req *http.Request) (*github.Response, error) {
	resp, err := g.http.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	r := &github.Response{Response: resp}
	if c := resp.StatusCode; c >= 200 && c <= 299 && c != http.StatusAccepted {
		return r, nil
	}
	// CheckResponse reads the whole body, after the transport's gzip
	// decompression: a GitHub error is a small JSON object, and a proxy's
	// error page of any size is read up to maxGitHubError.
	body := resp.Body
	defer body.Close()
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(body, maxGitHubError), body}
	return r, github.CheckResponse(resp)
}

// maxGitHubError bounds what is read of an error answer. GitHub's, a
// message, a documentation URL and perhaps a list of field errors, stay
// well below it, so a rate limit's message is still read.
const maxGitHubError = 64 << 10

// nextPage reads the rel="next" target of an answer's Link header as a
// path and query on the API's host: "" when there is no next page, ok
// false when it points elsewhere (the token goes only to the API's host).
func (g *GitHub) nextPage(h http.Header) (link string, ok bool) {
	for _, v := range h.Values("Link") {
		for _, l := range strings.Split(v, ",") {
			target, params, found := strings.Cut(strings.TrimSpace(l), ";")
			if !found || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			next := false
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && slices.Contains(strings.Fields(strings.ToLower(strings.Trim(v, `"`))), "next") {
					next = true
				}
			}
			if !next {
				continue
			}
			u, err := g.client.BaseURL.Parse(target[1 : len(target)-1])
			// A path of "//host/..." is kept as it is, and read back
			// from the memo it would name another host.
			if err != nil || !sameOrigin(u, g.client.BaseURL) || strings.HasPrefix(u.RequestURI(), "//") {
				return "", false
			}
			return u.RequestURI(), true
		}
	}
	return "", true
}

// partialMemo is the memo of a check that failed after reading the pages
// of read: those pages as read, then the pages of prev (the check's memo,
// raw as given) after them as the check before saw them, so that the next
// check asks for each page conditionally with the latest ETag known. The
// memo of a check that read no page is raw.
func partialMemo(read, prev githubMemo, raw []byte) []byte {
	if len(read.Pages) == 0 {
		return raw
	}
	m := githubMemo{Repo: read.Repo, Pages: slices.Clone(read.Pages)}
	if len(prev.Pages) > len(m.Pages) {
		m.Pages = append(m.Pages, prev.Pages[len(m.Pages):]...)
	}
	for _, p := range m.Pages {
		m.Count += p.Issues
	}
	b, _ := json.Marshal(m)
	return b
}

// failure turns a failed request into the monitor's answer; memo is what
// the next check gets.
func (g *GitHub) failure(ctx context.Context, req monitor.CheckRequest, owner, name string, memo []byte, resp *github.Response, err error) (monitor.Observation, error) {
	repo := owner + "/" + name
	keep := func(detail string, notBefore time.Time) (monitor.Observation, error) {
		// The memo of the pages seen, so that the next check is
		// conditional again.
		return monitor.Observation{Status: monitor.StatusError, Detail: detail, NotBefore: notBefore, Memo: memo}, nil
	}

	status := 0
	if resp != nil && resp.Response != nil {
		status = resp.StatusCode
	}

	// Rate limits, primary or secondary: the one that met it waits until
	// the time GitHub named, and every check is held until then, maxHold
	// at most. An answer without headers did not come from GitHub (an
	// error go-github made up from what it remembered): it names no time
	// to trust, so a minute, as for an answer that names none.
	var rle *github.RateLimitError
	var are *github.AbuseRateLimitError
	primary := errors.As(err, &rle)
	if primary || errors.As(err, &are) || status == http.StatusTooManyRequests ||
		(status == http.StatusForbidden && (rateLimited(resp.Response) || namesSecondaryLimit(err))) {
		now := g.clock.Now()
		at := now.Add(time.Minute)
		if resp != nil && resp.Response != nil && len(resp.Header) > 0 {
			at = g.retryAt(resp.Response)
			primary = primary || resp.Header.Get("X-RateLimit-Remaining") == "0"
		}
		if limit := now.Add(maxHold); at.After(limit) {
			at = limit
		}
		g.hold(at)
		// "no check before": the monitor's expiry, which the checker does
		// not know, may come first.
		if primary {
			return keep(fmt.Sprintf("GitHub API rate limit exhausted; no check before %s", at.UTC().Format(time.RFC3339)), at)
		}
		return keep(fmt.Sprintf("GitHub secondary rate limit (HTTP %d); no check before %s", status, at.UTC().Format(time.RFC3339)), at)
	}

	switch {
	case status == http.StatusNotFound:
		if mt := mediaType(resp.Response); !isJSON(mt) {
			// GitHub answers a missing repository in JSON; a web page
			// means the base URL is a web server's (GitHub Enterprise
			// Server's API is under /api/v3/), and every check would
			// fail the same way.
			if mt == "" {
				mt = "without a content type"
			}
			return monitor.Observation{}, &monitor.PermanentError{Message: fmt.Sprintf(
				"github: %s is not a GitHub REST API (HTTP 404 %s); %s",
				monitor.RedactURL(g.client.BaseURL.String()), mt, g.baseHint())}
		}
		return monitor.Observation{}, monitor.InputError("github: repository %s not found or private", repo)
	case status == http.StatusGone:
		return monitor.Observation{}, monitor.InputError("github: repository %s has issues disabled", repo)
	case status == http.StatusUnavailableForLegalReasons:
		// A DMCA takedown or another legal block of the repository, the
		// caller's choice as a missing one is.
		return monitor.Observation{}, monitor.InputError("github: repository %s is unavailable for legal reasons (HTTP 451): %s", repo, apiMessage(err))
	case status == http.StatusUnauthorized:
		// A rotated or revoked token: the next check reads the secret
		// again (TokenRejected), instead of when its cache expires.
		if g.rejected != nil {
			g.rejected()
		}
		return keep("GitHub rejected the token (HTTP 401 Bad credentials)", time.Time{})
	case status == http.StatusForbidden:
		// The repository is the caller's choice, so the failure is the
		// monitor's: a caller must not be able to raise the operators'
		// alarms by naming a repository the deployment's token may not
		// read. The cause may still be the token's (SSO authorisation,
		// scopes) or the network's (an IP allow list), which the warning
		// leaves for the operators' log queries.
		msg := apiMessage(err)
		g.logger.WarnContext(ctx, "GitHub refused access to a repository: the token's SSO authorisation, scopes or an IP allow list may be the cause",
			"instanceId", req.InstanceID, "repo", repo, "message", msg)
		return monitor.Observation{}, monitor.InputError("github: access to repository %s forbidden (HTTP 403): %s", repo, msg)
	case status == http.StatusRequestTimeout || status == http.StatusTooEarly || status >= 500:
		// A proxy or GitHub's edge that gave up waiting, or a server
		// error: a later check may be answered (as for an alert,
		// alerts.byStatus).
		return keep(fmt.Sprintf("GitHub API answered HTTP %d", status), time.Time{})
	case requestForm(status):
		// The request is the same for every repository: every check of
		// every monitor would fail the same way.
		return monitor.Observation{}, &monitor.PermanentError{Message: fmt.Sprintf("github: list issues of %s: HTTP %d: %s", repo, status, apiMessage(err))}
	case status >= 400:
		// A status GitHub does not answer this listing with (409, 418,
		// a proxy's own) blames neither the deployment nor the
		// repository for sure: the monitor polls on, and its timeout
		// ends it if the answer stays.
		return keep(fmt.Sprintf("GitHub API answered HTTP %d: %s", status, apiMessage(err)), time.Time{})
	case status == http.StatusNotModified:
		// Only an If-None-Match the check sent may be answered 304.
		return keep("GitHub API sent an unreadable answer (HTTP 304 without a conditional request)", time.Time{})
	case status >= 300 && status < 400:
		// A redirect the client did not follow (no Location).
		return keep(fmt.Sprintf("GitHub API sent an unreadable answer (HTTP %d)", status), time.Time{})
	case status >= 200 && status < 300 && isHTML(mediaType(resp.Response)):
		// A web page, GitHub Enterprise Server's sign-in page above all
		// (a private-mode server redirects requests outside /api/v3/ to
		// it): the base URL is a web server's, and every check would
		// read the same page.
		return monitor.Observation{}, &monitor.PermanentError{Message: fmt.Sprintf(
			"github: %s is not a GitHub REST API (HTTP %d %s, a web page); %s",
			monitor.RedactURL(g.client.BaseURL.String()), status, mediaType(resp.Response), g.baseHint())}
	case status >= 200 && status < 300:
		// The body could not be read or decoded.
		return keep("GitHub API sent an unreadable answer: "+clean(err), time.Time{})
	}
	var off *offHostError
	if errors.As(err, &off) {
		return keep("a redirect or a next-page link led the check to another host than the GitHub API's ("+off.host+"), which it does not follow", time.Time{})
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return keep("GitHub API timed out", time.Time{})
	}
	return keep("GitHub API unreachable: "+clean(err), time.Time{})
}

// baseHint says what a base URL that is no GitHub REST API should be:
// GitHub Enterprise Server's API is under /api/v3/, and when the URL has
// that path already, its host is the likely mistake.
func (g *GitHub) baseHint() string {
	if strings.HasSuffix(g.client.BaseURL.Path, "/api/v3/") {
		return "the URL has GitHub Enterprise Server's API path: check that " + g.client.BaseURL.Host + " is the server"
	}
	return "GitHub Enterprise Server's is https://HOST/api/v3/"
}

// requestForm reports whether a 4xx status refuses the form of the
// request (its method, headers, query or length), which the check sends
// the same for every repository: a fault of the deployment (a base URL
// that is not GitHub's API, an API that changed), not of a monitor.
func requestForm(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotAcceptable,
		http.StatusLengthRequired, http.StatusRequestURITooLong, http.StatusUnsupportedMediaType,
		http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// held returns when the rate limit the checker knows of ends, or the zero
// time when there is none.
func (g *GitHub) held() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.clock.Now().Before(g.heldUntil) {
		return g.heldUntil
	}
	return time.Time{}
}

// maxHold bounds how long a rate limit holds every check, and the wait of
// the monitor whose check met it: GitHub's limits end within the hour
// (the primary limit's window; a secondary limit's Retry-After is seconds
// or minutes), and an answer naming a later time (a proxy's, a clock's
// skew) must neither stop every monitor until the process restarts nor
// keep one from seeing its repository for hours, as the HTTP job check
// caps Retry-After at an hour.
const maxHold = time.Hour

// holdSpread is the span over which the monitors a hold deferred check
// again once it ends, each at its own offset (holdOffset), so that they
// do not all ask GitHub in one second, the burst secondary limits punish.
const holdSpread = 5 * time.Second

// holdOffset is req's monitor's offset within holdSpread: derived from its
// instance and repository, so that it is the same at every deferral and
// spreads the monitors evenly, whichever process checks them.
func holdOffset(req monitor.CheckRequest) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(req.InstanceID))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(req.Target.Repo)))
	return time.Duration(h.Sum64() % uint64(holdSpread/time.Millisecond) * uint64(time.Millisecond))
}

// hold keeps every check from asking GitHub before until, or for maxHold
// at most.
func (g *GitHub) hold(until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if limit := g.clock.Now().Add(maxHold); until.After(limit) {
		until = limit
	}
	if until.After(g.heldUntil) {
		g.heldUntil = until
	}
}

// rateLimited reports whether a 403 is a rate limit rather than a refusal.
func rateLimited(r *http.Response) bool {
	return r.Header.Get("Retry-After") != "" || r.Header.Get("X-RateLimit-Remaining") == "0"
}

// namesSecondaryLimit reports whether GitHub's error message says that a
// secondary rate limit was met ("You have exceeded a secondary rate
// limit..."): go-github tells one (an *AbuseRateLimitError) by its
// documentation_url, which an answer may lack or word differently.
func namesSecondaryLimit(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && strings.Contains(strings.ToLower(er.Message), "secondary rate limit")
}

// retryAt reads when a rate-limited request may be retried: Retry-After
// (seconds or a date), else X-RateLimit-Reset (epoch seconds) when nothing remains,
// else a minute from now.
func (g *GitHub) retryAt(r *http.Response) time.Time {
	now := g.clock.Now()
	if at, ok := egress.RetryAfter(r.Header, now); ok {
		return at
	}
	if r.Header.Get("X-RateLimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
			return time.Unix(s, 0)
		}
	}
	return now.Add(time.Minute)
}

func apiMessage(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		return er.Message
	}
	return clean(err)
}

// clean shortens an error for a status detail: url.Error repeats the URL,
// which is noise in a custom status, and any URL left in the text (a
// redirect's Location, a GitHub API error's request) is shown without its
// user information, query and fragment, which may hold secrets.
func clean(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := scrubURLs(err.Error())
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// urlInText finds absolute URLs in a message: a scheme, "://" and
// everything up to white space or a quote.
var urlInText = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>\x60]+`)

// scrubURLs replaces each URL in s with monitor.RedactURL's form of it.
func scrubURLs(s string) string {
	return urlInText.ReplaceAllStringFunc(s, monitor.RedactURL)
}

type tokenKey struct{}
type etagKey struct{}

// githubTransport adds the token and If-None-Match from the request's
// context. The token goes only to the API's own origin: never to a host a
// redirect points at, nor over http when the API is https (as the HTTP job
// check drops a target's headers on a redirect from https to http).
//
// Requests go only to the API's host (sameHost): the base URL is the
// deployment's, trusted, and not held to the egress guard (a GitHub
// Enterprise server may be private), so a redirect, a Link header or a
// memo's stored link naming another host must not take a check there.
type githubTransport struct {
	base http.RoundTripper
	api  *url.URL
}

// offHostError is a request the check refused to send: to another host
// than the GitHub API's.
type offHostError struct{ host, api string }

func (e *offHostError) Error() string {
	return "github: refused a request to " + e.host + ", not the GitHub API's host " + e.api +
		" (a redirect or a next-page link pointing elsewhere)"
}

func (t *githubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !sameHost(r.URL, t.api) {
		if r.Body != nil {
			r.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, &offHostError{host: r.URL.Host, api: t.api.Host}
	}
	tok, _ := r.Context().Value(tokenKey{}).(string)
	etag, _ := r.Context().Value(etagKey{}).(string)
	if tok == "" && etag == "" {
		return t.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	if tok != "" && sameOrigin(r.URL, t.api) {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	if etag != "" {
		r.Header.Set("If-None-Match", etag)
	}
	return t.base.RoundTrip(r)
}

// sameOrigin reports whether a and b have the same scheme, host (ignoring
// case) and port (a missing port being the scheme's default).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

// sameHost reports whether a is on b's host: the same host name (ignoring
// case) and port, or each on its scheme's default port, written or not
// (the API's host redirecting between http and https).
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) &&
		(portOf(a) == portOf(b) || onDefaultPort(a) && onDefaultPort(b))
}

// onDefaultPort reports whether u's port is its scheme's default.
func onDefaultPort(u *url.URL) bool {
	p := portOf(u)
	return p == "443" && strings.EqualFold(u.Scheme, "https") || p == "80" && strings.EqualFold(u.Scheme, "http")
}

// portOf returns u's port, or its scheme's default port when it names none.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// mediaType returns the media type of resp's body, "" when it names none
// or a malformed one.
func mediaType(resp *http.Response) string {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// isHTML reports whether the media type mt is a web page's.
func isHTML(mt string) bool { return mt == "text/html" || mt == "application/xhtml+xml" }

// isJSON reports whether the media type mt is JSON.
func isJSON(mt string) bool { return mt == "application/json" || strings.HasSuffix(mt, "+json") }
