package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sched "github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
)

// Stack outputs of the audit and schedule machinery (infra/stack.go).
const (
	outAuditWriter    = "AuditWriterFunctionName"
	outAuditSealer    = "AuditSealerFunctionName"
	outSealerSchedule = "AuditSealerScheduleName"
	outRunnerArn      = "ScheduleRunnerFunctionArn"
	outSchedulerRole  = "SchedulerRoleArn"
	// auditWait bounds every wait on the stream mapping, the sealer and the schedules.
	auditWait = 60 * time.Second
)

// A checkpoint is due 10 s after the oldest unsealed entry; the count (1000) is never
// reached here, so only a seal by age (the sealer) can cover these entries.
var auditSettingsBody = strings.Replace(settingsBody, `"retention_days"`,
	`"schedule_and_audit": {"audit_checkpoint_seconds": 10}, "retention_days"`, 1)

// TestAuditLogAndSchedules drives what the stream, the scheduler and the signing key do on
// the deployed stack: a settings PUT through API Gateway writes evidence; MiniStack's DynamoDB
// stream mapping feeds it to the audit-writer Lambda, which appends it; the audit-sealer
// Lambda seals it into a COMPLIANCE-locked segment with a KMS-signed checkpoint; the proof
// route returns an inclusion proof that verifies offline against the key read from KMS. A
// render through API Gateway stores COMPLIANCE-locked artifacts, signs its package and
// creates the tenant's expiry schedule, targeting the schedule-runner through the
// scheduler role.
func TestAuditLogAndSchedules(t *testing.T) {
	d := deployed(t)
	for _, o := range []string{outAuditWriter, outAuditSealer, outSealerSchedule, outRunnerArn, outSchedulerRole} {
		if d.out[o] == "" {
			t.Fatalf("stack output %s missing: the deployment predates the audit and schedule functions (make emulator-deploy)", o)
		}
	}
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: region, Endpoint: d.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	scheduler, keys := d.clients.Scheduler, kms.NewFromConfig(cfg)

	tenant, token := d.seedTenant(t, "e2e-audit-", "E2E Audit Corp", auth.TenantAdmin, auth.ReportOperator, auth.AuditorViewer)
	put := d.call(t, "PUT", reports+"/settings", token[auth.TenantAdmin], []byte(auditSettingsBody), nil)
	if put.status != 200 {
		t.Fatalf("put settings: %d %s", put.status, put.body)
	}
	settingsEvidence, _ := put.json(t)["evidence_ref"].(string)
	if !strings.HasPrefix(settingsEvidence, "evidence:") {
		t.Fatalf("put settings returned no evidence ref: %s", put.body)
	}

	t.Run("stream mapping", func(t *testing.T) {
		out, err := d.clients.Lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(d.out[outAuditWriter])})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.EventSourceMappings) != 1 {
			t.Fatalf("audit writer has %d event source mappings, want 1", len(out.EventSourceMappings))
		}
		m := out.EventSourceMappings[0]
		if !strings.Contains(aws.ToString(m.EventSourceArn), ":table/"+d.out["TableName"]+"/stream/") ||
			!slices.Contains(m.FunctionResponseTypes, lambdatypes.FunctionResponseTypeReportBatchItemFailures) ||
			aws.ToInt32(m.BatchSize) != 100 || m.StartingPosition != lambdatypes.EventSourcePositionTrimHorizon ||
			aws.ToBool(m.BisectBatchOnFunctionError) {
			t.Fatalf("mapping %s: source %s, response types %v, batch %d, start %s, bisect %v", aws.ToString(m.UUID),
				aws.ToString(m.EventSourceArn), m.FunctionResponseTypes, aws.ToInt32(m.BatchSize), m.StartingPosition, aws.ToBool(m.BisectBatchOnFunctionError))
		}
	})

	// The writer appends the settings evidence: its exactly-once guard and a log entry appear.
	// Nothing in this test invokes the writer; only the stream mapping does.
	t.Run("writer appends from the stream", func(t *testing.T) {
		id := strings.TrimPrefix(settingsEvidence, "evidence:")
		start := time.Now()
		for d.getItem(t, "T#"+tenant+"#AUDIT#REF", id) == nil {
			if time.Since(start) > auditWait {
				t.Fatalf("after %s the audit writer has not logged %s (is the stream mapping running? .cache/emulators/ministack.log)", auditWait, settingsEvidence)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if n := d.count(t, "T#"+tenant+"#AUDIT#LOG"); n < 2 {
			t.Fatalf("tenant log holds %d entries; want the tenant, token and settings evidence", n)
		}
		t.Logf("logged %s through the stream mapping %.1fs after the PUT", settingsEvidence, time.Since(start).Seconds())
	})

	// While the audit log waits for its checkpoint, render: the expiry schedule and signed
	// package need no seal.
	t.Run("render", func(t *testing.T) {
		now := time.Now().UTC().Truncate(time.Second)
		var envs []any
		for i := range 5 {
			envs = append(envs, envelope(fmt.Sprintf("e2e-render-%s-%d", tenant, i), now.Add(-time.Duration(i+1)*time.Minute)))
		}
		body, _ := json.Marshal(map[string]any{"envelopes": envs})
		if r := d.call(t, "POST", "/enterprise/aispm/ingest", token[auth.ReportOperator], body, nil); r.status != 202 {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
		body, _ = json.Marshal(map[string]any{
			"report_id": "executive_risk_brief", "formats": []string{"json", "pdf"},
			"window":       map[string]any{"from": now.Add(-2 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)},
			"package_type": "board_and_audit_bundle",
		})
		r := d.call(t, "POST", reports+"/render", token[auth.ReportOperator], body, nil)
		if r.status != 201 {
			t.Fatalf("render: %d %s", r.status, r.body)
		}
		var out struct {
			Artifacts []json.RawMessage `json:"artifacts"`
			Package   *struct {
				PackageRef string `json:"package_ref"`
			}
		}
		if err := json.Unmarshal(r.body, &out); err != nil || len(out.Artifacts) != 2 {
			t.Fatalf("render answer: %s (%v)", r.body, err)
		}
		// The package was signed through post-render's KMS grant and signing key id.
		if out.Package == nil || !strings.HasPrefix(out.Package.PackageRef, "package:") {
			t.Fatalf("render with package_type returned no signed package: %s", r.body)
		}
		var latest time.Time
		bucket := aws.String(d.out["ArtifactBucketName"])
		for _, a := range renderArtifacts(t, r.body) {
			key, version, ok := strings.Cut(strings.TrimPrefix(a.ImmutableStoreRef, "worm:"), "#")
			if !ok || version == "" {
				t.Fatalf("%s: WORM ref %q names no version", a.Format, a.ImmutableStoreRef)
			}
			until, err := time.Parse(time.RFC3339Nano, a.RetainUntil)
			if err != nil {
				t.Fatalf("%s: retain_until %q", a.Format, a.RetainUntil)
			}
			if until.After(latest) {
				latest = until
			}
			head, err := d.clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key), VersionId: aws.String(version)})
			if err != nil {
				t.Fatalf("%s: artifact object %s: %v", a.Format, key, err)
			}
			if head.ObjectLockMode != "COMPLIANCE" || head.ObjectLockRetainUntilDate == nil ||
				head.ObjectLockRetainUntilDate.Before(until.Add(-time.Second)) || !until.After(now.Add(399*24*time.Hour)) {
				t.Fatalf("%s: artifact lock %q until %v; the record says %s (governance_record: 400 days)", a.Format,
					head.ObjectLockMode, head.ObjectLockRetainUntilDate, a.RetainUntil)
			}
		}

		// The expiry sweep: a one-shot in the tenant's group, the day after the latest
		// retain-until, firing the schedule-runner through the scheduler role.
		group := "tenant-" + tenant
		name := "artifact-expiry-" + latest.UTC().Truncate(24*time.Hour).Add(24*time.Hour).Format("20060102")
		sc, err := scheduler.GetSchedule(ctx, &sched.GetScheduleInput{GroupName: aws.String(group), Name: aws.String(name)})
		if err != nil {
			t.Fatalf("expiry schedule %s/%s: %v", group, name, err)
		}
		if !strings.HasPrefix(aws.ToString(sc.ScheduleExpression), "at(") || sc.Target == nil ||
			aws.ToString(sc.Target.Arn) != d.out[outRunnerArn] || aws.ToString(sc.Target.RoleArn) != d.out[outSchedulerRole] ||
			!strings.Contains(aws.ToString(sc.Target.Input), `"artifact_expiry"`) {
			t.Fatalf("expiry schedule %s/%s: %s -> %+v", group, name, aws.ToString(sc.ScheduleExpression), sc.Target)
		}
		// Its target runs: fire the payload at the schedule-runner now (nothing is due yet).
		inv, err := d.clients.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(d.out[outRunnerArn]), Payload: []byte(aws.ToString(sc.Target.Input))})
		if err != nil || inv.FunctionError != nil {
			t.Fatalf("schedule-runner: %v %s %s", err, aws.ToString(inv.FunctionError), inv.Payload)
		}
	})

	t.Run("sealer schedule", func(t *testing.T) {
		sc, err := scheduler.GetSchedule(ctx, &sched.GetScheduleInput{Name: aws.String(d.out[outSealerSchedule])})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(sc.ScheduleExpression) != "rate(1 minute)" || sc.State != "ENABLED" || sc.Target == nil ||
			!strings.HasSuffix(aws.ToString(sc.Target.Arn), ":function:"+d.out[outAuditSealer]) {
			t.Fatalf("sealer schedule: %s %s -> %+v", aws.ToString(sc.ScheduleExpression), sc.State, sc.Target)
		}
	})

	// The sealer writes the segment and the signed checkpoint; the proof route then answers,
	// and the proof verifies offline against the signing key's public key read from KMS.
	t.Run("sealed, proven, verified offline", func(t *testing.T) {
		proofPath := reports + "/evidence/" + settingsEvidence + "/proof"
		auditor := token[auth.AuditorViewer]
		var proof response
		var sealerErr string // the sealer seals every due tenant; another tenant's failure is reported, not fatal
		start := time.Now()
		for {
			proof = d.call(t, "GET", proofPath, auditor, nil, nil)
			if proof.status != 409 {
				break
			}
			if time.Since(start) > auditWait {
				t.Fatalf("no checkpoint covers %s after %s: %s (last sealer error: %s)", settingsEvidence, auditWait, proof.body, sealerErr)
			}
			// The schedule fires the sealer every minute; invoke it directly to not wait.
			inv, err := d.clients.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(d.out[outAuditSealer])})
			switch {
			case err != nil:
				sealerErr = err.Error()
			case inv.FunctionError != nil:
				sealerErr = aws.ToString(inv.FunctionError) + " " + string(inv.Payload)
			}
			time.Sleep(2 * time.Second)
		}
		if sealerErr != "" {
			t.Logf("the audit sealer reported: %s", sealerErr)
		}
		if proof.status != 200 {
			t.Fatalf("proof: %d %s", proof.status, proof.body)
		}
		pub, err := keys.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(d.out["SigningKeyArn"])})
		if err != nil {
			t.Fatal(err)
		}
		res, err := auditlog.VerifyProof(proof.body, pub.PublicKey)
		if err != nil {
			t.Fatalf("the proof does not verify offline: %v\n%s", err, proof.body)
		}
		if res.EvidenceRef != settingsEvidence || res.TenantRef != "tenant:"+tenant || res.TreeSize < 2 {
			t.Fatalf("proof of %s in %s (tree %d), want %s in tenant:%s", res.EvidenceRef, res.TenantRef, res.TreeSize, settingsEvidence, tenant)
		}
		t.Logf("proof of %s: leaf %d of %d, root %s, key %s", res.EvidenceRef, res.LeafIndex, res.TreeSize, res.RootHash, res.KeyFingerprint)

		// Segment and checkpoint are in the bucket, COMPLIANCE-locked for audit_record days.
		bucket := aws.String(d.out["ArtifactBucketName"])
		for _, dir := range []string{"segments/", "checkpoints/"} {
			prefix := "tenants/" + tenant + "/audit/" + dir
			list, err := d.clients.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String(prefix)})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Contents) == 0 {
				t.Fatalf("no objects under %s", prefix)
			}
			for _, o := range list.Contents {
				head, err := d.clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				if head.ObjectLockMode != "COMPLIANCE" || head.ObjectLockRetainUntilDate == nil ||
					!head.ObjectLockRetainUntilDate.After(time.Now().Add(2554*24*time.Hour)) {
					t.Fatalf("%s: lock %q until %v, want COMPLIANCE for 2555 days", aws.ToString(o.Key), head.ObjectLockMode, head.ObjectLockRetainUntilDate)
				}
			}
		}
	})
}

type renderedArtifact struct {
	Format            string `json:"format"`
	RetainUntil       string `json:"retain_until"`
	ImmutableStoreRef string `json:"immutable_store_ref"`
}

func renderArtifacts(t *testing.T, body []byte) []renderedArtifact {
	t.Helper()
	var out struct {
		Artifacts []renderedArtifact `json:"artifacts"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Artifacts
}
