package egress

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// A refusal's message names what the request spelled, and for a resolved
// name neither the address nor its range; its policy names the allowed
// prefixes when the deployment has some.
func TestRefusedErrorMessage(t *testing.T) {
	loopback := netip.MustParseAddr("127.0.0.1")
	private := netip.MustParseAddr("10.2.0.1")
	allowed := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("fd12:3456:789a::/48")}
	const strict = "this deployment does not allow private targets"
	for _, tt := range []struct {
		name string
		err  RefusedError
		want string
	}{
		{"a resolved name", RefusedError{Host: "jobs.internal", Addr: private, Reason: "private address (10.0.0.0/8)", Resolved: true},
			"egress: refused jobs.internal: it resolves to a non-public address; " + strict},
		{"an address being dialled", RefusedError{Addr: private, Reason: "private address (10.0.0.0/8)", Resolved: true},
			"egress: refused a connection to a non-public address; " + strict},
		{"localhost", RefusedError{Host: "localhost", Addr: loopback, Reason: "loopback address (127.0.0.0/8)"},
			"egress: refused localhost (127.0.0.1): loopback address (127.0.0.0/8); " + strict},
		{"an IP literal", RefusedError{Host: "10.2.0.1", Addr: private, Reason: "private address (10.0.0.0/8)"},
			"egress: refused 10.2.0.1: private address (10.0.0.0/8); " + strict},
		{"an address without a host", RefusedError{Addr: private, Reason: "private address (10.0.0.0/8)"},
			"egress: refused 10.2.0.1: private address (10.0.0.0/8); " + strict},
		{"outside the allowed prefixes", RefusedError{Host: "10.2.0.1", Addr: private, Reason: "private address (10.0.0.0/8)", Allowed: allowed},
			"egress: refused 10.2.0.1: private address (10.0.0.0/8); it is outside this deployment's allowed prefixes (10.1.0.0/16, fd12:3456:789a::/48)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A guard with allowed prefixes says so in each refusal it makes: when it
// is dialled (Control) and when a URL's host is judged (PermitHost).
func TestRefusalNamesAllowedPrefixes(t *testing.T) {
	g := New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}})
	const want = "outside this deployment's allowed prefixes (10.1.0.0/16)"
	for name, err := range map[string]error{
		"Control":    g.Control("tcp", "10.2.0.1:443", nil),
		"PermitHost": g.PermitHost("10.2.0.1"),
	} {
		var re *RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s = %v, want a *RefusedError %s", name, err, want)
		}
	}
}

func TestCheckAllowRefusesInvalidPrefix(t *testing.T) {
	if err := CheckAllow(netip.Prefix{}); err == nil || !strings.Contains(err.Error(), "not a prefix") {
		t.Errorf("CheckAllow(zero Prefix) = %v, want \"not a prefix\"", err)
	}
}
