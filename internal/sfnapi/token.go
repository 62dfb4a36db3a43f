package sfnapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// tokenSigner ties the paging tokens the API hands out to the request
// they came from. A token is the Backend's own token (a position) and an
// HMAC over that position and the request's scope (the operation and the
// members a caller must keep unchanged between pages: the execution ARN
// and reverseOrder, the state machine ARN and filters). A token presented
// with another scope, tampered with or made up fails to open and the
// client gets InvalidToken, as on AWS.
//
// The key is random and lives in memory, so tokens do not survive a
// restart of the process. AWS tokens expire after 24 hours anyway, and
// clients must be ready for InvalidToken on an old token.
type tokenSigner struct {
	key []byte
}

// tokenSep separates the position from the MAC; base64url never uses it.
const tokenSep = "."

func newTokenSigner() *tokenSigner {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &tokenSigner{key: key}
}

// seal returns the token the client gets for the Backend token inner
// ("" stays "": no more pages).
func (s *tokenSigner) seal(scope, inner string) string {
	if inner == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(inner)) + tokenSep +
		base64.RawURLEncoding.EncodeToString(s.mac(scope, inner))
}

// open returns the Backend token inside a client's token, or an
// InvalidToken error when it was not sealed for scope by this process.
// A nil token is the first page ("").
func (s *tokenSigner) open(scope string, token *string) (string, error) {
	if token == nil {
		return "", nil
	}
	pos, sig, ok := strings.Cut(*token, tokenSep)
	inner, err1 := base64.RawURLEncoding.DecodeString(pos)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil || len(inner) == 0 || !hmac.Equal(mac, s.mac(scope, string(inner))) {
		return "", apiErrorf(ErrTypeInvalidToken, "Invalid Token: 'Invalid token'")
	}
	return string(inner), nil
}

func (s *tokenSigner) mac(scope, inner string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(inner))
	return m.Sum(nil)
}

// tokenScope joins the parts of a request's scope unambiguously: each
// part is preceded by its length.
func tokenScope(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}
