package apigw

import (
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/testtool"
)

// TestRoutesMatchInfra: the routes the handler serves are the methods the
// CDK app puts on the REST API (infra/api.go's Routes), each sent to the
// function that serves it (start only for POST /monitors), so that a
// route added to one is added to the other.
func TestRoutesMatchInfra(t *testing.T) {
	lit, ok := testtool.InfraValuesIn(t, "api.go")["Routes"].(*ast.CompositeLit)
	if !ok {
		t.Fatal("infra/api.go: Routes is not a composite literal")
	}
	var infra []string
	for _, e := range lit.Elts {
		route, ok := e.(*ast.CompositeLit)
		if !ok || len(route.Elts) != 3 {
			t.Fatalf("infra/api.go: a route of Routes is not {method, path, function}")
		}
		var f [3]string
		for i, x := range route.Elts {
			b, ok := x.(*ast.BasicLit)
			if !ok || b.Kind != token.STRING {
				t.Fatalf("infra/api.go: a field of a route of Routes is not a string literal")
			}
			f[i], _ = strconv.Unquote(b.Value)
		}
		infra = append(infra, f[0]+" "+f[1]+" "+f[2])
	}
	var served []string
	for path, methods := range routes {
		for method := range methods {
			fn := "status"
			if path == routeCollection && method == "POST" {
				fn = "start"
			}
			served = append(served, method+" "+path+" "+fn)
		}
	}
	slices.Sort(infra)
	slices.Sort(served)
	if !slices.Equal(infra, served) {
		t.Errorf("infra/api.go's Routes:\n  %q\nthe handler's routes:\n  %q", infra, served)
	}
}

// TestMatchEveryRoute: every route is found from its path alone, as
// stepmon serve and a {proxy+} resource hand it over, with its path
// parameters, so that a route added to routes is matched without a
// resource too.
func TestMatchEveryRoute(t *testing.T) {
	for _, resource := range Resources() {
		path := routePath(resource, "m-1", "complete")
		for _, p := range []string{path, path + "/"} {
			req := events.APIGatewayProxyRequest{Resource: "/{proxy+}", Path: p}
			route, id, name, ok := match(&req)
			if !ok || route != resource || routePath(route, id, name) != path {
				t.Errorf("match(%q) = %q, id %q, name %q, %v; want %q", p, route, id, name, ok, resource)
			}
		}
	}
	if got := Resources(); len(got) != len(routes) || !slices.IsSorted(got) {
		t.Errorf("Resources() = %q, want the %d routes sorted", got, len(routes))
	}
}
