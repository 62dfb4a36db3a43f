package sfnapi

import "github.com/stepmon/stepmon/internal/pagetoken"

// tokenSigner ties the paging tokens the API hands out to the request
// they came from: the Backend's own token (a position), sealed with the
// request's scope (the operation and the members a caller must keep
// unchanged between pages: the execution ARN and reverseOrder, the state
// machine ARN and filters). A token presented with another scope, tampered
// with or made up fails to open and the client gets InvalidToken, as on
// AWS.
//
// The key is random and lives in memory, so tokens do not survive a
// restart of the process. AWS tokens expire after 24 hours anyway, and
// clients must be ready for InvalidToken on an old token.
type tokenSigner struct {
	s *pagetoken.Sealer
}

func newTokenSigner() *tokenSigner { return &tokenSigner{pagetoken.NewRandom()} }

// seal returns the token the client gets for the Backend token inner
// ("" stays "": no more pages).
func (t *tokenSigner) seal(scope, inner string) string { return t.s.Seal(scope, inner) }

// open returns the Backend token inside a client's token, or an
// InvalidToken error when it was not sealed for scope by this process.
// A nil token is the first page ("").
func (t *tokenSigner) open(scope string, token *string) (string, error) {
	if token == nil {
		return "", nil
	}
	inner, ok := t.s.Open(scope, *token)
	if !ok {
		return "", apiErrorf(ErrTypeInvalidToken, "Invalid Token: 'Invalid token'")
	}
	return inner, nil
}

// tokenScope is pagetoken.Scope.
var tokenScope = pagetoken.Scope
