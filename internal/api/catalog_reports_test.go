package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/catalog"
	"github.com/cavra-enterprise/aispm-reports/internal/render"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// publicReports are the twelve reports of the public delivery contract and each one's
// public format.
var publicReports = map[string]string{
	"executive_risk_brief": "markdown", "board_kpi_pack": "json", "soc2_audit_summary": "markdown",
	"control_coverage_export": "csv", "evidence_freshness_export": "csv", "agent_risk_register": "csv",
	"pdf_board_pack": "pdf", "xlsx_evidence_workbook": "xlsx", "docx_audit_narrative": "docx",
	"signed_json_evidence_packet": "json", "siem_jsonl_export": "jsonl", "grc_upload_package": "zip",
}

var communityReports = []string{"executive_risk_brief", "board_kpi_pack", "soc2_audit_summary", "control_coverage_export",
	"evidence_freshness_export", "agent_risk_register"}

// seedPublic ingests n public envelopes over the three days before testNow as NDJSON.
func seedPublic(t *testing.T, e *env, tenant string, n int) {
	t.Helper()
	for start := 0; start < n; start += 500 {
		var envs []map[string]any
		for i := start; i < min(n, start+500); i++ {
			envs = append(envs, publicEnvelope(tenant, i, fmt.Sprintf("2026-11-%02dT%02d:%02d:00Z", 25+i%3, i%24, i%60)))
		}
		if r := e.call("POST", ingestPath, e.as(tenant, auth.ReportOperator), ndjson(t, envs), ndjsonHeader); r.status != 202 {
			t.Fatalf("seed: %d %s", r.status, r.body)
		}
	}
}

// TestCatalogIsThePublicCatalog: exactly the twelve public ids, each offering its public
// format first, community and enterprise as the contract says.
func TestCatalogIsThePublicCatalog(t *testing.T) {
	e := newEnv(t)
	r := e.call("GET", "/enterprise/aispm/reports/catalog", e.as("acme", auth.AuditorViewer), nil, nil)
	var body struct {
		Reports []catalog.Report `json:"reports"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 200 {
		t.Fatalf("catalog: %d %s", r.status, r.body)
	}
	if len(body.Reports) != len(publicReports) {
		t.Fatalf("catalog lists %d reports, want %d", len(body.Reports), len(publicReports))
	}
	for _, rep := range body.Reports {
		format, ok := publicReports[rep.ReportID]
		if !ok || rep.Formats[0] != format || !rep.Renderable {
			t.Errorf("%s: formats %v renderable %v", rep.ReportID, rep.Formats, rep.Renderable)
		}
		if community := slices.Contains(communityReports, rep.ReportID); community != (rep.Availability == catalog.Community) {
			t.Errorf("%s availability %s", rep.ReportID, rep.Availability)
		}
	}
}

// TestEveryPublicReportRendersInItsPublicFormat renders all twelve reports from public
// envelopes through the API and checks each file is what its format says.
func TestEveryPublicReportRendersInItsPublicFormat(t *testing.T) {
	e := newEnv(t)
	seedPublic(t, e, "acme", 900)
	for id, format := range publicReports {
		t.Run(id, func(t *testing.T) {
			rendered := e.render(t, auth.ReportOperator, renderBody(id, format))
			a := rendered.Artifacts[0]
			b := e.artifactBytes(t, "acme", a.ArtifactRef)
			if a.Format != format || int64(len(b)) != a.SizeBytes {
				t.Fatalf("artifact %+v, %d bytes", a, len(b))
			}
			checkPublicFormat(t, e, id, format, b)
		})
	}
}

func checkPublicFormat(t *testing.T, e *env, id, format string, b []byte) {
	t.Helper()
	switch {
	case id == "signed_json_evidence_packet" || id == "grc_upload_package":
		pub, err := e.app.Signer.PublicKey(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res, err := render.VerifySigned(b, pub); err != nil || !res.KeyPinned {
			t.Fatalf("offline verification: %+v %v", res, err)
		}
	case format == "jsonl":
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var first render.SIEMEvent
		if len(lines) != 900 || json.Unmarshal([]byte(lines[0]), &first) != nil || first.Schema != render.SIEMSchema {
			t.Fatalf("siem: %d lines, first %s", len(lines), lines[0])
		}
	case format == "json":
		var doc render.Document
		if err := json.Unmarshal(b, &doc); err != nil || doc.ReportID != id || len(doc.Tables) == 0 {
			t.Fatalf("json document: %v", err)
		}
		checkDecisionsKeptApart(t, doc)
	case format == "csv":
		if !bytes.HasPrefix(b, []byte("report_id,")) || !bytes.Contains(b, []byte(id+",")) {
			t.Fatalf("csv: %q", b[:min(len(b), 80)])
		}
	case format == "markdown":
		if !bytes.HasPrefix(b, []byte("# ")) || !bytes.Contains(b, []byte("| warn |")) {
			t.Fatalf("markdown lacks its title or the warn bucket")
		}
	case format == "pdf":
		if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(pdfText(t, b), []byte("(Board AI Risk Pack)")) {
			t.Fatal("pdf lacks its title")
		}
	case format == "xlsx" || format == "docx":
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}[format]
		i := slices.IndexFunc(zr.File, func(f *zip.File) bool { return f.Name == want })
		if i < 0 {
			t.Fatalf("%s lacks %s", format, want)
		}
		if format == "docx" {
			rc, _ := zr.File[i].Open()
			body, _ := io.ReadAll(rc)
			rc.Close()
			// The narrative's first paragraph counts the seeded events.
			if !bytes.Contains(body, []byte("900 agent events were recorded from 5 agents over 4 connectors")) {
				t.Fatal("the audit narrative lacks its narrative")
			}
		}
	default:
		t.Fatalf("no check for %s as %s", id, format)
	}
}

// checkDecisionsKeptApart: the public vocabulary's decisions each have their own count,
// and together they add up to every event.
func checkDecisionsKeptApart(t *testing.T, doc render.Document) {
	t.Helper()
	for _, tab := range doc.Tables {
		if tab.ID != "by_decision" {
			continue
		}
		total := 0
		for i, row := range tab.Rows {
			n := int(row[1].(float64))
			if row[0] != render.Decisions[i] || n == 0 {
				t.Fatalf("decision row %d: %v", i, row)
			}
			total += n
		}
		if total != 900 {
			t.Fatalf("decisions add up to %d", total)
		}
		return
	}
	t.Fatal("no by_decision table")
}

// TestCommunityTenantRendersOnlyCommunityReports: the catalog says what an edition may
// render, and render enforces it.
func TestCommunityTenantRendersOnlyCommunityReports(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.app.Tenants.Create(ctx, "smallco", "Small Co", tenancy.Community); err != nil {
		t.Fatal(err)
	}
	op, _, err := e.app.Tokens.Issue(ctx, "smallco", auth.ReportOperator, "system")
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["smallco"] = map[auth.Role]string{auth.ReportOperator: op}
	seedPublic(t, e, "smallco", 50)
	for id, format := range publicReports {
		r := e.call("POST", renderPath, op, mustJSON(t, renderBody(id, format)), nil)
		if slices.Contains(communityReports, id) {
			if r.status != 201 {
				t.Errorf("%s: %d %s", id, r.status, r.body)
			}
			continue
		}
		requireError(t, r, 403, "report_not_in_edition", "report_id")
	}
}
