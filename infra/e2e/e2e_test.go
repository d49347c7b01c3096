// Package e2e drives the stack deployed on the emulator (scripts/emulator-deploy.sh) through
// its API Gateway URL with real tokens, and checks what landed in the deployed DynamoDB
// table and Object Lock bucket. It skips, with a message, only when the emulator or the
// deployed stack is missing on a developer machine; under CI=true that is a failure.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cavra-enterprise/aispm-reports/infra/stackcheck"
	"github.com/cavra-enterprise/aispm-reports/internal/app"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awsapp"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

const (
	stackName = "AispmReportsEmulator"
	region    = "us-east-1"
	reports   = "/enterprise/aispm/reports"
)

type deployment struct {
	endpoint string
	out      stackcheck.Outputs
	svc      *app.Services
	clients  stackcheck.Clients
	http     *http.Client
}

// seedTenant creates a tenant named prefix plus a random suffix straight in the deployed
// table, with a token for each role.
func (d *deployment) seedTenant(t *testing.T, prefix, displayName string, roles ...auth.Role) (string, map[auth.Role]string) {
	t.Helper()
	ctx := context.Background()
	tenant := prefix + randomSuffix(t)
	if _, err := d.svc.Tenants.Create(ctx, tenant, displayName, tenancy.Enterprise); err != nil {
		t.Fatalf("seed tenant: %v", err)
	}
	token := map[auth.Role]string{}
	for _, role := range roles {
		tok, _, err := d.svc.Tokens.Issue(ctx, tenant, role, "system")
		if err != nil {
			t.Fatalf("issue %s token: %v", role, err)
		}
		token[role] = tok
	}
	return tenant, token
}

// deployed finds the emulator and the stack scripts/emulator-deploy.sh deployed on it.
func deployed(t *testing.T) *deployment {
	t.Helper()
	endpoint := emulatortest.MiniStack(t)
	path := os.Getenv("AISPM_EMULATOR_OUTPUTS")
	if path == "" {
		path = filepath.Join("..", "..", ".cache", "emulator-stack.json")
	}
	out, err := stackcheck.ReadOutputs(path, stackName)
	if err != nil {
		msg := "the stack is not deployed on the emulator (run make emulator-deploy): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx := context.Background()
	svc, err := awsapp.Open(config.AWS{Region: region, Endpoint: endpoint, Table: out["TableName"], ArtifactBucket: out["ArtifactBucketName"]}, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	clients, err := stackcheck.NewClients(ctx, region, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return &deployment{endpoint: endpoint, out: out, svc: svc, clients: clients, http: &http.Client{Timeout: 60 * time.Second}}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d, body is not a JSON object: %s", r.status, r.body)
	}
	return m
}

// call sends a request through API Gateway on the emulator:
// <endpoint>/_aws/execute-api/<apiId>/<path>.
func (d *deployment) call(t *testing.T, method, path, token string, body []byte, header map[string]string) response {
	t.Helper()
	url := d.endpoint + "/_aws/execute-api/" + d.out["ApiId"] + path
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func randomSuffix(t *testing.T) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func envelope(key string, occurred time.Time) map[string]any {
	return map[string]any{
		"schema_version":  "aispm.ingest_envelope.v1",
		"idempotency_key": key,
		"source":          map[string]any{"kind": "coding_agent", "connector": "agent-cli", "agent": "build-agent", "agent_version": "1.4.2.7"},
		"event": map[string]any{
			"event_id": "evt-" + key, "occurred_at": occurred.Format(time.RFC3339), "type": "tool_call", "decision": "blocked",
			"severity": "high", "policy_pack": "baseline", "control_ids": []string{"AC-3"}, "tool": "bash",
			"action_category": "shell", "repository_ref": "repo:e2e/api", "risk_score": 70,
		},
		"content": map[string]any{"raw_prompt_included": false, "model_reasoning_included": false, "tool_output_included": false},
	}
}

const settingsBody = `{
  "organization_profile": {"display_name": "E2E Corp", "default_timezone": "Europe/Berlin"},
  "delivery_provider": {"mode": "ses", "sender_address": "reports@e2e.example"},
  "recipient_governance": {"allowed_domains": ["e2e.example"], "external_delivery_default": "require_approval"},
  "retention_days": {"operational_record": 120, "governance_record": 400, "audit_record": 2555}
}`

// TestDeployedStack seeds a tenant and its tokens straight into the deployed table, then
// exercises catalog, settings and ingest through API Gateway, the authorizer and the route
// Lambdas, and reads back what they stored.
func TestDeployedStack(t *testing.T) {
	d := deployed(t)
	ctx := context.Background()
	tenant, token := d.seedTenant(t, "e2e-", "E2E Corp", auth.TenantAdmin, auth.ReportOperator, auth.AuditorViewer)
	admin, operator, auditor := token[auth.TenantAdmin], token[auth.ReportOperator], token[auth.AuditorViewer]

	t.Run("catalog", func(t *testing.T) {
		r := d.call(t, "GET", reports+"/catalog", auditor, nil, nil)
		if r.status != 200 {
			t.Fatalf("catalog: %d %s", r.status, r.body)
		}
		body := r.json(t)
		if body["tenant_ref"] != "tenant:"+tenant || body["edition"] != tenancy.Enterprise {
			t.Fatalf("catalog is not the seeded tenant's (the tenant must come from the authorizer): %s", r.body)
		}
		if reps, _ := body["reports"].([]any); len(reps) == 0 {
			t.Fatalf("empty catalog: %s", r.body)
		}
	})

	t.Run("settings", func(t *testing.T) {
		r := d.call(t, "GET", reports+"/settings", admin, nil, nil)
		if r.status != 200 || r.json(t)["configured"] != false {
			t.Fatalf("default settings: %d %s", r.status, r.body)
		}
		put := d.call(t, "PUT", reports+"/settings", admin, []byte(settingsBody), nil)
		if put.status != 200 {
			t.Fatalf("put settings: %d %s", put.status, put.body)
		}
		if ev, _ := put.json(t)["evidence_ref"].(string); !strings.HasPrefix(ev, "evidence:") {
			t.Fatalf("put settings returned no evidence ref: %s", put.body)
		}
		etag := put.header.Get("Etag")
		got := d.call(t, "GET", reports+"/settings", admin, nil, nil)
		st, _ := got.json(t)["settings"].(map[string]any)
		if got.status != 200 || got.header.Get("Etag") != etag || fmt.Sprint(st["retention_days"]) == "" ||
			st["organization_profile"].(map[string]any)["default_timezone"] != "Europe/Berlin" {
			t.Fatalf("settings read back: %d %s (etag %q, put etag %q)", got.status, got.body, got.header.Get("Etag"), etag)
		}
		// The item is in the deployed table.
		item := d.getItem(t, "T#"+tenant, "SETTINGS")
		if item == nil || !strings.Contains(attrString(item, "data"), "Europe/Berlin") {
			t.Fatalf("settings item not in table %s: %v", d.out["TableName"], item)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		before := d.count(t, "T#"+tenant+"#EVIDENCE")
		// No token: API Gateway refuses before the authorizer (identity source missing).
		if r := d.call(t, "GET", reports+"/catalog", "", nil, nil); r.status != 401 {
			t.Fatalf("no token: %d %s", r.status, r.body)
		}
		// A forged token: the authorizer says no; the route Lambda never runs, so the body is
		// API Gateway's, not the route's {"error": ...}.
		forged := "aispm_" + randomSuffix(t) + "_" + strings.Repeat("A", 43)
		r := d.call(t, "PUT", reports+"/settings", forged, []byte(settingsBody), nil)
		if r.status != 403 || bytes.Contains(r.body, []byte(`"error"`)) {
			t.Fatalf("forged token: %d %s", r.status, r.body)
		}
		// A real token with the wrong role: the authorizer lets it through, the route's own
		// role check refuses it with the stable error body.
		r = d.call(t, "PUT", reports+"/settings", auditor, []byte(settingsBody), nil)
		if r.status != 403 {
			t.Fatalf("auditor PUT settings: %d %s", r.status, r.body)
		}
		if e, _ := r.json(t)["error"].(map[string]any); e == nil || e["code"] == "" {
			t.Fatalf("wrong role: no stable error body: %s", r.body)
		}
		if r := d.call(t, "POST", "/enterprise/aispm/ingest", auditor, []byte(`{"envelopes":[]}`), nil); r.status != 403 {
			t.Fatalf("auditor ingest: %d %s", r.status, r.body)
		}
		if after := d.count(t, "T#"+tenant+"#EVIDENCE"); after != before {
			t.Fatalf("refused requests wrote %d evidence records", after-before)
		}
	})

	t.Run("ingest", func(t *testing.T) {
		now := time.Now().UTC().Truncate(time.Second)
		day := now.Format("2006-01-02")
		var envs []any
		for i := range 5 {
			envs = append(envs, envelope(fmt.Sprintf("e2e-%s-%d", tenant, i), now.Add(-time.Duration(i)*time.Minute)))
		}
		body, _ := json.Marshal(map[string]any{"envelopes": envs})
		before := d.count(t, "T#"+tenant+"#EVIDENCE")
		r := d.call(t, "POST", "/enterprise/aispm/ingest", operator, body, nil)
		if r.status != 202 {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
		res := r.json(t)
		if res["accepted"] != float64(5) {
			t.Fatalf("ingest result: %s", r.body)
		}
		if after := d.count(t, "T#"+tenant+"#EVIDENCE"); after <= before {
			t.Fatalf("ingest wrote no evidence (%d before, %d after)", before, after)
		}
		if n := d.count(t, "T#"+tenant+"#SEG#"+day); n != 1 {
			t.Fatalf("segment index items for %s: %d, want 1", day, n)
		}
		segs, err := d.svc.Ingest.Segments(ctx, tenant, day)
		if err != nil || len(segs) != 1 || segs[0].Events != 5 {
			t.Fatalf("segments of %s: %+v %v", day, segs, err)
		}
		seg := segs[0]
		if !strings.HasPrefix(seg.ObjectKey, "tenants/"+tenant+"/ingest/"+day+"/") {
			t.Fatalf("segment key %s", seg.ObjectKey)
		}
		// The segment object is in the Object Lock bucket, under COMPLIANCE retention.
		bucket := aws.String(d.out["ArtifactBucketName"])
		head, err := d.clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(seg.ObjectKey), VersionId: optional(seg.VersionID)})
		if err != nil {
			t.Fatalf("segment object %s: %v", seg.ObjectKey, err)
		}
		if head.ObjectLockMode != "COMPLIANCE" || head.ObjectLockRetainUntilDate == nil || !head.ObjectLockRetainUntilDate.After(now.Add(119*24*time.Hour)) {
			t.Fatalf("segment object retention: mode %q until %v (settings say 120 days)", head.ObjectLockMode, head.ObjectLockRetainUntilDate)
		}
		// And the lock holds: the version cannot be deleted.
		if _, err := d.clients.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(seg.ObjectKey), VersionId: head.VersionId}); err == nil {
			t.Fatalf("deleted the locked segment version %s of %s", aws.ToString(head.VersionId), seg.ObjectKey)
		}
		// The same batch again: all duplicates, nothing new stored.
		again := d.call(t, "POST", "/enterprise/aispm/ingest", operator, body, nil)
		if again.status != 200 || again.json(t)["duplicates"] != float64(5) {
			t.Fatalf("re-ingest: %d %s", again.status, again.body)
		}
	})
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func (d *deployment) getItem(t *testing.T, pk, sk string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := d.clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(d.out["TableName"]), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: sk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// count returns how many items the deployed table holds under partition key pk.
func (d *deployment) count(t *testing.T, pk string) int {
	t.Helper()
	p := dynamodb.NewQueryPaginator(d.clients.DynamoDB, &dynamodb.QueryInput{
		TableName: aws.String(d.out["TableName"]), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: pk}},
		Select:                    ddbtypes.SelectCount,
	})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += int(page.Count)
	}
	return n
}

func attrString(item map[string]ddbtypes.AttributeValue, name string) string {
	switch v := item[name].(type) {
	case *ddbtypes.AttributeValueMemberS:
		return v.Value
	case *ddbtypes.AttributeValueMemberB:
		return string(v.Value)
	}
	return ""
}

// TestDeployedSettingsMatchTemplate reads the deployed stack back against its template
// (after the deploy script's emulator workarounds), so a setting the emulator dropped fails
// here too, not only in the deploy script.
func TestDeployedSettingsMatchTemplate(t *testing.T) {
	d := deployed(t)
	assembly := os.Getenv("AISPM_CDK_ASSEMBLY")
	if assembly == "" {
		assembly = filepath.Join("..", "cdk.out")
	}
	want, err := stackcheck.ExpectFromTemplate(filepath.Join(assembly, stackName+".template.json"), d.out)
	if err != nil {
		t.Fatal(err)
	}
	if rep := stackcheck.Check(context.Background(), d.clients, want); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
}
