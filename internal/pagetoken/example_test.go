package pagetoken_test

import (
	"fmt"

	"github.com/stepmon/stepmon/internal/pagetoken"
)

// A list handler seals its store's position with the request's filters as
// the scope; the next request opens it only with the same filters.
func ExampleSealer() {
	s := pagetoken.New([]byte("a key of the server's own"))
	scope := pagetoken.Scope("runtimeStatus=Running", "top=100")
	token := s.Seal(scope, "position-42")

	inner, ok := s.Open(scope, token)
	fmt.Println(inner, ok)
	_, ok = s.Open(pagetoken.Scope("runtimeStatus=Failed", "top=100"), token)
	fmt.Println(ok)
	_, ok = s.Open(scope, "position-43")
	fmt.Println(ok)
	// Output:
	// position-42 true
	// false
	// false
}
