// Package fakegithub is an in-process GitHub REST API for tests: the
// endpoints a monitor uses, answering the way api.github.com does.
//
// It serves GET /repos/{owner}/{repo}, GET /repos/{owner}/{repo}/issues
// (pull requests mixed in, each marked by a "pull_request" object, as the
// real endpoint does), GET /repos/{owner}/{repo}/pulls and GET /rate_limit,
// with Link pagination headers (page numbers, or cursors for a listing
// longer than DefaultPageOffsetLimit, past which a page number is answered
// 422, as on api.github.com), weak ETags and 304 Not Modified for
// If-None-Match, X-RateLimit-* headers on every answer, a primary rate
// limit (403 with X-RateLimit-Remaining: 0) and a secondary one (429 or
// 403 with Retry-After), 401 for a bad token and 404 for a repository that
// does not exist or is private to an anonymous caller.
//
// Faults are injected with Server.Intercept.
package fakegithub
