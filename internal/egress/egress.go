// Package egress decides which network targets outbound deliveries may reach. A tenant
// names its SMTP relay and webhook endpoints; without this guard those names could point
// the product at its own loopback, the cloud metadata service or a private network. The
// host is checked when the settings are saved and every connection is checked again at
// connect time, on the address actually dialled, so a name that later resolves elsewhere
// (DNS rebinding) is still refused.
package egress

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// ErrPrivateTarget is a target whose address is not on the public internet.
var ErrPrivateTarget = errors.New("target address is not public")

// Policy is the deployment's egress rule. AllowPrivate is a setting of the deployment,
// never of a tenant: tests and the embedded default turn it on to reach loopback servers.
type Policy struct {
	AllowPrivate bool
	// Resolver resolves host names at save time; nil is net.DefaultResolver.
	Resolver *net.Resolver
	// RootCAs verify the TLS servers deliveries reach; nil is the system's roots.
	RootCAs *x509.CertPool
}

// New is the policy of a deployment: private targets allowed or not, and the system's
// roots plus those in caFile ("" for none).
func New(allowPrivate bool, caFile string) (Policy, error) {
	p := Policy{AllowPrivate: allowPrivate}
	if caFile != "" {
		roots, err := LoadRoots(caFile)
		if err != nil {
			return Policy{}, err
		}
		p.RootCAs = roots
	}
	return p, nil
}

// LoadRoots returns the system's roots plus the PEM certificates in file: a deployment's
// own CA (a private relay's, or the test relay's on an emulator).
func LoadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("trusted CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("trusted CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

// nonPublic are the ranges no delivery may reach unless private targets are allowed,
// beyond those netip classifies itself (loopback, private, link-local, multicast,
// unspecified).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 could reach any IPv4 address
}

// Public tells whether ip is an address on the public internet.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// CheckHost resolves host (a name or a literal address) and refuses it unless every
// address it resolves to is public, or private targets are allowed.
func (p Policy) CheckHost(ctx context.Context, host string) error {
	if host == "" {
		return fmt.Errorf("no host")
	}
	if p.AllowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAddr(ip)
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("resolve %s: no address", host)
	}
	for _, ip := range addrs {
		if err := checkAddr(ip); err != nil {
			return fmt.Errorf("%s: %w", host, err)
		}
	}
	return nil
}

func checkAddr(ip netip.Addr) error {
	if !Public(ip) {
		return fmt.Errorf("%w: %s", ErrPrivateTarget, ip)
	}
	return nil
}

// Dialer connects only to addresses the policy allows, checked on the address dialled.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout}
	if !p.AllowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrPrivateTarget, address)
			}
			return checkAddr(ap.Addr())
		}
	}
	return d
}

// HTTPClient is a client whose every connection passes the policy. It never uses a proxy
// from the environment and never follows redirects: a webhook answers where it was asked.
func (p Policy) HTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:           p.Dialer(10 * time.Second).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: p.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
