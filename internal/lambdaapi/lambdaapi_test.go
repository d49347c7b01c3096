package lambdaapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/lambdaapi"
	"github.com/cavra-enterprise/aispm-reports/internal/lambdaauth"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

func openApp(t *testing.T) *embeddedapp.App {
	t.Helper()
	a, err := embeddedapp.Open(context.Background(), config.Embedded{DataDir: t.TempDir(), PublicBaseURL: "http://127.0.0.1"},
		clock.NewManual(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.Tenants.Create(context.Background(), "acme", "Acme", tenancy.Enterprise); err != nil {
		t.Fatal(err)
	}
	return a
}

// loadEvent reads a testdata event, replacing placeholders.
func loadEvent(t *testing.T, name string, into any, replace ...string) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(replace...).Replace(string(b))
	if err := json.Unmarshal([]byte(s), into); err != nil {
		t.Fatal(err)
	}
}

func TestAuthorizer(t *testing.T) {
	a := openApp(t)
	tok, tokRef, err := a.Tokens.Issue(context.Background(), "acme", auth.Approver, "system")
	if err != nil {
		t.Fatal(err)
	}
	authorize := lambdaauth.Authorizer(a.Tokens)
	var ev events.APIGatewayV2CustomAuthorizerV2Request
	loadEvent(t, "authorizer-request.json", &ev, "TOKEN", tok)
	resp, err := authorize(context.Background(), ev)
	if err != nil || !resp.IsAuthorized || resp.Context["tenant_id"] != "acme" || resp.Context["role"] != "approver" ||
		resp.Context["token_ref"] != tokRef {
		t.Fatalf("valid token: %+v %v", resp, err)
	}
	loadEvent(t, "authorizer-request.json", &ev, "TOKEN", "aispm_forged_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	resp, err = authorize(context.Background(), ev)
	if err != nil || resp.IsAuthorized {
		t.Fatalf("forged token: %+v %v", resp, err)
	}
}

func TestHandlerUsesAuthorizerContextAndRouteRoles(t *testing.T) {
	a := openApp(t)
	route, _ := api.FindRoute("put-settings")
	rt, err := api.NewRouter(a.Handlers(), []api.Route{route}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	handle := lambdaapi.Handler(rt)
	cases := []struct {
		tenant, role string
		status       int
	}{
		{"acme", "tenant_admin", 200},
		{"acme", "auditor_viewer", 403},
		{"", "tenant_admin", 401},
		{"acme", "superuser", 401},
	}
	for _, c := range cases {
		var ev events.APIGatewayV2HTTPRequest
		loadEvent(t, "http-request.json", &ev, "TENANT", c.tenant, "ROLE", c.role, `"\"0\""`, `""`)
		resp, err := handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status {
			t.Fatalf("%s/%s: %d %s", c.tenant, c.role, resp.StatusCode, resp.Body)
		}
	}
	cur, err := a.Settings.Get(context.Background(), "acme", "Acme")
	if err != nil || cur.Settings.Branding.FooterText != "Confidential" || cur.Version != 1 {
		t.Fatalf("the base64 body was not applied exactly once: %+v %v", cur, err)
	}
	// A route Lambda serves only its own route.
	var ev events.APIGatewayV2HTTPRequest
	loadEvent(t, "http-request.json", &ev, "TENANT", "acme", "ROLE", "tenant_admin")
	ev.RawPath = "/enterprise/aispm/reports/catalog"
	ev.RequestContext.HTTP.Method = "GET"
	if resp, _ := handle(context.Background(), ev); resp.StatusCode != 404 {
		t.Fatalf("foreign route answered %d", resp.StatusCode)
	}
}
