package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
)

func (e *env) search(t *testing.T, tenant string, role auth.Role, body map[string]any) search.Response {
	t.Helper()
	r := e.call("POST", searchPath, e.as(tenant, role), mustJSON(t, body), nil)
	if r.status != 200 {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	var out search.Response
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func refsOf(rs []search.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ArtifactRef)
	}
	return out
}

func TestSearchFiltersPagesAndScopes(t *testing.T) {
	e := newEnv(t)
	seedEvents(t, e, "acme", 90, "srch")
	brief := e.render(t, auth.ReportOperator, renderBody("executive_risk_brief", "json", "csv", "pdf"))
	reg := e.render(t, auth.ReportOperator, renderBody("agent_risk_register", "json", "xlsx"))
	opBody := renderBody("control_coverage_export", "csv")
	opBody["retention_class"] = "operational_record"
	ops := e.render(t, auth.ReportOperator, opBody)
	pendBody := renderBody("evidence_freshness_export", "json")
	pendBody["retrieval_approval_required"] = true
	pend := e.render(t, auth.ReportOperator, pendBody)

	if got := e.search(t, "acme", auth.TenantAdmin, map[string]any{}); len(got.Results) != 7 || got.EvidenceRef == "" {
		t.Fatalf("all: %d results", len(got.Results))
	}
	if got := e.search(t, "acme", auth.TenantAdmin, map[string]any{"report_ids": []string{"agent_risk_register"}}); strings.Join(refsOf(got.Results), ",") != reg.Artifacts[0].ArtifactRef+","+reg.Artifacts[1].ArtifactRef {
		t.Fatalf("report filter: %v", refsOf(got.Results))
	}
	if got := e.search(t, "acme", auth.TenantAdmin, map[string]any{"formats": []string{"json"}}); len(got.Results) != 3 {
		t.Fatalf("format filter: %v", refsOf(got.Results))
	}
	if got := e.search(t, "acme", auth.TenantAdmin, map[string]any{"lifecycle_states": []string{"pending_approval"}}); len(got.Results) != 1 || got.Results[0].ArtifactRef != pend.Artifacts[0].ArtifactRef {
		t.Fatalf("state filter: %v", refsOf(got.Results))
	}
	if got := e.search(t, "acme", auth.TenantAdmin, map[string]any{"from": "2026-11-29T00:00:00Z", "to": "2026-11-30T00:00:00Z"}); len(got.Results) != 0 {
		t.Fatalf("time filter: %v", refsOf(got.Results))
	}
	// Pagination: pages of 2 walk every result exactly once, in creation order.
	var walked []string
	body := map[string]any{"page_size": 2}
	for i := 0; ; i++ {
		page := e.search(t, "acme", auth.SecurityLeadership, body)
		walked = append(walked, refsOf(page.Results)...)
		if page.NextCursor == "" || i > 10 {
			break
		}
		body["cursor"] = page.NextCursor
	}
	want := append(append(append(refsOf(nil), brief.Artifacts[0].ArtifactRef), brief.Artifacts[1].ArtifactRef, brief.Artifacts[2].ArtifactRef), reg.Artifacts[0].ArtifactRef, reg.Artifacts[1].ArtifactRef, ops.Artifacts[0].ArtifactRef, pend.Artifacts[0].ArtifactRef)
	if strings.Join(walked, ",") != strings.Join(want, ",") {
		t.Fatalf("pages walked %v, want %v", walked, want)
	}
	// Roles: approvers see only what awaits approval; auditors may not download operational records.
	if got := e.search(t, "acme", auth.Approver, map[string]any{}); len(got.Results) != 1 || got.Results[0].DownloadAllowed {
		t.Fatalf("approver scope: %+v", got.Results)
	}
	requireError(t, retrieval(t, e, "acme", auth.Approver, brief.Artifacts[0].ArtifactRef), 404, "artifact_not_found", "")
	decision := func(role auth.Role, ref string) map[string]any {
		r := retrieval(t, e, "acme", role, ref)
		if r.status != 200 {
			t.Fatalf("retrieval: %d %s", r.status, r.body)
		}
		return r.json(t)
	}
	if d := decision(auth.AuditorViewer, ops.Artifacts[0].ArtifactRef); d["access_decision"] != "deny" || d["url"] != nil {
		t.Fatalf("auditor on an operational record: %v", d)
	}
	if d := decision(auth.TenantAdmin, pend.Artifacts[0].ArtifactRef); d["access_decision"] != "require_approval" || d["url"] != nil {
		t.Fatalf("pending approval: %v", d)
	}
	allowed := decision(auth.AuditorViewer, brief.Artifacts[2].ArtifactRef)
	url, _ := allowed["url"].(string)
	if allowed["access_decision"] != "allow" || url == "" || allowed["expires_at"] == nil {
		t.Fatalf("allow: %v", allowed)
	}
	// The link serves the artifact's bytes and appears in no evidence record.
	objects := httptest.NewServer(e.app.Objects.Handler())
	defer objects.Close()
	resp, err := http.Get(objects.URL + strings.TrimPrefix(url, "http://127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	_, _ = got.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got.Bytes(), e.artifactBytes(t, "acme", brief.Artifacts[2].ArtifactRef)) {
		t.Fatalf("presigned link: %d", resp.StatusCode)
	}
	if evidenceContains(t, e, "acme", url) || evidenceContains(t, e, "acme", "/_objects/") {
		t.Fatal("a presigned link reached evidence")
	}
}

func evidenceContains(t *testing.T, e *env, tenant, s string) bool {
	t.Helper()
	page, err := e.app.Items.Query(context.Background(), itemstore.Query{PK: evidence.PartitionKey(tenant), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		if strings.Contains(string(it.Data), s) {
			return true
		}
	}
	return false
}

func TestSearchRefusalsAndTenantIsolation(t *testing.T) {
	e := newEnv(t)
	seedEvents(t, e, "acme", 30, "iso")
	art := e.render(t, auth.ReportOperator, renderBody("executive_risk_brief", "json")).Artifacts[0]
	acmeBefore, globexBefore := e.evidenceCount("acme"), e.evidenceCount("globex")
	tok := e.as("acme", auth.TenantAdmin)
	for _, c := range []struct {
		body        string
		code, field string
	}{
		{`{"page_size":101}`, "page_size_too_large", "page_size"},
		{`{"page_size":0.5}`, "schema_violation", "page_size"},
		{`{"formats":["rtf"]}`, "unknown_format", "formats[0]"},
		{`{"report_ids":["nope"]}`, "unknown_report", "report_ids[0]"},
		{`{"from":"2026-11-28T00:00:00Z","to":"2026-11-01T00:00:00Z"}`, "inverted_range", "to"},
		{`{"from":"2001-01-01T00:00:00Z","to":"2026-11-01T00:00:00Z"}`, "range_too_large", "to"},
		{`{"lifecycle_states":["expired"]}`, "mode_conflict", "lifecycle_states"},
		{`{"mode":"everything"}`, "schema_violation", "mode"},
		{`{"cursor":"not-a-cursor"}`, "invalid_cursor", "cursor"},
		{`{"tenant":"globex"}`, "schema_violation", ""},
	} {
		requireError(t, e.call("POST", searchPath, tok, []byte(c.body), nil), 400, c.code, c.field)
	}
	// A cursor only continues the search it came from.
	page := e.search(t, "acme", auth.TenantAdmin, map[string]any{"page_size": 1})
	seedEvents(t, e, "acme", 1, "iso2")
	e.render(t, auth.ReportOperator, renderBody("executive_risk_brief", "json"))
	page = e.search(t, "acme", auth.TenantAdmin, map[string]any{"page_size": 1})
	requireError(t, e.call("POST", searchPath, tok, mustJSON(t, map[string]any{"page_size": 2, "cursor": page.NextCursor}), nil), 400, "invalid_cursor", "cursor")
	// A cursor is sealed to its tenant and cannot be altered or made up: another tenant
	// replaying it with the same filters, a rewritten position and an unsealed cursor of the
	// old form are all refused.
	globex := e.as("globex", auth.TenantAdmin)
	requireError(t, e.call("POST", searchPath, globex, mustJSON(t, map[string]any{"page_size": 1, "cursor": page.NextCursor}), nil), 400, "invalid_cursor", "cursor")
	_, tag, _ := strings.Cut(page.NextCursor, ".")
	body, _ := base64.RawURLEncoding.DecodeString(strings.SplitN(page.NextCursor, ".", 2)[0])
	last := string(body)
	moved := last[:len(last)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(last, "0")]
	rewritten := base64.RawURLEncoding.EncodeToString([]byte(moved)) + "." + tag
	unsealed := base64.RawURLEncoding.EncodeToString([]byte(`{"a":"` + last + `"}`))
	for _, c := range []string{rewritten, unsealed, page.NextCursor + "x"} {
		requireError(t, e.call("POST", searchPath, tok, mustJSON(t, map[string]any{"page_size": 1, "cursor": c}), nil), 400, "invalid_cursor", "cursor")
	}
	if next := e.search(t, "acme", auth.TenantAdmin, map[string]any{"page_size": 1, "cursor": page.NextCursor}); len(next.Results) != 1 || next.Results[0].ArtifactRef == page.Results[0].ArtifactRef {
		t.Fatalf("own cursor does not continue: %v", refsOf(next.Results))
	}
	acmeBefore = e.evidenceCount("acme")

	// Another tenant sees nothing of acme's and cannot tell its artifacts exist.
	if got := e.search(t, "globex", auth.TenantAdmin, map[string]any{"mode": "include_expired_metadata"}); len(got.Results) != 0 {
		t.Fatalf("globex sees %v", refsOf(got.Results))
	}
	globexBefore = e.evidenceCount("globex")
	// Each call is a valid request for its route (a bad body is refused before any lookup).
	for path, body := range map[string]string{
		artifactsPath + art.ArtifactRef + "/retrieval":          `{}`,
		artifactsPath + art.ArtifactRef + "/legal-hold":         `{"case_ref":"case:x"}`,
		artifactsPath + art.ArtifactRef + "/legal-hold/release": `{"case_ref":"case:x"}`,
	} {
		requireError(t, e.call("POST", path, e.as("globex", auth.TenantAdmin), []byte(body), nil), 404, "artifact_not_found", "")
	}
	requireError(t, retrieval(t, e, "globex", auth.TenantAdmin, art.ArtifactRef), 404, "artifact_not_found", "")
	requireError(t, e.call("GET", artifactsPath+art.ArtifactRef, e.as("globex", auth.AuditorViewer), nil, nil), 404, "artifact_not_found", "")
	requireError(t, e.call("DELETE", artifactsPath+art.ArtifactRef, e.as("globex", auth.TenantAdmin), nil, nil), 404, "artifact_not_found", "")
	if e.evidenceCount("acme") != acmeBefore || e.evidenceCount("globex") != globexBefore {
		t.Fatal("cross-tenant attempts wrote evidence")
	}
	if r := e.call("GET", artifactsPath+art.ArtifactRef, e.as("acme", auth.AuditorViewer), nil, nil); r.status != 200 {
		t.Fatalf("own artifact: %d %s", r.status, r.body)
	}
}

func TestReportExportsValidateAgainstContracts(t *testing.T) {
	e := newEnv(t)
	aud := e.as("acme", auth.AuditorViewer)
	for _, c := range []string{"export-package-manifest", "retention-lifecycle", "search-retrieval"} {
		r := e.call("GET", "/enterprise/aispm/reports/exports/"+c, aud, nil, nil)
		if r.status != 404 && r.status != 409 {
			t.Fatalf("%s before any state: %d %s", c, r.status, r.body)
		}
	}
	seedEvents(t, e, "acme", 40, "exp")
	body := renderBody("executive_risk_brief", "json", "pdf")
	body["package_type"] = "grc_upload_package"
	out := e.render(t, auth.TenantAdmin, body)
	e.call("POST", artifactsPath+out.Artifacts[0].ArtifactRef+"/legal-hold", e.as("acme", auth.TenantAdmin), []byte(`{"case_ref":"case:audit-7"}`), nil)
	e.search(t, "acme", auth.AuditorViewer, map[string]any{"formats": []string{"pdf", "json"}})
	if r := retrieval(t, e, "acme", auth.AuditorViewer, out.Artifacts[1].ArtifactRef); r.status != 200 {
		t.Fatal(string(r.body))
	}
	for _, c := range []struct{ path, schema string }{
		{"export-package-manifest", "aispm-report-export-package-manifest"},
		{"retention-lifecycle", "aispm-report-retention-lifecycle"},
		{"search-retrieval", "aispm-report-search-retrieval"},
	} {
		s := contractSchema(t, c.schema)
		r := e.call("GET", "/enterprise/aispm/reports/exports/"+c.path, aud, nil, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", c.path, r.status, r.body)
		}
		validateContract(t, s, r.body)
		if bytes.Contains(r.body, []byte("/_objects/")) || bytes.Contains(r.body, []byte("sig=")) {
			t.Fatalf("%s carries a link", c.path)
		}
	}
	r := e.call("GET", "/enterprise/aispm/reports/exports/search-retrieval", aud, nil, nil).json(t)
	if r["retrieval"].(map[string]any)["access_decision"] != "allow" || len(r["results"].([]any)) != 2 {
		t.Fatalf("search-retrieval export does not reflect state: %v", r)
	}
	lc := e.call("GET", "/enterprise/aispm/reports/exports/retention-lifecycle", aud, nil, nil).json(t)
	if lc["report_lifecycle"].([]any)[1].(map[string]any)["lifecycle_state"] != "legal_hold" {
		t.Fatalf("lifecycle export: %v", lc["report_lifecycle"])
	}
}
