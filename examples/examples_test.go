// Package examples holds example requests and the outputs the system produces for them.
// TestExamplesAreCurrent regenerates every output from a fresh embedded instance and fails
// when a committed file differs; run `go test ./examples -update` to rewrite them.
package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/localserver"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

var update = flag.Bool("update", false, "rewrite the example outputs")

type call struct {
	method, path, body, out string
	role                    auth.Role
}

var calls = []call{
	{"GET", "/enterprise/aispm/reports/catalog", "", "responses/catalog.json", auth.ReportOperator},
	{"GET", "/enterprise/aispm/reports/settings", "", "responses/settings-defaults.json", auth.TenantAdmin},
	{"PUT", "/enterprise/aispm/reports/settings", `{"delivery_provider":{"mode":"smtp","sender_address":"reports@example.com","credential_ref":"SMTP_PASSWORD=Winter2026!"}}`, "responses/settings-secret-refused.json", auth.TenantAdmin},
	{"PUT", "/enterprise/aispm/reports/settings", "@requests/settings.json", "", auth.TenantAdmin},
	{"GET", "/enterprise/aispm/reports/exports/delivery-contract", "", "responses/delivery-contract-not-ready.json", auth.AuditorViewer},
	{"GET", "/enterprise/aispm/reports/exports/setup-wizard-contract", "", "exports/setup-wizard-contract.json", auth.AuditorViewer},
	{"POST", "/enterprise/aispm/ingest", "@requests/ingest-public.ndjson", "", auth.ReportOperator},
	{"POST", "/enterprise/aispm/ingest", "@requests/ingest-batch.json", "", auth.ReportOperator},
	{"POST", "/enterprise/aispm/reports/render", "@requests/render-brief.json", "", auth.ReportOperator},
	{"POST", "/enterprise/aispm/reports/search", "@requests/search.json", "", auth.AuditorViewer},
	{"GET", "/enterprise/aispm/reports/exports", "", "responses/exports-readiness.json", auth.AuditorViewer},
	{"GET", "/enterprise/aispm/reports/catalog", "", "responses/unauthenticated.json", ""},
}

func TestExamplesAreCurrent(t *testing.T) {
	url, tokens := start(t)
	for _, c := range calls {
		body := []byte(c.body)
		if len(body) > 0 && body[0] == '@' {
			var err error
			if body, err = os.ReadFile(string(body[1:])); err != nil {
				t.Fatal(err)
			}
		}
		ct := "application/json"
		if strings.HasSuffix(c.body, ".ndjson") {
			ct = "application/x-ndjson"
		}
		status, got := send(t, url, c.method, c.path, tokens[c.role], ct, body)
		if c.out == "" {
			if status >= 300 {
				t.Fatalf("%s %s with the example request: %d %s", c.method, c.path, status, got)
			}
			continue
		}
		compare(t, c.out, pretty(t, got))
	}
}

func start(t *testing.T) (string, map[auth.Role]string) {
	t.Helper()
	ctx := context.Background()
	a, err := embeddedapp.Open(ctx, config.Embedded{DataDir: t.TempDir(), PublicBaseURL: "http://127.0.0.1"},
		clock.NewManual(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.Tenants.Create(ctx, "example", "Example Corp", tenancy.Enterprise); err != nil {
		t.Fatal(err)
	}
	tokens := map[auth.Role]string{}
	for _, r := range auth.Roles {
		if tokens[r], _, err = a.Tokens.Issue(ctx, "example", r, "system"); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(localserver.Handler(a.Router(slog.New(slog.NewTextHandler(io.Discard, nil))), a.Tokens, localserver.Options{}))
	t.Cleanup(srv.Close)
	return srv.URL, tokens
}

func send(t *testing.T, url, method, path, token, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func pretty(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return append(out, '\n')
}

func compare(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%s missing: run go test ./examples -update", name)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("%s is stale: run go test ./examples -update\n--- got\n%s", name, got)
	}
}
