package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
)

// TestRevocationReachesOtherProcessesWithinTheCacheBound: the revoking process refuses the
// token at once; another process (its own Tokens over the same store) within 5 s.
func TestRevocationReachesOtherProcessesWithinTheCacheBound(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	items, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "a.db"), clk)
	if err != nil {
		t.Fatal(err)
	}
	defer items.Close()
	here, there := auth.NewTokens(items, clk, nil), auth.NewTokens(items, clk, nil)
	tok, ref, err := here.Issue(ctx, "acme", auth.Approver, "tenant_admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range []*auth.Tokens{here, there} {
		if p, err := tk.Authenticate(ctx, "Bearer "+tok); err != nil || p.TenantID != "acme" || p.Role != auth.Approver {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
	}
	if err := here.Revoke(ctx, "acme", ref, "tenant_admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := here.Authenticate(ctx, "Bearer "+tok); err == nil {
		t.Fatal("the revoking process still accepts the token")
	}
	if _, err := there.Authenticate(ctx, "Bearer "+tok); err != nil {
		t.Fatalf("within the bound the other process may still serve it from memory: %v", err)
	}
	clk.Advance(5 * time.Second)
	if _, err := there.Authenticate(ctx, "Bearer "+tok); err == nil {
		t.Fatal("another process accepts a revoked token past the cache bound")
	}
	if _, err := here.Authenticate(ctx, "Bearer aispm_x_"+tok[10:]); err == nil {
		t.Fatal("a forged token authenticated")
	}
}

func openTokens(t *testing.T, def, max time.Duration) (*auth.Tokens, *clock.Manual) {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	items, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "a.db"), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { items.Close() })
	return auth.NewTokens(items, clk, func(context.Context, string) (time.Duration, time.Duration, error) { return def, max, nil }), clk
}

func TestTokensExpireWithinTheTenantsBounds(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	tk, clk := openTokens(t, 7*day, 30*day)
	def, err := tk.IssueToken(ctx, auth.IssueRequest{TenantID: "acme", Role: auth.ReportOperator, ActorRole: "system"})
	if err != nil {
		t.Fatal(err)
	}
	long, err := tk.IssueToken(ctx, auth.IssueRequest{TenantID: "acme", Role: auth.Approver, TTL: 30 * day, ActorRole: "system"})
	if err != nil {
		t.Fatal(err)
	}
	if def.ExpiresAt != "2026-12-05T12:00:00Z" || long.ExpiresAt != "2026-12-28T12:00:00Z" || def.Status != "active" {
		t.Fatalf("expiries: default %s, 30 days %s", def.ExpiresAt, long.ExpiresAt)
	}
	if _, err := tk.IssueToken(ctx, auth.IssueRequest{TenantID: "acme", Role: auth.Approver, TTL: 31 * day}); err == nil || !strings.Contains(err.Error(), "ttl_days") {
		t.Fatalf("a lifetime over the maximum: %v", err)
	}
	clk.Advance(7*day - time.Second)
	if _, err := tk.Authenticate(ctx, "Bearer "+def.Secret); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := tk.Authenticate(ctx, "Bearer "+def.Secret); err != auth.ErrUnauthenticated {
		t.Fatalf("at expiry: %v", err)
	}
	if _, err := tk.Authenticate(ctx, "Bearer "+long.Secret); err != nil {
		t.Fatalf("the longer token: %v", err)
	}
	list, err := tk.List(ctx, "acme")
	if err != nil || len(list) != 2 || list[0].Status != "expired" || list[1].Status != "active" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if other, _ := tk.List(ctx, "globex"); len(other) != 0 {
		t.Fatalf("another tenant lists %+v", other)
	}
}

func TestLastUseIsWrittenAtMostOnceAMinute(t *testing.T) {
	ctx := context.Background()
	tk, clk := openTokens(t, auth.DefaultLifetime, auth.MaxLifetime)
	secret, _, err := tk.Issue(ctx, "acme", auth.ReportOperator, "system")
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() string {
		list, err := tk.List(ctx, "acme")
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %+v %v", list, err)
		}
		return list[0].LastUsedAt
	}
	if got := lastUsed(); got != "" {
		t.Fatalf("unused token has last use %s", got)
	}
	first := clk.Now().Format(time.RFC3339)
	for range 30 {
		if _, err := tk.Authenticate(ctx, "Bearer "+secret); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if got := lastUsed(); got != first {
		t.Fatalf("last use %s after 30 uses in 30 s, want the first, %s", got, first)
	}
	clk.Advance(31 * time.Second)
	if _, err := tk.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatal(err)
	}
	if got, want := lastUsed(), clk.Now().Format(time.RFC3339); got != want {
		t.Fatalf("last use %s a minute later, want %s", got, want)
	}
}

func TestRotationLeavesExactlyTheNewToken(t *testing.T) {
	ctx := context.Background()
	tk, _ := openTokens(t, auth.DefaultLifetime, auth.MaxLifetime)
	old, oldRef, err := tk.Issue(ctx, "acme", auth.Approver, "system")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Authenticate(ctx, "Bearer "+old); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Rotate(ctx, auth.RotateRequest{TenantID: "globex", TokenRef: oldRef}); err != auth.ErrTokenNotFound {
		t.Fatalf("another tenant rotated acme's token: %v", err)
	}
	if err := tk.Revoke(ctx, "globex", oldRef, "tenant_admin"); err != auth.ErrTokenNotFound {
		t.Fatalf("another tenant revoked acme's token: %v", err)
	}
	nu, err := tk.Rotate(ctx, auth.RotateRequest{TenantID: "acme", TokenRef: oldRef, ActorRole: "tenant_admin"})
	if err != nil {
		t.Fatal(err)
	}
	if nu.Role != auth.Approver || nu.RotatedFrom != oldRef || nu.TokenRef == oldRef {
		t.Fatalf("rotated: %+v", nu.Info)
	}
	if _, err := tk.Authenticate(ctx, "Bearer "+old); err != auth.ErrUnauthenticated {
		t.Fatalf("old token after rotation: %v", err)
	}
	if p, err := tk.Authenticate(ctx, "Bearer "+nu.Secret); err != nil || p.Role != auth.Approver || p.TokenRef != nu.TokenRef {
		t.Fatalf("new token: %+v %v", p, err)
	}
	if _, err := tk.Rotate(ctx, auth.RotateRequest{TenantID: "acme", TokenRef: oldRef}); err != auth.ErrTokenNotFound {
		t.Fatalf("rotating a rotated token: %v", err)
	}
}
