// Package pagetoken seals the paging tokens an API hands out, so that it
// takes back only tokens it made, for the request they came from.
//
// A sealed token is the base64url of the inner token (a store's position),
// a dot, and the base64url of a truncated HMAC-SHA256 over a scope (what a
// client must keep unchanged between pages, see Scope) and the inner token.
// A token presented with another scope, edited or made up does not open.
package pagetoken
