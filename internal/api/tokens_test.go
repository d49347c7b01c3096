package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

const tokensPath = "/enterprise/aispm/reports/tokens"

func issuedToken(t *testing.T, r reply) auth.Issued {
	t.Helper()
	var out auth.Issued
	if r.status != 201 || json.Unmarshal(r.body, &out) != nil || out.Secret == "" || out.TokenRef == "" {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	return out
}

func (e *env) tokenList(t *testing.T, tenant string) []auth.Info {
	t.Helper()
	r := e.call("GET", tokensPath, e.as(tenant, auth.TenantAdmin), nil, nil)
	var out struct {
		Tokens []auth.Info `json:"tokens"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
		t.Fatalf("list tokens: %d %s", r.status, r.body)
	}
	return out.Tokens
}

func TestTokenLifecycleThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	admin := e.as("acme", auth.TenantAdmin)
	before := len(e.tokenList(t, "acme"))
	evBefore := e.evidenceCount("acme")

	// The tenant's maximum lifetime bounds every token.
	if r := e.call("PUT", settingsPath, admin, []byte(`{"access_tokens":{"default_ttl_days":7,"max_ttl_days":30}}`), nil); r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	requireError(t, e.call("PUT", settingsPath, admin, []byte(`{"access_tokens":{"default_ttl_days":60,"max_ttl_days":30}}`), nil), 400, "", "access_tokens.default_ttl_days")
	requireError(t, e.call("POST", tokensPath, admin, []byte(`{"role":"approver","ttl_days":31}`), nil), 400, "invalid_field", "ttl_days")
	requireError(t, e.call("POST", tokensPath, admin, []byte(`{"role":"root"}`), nil), 400, "schema_violation", "role")
	requireError(t, e.call("POST", tokensPath, admin, []byte(`{"role":"approver","tenant":"globex"}`), nil), 400, "schema_violation", "")
	for _, role := range []auth.Role{auth.ReportOperator, auth.Approver, auth.AuditorViewer, auth.SecurityLeadership} {
		requireError(t, e.call("POST", tokensPath, e.as("acme", role), []byte(`{"role":"tenant_admin"}`), nil), 403, "forbidden", "")
		requireError(t, e.call("GET", tokensPath, e.as("acme", role), nil, nil), 403, "forbidden", "")
	}

	issued := issuedToken(t, e.call("POST", tokensPath, admin, []byte(`{"role":"approver"}`), nil))
	if issued.Role != auth.Approver || issued.Status != "active" || issued.ExpiresAt != testNow.AddDate(0, 0, 7).Format("2006-01-02T15:04:05Z") {
		t.Fatalf("issued: %+v", issued.Info)
	}
	if r := e.call("GET", "/enterprise/aispm/reports/catalog", issued.Secret, nil, nil); r.status != 200 {
		t.Fatalf("the new token: %d", r.status)
	}
	list := e.tokenList(t, "acme")
	if len(list) != before+1 || strings.Contains(mustString(t, list), issued.Secret) {
		t.Fatalf("list shows %d tokens (want %d) or a secret", len(list), before+1)
	}

	rotated := issuedToken(t, e.call("POST", tokensPath+"/"+issued.TokenRef+"/rotate", admin, []byte(`{"ttl_days":30}`), nil))
	if rotated.RotatedFrom != issued.TokenRef || rotated.Role != auth.Approver {
		t.Fatalf("rotated: %+v", rotated.Info)
	}
	if r := e.call("GET", "/enterprise/aispm/reports/catalog", issued.Secret, nil, nil); r.status != 401 {
		t.Fatalf("the rotated-away token: %d", r.status)
	}
	requireError(t, e.call("POST", tokensPath+"/"+issued.TokenRef+"/revoke", admin, nil, nil), 404, "token_not_found", "token")
	requireError(t, e.call("POST", tokensPath+"/"+rotated.TokenRef+"/revoke", admin, []byte(`{"why":"x"}`), nil), 400, "schema_violation", "why")
	// Another tenant cannot see, rotate or revoke it.
	globex := e.as("globex", auth.TenantAdmin)
	requireError(t, e.call("POST", tokensPath+"/"+rotated.TokenRef+"/revoke", globex, nil, nil), 404, "token_not_found", "token")
	requireError(t, e.call("POST", tokensPath+"/"+rotated.TokenRef+"/rotate", globex, nil, nil), 404, "token_not_found", "token")
	if strings.Contains(mustString(t, e.tokenList(t, "globex")), rotated.TokenRef) {
		t.Fatal("globex lists acme's token")
	}

	if r := e.call("POST", tokensPath+"/"+rotated.TokenRef+"/revoke", admin, nil, nil); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := e.call("GET", "/enterprise/aispm/reports/catalog", rotated.Secret, nil, nil); r.status != 401 {
		t.Fatalf("the revoked token: %d", r.status)
	}
	if got := len(e.tokenList(t, "acme")); got != before {
		t.Fatalf("%d tokens listed after revocation, want %d", got, before)
	}
	// settings, issue, rotate, revoke: one evidence record each, none naming a secret.
	recs := e.evidenceRecords(t, "acme")
	if len(recs) != evBefore+4 {
		t.Fatalf("%d evidence records, want %d", len(recs), evBefore+4)
	}
	for _, s := range []string{issued.Secret, rotated.Secret} {
		if strings.Contains(mustString(t, recs), s) {
			t.Fatal("a token secret reached evidence")
		}
	}
}

func mustString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
