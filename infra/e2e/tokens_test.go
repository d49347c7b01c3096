package e2e

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
)

// TestDeployedTokenLifecycle issues, uses, rotates and revokes a token through API Gateway:
// the authorizer Lambda records its last use, and refuses a rotated-away or revoked token
// within the 5 s it may keep one in memory.
func TestDeployedTokenLifecycle(t *testing.T) {
	d := deployed(t)
	tenant, tokens := d.seedTenant(t, "tok", "Token Corp", auth.TenantAdmin)
	admin := tokens[auth.TenantAdmin]
	issue := func(r response) auth.Issued {
		t.Helper()
		var out auth.Issued
		if r.status != 201 || json.Unmarshal(r.body, &out) != nil || out.Secret == "" {
			t.Fatalf("token: %d %s", r.status, r.body)
		}
		return out
	}
	op := issue(d.call(t, "POST", reports+"/tokens", admin, []byte(`{"role":"report_operator","ttl_days":7}`), nil))
	if r := d.call(t, "GET", reports+"/catalog", op.Secret, nil, nil); r.status != 200 {
		t.Fatalf("new token through the authorizer: %d %s", r.status, r.body)
	}
	if r := d.call(t, "GET", reports+"/tokens", op.Secret, nil, nil); r.status != 403 {
		t.Fatalf("report_operator listing tokens: %d", r.status)
	}
	var list struct {
		Tokens []auth.Info `json:"tokens"`
	}
	r := d.call(t, "GET", reports+"/tokens", admin, nil, nil)
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 || len(list.Tokens) != 2 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	for _, tk := range list.Tokens {
		if tk.TokenRef == op.TokenRef && tk.LastUsedAt == "" {
			t.Fatalf("the authorizer did not record the token's last use: %+v", tk)
		}
	}

	rotated := issue(d.call(t, "POST", reports+"/tokens/"+op.TokenRef+"/rotate", admin, nil, nil))
	if r := d.call(t, "GET", reports+"/catalog", rotated.Secret, nil, nil); r.status != 200 {
		t.Fatalf("rotated token: %d %s", r.status, r.body)
	}
	t.Logf("rotated-away token refused after %v", refusedWithin(t, d, op.Secret))
	if r := d.call(t, "POST", reports+"/tokens/"+rotated.TokenRef+"/revoke", admin, nil, nil); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	t.Logf("revoked token refused after %v", refusedWithin(t, d, rotated.Secret))
	if n := d.count(t, evidence.PartitionKey(tenant)); n < 3 {
		t.Fatalf("%d evidence records for issue, rotate and revoke", n)
	}
}

// refusedWithin polls until the authorizer refuses token, failing past the bound plus the
// time one request takes on the emulator. The authorizer's refusal is API Gateway's 403
// (its own body, not the route's error document: no route Lambda ran).
func refusedWithin(t *testing.T, d *deployment, token string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		r := d.call(t, "GET", reports+"/catalog", token, nil, nil)
		if r.status == 403 && !bytes.Contains(r.body, []byte(`"error"`)) {
			return time.Since(start).Round(10 * time.Millisecond)
		}
		if r.status != 200 || time.Since(start) > 8*time.Second {
			t.Fatalf("token still answered %d after %v (bound: 5 s)", r.status, time.Since(start))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
