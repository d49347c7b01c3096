package api_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

const catalogPath = "/enterprise/aispm/reports/catalog"

func TestCatalogNeedsAValidToken(t *testing.T) {
	e := newEnv(t)
	ok := e.call("GET", catalogPath, e.as("acme", auth.AuditorViewer), nil, nil)
	if ok.status != 200 {
		t.Fatalf("status %d: %s", ok.status, ok.body)
	}
	if got := ok.json(t)["tenant_ref"]; got != "tenant:acme" {
		t.Fatalf("tenant_ref %v", got)
	}
	for name, token := range map[string]string{
		"none":         "",
		"unknown":      "aispm_0000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"wrong prefix": "xyz",
		"very long":    "aispm_" + strings.Repeat("a", 500),
	} {
		t.Run(name, func(t *testing.T) {
			requireError(t, e.call("GET", catalogPath, token, nil, nil), 401, "unauthenticated", "Authorization")
		})
	}
}

func TestRevokedTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	tok, ref, err := e.app.Tokens.Issue(t.Context(), "acme", auth.ReportOperator, "tenant_admin")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.call("GET", catalogPath, tok, nil, nil); r.status != 200 {
		t.Fatalf("fresh token: %d", r.status)
	}
	before := e.evidenceCount("acme")
	if err := e.app.Tokens.Revoke(t.Context(), "acme", ref, "tenant_admin"); err != nil {
		t.Fatal(err)
	}
	requireError(t, e.call("GET", catalogPath, tok, nil, nil), 401, "unauthenticated", "")
	if got := e.evidenceCount("acme"); got != before+1 {
		t.Fatalf("revocation left %d new evidence records, want 1", got-before)
	}
	if err := e.app.Tokens.Revoke(t.Context(), "globex", ref, "tenant_admin"); err == nil {
		t.Fatal("another tenant revoked acme's token")
	}
}

// TestRBACMatrix calls every route with every role: roles outside the route's list get 403
// and change nothing; roles inside never get 401/403.
func TestRBACMatrix(t *testing.T) {
	e := newEnv(t)
	for _, rt := range api.Routes() {
		for _, role := range auth.Roles {
			path := strings.ReplaceAll(rt.Path, "{contract}", "delivery-contract")
			before := e.evidenceCount("acme")
			r := e.call(rt.Method, path, e.as("acme", role), []byte(`{}`), nil)
			if rt.Allows(role) {
				if r.status == 401 || r.status == 403 {
					t.Errorf("%s %s as %s: %d, want allowed", rt.Method, rt.Path, role, r.status)
				}
				continue
			}
			requireError(t, r, 403, "forbidden", "")
			if e.evidenceCount("acme") != before {
				t.Errorf("%s %s as %s was refused but wrote evidence", rt.Method, rt.Path, role)
			}
		}
	}
}

// TestEveryRouteHasItsLambda keeps the route table and functions/ in step.
func TestEveryRouteHasItsLambda(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("..", "..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, d := range dirs {
		if d.IsDir() && d.Name() != "authorizer" && d.Name() != "schedule-runner" &&
			d.Name() != "audit-writer" && d.Name() != "audit-sealer" {
			have = append(have, d.Name())
		}
	}
	var want []string
	for _, rt := range api.Routes() {
		want = append(want, rt.Name)
		main, err := os.ReadFile(filepath.Join("..", "..", "functions", rt.Name, "main.go"))
		if err != nil {
			t.Errorf("route %s has no functions/%s/main.go", rt.Name, rt.Name)
			continue
		}
		if !strings.Contains(string(main), `StartRoute("`+rt.Name+`"`) {
			t.Errorf("functions/%s/main.go does not start route %s", rt.Name, rt.Name)
		}
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Fatalf("functions/ %v, route table %v", have, want)
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	e := newEnv(t)
	tok := e.as("acme", auth.TenantAdmin)
	requireError(t, e.call("GET", "/enterprise/aispm/reports/nope", tok, nil, nil), 404, "not_found", "")
	requireError(t, e.call("DELETE", catalogPath, tok, nil, nil), 405, "method_not_allowed", "")
}

func TestTokenOfMissingTenantIsUnauthenticated(t *testing.T) {
	e := newEnv(t)
	tok, _, err := e.app.Tokens.Issue(t.Context(), "ghost", auth.TenantAdmin, "system")
	if err != nil {
		t.Fatal(err)
	}
	requireError(t, e.call("GET", catalogPath, tok, nil, nil), 401, "unauthenticated", "")
}
