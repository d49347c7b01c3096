package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
)

func TestRenderRefusalsChangeNothing(t *testing.T) {
	e := newEnv(t)
	seedEvents(t, e, "acme", 50, "bad")
	op := e.as("acme", auth.ReportOperator)
	good := func() map[string]any { return renderBody("executive_risk_brief", "json") }
	with := func(k string, v any) map[string]any { b := good(); b[k] = v; return b }
	window := func(from, to string) map[string]any { return with("window", map[string]any{"from": from, "to": to}) }
	cases := []struct {
		name        string
		body        any
		role        auth.Role
		status      int
		code, field string
	}{
		{"unknown report", with("report_id", "nope_report"), "", 400, "unknown_report", "report_id"},
		{"unknown format", with("formats", []string{"json", "rtf"}), "", 400, "unknown_format", "formats[1]"},
		{"format not offered", with("formats", []string{"jsonl"}), "", 400, "format_not_offered", "formats[0]"},
		{"no formats", with("formats", []string{}), "", 400, "schema_violation", "formats"},
		{"inverted window", window("2026-11-28T00:00:00Z", "2026-11-25T00:00:00Z"), "", 400, "inverted_window", "window"},
		{"huge window", window("2020-01-01T00:00:00Z", "2026-11-28T00:00:00Z"), "", 400, "window_too_large", "window"},
		{"future window", window("2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"), "", 400, "window_in_future", "window"},
		{"window without data", window("2026-10-01T00:00:00Z", "2026-10-05T00:00:00Z"), "", 400, "empty_window", "window"},
		{"retention below class minimum", with("retention_days", 30), "", 400, "retention_below_minimum", "retention_days"},
		{"legal hold by operator", with("retention_class", "legal_hold"), "", 403, "forbidden", "retention_class"},
		{"legal hold without case", with("retention_class", "legal_hold"), auth.TenantAdmin, 400, "invalid_field", "legal_hold_ref"},
		{"unknown field", with("tenant", "globex"), "", 400, "schema_violation", ""},
		{"bad package type", with("package_type", "everything"), "", 400, "schema_violation", "package_type"},
	}
	before := e.evidenceCount("acme")
	for _, c := range cases {
		tok := op
		if c.role != "" {
			tok = e.as("acme", c.role)
		}
		requireError(t, e.call("POST", renderPath, tok, mustJSON(t, c.body), nil), c.status, c.code, c.field)
	}
	requireError(t, e.call("POST", renderPath, op, []byte(`{"report_id":`), nil), 400, "malformed_json", "")
	if e.evidenceCount("acme") != before || e.partitionSize(artifacts.PartitionKey("acme")) != 0 {
		t.Fatal("a refused render wrote evidence or artifacts")
	}
	if list, _ := e.app.Objects.ListVersions(context.Background(), "tenants/acme/artifacts/"); len(list) != 0 {
		t.Fatalf("a refused render stored %d objects", len(list))
	}
}

func retrieval(t *testing.T, e *env, tenant string, role auth.Role, artifactRef string) reply {
	t.Helper()
	return e.call("POST", artifactsPath+artifactRef+"/retrieval", e.as(tenant, role), nil, nil)
}

func TestLegalHoldExpiryAndDeletion(t *testing.T) {
	e := newEnv(t)
	seedEvents(t, e, "acme", 60, "life")
	held := e.render(t, auth.ReportOperator, renderBody("agent_risk_register", "csv")).Artifacts[0]
	free := e.render(t, auth.ReportOperator, renderBody("agent_risk_register", "json")).Artifacts[0]
	admin, lead := e.as("acme", auth.TenantAdmin), e.as("acme", auth.SecurityLeadership)
	hold := []byte(`{"case_ref":"case:litigation-42"}`)

	// Retained: deletion refused by the product and by the WORM store itself.
	requireError(t, e.call("DELETE", artifactsPath+held.ArtifactRef, admin, nil, nil), 409, "deletion_refused", "artifact")
	rec, _ := e.app.Artifacts.Get(context.Background(), "acme", held.ArtifactRef)
	if err := e.app.Objects.DeleteVersion(context.Background(), rec.ObjectKey, rec.VersionID); !errors.Is(err, objectstore.ErrLocked) {
		t.Fatalf("WORM delete of a retained artifact: %v", err)
	}
	// Legal hold is role-gated and leaves evidence.
	requireError(t, e.call("POST", artifactsPath+held.ArtifactRef+"/legal-hold", e.as("acme", auth.ReportOperator), hold, nil), 403, "forbidden", "")
	before := e.evidenceCount("acme")
	if r := e.call("POST", artifactsPath+held.ArtifactRef+"/legal-hold", lead, hold, nil); r.status != 200 || !strings.Contains(string(r.body), `"lifecycle_state":"legal_hold"`) {
		t.Fatalf("hold: %d %s", r.status, r.body)
	}
	if e.evidenceCount("acme") != before+1 {
		t.Fatal("legal hold left no evidence")
	}
	requireError(t, e.call("POST", artifactsPath+held.ArtifactRef+"/legal-hold", lead, hold, nil), 409, "already_on_hold", "")

	// Past retention: the scheduler's sweep expires the free artifact, the held one stays held.
	until, _ := time.Parse(time.RFC3339Nano, free.RetainUntil)
	e.clock.Advance(until.Sub(testNow) + 48*time.Hour)
	if err := e.app.Scheduler.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.app.Artifacts.Get(context.Background(), "acme", free.ArtifactRef); rec.State != artifacts.Expired {
		t.Fatalf("after the expiry firing the record is %s", rec.State)
	}
	if r := retrieval(t, e, "acme", auth.TenantAdmin, free.ArtifactRef); !strings.Contains(string(r.body), `"access_decision":"expired"`) || strings.Contains(string(r.body), "url") {
		t.Fatalf("retrieval of an expired artifact: %s", r.body)
	}
	requireError(t, e.call("DELETE", artifactsPath+held.ArtifactRef, admin, nil, nil), 409, "deletion_refused", "artifact")
	rec, _ = e.app.Artifacts.Get(context.Background(), "acme", held.ArtifactRef)
	if err := e.app.Objects.DeleteVersion(context.Background(), rec.ObjectKey, rec.VersionID); !errors.Is(err, objectstore.ErrLocked) {
		t.Fatalf("WORM delete of a held artifact: %v", err)
	}
	// Deletion readiness lists what may go and why.
	r := e.call("POST", "/enterprise/aispm/reports/retention/deletion-readiness", e.as("acme", auth.AuditorViewer), nil, nil)
	var ready artifacts.Readiness
	if err := json.Unmarshal(r.body, &ready); err != nil || ready.Deletable != 1 || ready.Blocked["legal_hold"] != 1 || ready.EvidenceRef == "" {
		t.Fatalf("readiness: %s", r.body)
	}
	// Release with the wrong case is refused; with the right one it becomes expired.
	requireError(t, e.call("POST", artifactsPath+held.ArtifactRef+"/legal-hold/release", lead, []byte(`{"case_ref":"case:other"}`), nil), 409, "case_mismatch", "case_ref")
	if r := e.call("POST", artifactsPath+held.ArtifactRef+"/legal-hold/release", lead, hold, nil); r.status != 200 || !strings.Contains(string(r.body), `"lifecycle_state":"expired"`) {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	requireError(t, e.call("DELETE", artifactsPath+free.ArtifactRef, e.as("acme", auth.SecurityLeadership), nil, nil), 403, "forbidden", "")
	for _, a := range []string{free.ArtifactRef, held.ArtifactRef} {
		if r := e.call("DELETE", artifactsPath+a, admin, nil, nil); r.status != 200 || !strings.Contains(string(r.body), `"lifecycle_state":"deleted"`) {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
	}
	requireError(t, e.call("DELETE", artifactsPath+free.ArtifactRef, admin, nil, nil), 409, "artifact_deleted", "")
	if r := retrieval(t, e, "acme", auth.TenantAdmin, free.ArtifactRef); !strings.Contains(string(r.body), `"access_decision":"expired"`) {
		t.Fatalf("retrieval of a deleted artifact: %s", r.body)
	}
	if _, _, err := e.app.Objects.Get(context.Background(), rec.ObjectKey, rec.VersionID); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("deleted bytes still readable: %v", err)
	}
}

func TestSignedPackageVerifiesOfflineAndDetectsTampering(t *testing.T) {
	e := newEnv(t)
	seedEvents(t, e, "acme", 120, "pkg")
	body := renderBody("pdf_board_pack", "pdf", "html", "zip")
	body["package_type"] = "board_and_audit_bundle"
	out := e.render(t, auth.TenantAdmin, body)
	if out.Package == nil {
		t.Fatal("no package")
	}
	r := e.call("GET", packagesPath+"/"+out.Package.PackageRef, e.as("acme", auth.AuditorViewer), nil, nil)
	if r.status != 200 {
		t.Fatalf("get package: %d %s", r.status, r.body)
	}
	requireError(t, e.call("GET", packagesPath+"/"+out.Package.PackageRef, e.as("globex", auth.AuditorViewer), nil, nil), 404, "package_not_found", "")

	bundle := func(name string) string {
		dir := filepath.Join(t.TempDir(), name)
		if _, err := e.app.Packages.ExportBundle(context.Background(), "acme", out.Package.PackageRef, dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	good := bundle("good")
	res, err := manifest.Verify(os.DirFS(good), nil)
	if err != nil || res.Artifacts != 3 {
		t.Fatalf("verify: %+v %v", res, err)
	}
	pub, _ := e.app.KeySigner.PublicKey(context.Background())
	if _, err := manifest.Verify(os.DirFS(good), pub); err != nil {
		t.Fatalf("verify with the pinned key: %v", err)
	}
	if _, err := manifest.Verify(os.DirFS(good), append([]byte{}, pub[:len(pub)-1]...)); !errors.Is(err, manifest.ErrSignature) {
		t.Fatalf("verify against another pinned key: %v", err)
	}
	tamper := func(name string, edit func(dir string)) error {
		dir := bundle(name)
		edit(dir)
		_, err := manifest.Verify(os.DirFS(dir), nil)
		return err
	}
	rewrite := func(path string, f func([]byte) []byte) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o644)
		if err := os.WriteFile(path, f(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err = tamper("artifact", func(dir string) {
		files, _ := filepath.Glob(filepath.Join(dir, "artifacts", "*.html"))
		rewrite(files[0], func(b []byte) []byte { return append(b, ' ') })
	})
	if !errors.Is(err, manifest.ErrArtifact) {
		t.Fatalf("tampered artifact: %v", err)
	}
	err = tamper("manifest", func(dir string) {
		rewrite(filepath.Join(dir, manifest.ManifestFile), func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"board_and_audit_bundle"`, `"grc_upload_package"`, 1))
		})
	})
	if !errors.Is(err, manifest.ErrManifest) {
		t.Fatalf("tampered manifest: %v", err)
	}
	err = tamper("signature", func(dir string) {
		rewrite(filepath.Join(dir, manifest.SignatureFile), func(b []byte) []byte {
			var sig manifest.Signature
			_ = json.Unmarshal(b, &sig)
			sig.Signature = "AAAA" + sig.Signature[4:]
			out, _ := json.Marshal(sig)
			return out
		})
	})
	if !errors.Is(err, manifest.ErrSignature) {
		t.Fatalf("tampered signature: %v", err)
	}
	err = tamper("missing", func(dir string) {
		files, _ := filepath.Glob(filepath.Join(dir, "artifacts", "*.pdf"))
		os.Remove(files[0])
	})
	if !errors.Is(err, manifest.ErrArtifact) {
		t.Fatalf("missing artifact: %v", err)
	}
}
