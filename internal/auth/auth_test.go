package auth_test

import (
	"context"
	"path/filepath"
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
	here, there := auth.NewTokens(items, clk), auth.NewTokens(items, clk)
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
