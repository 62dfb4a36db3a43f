package apigw

import (
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// hostRe accepts a host name or address with an optional port. A Host
// header that is anything else is ignored in favour of the request
// context's domain name.
var hostRe = regexp.MustCompile(`^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// baseURL returns the URL under which the caller reached the API, without a
// trailing slash: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
// "https://monitors.example.com", "http://127.0.0.1:8080".
//
// The scheme is X-Forwarded-Proto's (http or https), https otherwise. The
// host is the Host header's, or the request context's domain name. On an
// execute-api host the stage is part of the path unless it is $default; on
// a custom domain the base path mapping is whatever precedes routePath (the
// path of the route as the API defines it, e.g. "/monitors/abc") in the
// request context's path, less the one trailing "/" that path may have.
func baseURL(req *events.APIGatewayProxyRequest, routePath string) string {
	scheme := "https"
	if p := strings.ToLower(strings.TrimSpace(firstOf(header(req, "X-Forwarded-Proto")))); p == "http" || p == "https" {
		scheme = p
	}
	host := strings.TrimSpace(header(req, "Host"))
	if !hostRe.MatchString(host) {
		host = req.RequestContext.DomainName
	}
	if !hostRe.MatchString(host) {
		return ""
	}
	prefix := ""
	stage := req.RequestContext.Stage
	switch {
	case strings.Contains(host, ".execute-api."):
		if stage != "" && stage != "$default" {
			prefix = "/" + stage
		}
	case routePath != "":
		// A path may end in one "/" (API Gateway routes it as the path
		// without it), which routePath never does.
		path := req.RequestContext.Path
		if len(path) > 1 {
			path = strings.TrimSuffix(path, "/")
		}
		if p, ok := strings.CutSuffix(path, routePath); ok && strings.HasPrefix(p, "/") && !strings.ContainsAny(p, "?#") {
			prefix = strings.TrimSuffix(p, "/")
		}
	}
	return scheme + "://" + host + prefix
}

// firstOf returns the first element of a comma-separated header value.
func firstOf(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return first
}

// header returns the value of the named request header, matched without
// regard to case: API Gateway's single-value entry, which for a repeated
// header is its last value, else (an event with multi-value headers only)
// the first of its values.
func header(req *events.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// managementURLs returns the URLs of a monitor's operations.
func managementURLs(base, id string) StartResponse {
	item := base + "/monitors/" + id
	return StartResponse{
		ID:                    id,
		StatusQueryGetURI:     item,
		SendEventPostURI:      item + "/raiseEvent/{eventName}",
		TerminatePostURI:      item + "/terminate?reason={text}",
		PurgeHistoryDeleteURI: item,
	}
}
