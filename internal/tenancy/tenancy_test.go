package tenancy_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// registry is a tenant registry on a fresh SQLite store and a manual clock.
func registry(t *testing.T) (*tenancy.Registry, *sqlitestore.Store, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	items, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { items.Close() })
	return tenancy.NewRegistry(items, clk), items, clk
}

func TestCreateGetAndCacheBound(t *testing.T) {
	ctx := context.Background()
	reg, items, clk := registry(t)
	if _, err := reg.Create(ctx, "acme", "Acme", tenancy.Enterprise); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Create(ctx, "acme", "Acme again", tenancy.Enterprise); !errors.Is(err, tenancy.ErrExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	for _, bad := range []struct{ id, edition string }{{"A", tenancy.Enterprise}, {"ok-id", "gold"}} {
		if _, err := reg.Create(ctx, bad.id, "x", bad.edition); err == nil {
			t.Fatalf("created %+v", bad)
		} else if p, ok := problem.As(err); !ok || p.Kind != problem.Invalid {
			t.Fatalf("refusal %v is not a 400 problem", err)
		}
	}
	if got, err := reg.Get(ctx, "acme"); err != nil || got.Edition != tenancy.Enterprise {
		t.Fatalf("get: %+v %v", got, err)
	}
	// Change the stored record behind the registry's back: the cached copy serves until the
	// bound passes, then the new record is read.
	it, _ := items.Get(ctx, "T#acme", "PROFILE")
	var rec tenancy.Tenant
	_ = json.Unmarshal(it.Data, &rec)
	rec.Edition = tenancy.Community
	it.Data, _ = json.Marshal(rec)
	if _, err := items.Put(ctx, itemstore.Write{Kind: itemstore.Put, Item: it}); err != nil {
		t.Fatal(err)
	}
	if got, _ := reg.Get(ctx, "acme"); got.Edition != tenancy.Enterprise {
		t.Fatal("cache not used")
	}
	clk.Advance(31 * time.Second)
	if got, _ := reg.Get(ctx, "acme"); got.Edition != tenancy.Community {
		t.Fatal("stale tenant served past the cache bound")
	}
	if _, err := reg.Get(ctx, "nobody"); !errors.Is(err, itemstore.ErrNotFound) {
		t.Fatalf("missing tenant: %v", err)
	}
}

func TestTenantIDRule(t *testing.T) {
	ctx := context.Background()
	reg, _, _ := registry(t)
	for id, ok := range map[string]bool{
		"acme": true, "a1": true, "acme-corp-2": true, "0day": true, strings.Repeat("a", 40): true,
		"a": false, "": false, strings.Repeat("b", 41): false, "-acme": false, "Acme": false,
		"acme_corp": false, "acme corp": false, "acm\u00e9": false, "acme\n": false,
	} {
		_, err := reg.Create(ctx, id, "x", tenancy.Enterprise)
		if p, refused := problem.As(err); refused != !ok || refused && p.Field != "tenant_id" || !refused && err != nil {
			t.Errorf("Create(%q): %v (want accepted: %v)", id, err, ok)
		}
	}
}
