package checks

import (
	"net/http"
	"testing"
)

// nextPage reads rel="next" as RFC 8288 has it: the parameter's name in
// any case, the relation among others in one rel, in any case; a target
// not in angle brackets, and a link of another relation, are no next
// page. A next page elsewhere than the API's host is refused (ok false).
func TestGitHubNextPageLinkForms(t *testing.T) {
	g, err := NewGitHub(GitHubOptions{BaseURL: "https://api.github.com/"})
	if err != nil {
		t.Fatal(err)
	}
	const next = "https://api.github.com/repositories/1/issues?page=2"
	tests := []struct {
		name, link string
		want       string
		ok         bool
	}{
		{"plain", `<` + next + `>; rel="next"`, "/repositories/1/issues?page=2", true},
		{"after another link", `<https://api.github.com/repositories/1/issues?page=1>; rel="prev", <` + next + `>; rel="next"`, "/repositories/1/issues?page=2", true},
		{"parameter name in capitals", `<` + next + `>; REL="next"`, "/repositories/1/issues?page=2", true},
		{"relation in capitals", `<` + next + `>; rel="NEXT"`, "/repositories/1/issues?page=2", true},
		{"among other relations", `<` + next + `>; rel="next last"`, "/repositories/1/issues?page=2", true},
		{"unquoted", `<` + next + `>; rel=next`, "/repositories/1/issues?page=2", true},
		{"another relation only", `<` + next + `>; rel="last"`, "", true},
		{"relation that contains next", `<` + next + `>; rel="nextpage"`, "", true},
		{"no closing bracket", `<` + next + `; rel="next"`, "", true},
		{"no opening bracket", next + `>; rel="next"`, "", true},
		{"no header", "", "", true},
		{"another host", `<https://evil.example/repositories/1/issues?page=2>; rel="next"`, "", false},
		// Kept as "//evil.example/x", the path would read back from the
		// memo as another host.
		{"path beginning with //", `<https://api.github.com//evil.example/x?page=2>; rel="next"`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.link != "" {
				h.Set("Link", tt.link)
			}
			got, ok := g.nextPage(h)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Link %s: got %q, %v; want %q, %v", tt.link, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// A base URL that answers as no GitHub REST API is told what the URL
// should be; one that has GitHub Enterprise Server's path already is told
// to check its host, not given back the form it has.
func TestGitHubBaseHint(t *testing.T) {
	for _, tt := range []struct{ base, want string }{
		{"https://ghe.example.com/", "GitHub Enterprise Server's is https://HOST/api/v3/"},
		{"https://ghe.example.com/api/v3/", "the URL has GitHub Enterprise Server's API path: check that ghe.example.com is the server"},
		{"https://ghe.example.com/api/v3", "the URL has GitHub Enterprise Server's API path: check that ghe.example.com is the server"},
	} {
		g, err := NewGitHub(GitHubOptions{BaseURL: tt.base})
		if err != nil {
			t.Fatal(err)
		}
		if got := g.baseHint(); got != tt.want {
			t.Errorf("base %s: hint %q, want %q", tt.base, got, tt.want)
		}
	}
}
