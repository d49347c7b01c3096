package egress

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestPublicRefusesEveryNonPublicRange(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "fe80::1",
		"fc00::1", "0.0.0.0", "::", "100.64.0.1", "224.0.0.1", "255.255.255.255", "198.18.0.1", "::ffff:127.0.0.1",
		"::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"} {
		if Public(netip.MustParseAddr(s)) {
			t.Errorf("%s counted as public", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "93.184.216.34"} {
		if !Public(netip.MustParseAddr(s)) {
			t.Errorf("%s counted as not public", s)
		}
	}
}

func TestCheckHostRefusesLiteralsAndNamesThatResolvePrivate(t *testing.T) {
	ctx := context.Background()
	strict := Policy{}
	for _, h := range []string{"127.0.0.1", "169.254.169.254", "localhost", "::1"} {
		if err := strict.CheckHost(ctx, h); !errors.Is(err, ErrPrivateTarget) {
			t.Errorf("%s: %v, want ErrPrivateTarget", h, err)
		}
	}
	if err := strict.CheckHost(ctx, "8.8.8.8"); err != nil {
		t.Errorf("a public literal: %v", err)
	}
	if err := (Policy{AllowPrivate: true}).CheckHost(ctx, "127.0.0.1"); err != nil {
		t.Errorf("allowed private target: %v", err)
	}
	if err := strict.CheckHost(ctx, ""); err == nil {
		t.Error("an empty host passed")
	}
}

// The connect-time check holds on the address dialled, whatever name led there.
func TestConnectionsToPrivateAddressesAreRefusedAtConnectTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	_, err := Policy{}.HTTPClient(5 * time.Second).Get(srv.URL)
	if !errors.Is(err, ErrPrivateTarget) {
		t.Fatalf("strict policy reached a loopback server: %v", err)
	}
	res, err := Policy{AllowPrivate: true}.HTTPClient(5 * time.Second).Get(srv.URL)
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("allowed policy: %v", err)
	}
	res.Body.Close()
	if _, err := (Policy{}).Dialer(time.Second).Dial("tcp", srv.Listener.Addr().String()); !errors.Is(err, ErrPrivateTarget) {
		t.Fatalf("dialer: %v", err)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer srv.Close()
	res, err := Policy{AllowPrivate: true}.HTTPClient(5 * time.Second).Get(srv.URL)
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("redirect: %v %v", err, res)
	}
	res.Body.Close()
}
