package pagetoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// macLen is how many bytes of the HMAC-SHA256 a token carries.
const macLen = 16

// enc is base64url without padding, refusing non-canonical encodings so
// that a token has one spelling.
var enc = base64.RawURLEncoding.Strict()

// Sealer seals and opens tokens under one key.
type Sealer struct {
	key []byte
}

// New returns a Sealer with key.
func New(key []byte) *Sealer { return &Sealer{key: key} }

// NewRandom returns a Sealer with a random key: its tokens open only in
// this process.
func NewRandom() *Sealer {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return New(key)
}

// Seal returns the token a client gets for inner under scope; "" (no more
// pages) stays "".
func (s *Sealer) Seal(scope, inner string) string {
	if inner == "" {
		return ""
	}
	return enc.EncodeToString([]byte(inner)) + "." + enc.EncodeToString(s.mac(scope, inner))
}

// Open returns the inner token of a token Seal made for scope; ok is false
// for any other token.
func (s *Sealer) Open(scope, token string) (inner string, ok bool) {
	pos, sig, found := strings.Cut(token, ".")
	in, err1 := enc.DecodeString(pos)
	mac, err2 := enc.DecodeString(sig)
	if !found || err1 != nil || err2 != nil || len(in) == 0 || !hmac.Equal(mac, s.mac(scope, string(in))) {
		return "", false
	}
	return string(in), true
}

func (s *Sealer) mac(scope, inner string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(inner))
	return m.Sum(nil)[:macLen]
}

// Scope joins the parts of a request's scope unambiguously: each part is
// preceded by its length.
func Scope(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}
