package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/stepmon/stepmon/internal/dashboard"
)

// The local runtime mounts the dashboard at /ui/, next to the API routes
// that the page calls.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ui/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output: 200 text/html; charset=utf-8
}
