package evidence_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestScannerFindsWhatMustNeverLeak(t *testing.T) {
	bad := map[string]string{
		`{"to":"alice@example.com"}`:                         "email_address",
		`{"peer":"192.168.10.4"}`:                            "ip_address",
		`{"peer":"fe80::1ff:fe23:4567:890a"}`:                "ip_address",
		`{"peer":"2001:0db8:0000:0000:0000:ff00:0042:8329"}`: "ip_address",
		`{"env":"SMTP_PASSWORD=abc123"}`:                     "secret_value",
		`{"k":"AKIAIOSFODNN7EXAMPLE"}`:                       "secret_value",
		`{"k":"-----BEGIN RSA PRIVATE KEY-----"}`:            "private_key",
		`{"note":"see raw_prompt_payload"}`:                  "forbidden_marker",
		`{"license_key":"x"}`:                                "forbidden_marker",
		`{"prompt":"hello"}`:                                 "forbidden_field",
		`{"nested":[{"deep":{"tool_output":"ls"}}]}`:         "forbidden_field",
		`not json`: "invalid_json",
	}
	for doc, kind := range bad {
		f := evidence.ScanJSON([]byte(doc))
		if len(f) == 0 || f[0].Kind != kind {
			t.Errorf("%s: findings %v, want %s", doc, f, kind)
		}
		if len(f) > 0 && strings.Contains(f[0].Error(), "example.com") {
			t.Errorf("finding message echoes the value: %s", f[0].Error())
		}
	}
	good := []string{
		`{"occurred_at":"2026-11-28T16:49:29Z","digest":"sha256:ab12","version":"1.5.33"}`,
		`{"subject_refs":["segment:seg_06h26","role:tenant_admin"],"count":3}`,
		`{"redaction":{"raw_prompts_included":false,"tool_output_redacted":true}}`,
		`{"ref":"cavra://evidence/redacted/ev_1"}`,
	}
	for _, doc := range good {
		if f := evidence.ScanJSON([]byte(doc)); len(f) > 0 {
			t.Errorf("%s: false positive %v", doc, f)
		}
	}
}

func TestRecordDigestAndRefusal(t *testing.T) {
	r, err := evidence.New(evidence.Event{TenantID: "acme", Action: evidence.SettingsUpdated, ActorRole: "tenant_admin",
		SubjectRefs: []string{"settings:acme"}, Details: map[string]any{"version": 2}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Digest, "sha256:") || len(r.Digest) != 71 {
		t.Fatalf("digest %q", r.Digest)
	}
	r.Details["version"] = 3
	if r.Verify() == nil {
		t.Fatal("a changed record still verifies")
	}
	if got := evidence.PublicRef(r.Ref); !strings.HasPrefix(got, "cavra://evidence/redacted/ev_") {
		t.Fatalf("public ref %q", got)
	}
	_, err = evidence.New(evidence.Event{TenantID: "acme", Action: evidence.SettingsUpdated, ActorRole: "tenant_admin",
		Details: map[string]any{"recipient": "bob@example.com"}}, now)
	if err == nil {
		t.Fatal("evidence with an email address was accepted")
	}
	_, err = evidence.New(evidence.Event{TenantID: "acme", Action: "made.up", ActorRole: "tenant_admin"}, now)
	if err == nil {
		t.Fatal("an unregistered action was accepted")
	}
}

func TestSaveWithIsOptimistic(t *testing.T) {
	ctx := context.Background()
	items, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "e.db"), clock.NewManual(now))
	if err != nil {
		t.Fatal(err)
	}
	defer items.Close()
	save := func(version int64) error {
		rec, err := evidence.New(evidence.Event{TenantID: "acme", Action: evidence.SettingsUpdated, ActorRole: "tenant_admin"}, now)
		if err != nil {
			t.Fatal(err)
		}
		return rec.SaveWith(ctx, items, itemstore.Item{PK: "T#acme", SK: "DOC", Data: []byte(`{}`)}, version)
	}
	for i, c := range []struct {
		version  int64
		conflict bool
	}{{0, false}, {0, true}, {1, false}, {1, true}, {2, false}} {
		if err := save(c.version); errors.Is(err, itemstore.ErrConflict) != c.conflict {
			t.Fatalf("step %d (version %d): err %v, want conflict %v", i, c.version, err, c.conflict)
		}
	}
	page, err := items.Query(ctx, itemstore.Query{PK: evidence.PartitionKey("acme")})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("%d evidence records for 3 saves, %v", len(page.Items), err)
	}
}
