package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/localserver"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// env is the product on its embedded adapters (a real SQLite file and WORM folder) behind
// the real local HTTP server, with two tenants and a token per role for each.
type env struct {
	t      testing.TB
	app    *embeddedapp.App
	url    string
	dir    string
	clock  *clock.Manual
	tokens map[string]map[auth.Role]string // tenant -> role -> token
}

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	clk := clock.NewManual(testNow)
	a, err := embeddedapp.Open(ctx, config.Embedded{Listen: "127.0.0.1:0", DataDir: dir, PublicBaseURL: "http://127.0.0.1"}, clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e := &env{t: t, app: a, dir: dir, clock: clk, tokens: map[string]map[auth.Role]string{}}
	// Tests jump the clock by years (retention, expiry); their tokens are issued to outlive
	// that, through the same store the server authenticates against.
	issuer := auth.NewTokens(a.Items, clk, auth.Fixed(100*365*24*time.Hour))
	for _, id := range []string{"acme", "globex"} {
		if _, err := a.Tenants.Create(ctx, id, id+" Corp", tenancy.Enterprise); err != nil {
			t.Fatal(err)
		}
		e.tokens[id] = map[auth.Role]string{}
		for _, role := range auth.Roles {
			tok, _, err := issuer.Issue(ctx, id, role, "system")
			if err != nil {
				t.Fatal(err)
			}
			e.tokens[id][role] = tok
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(localserver.Handler(a.Router(log), a.Tokens, localserver.Options{}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// call sends a request as tenant/role ("" token for none).
func (e *env) call(method, path, token string, body []byte, hdr map[string]string) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) as(tenant string, role auth.Role) string { return e.tokens[tenant][role] }

// evidenceCount counts a tenant's evidence records and verifies each one's digest.
func (e *env) evidenceCount(tenant string) int {
	e.t.Helper()
	n := 0
	q := itemstore.Query{PK: evidence.PartitionKey(tenant), Limit: 1000}
	for {
		page, err := e.app.Items.Query(context.Background(), q)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range page.Items {
			var rec evidence.Record
			if err := json.Unmarshal(it.Data, &rec); err != nil {
				e.t.Fatal(err)
			}
			if err := rec.Verify(); err != nil {
				e.t.Fatal(err)
			}
			n++
		}
		if page.Next == "" {
			return n
		}
		q.Cursor = page.Next
	}
}

// requireError checks a refusal: status, stable body shape (schemas/error.schema.json), code and field.
func requireError(t *testing.T, r reply, status int, code, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	doc, err := schemas.Decode(r.body)
	if err != nil {
		t.Fatalf("error body is not JSON: %s", r.body)
	}
	if err := schemas.Validate("error.schema.json", "", doc); err != nil {
		t.Fatalf("error body does not match error.schema.json: %v: %s", err, r.body)
	}
	got := r.json(t)["error"].(map[string]any)
	if code != "" && got["code"] != code {
		t.Fatalf("code %v, want %s: %s", got["code"], code, r.body)
	}
	if field != "" && got["field"] != field {
		t.Fatalf("field %v, want %s: %s", got["field"], field, r.body)
	}
}
