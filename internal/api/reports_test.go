package api_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

const (
	renderPath    = "/enterprise/aispm/reports/render"
	searchPath    = "/enterprise/aispm/reports/search"
	artifactsPath = "/enterprise/aispm/reports/artifacts/"
	packagesPath  = "/enterprise/aispm/reports/packages"
)

var (
	testDecisions  = []string{"allowed", "blocked", "approval_required", "approved", "denied", "observed", "allowed"}
	testSeverities = []string{"info", "low", "medium", "high", "critical"}
	testConnectors = []string{"agent-cli", "cursor", "github-actions"}
	testAgents     = []string{"build-agent", "review-agent", "deploy-agent", "docs-agent"}
)

// seedEvents ingests n events spread over the three days before testNow and returns how many
// carry each decision, computed here independently of the renderer.
func seedEvents(t *testing.T, e *env, tenant string, n int, keyPrefix string) map[string]int {
	t.Helper()
	want := map[string]int{}
	for start := 0; start < n; start += 500 {
		var envs []any
		for i := start; i < min(n, start+500); i++ {
			d := testDecisions[i%len(testDecisions)]
			want[d]++
			env := envelope(fmt.Sprintf("%s-%06d", keyPrefix, i), fmt.Sprintf("2026-11-%02dT%02d:%02d:00Z", 25+i%3, i%24, i%60), d)
			ev := env["event"].(map[string]any)
			ev["severity"] = testSeverities[i%len(testSeverities)]
			ev["risk_score"] = i % 101
			ev["control_ids"] = []string{fmt.Sprintf("AC-%d", i%5), "AU-2"}
			src := env["source"].(map[string]any)
			src["connector"] = testConnectors[i%len(testConnectors)]
			src["agent"] = testAgents[i%len(testAgents)]
			envs = append(envs, env)
		}
		if r := e.call("POST", ingestPath, e.as(tenant, auth.ReportOperator), mustJSON(t, map[string]any{"envelopes": envs}), nil); r.status != 202 {
			t.Fatalf("seed: %d %s", r.status, r.body)
		}
	}
	return want
}

func renderBody(report string, formats ...string) map[string]any {
	return map[string]any{"report_id": report, "formats": formats,
		"window": map[string]any{"from": "2026-11-25T00:00:00Z", "to": "2026-11-28T00:00:00Z"}}
}

type renderReply struct {
	RenderRef       string `json:"render_ref"`
	DataSnapshotRef string `json:"data_snapshot_ref"`
	EvidenceRef     string `json:"evidence_ref"`
	Artifacts       []struct {
		ArtifactRef     string `json:"artifact_ref"`
		Format          string `json:"format"`
		Digest          string `json:"digest"`
		SizeBytes       int64  `json:"size_bytes"`
		RetentionClass  string `json:"retention_class"`
		RetainUntil     string `json:"retain_until"`
		LifecycleState  string `json:"lifecycle_state"`
		DataSnapshotRef string `json:"data_snapshot_ref"`
		TemplateVersion string `json:"template_version"`
	} `json:"artifacts"`
	Package *struct {
		PackageRef string `json:"package_ref"`
	} `json:"package"`
}

func (e *env) render(t *testing.T, role auth.Role, body map[string]any) renderReply {
	t.Helper()
	r := e.call("POST", renderPath, e.as("acme", role), mustJSON(t, body), nil)
	if r.status != 201 {
		t.Fatalf("render: %d %s", r.status, r.body)
	}
	var out renderReply
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// artifactBytes reads an artifact's stored bytes through the object store.
func (e *env) artifactBytes(t *testing.T, tenant, artifactRef string) []byte {
	t.Helper()
	rec, err := e.app.Artifacts.Get(context.Background(), tenant, artifactRef)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := e.app.Objects.Get(context.Background(), rec.ObjectKey, rec.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// partitionSize counts the items of one partition.
func (e *env) partitionSize(pk string) int {
	e.t.Helper()
	n := 0
	q := itemstore.Query{PK: pk, Limit: 1000}
	for {
		page, err := e.app.Items.Query(context.Background(), q)
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(page.Items)
		if page.Next == "" {
			return n
		}
		q.Cursor = page.Next
	}
}

var allBriefFormats = []string{"markdown", "json", "csv", "html", "pdf", "xlsx", "zip"}

func TestRenderIsByteIdenticalForTheSameSnapshot(t *testing.T) {
	e := newEnv(t)
	want := seedEvents(t, e, "acme", 700, "det")
	first := e.render(t, auth.ReportOperator, renderBody("executive_risk_brief", allBriefFormats...))
	e.clock.Advance(90 * 60e9) // later wall time must not leak into the bytes
	second := e.render(t, auth.TenantAdmin, renderBody("executive_risk_brief", allBriefFormats...))
	if first.DataSnapshotRef != second.DataSnapshotRef || !strings.HasPrefix(first.DataSnapshotRef, "snapshot:") {
		t.Fatalf("snapshot refs %s / %s", first.DataSnapshotRef, second.DataSnapshotRef)
	}
	if len(first.Artifacts) != len(allBriefFormats) {
		t.Fatalf("%d artifacts", len(first.Artifacts))
	}
	for i, a := range first.Artifacts {
		b := second.Artifacts[i]
		if a.Format != allBriefFormats[i] || a.Digest != b.Digest || a.SizeBytes != b.SizeBytes || a.ArtifactRef == b.ArtifactRef {
			t.Errorf("%s: digests %s / %s", a.Format, a.Digest, b.Digest)
		}
		x, y := e.artifactBytes(t, "acme", a.ArtifactRef), e.artifactBytes(t, "acme", b.ArtifactRef)
		if !bytes.Equal(x, y) || int64(len(x)) != a.SizeBytes {
			t.Errorf("%s: bytes differ between renders of one snapshot", a.Format)
		}
	}
	checkMagic(t, e, first)
	// The JSON artifact's counts are the ones seeded.
	var doc struct {
		Tables []struct {
			ID   string  `json:"id"`
			Rows [][]any `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(e.artifactBytes(t, "acme", first.Artifacts[1].ArtifactRef), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, row := range doc.Tables[0].Rows {
		if n := int(row[1].(float64)); n > 0 {
			got[row[0].(string)] = n
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(publicDecisionCounts(want)) {
		t.Fatalf("by decision %v, want %v", got, publicDecisionCounts(want))
	}
	// New data in the window is a new snapshot and new bytes.
	seedEvents(t, e, "acme", 1, "late")
	third := e.render(t, auth.ReportOperator, renderBody("executive_risk_brief", "json"))
	if third.DataSnapshotRef == first.DataSnapshotRef || third.Artifacts[0].Digest == first.Artifacts[1].Digest {
		t.Fatal("a changed snapshot rendered the same artifact")
	}
}

// legacyToPublic is how the legacy envelope's decisions read in reports (docs/api.md).
var legacyToPublic = map[string]string{"allowed": "allow", "blocked": "block", "approval_required": "require_approval",
	"approved": "allow_with_attestation", "denied": "block", "observed": "audit_only"}

func publicDecisionCounts(legacy map[string]int) map[string]int {
	out := map[string]int{}
	for d, n := range legacy {
		out[legacyToPublic[d]] += n
	}
	return out
}

func checkMagic(t *testing.T, e *env, r renderReply) {
	t.Helper()
	magic := map[string]string{"pdf": "%PDF-", "xlsx": "PK\x03\x04", "zip": "PK\x03\x04", "json": "{", "html": "<!DOCTYPE html>", "markdown": "# ", "csv": "report_id,"}
	for _, a := range r.Artifacts {
		b := e.artifactBytes(t, "acme", a.ArtifactRef)
		if !bytes.HasPrefix(b, []byte(magic[a.Format])) {
			t.Errorf("%s does not start like one: %q", a.Format, b[:min(len(b), 16)])
		}
		if a.Format == "pdf" && (!bytes.Contains(pdfText(t, b), []byte("(Executive AI Risk Brief)")) || !bytes.Contains(pdfText(t, b), []byte("(Events by connector)"))) {
			t.Error("pdf lacks its title or tables")
		}
	}
}

// pdfText inflates every content stream of a PDF, so a test can look for drawn text.
func pdfText(t *testing.T, pdf []byte) []byte {
	t.Helper()
	var out []byte
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			return out
		}
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("endstream"))
		if j < 0 {
			return out
		}
		if zr, err := zlib.NewReader(bytes.NewReader(rest[:j])); err == nil {
			b, _ := io.ReadAll(zr)
			out = append(out, b...)
		}
		rest = rest[j+len("endstream"):] // past it: "endstream\n" itself contains "stream\n"
	}
}
