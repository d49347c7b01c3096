package artifacts

import (
	"testing"
	"time"
)

func TestObjectKeyRoundTrip(t *testing.T) {
	key := objectKey("acme", time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), "art_06h241pa00gne8hhqnwgtx3zeg", "csv")
	tenant, id, ok := parseObjectKey(key)
	if !ok || tenant != "acme" || id != "art_06h241pa00gne8hhqnwgtx3zeg" {
		t.Fatalf("parseObjectKey(%q) = %q %q %v", key, tenant, id, ok)
	}
	for _, bad := range []string{
		"", "tenants/acme/packages/pkg_1/manifest.json", "tenants//artifacts/2026-11-28/art_06h241pa00gne8hhqnwgtx3zeg.csv",
		"tenants/acme/artifacts/2026-11-28/not-an-id.csv", "tenants/acme/artifacts/x/2026-11-28/art_06h241pa00gne8hhqnwgtx3zeg.csv",
		"tenants/acme/grc/grc-exports/pkg/manifest.json",
	} {
		if _, _, ok := parseObjectKey(bad); ok {
			t.Errorf("parseObjectKey(%q) accepted a key that is no artifact's", bad)
		}
	}
}
