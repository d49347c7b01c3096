package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// seedPackage renders a board pack on the embedded default in dir and signs a package of it.
func seedPackage(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	a, err := embeddedapp.Open(ctx, config.Embedded{Listen: "127.0.0.1:0", DataDir: dir, PublicBaseURL: "http://127.0.0.1"}, clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tn, err := a.Tenants.Create(ctx, "acme", "Acme", tenancy.Enterprise)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var envs []string
	for i := range 40 {
		envs = append(envs, fmt.Sprintf(`{"schema_version":"aispm.ingest_envelope.v1","idempotency_key":"key-%06d","source":{"kind":"coding_agent","connector":"cursor","agent":"a"},`+
			`"event":{"event_id":"e-%d","occurred_at":%q,"type":"tool_call","decision":"blocked","severity":"high","policy_pack":"baseline","control_ids":["AC-3"]},`+
			`"content":{"raw_prompt_included":false,"model_reasoning_included":false,"tool_output_included":false}}`, i, i, now.Add(-time.Duration(i+1)*time.Hour).Format(time.RFC3339)))
	}
	if _, err := a.Ingest.Ingest(ctx, "acme", "report_operator", []byte(`{"envelopes":[`+strings.Join(envs, ",")+`]}`)); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"report_id": "pdf_board_pack", "formats": []string{"pdf", "html"},
		"window": map[string]string{"from": now.Add(-72 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}})
	req, err := artifacts.ParseRenderRequest(body, tn, "tenant_admin", now)
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.Artifacts.Render(ctx, tn, "tenant_admin", req)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := a.Packages.Create(ctx, "acme", "tenant_admin", manifest.Request{PackageType: "board_and_audit_bundle",
		ArtifactRefs: []string{out.Artifacts[0].ArtifactRef, out.Artifacts[1].ArtifactRef}})
	if err != nil {
		t.Fatal(err)
	}
	return pkg.Manifest.PackageRef
}

func TestExportAndVerifyManifestOffline(t *testing.T) {
	data := t.TempDir()
	pkg := seedPackage(t, data)
	t.Setenv(config.EnvDataDir, data)
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
		return out.String(), err
	}
	bundle := func(name string) string {
		dir := filepath.Join(t.TempDir(), name)
		if _, err := cli("export-package", "acme", pkg, dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	good := bundle("good")
	// Offline from here: the data folder is gone, only the bundle remains.
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"verify", "manifest", good},
		{"verify", "manifest", filepath.Join(good, manifest.ManifestFile)},
		{"verify", "manifest", good, "--public-key", filepath.Join(good, manifest.PublicKeyFile)},
	} {
		if out, err := cli(args...); err != nil || !strings.HasPrefix(out, "OK "+pkg) || !strings.Contains(out, "2 artifact digests match") {
			t.Fatalf("%v: %q %v", args, out, err)
		}
	}
	artifactsDir := filepath.Join(good, "artifacts")
	files, _ := os.ReadDir(artifactsDir)
	tampered := filepath.Join(artifactsDir, files[0].Name())
	raw, _ := os.ReadFile(tampered)
	if err := os.WriteFile(tampered, append(raw, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("verify", "manifest", good); err == nil || !strings.Contains(err.Error(), "artifact does not match") {
		t.Fatalf("tampered artifact: %v", err)
	}
	if err := os.WriteFile(tampered, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(good, manifest.ManifestFile)
	m, _ := os.ReadFile(mf)
	if err := os.WriteFile(mf, bytes.Replace(m, []byte(`"audit_record"`), []byte(`"operational_record"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("verify", "manifest", mf); err == nil || !strings.Contains(err.Error(), "manifest does not verify") {
		t.Fatalf("tampered manifest: %v", err)
	}
	if _, err := cli("verify", "manifest"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("no file: %v", err)
	}
}
