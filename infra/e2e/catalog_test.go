package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/render"
)

// publicReports are the twelve reports of the public delivery contract, each in its public
// format.
var publicReports = map[string]string{
	"executive_risk_brief": "markdown", "board_kpi_pack": "json", "soc2_audit_summary": "markdown",
	"control_coverage_export": "csv", "evidence_freshness_export": "csv", "agent_risk_register": "csv",
	"pdf_board_pack": "pdf", "xlsx_evidence_workbook": "xlsx", "docx_audit_narrative": "docx",
	"signed_json_evidence_packet": "json", "siem_jsonl_export": "jsonl", "grc_upload_package": "zip",
}

var e2eDecisions = []string{"allow", "warn", "block", "require_approval", "allow_with_attestation", "audit_only", "not_applicable"}

// publicEnvelope is envelope i as a CAVRA collector sends it.
func publicEnvelope(tenant string, i int, occurred time.Time) map[string]any {
	const boundary = "requires_cavra_enterprise"
	return map[string]any{
		"schema_version": "cavra.aispm.enterprise_live_ingestion_envelope.v1", "product": "CAVRA", "edition": "enterprise",
		"contract_visibility": "public_contract",
		"event": map[string]any{"event_id": fmt.Sprintf("pub-%d", i), "event_type": []string{"shell_command", "git_operation", "prompt"}[i%3],
			"occurred_at": occurred.Format(time.RFC3339), "session_id": "s1", "agent_id": fmt.Sprintf("agent-%d", i%3),
			"decision": e2eDecisions[i%len(e2eDecisions)], "severity": []string{"none", "low", "high"}[i%3], "policy_pack": "baseline",
			"risk_classification": "supply_chain"},
		"source":    map[string]any{"connector_type": "claude_code", "connector_id": "laptop-1"},
		"tenant":    map[string]any{"tenant_ref": "tenant:" + tenant, "environment": "production"},
		"redaction": map[string]any{"payload_handling": "metadata_only", "raw_prompt_included": false, "reasoning_included": false, "tool_output_included": false},
		"integrity": map[string]any{"signature_required": false, "hash_algorithm": "sha256"},
		"transport": map[string]any{"ingress_mode": "https", "delivery_semantics": "at_least_once"},
		"enterprise_boundaries": map[string]any{"collector_implementation": boundary, "tenant_persistence": boundary,
			"streaming_transport": boundary, "raw_payload_storage": boundary, "license_enforcement": boundary},
	}
}

// TestDeployedPublicCatalog sends public envelopes as a JSON batch and as NDJSON through
// API Gateway, then renders all twelve public reports through the deployed post-render
// Lambda and checks the stored files, the signed ones against the KMS key's public key.
func TestDeployedPublicCatalog(t *testing.T) {
	d := deployed(t)
	ctx := context.Background()
	tenant, token := d.seedTenant(t, "e2e-catalog-", "E2E Catalog Corp", auth.ReportOperator)
	op := token[auth.ReportOperator]
	now := time.Now().UTC().Truncate(time.Second)
	var batch []any
	var stream bytes.Buffer
	for i := range 70 {
		env := publicEnvelope(tenant, i, now.Add(-time.Duration(i+1)*time.Minute))
		if i < 35 {
			batch = append(batch, env)
			continue
		}
		b, _ := json.Marshal(env)
		stream.Write(append(b, '\n'))
	}
	body, _ := json.Marshal(map[string]any{"envelopes": batch})
	if r := d.call(t, "POST", "/enterprise/aispm/ingest", op, body, nil); r.status != 202 {
		t.Fatalf("batch ingest: %d %s", r.status, r.body)
	}
	ndjson := map[string]string{"Content-Type": "application/x-ndjson"}
	if r := d.call(t, "POST", "/enterprise/aispm/ingest", op, stream.Bytes(), ndjson); r.status != 202 {
		t.Fatalf("ndjson ingest: %d %s", r.status, r.body)
	}
	if r := d.call(t, "POST", "/enterprise/aispm/ingest", op, stream.Bytes(), ndjson); r.status != 200 {
		t.Fatalf("ndjson replay: %d %s", r.status, r.body)
	}
	other, _ := json.Marshal(publicEnvelope("someone-else", 99, now.Add(-time.Minute)))
	if r := d.call(t, "POST", "/enterprise/aispm/ingest", op, other, nil); r.status != 403 || !strings.Contains(string(r.body), "tenant_mismatch") {
		t.Fatalf("foreign tenant_ref: %d %s", r.status, r.body)
	}
	pub := signingPublicKey(t, ctx, d)
	window := map[string]any{"from": now.Add(-3 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}
	for id, format := range publicReports {
		t.Run(id, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"report_id": id, "formats": []string{format}, "window": window})
			r := d.call(t, "POST", reports+"/render", op, body, nil)
			if r.status != 201 {
				t.Fatalf("render: %d %s", r.status, r.body)
			}
			arts := renderArtifacts(t, r.body)
			if len(arts) != 1 || arts[0].Format != format {
				t.Fatalf("render answer: %s", r.body)
			}
			checkDeployedArtifact(t, id, format, d.artifactBytes(t, ctx, arts[0].ImmutableStoreRef), pub)
		})
	}
}

func signingPublicKey(t *testing.T, ctx context.Context, d *deployment) []byte {
	t.Helper()
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: region, Endpoint: d.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	out, err := kms.NewFromConfig(cfg).GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(d.out["SigningKeyArn"])})
	if err != nil {
		t.Fatal(err)
	}
	return out.PublicKey
}

func (d *deployment) artifactBytes(t *testing.T, ctx context.Context, wormRef string) []byte {
	t.Helper()
	key, version, _ := strings.Cut(strings.TrimPrefix(wormRef, "worm:"), "#")
	obj, err := d.clients.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.out["ArtifactBucketName"]), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil {
		t.Fatalf("artifact %s: %v", key, err)
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkDeployedArtifact(t *testing.T, id, format string, b, pub []byte) {
	t.Helper()
	magic := map[string]string{"markdown": "# ", "json": "{", "csv": "report_id,", "pdf": "%PDF-", "xlsx": "PK\x03\x04", "docx": "PK\x03\x04", "jsonl": "{", "zip": "PK\x03\x04"}
	if !bytes.HasPrefix(b, []byte(magic[format])) {
		t.Fatalf("%s does not start like %s: %q", id, format, b[:min(len(b), 16)])
	}
	switch id {
	case render.SignedPacketReport, render.GRCPackageReport:
		res, err := render.VerifySigned(b, pub)
		if err != nil || !res.KeyPinned {
			t.Fatalf("offline verification under the KMS key: %+v %v", res, err)
		}
		t.Logf("%s verified offline: %s signature by %s", id, res.Algorithm, res.KeyID)
	case render.SIEMReport:
		if n := bytes.Count(b, []byte("\n")); n != 70 {
			t.Fatalf("siem export holds %d lines, want the 70 events", n)
		}
	case "board_kpi_pack":
		if !bytes.Contains(b, []byte(`"allow_with_attestation"`)) || !bytes.Contains(b, []byte(`"warn"`)) {
			t.Fatal("the KPI pack folds the public decisions together")
		}
	}
}
