// Package egress guards outbound requests to addresses that a monitor's
// caller names (HTTP job-status targets, webhook URLs).
//
// A Guard resolves the host itself, refuses the request when any address it
// resolves to is loopback, private (RFC 1918), carrier-grade NAT, link-local
// (169.254.0.0/16, which holds the instance metadata service), unique-local
// (fc00::/7), unspecified, multicast or otherwise not publicly routable, and
// only then dials, and only the addresses it checked. The dialer's Control
// hook checks the address again right before connect(2), so nothing reaches
// a refused address even if the resolution step is bypassed. Because the
// check happens at dial time, every redirect an http.Client follows is
// checked too.
//
// The local runtime, a LocalStack deployment and tests set
// Options.AllowPrivate. An AWS deployment leaves it unset and may set
// Options.Allow to the private prefixes of its allowedTargetPrefixes
// option, each checked with CheckAllow, so that loopback and link-local
// stay refused.
package egress
