package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sched "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cavra-enterprise/aispm-reports/internal/app"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/ebsched"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/kmssigner"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/s3worm"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sesmail"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sfngate"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/localserver"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// awsFamily is the product on its AWS adapters, behind the same router the Lambdas run:
// DynamoDB, KMS and EventBridge Scheduler on MiniStack, S3 Object Lock on moto (which,
// unlike MiniStack, locks each version).
type awsFamily struct {
	svc     *app.Services
	objects *s3worm.Store
	sched   *ebsched.Store
	clock   *clock.Manual
	url     string
	tokens  map[auth.Role]string
	tenant  string
	// Delivery: SES v2 on the mail moto with a verified sender, the Step Functions gate on
	// MiniStack with its tokens and claims in the same DynamoDB table.
	mailMoto string
	sender   string
	ses      *sesmail.Sender
}

func newAWSFamily(t *testing.T) *awsFamily {
	t.Helper()
	ctx := context.Background()
	ms, moto := emulatortest.MiniStack(t), emulatortest.Moto(t)
	msCfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: ms})
	if err != nil {
		t.Fatal(err)
	}
	motoCfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: moto})
	if err != nil {
		t.Fatal(err)
	}
	suffix := randomSuffix(t)
	ddb := dynamodb.NewFromConfig(msCfg)
	table := "reports-emu-" + suffix
	if err := dynamostore.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}) })
	s3c := s3worm.NewClient(motoCfg)
	bucket := "reports-emu-" + suffix
	if err := s3worm.CreateBucket(ctx, s3c, bucket); err != nil {
		t.Fatal(err)
	}
	kmsc := kms.NewFromConfig(msCfg)
	keyID, err := kmssigner.CreateKey(ctx, kmsc, "reports emulator test "+suffix)
	if err != nil {
		t.Fatal(err)
	}
	f := &awsFamily{clock: clock.NewManual(time.Now().UTC().Truncate(time.Second)), tenant: "emu-" + suffix, tokens: map[auth.Role]string{}}
	f.objects = s3worm.New(s3c, s3.NewPresignClient(s3c), bucket)
	// The emulator does not check the target; the test hands the schedule's payload to Fire
	// itself, as the schedule-runner Lambda would.
	f.sched = ebsched.New(sched.NewFromConfig(msCfg), ebsched.Target{
		FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:schedule-runner",
		RoleARN:     "arn:aws:iam::000000000000:role/scheduler-invoke",
	})
	items := dynamostore.New(ddb, table, f.clock)
	f.mailMoto, f.sender = emulatortest.MotoMail(t), "reports@"+suffix+".example.com"
	mailCfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: f.mailMoto})
	if err != nil {
		t.Fatal(err)
	}
	sesc := sesv2.NewFromConfig(mailCfg)
	if _, err := sesc.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(f.sender)}); err != nil {
		t.Fatal(err)
	}
	f.ses = sesmail.New(sesc)
	sfnc := sfn.NewFromConfig(msCfg)
	sm, act, err := sfngate.Provision(ctx, sfnc, "gate-"+suffix, "arn:aws:iam::000000000000:role/approval-gate")
	if err != nil {
		t.Fatal(err)
	}
	f.svc = app.Build(ports.Set{
		Items:     items,
		Objects:   f.objects,
		Scheduler: f.sched,
		Signer:    kmssigner.New(kmsc, keyID),
		Clock:     f.clock,
		Mailer:    f.ses,
		Gate: sfngate.New(sfnc, sfngate.NewItemTokens(items),
			sfngate.Config{StateMachineARN: sm, ActivityARN: act, TokenWait: 20 * time.Second}),
	})
	if _, err := f.svc.Tenants.Create(ctx, f.tenant, "Emulator Corp", tenancy.Enterprise); err != nil {
		t.Fatal(err)
	}
	// The test moves its clock past retention periods: its tokens outlive that.
	issuer := auth.NewTokens(items, f.clock, auth.Fixed(100*365*24*time.Hour))
	for _, role := range auth.Roles {
		tok, _, err := issuer.Issue(ctx, f.tenant, role, "system")
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[role] = tok
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(localserver.Handler(f.svc.Router(log), f.svc.Tokens, localserver.Options{}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func (f *awsFamily) call(t *testing.T, method, path string, role auth.Role, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.tokens[role])
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// ingest stores n events over the two days before now.
func (f *awsFamily) ingest(t *testing.T, n int) {
	t.Helper()
	decisions := []string{"allowed", "blocked", "approval_required", "denied"}
	day := f.clock.Now().Truncate(24 * time.Hour)
	var envs []any
	for i := range n {
		at := day.Add(-48*time.Hour + time.Duration(i)*17*time.Minute)
		envs = append(envs, map[string]any{
			"schema_version": "aispm.ingest_envelope.v1", "idempotency_key": fmt.Sprintf("emu-%05d", i),
			"source": map[string]any{"kind": "coding_agent", "connector": []string{"agent-cli", "cursor"}[i%2], "agent": fmt.Sprintf("agent-%d", i%3)},
			"event": map[string]any{"event_id": fmt.Sprintf("evt-%05d", i), "occurred_at": at.Format(time.RFC3339), "type": "tool_call",
				"decision": decisions[i%len(decisions)], "severity": "high", "policy_pack": "baseline", "control_ids": []string{"AC-3"},
				"action_category": "shell", "risk_score": i % 100},
			"content": map[string]any{"raw_prompt_included": false, "model_reasoning_included": false, "tool_output_included": false},
		})
	}
	if st, out := f.call(t, "POST", "/enterprise/aispm/ingest", auth.ReportOperator, map[string]any{"envelopes": envs}); st != 202 {
		t.Fatalf("ingest: %d %v", st, out)
	}
}

type renderedArtifact struct {
	ArtifactRef string `json:"artifact_ref"`
	Format      string `json:"format"`
	Digest      string `json:"digest"`
	RetainUntil string `json:"retain_until"`
}

func (f *awsFamily) render(t *testing.T, body map[string]any) ([]renderedArtifact, string) {
	t.Helper()
	st, out := f.call(t, "POST", "/enterprise/aispm/reports/render", auth.TenantAdmin, body)
	if st != 201 {
		t.Fatalf("render: %d %v", st, out)
	}
	raw, _ := json.Marshal(out["artifacts"])
	var arts []renderedArtifact
	if err := json.Unmarshal(raw, &arts); err != nil {
		t.Fatal(err)
	}
	pkg := ""
	if p, ok := out["package"].(map[string]any); ok {
		pkg, _ = p["package_ref"].(string)
	}
	return arts, pkg
}

// TestRenderManifestAndRetentionOnTheAWSAdapters runs the issue's chain on the emulators:
// deterministic render into S3 Object Lock, a KMS-signed manifest verified offline (and
// its tampering detected), legal hold, refusals by the product and by the WORM store,
// expiry fired from the stored EventBridge schedule, and the retrieval decisions.
func TestRenderManifestAndRetentionOnTheAWSAdapters(t *testing.T) {
	f := newAWSFamily(t)
	ctx := context.Background()
	f.ingest(t, 150)
	now := f.clock.Now()
	window := map[string]any{"from": now.Add(-72 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}
	body := map[string]any{"report_id": "executive_risk_brief", "formats": []string{"json", "csv", "pdf", "xlsx", "zip"},
		"window": window, "package_type": "board_and_audit_bundle"}
	first, pkg := f.render(t, body)
	f.clock.Advance(time.Hour)
	delete(body, "package_type")
	second, _ := f.render(t, body)
	for i := range first {
		if first[i].Digest != second[i].Digest {
			t.Errorf("%s: digests differ between renders of one snapshot on DynamoDB/S3", first[i].Format)
		}
	}

	// Every artifact is a COMPLIANCE-locked version in S3 until its retain-until.
	for _, a := range first {
		rec, err := f.svc.Artifacts.Get(ctx, f.tenant, a.ArtifactRef)
		if err != nil {
			t.Fatal(err)
		}
		info, err := f.objects.Head(ctx, rec.ObjectKey, rec.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Retention.Mode != objectstore.Compliance || !info.Retention.Until.Equal(rec.Until().Truncate(time.Second)) && !info.Retention.Until.Equal(rec.Until()) {
			t.Errorf("%s: retention %+v, record says %s", a.Format, info.Retention, rec.RetainUntil)
		}
		if info.Digest != a.Digest {
			t.Errorf("%s: stored digest %s, reported %s", a.Format, info.Digest, a.Digest)
		}
	}

	checkSignedPackage(t, f, pkg)
	checkLifecycle(t, f, first)
}

func checkSignedPackage(t *testing.T, f *awsFamily, pkg string) {
	t.Helper()
	ctx := context.Background()
	rec, err := f.svc.Packages.Get(ctx, f.tenant, pkg)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Manifest.Signing.Algorithm != signer.ECDSAP256 {
		t.Fatalf("manifest signed with %s", rec.Manifest.Signing.Algorithm)
	}
	// Manifest and signature are WORM objects: the store refuses to delete them.
	for _, o := range [][2]string{{rec.ManifestKey, rec.ManifestVer}, {rec.SignatureKey, rec.SignatureVer}} {
		if err := f.objects.DeleteVersion(ctx, o[0], o[1]); !errors.Is(err, objectstore.ErrLocked) {
			t.Fatalf("delete %s: %v", o[0], err)
		}
	}
	bundle := func() string {
		dir := filepath.Join(t.TempDir(), "bundle")
		if _, err := f.svc.Packages.ExportBundle(ctx, f.tenant, pkg, dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	kmsKey, err := f.svc.Signer.PublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := bundle()
	if res, err := manifest.Verify(os.DirFS(dir), kmsKey); err != nil || res.Artifacts != 5 {
		t.Fatalf("verify the KMS-signed bundle: %+v %v", res, err)
	}
	pdfs, _ := filepath.Glob(filepath.Join(dir, "artifacts", "*.pdf"))
	rewrite(t, pdfs[0], func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
	if _, err := manifest.Verify(os.DirFS(dir), kmsKey); !errors.Is(err, manifest.ErrArtifact) {
		t.Fatalf("tampered artifact: %v", err)
	}
	dir = bundle()
	rewrite(t, filepath.Join(dir, manifest.ManifestFile), func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"board_and_audit_bundle"`), []byte(`"grc_upload_package"`), 1)
	})
	if _, err := manifest.Verify(os.DirFS(dir), kmsKey); !errors.Is(err, manifest.ErrManifest) {
		t.Fatalf("tampered manifest: %v", err)
	}
}

func rewrite(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkLifecycle(t *testing.T, f *awsFamily, arts []renderedArtifact) {
	t.Helper()
	ctx := context.Background()
	held, free := arts[2], arts[0] // pdf held, json free
	path := "/enterprise/aispm/reports/artifacts/"
	if st, out := f.call(t, "POST", path+held.ArtifactRef+"/legal-hold", auth.SecurityLeadership, map[string]any{"case_ref": "case:emu-1"}); st != 200 {
		t.Fatalf("hold: %d %v", st, out)
	}
	rec, _ := f.svc.Artifacts.Get(ctx, f.tenant, held.ArtifactRef)
	if info, err := f.objects.Head(ctx, rec.ObjectKey, rec.VersionID); err != nil || !info.LegalHold {
		t.Fatalf("S3 legal hold not set: %+v %v", info, err)
	}
	if st, out := f.call(t, "DELETE", path+free.ArtifactRef, auth.TenantAdmin, nil); st != 409 {
		t.Fatalf("delete while retained: %d %v", st, out)
	}

	// The render scheduled an expiry sweep; fire its stored payload past retain-until.
	until, _ := time.Parse(time.RFC3339Nano, free.RetainUntil)
	day := until.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	s, err := f.sched.Get(ctx, artifacts.ScheduleGroup(f.tenant), "artifact-expiry-"+day.Format("20060102"))
	if err != nil {
		t.Fatalf("expiry schedule: %v", err)
	}
	if s.Expression != scheduler.OneShot(day) {
		t.Fatalf("expiry schedule %s", s.Expression)
	}
	t.Cleanup(func() { _ = f.sched.Delete(ctx, s.Group, s.Name) })
	f.clock.Advance(day.Add(time.Minute).Sub(f.clock.Now()))
	if err := f.svc.Fire(ctx, scheduler.Firing{Group: s.Group, Name: s.Name, Payload: s.Payload, At: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.svc.Artifacts.Get(ctx, f.tenant, free.ArtifactRef); rec.State != artifacts.Expired {
		t.Fatalf("after the firing the free artifact is %s", rec.State)
	}
	if rec, _ := f.svc.Artifacts.Get(ctx, f.tenant, held.ArtifactRef); rec.State != artifacts.LegalHold {
		t.Fatalf("after the firing the held artifact is %s", rec.State)
	}
	decision := func(ref string) map[string]any {
		st, out := f.call(t, "POST", path+ref+"/retrieval", auth.AuditorViewer, nil)
		if st != 200 {
			t.Fatalf("retrieval: %d %v", st, out)
		}
		return out
	}
	if d := decision(free.ArtifactRef); d["access_decision"] != "expired" || d["url"] != nil {
		t.Fatalf("expired artifact: %v", d)
	}
	// The held artifact is still served, by a presigned S3 link to its locked version.
	d := decision(held.ArtifactRef)
	url, _ := d["url"].(string)
	if d["access_decision"] != "allow" || !strings.Contains(url, "X-Amz-Signature") {
		t.Fatalf("held artifact: %v", d)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || objectstore.DigestOf(got) != held.Digest {
		t.Fatalf("presigned link: %d, %d bytes", resp.StatusCode, len(got))
	}
	// The product lets an expired artifact go, but S3 still holds it under COMPLIANCE
	// retention by its own clock: the WORM store's refusal stands, nothing is deleted.
	if st, out := f.call(t, "DELETE", path+free.ArtifactRef, auth.TenantAdmin, nil); st != 409 || !strings.Contains(fmt.Sprint(out), "immutable store") {
		t.Fatalf("delete refused by S3: %d %v", st, out)
	}
	if st, out := f.call(t, "DELETE", path+held.ArtifactRef, auth.TenantAdmin, nil); st != 409 {
		t.Fatalf("delete on hold: %d %v", st, out)
	}
	if rec, _ := f.svc.Artifacts.Get(ctx, f.tenant, free.ArtifactRef); rec.State != artifacts.Expired {
		t.Fatalf("refused delete changed the record to %s", rec.State)
	}
}
