package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer/mailertest"
)

const (
	outApprovalMachine = "ApprovalStateMachineArn"
	outSenderIdentity  = "SenderIdentity"
)

// mailMoto is where the emulator target's functions send SES mail (localstack/README.md,
// "SES through the mail moto"): scripts/emulators.sh prints it.
func mailMoto() string {
	if ep := os.Getenv("AISPM_MOTO_MAIL_ENDPOINT"); ep != "" {
		return ep
	}
	return "http://127.0.0.1:5056"
}

// TestDelivery sends a rendered artifact through API Gateway and the deployed post-send,
// post-distribution-approve and get-deliveries Lambdas: a policy-blocked send leaves no mail
// in the SES store; an approval-gated send waits on the Step Functions gate (a running
// execution), the requester's token may not decide it, an approver's completes the callback
// and the mail with the artifact attached lands in the SES store; an approval past its
// window is expired by the delivery sweep in the deployed schedule-runner, then refused and
// sends nothing; a send during a mail provider outage (the mail moto stopped) fails as a
// transient failure with a retry scheduled, and the retry the schedule fires in the deployed
// schedule-runner delivers it once the provider is back; the listing shows them all.
func TestDelivery(t *testing.T) {
	d := deployed(t)
	for _, o := range []string{outApprovalMachine, outSenderIdentity} {
		if d.out[o] == "" {
			t.Fatalf("stack output %s missing: the deployment predates the delivery work (make emulator-deploy)", o)
		}
	}
	ctx := context.Background()
	tenant, token := d.seedTenant(t, "e2e-dlv-", "E2E Delivery Corp", auth.TenantAdmin, auth.ReportOperator, auth.Approver)
	admin, operator, approver := token[auth.TenantAdmin], token[auth.ReportOperator], token[auth.Approver]
	put := func(path string, body any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		if r := d.call(t, "PUT", reports+path, admin, raw, nil); r.status != 200 {
			t.Fatalf("PUT %s: %d %s", path, r.status, r.body)
		}
	}
	put("/settings", map[string]any{
		"delivery_provider": map[string]any{"mode": "ses", "sender_address": d.out[outSenderIdentity]},
		// A retry backoff far beyond the test, so the emulator's own scheduler (it fires due
		// schedules every 10 s) never retries while the provider is still down: the test fires
		// the retry itself once the provider is back (see "retried transient failure").
		"schedule_and_audit": map[string]any{"max_delivery_attempts": 5, "retry_base_seconds": retryBaseSeconds,
			"approval_timeout_hours": 72, "audit_checkpoint_entries": 1000, "audit_checkpoint_seconds": 300},
	})
	internal, partner, blocked := tenant+".example.org", tenant+"-partner.example.org", tenant+"-blocked.example.org"
	put("/recipient-policy", map[string]any{
		"domain_rules": []any{
			map[string]any{"domain": internal, "classification": "internal", "allowed_channels": []string{"email", "portal"}},
			map[string]any{"domain": partner, "classification": "external_auditor", "allowed_channels": []string{"email"}},
			map[string]any{"domain": blocked, "classification": "blocked", "allowed_channels": []string{}},
		},
		"default_action": "deny", "external_delivery_default": "require_approval",
	})

	// A rendered CSV artifact to send.
	now := time.Now().UTC().Truncate(time.Second)
	var envs []any
	for i := range 5 {
		envs = append(envs, envelope(fmt.Sprintf("e2e-dlv-%s-%d", tenant, i), now.Add(-time.Duration(i+1)*time.Minute)))
	}
	body, _ := json.Marshal(map[string]any{"envelopes": envs})
	if r := d.call(t, "POST", "/enterprise/aispm/ingest", operator, body, nil); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	body, _ = json.Marshal(map[string]any{"report_id": "agent_risk_register", "formats": []string{"csv"},
		"window": map[string]any{"from": now.Add(-2 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}})
	r := d.call(t, "POST", reports+"/render", operator, body, nil)
	if r.status != 201 {
		t.Fatalf("render: %d %s", r.status, r.body)
	}
	var rendered struct {
		Artifacts []struct {
			ArtifactRef string `json:"artifact_ref"`
			Digest      string `json:"digest"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(r.body, &rendered); err != nil || len(rendered.Artifacts) != 1 {
		t.Fatalf("render answer: %s (%v)", r.body, err)
	}
	art := rendered.Artifacts[0]

	send := func(t *testing.T, key, to string) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(map[string]any{"artifact_ref": art.ArtifactRef, "channel": "email", "recipients": []string{to}})
		r := d.call(t, "POST", reports+"/send", operator, raw, map[string]string{"Idempotency-Key": key})
		if r.status != 201 {
			t.Fatalf("send to %s: %d %s", to, r.status, r.body)
		}
		return r.json(t)
	}
	decide := func(t *testing.T, ref, verb, tok string) response {
		t.Helper()
		return d.call(t, "POST", reports+"/distributions/"+ref+"/"+verb, tok, nil, nil)
	}

	t.Run("policy-blocked send", func(t *testing.T) {
		to := "ciso@" + blocked
		out := send(t, "e2e-blocked-1", to)
		if out["status"] != delivery.StatusBlocked {
			t.Fatalf("blocked send: %v", out)
		}
		if n := len(emulatortest.MotoMailTo(t, mailMoto(), to)); n != 0 {
			t.Fatalf("a policy-blocked send left %d mails in the SES store", n)
		}
	})

	t.Run("approval through the Step Functions callback", func(t *testing.T) {
		to := "lead@" + partner
		out := send(t, "e2e-gated-1", to)
		ref, _ := out["distribution_ref"].(string)
		if out["status"] != delivery.StatusPendingApproval || ref == "" {
			t.Fatalf("gated send: %v", out)
		}
		exec := gateExecution(t, d, ref)
		if exec.Status != sfntypes.ExecutionStatusRunning {
			t.Fatalf("gate execution %s is %s before the decision, want RUNNING", aws.ToString(exec.Name), exec.Status)
		}
		if n := len(emulatortest.MotoMailTo(t, mailMoto(), to)); n != 0 {
			t.Fatalf("%d mails before the approval", n)
		}
		// The requester's token may not decide its own request.
		if r := decide(t, ref, "approve", operator); r.status != 403 {
			t.Fatalf("self-approval by the requester: %d %s", r.status, r.body)
		}
		r := decide(t, ref, "approve", approver)
		if r.status != 200 || r.json(t)["status"] != delivery.StatusDelivered {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		if exec = gateExecution(t, d, ref); exec.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("gate execution after the approval: %s, want SUCCEEDED", exec.Status)
		}
		msgs := emulatortest.MotoMailTo(t, mailMoto(), to)
		if len(msgs) != 1 {
			t.Fatalf("%d mails in the SES store after the approval, want 1", len(msgs))
		}
		if got := mailertest.AttachmentDigest(t, msgs[0]); got != art.Digest {
			t.Fatalf("mailed attachment %s, artifact %s", got, art.Digest)
		}
		if r := decide(t, ref, "deny", approver); r.status != 409 {
			t.Fatalf("deny after approval: %d %s", r.status, r.body)
		}
	})

	t.Run("expired approval", func(t *testing.T) {
		to := "late@" + partner
		out := send(t, "e2e-gated-2", to)
		ref, _ := out["distribution_ref"].(string)
		if out["status"] != delivery.StatusPendingApproval {
			t.Fatalf("gated send: %v", out)
		}
		// The approval window is whole hours (settings: approval_timeout_hours, 1 to 720);
		// rather than wait one, move the recorded deadline into the past, as time would.
		pastDeadline(t, d, tenant, strings.TrimPrefix(out["delivery_ref"].(string), "delivery:"), "approval_expires_at")
		// The delivery sweep a retry schedule fires (payload of internal/delivery) runs in the
		// deployed schedule-runner with the gate and mail configuration, and expires it.
		payload, _ := json.Marshal(delivery.SweepPayload{Kind: delivery.SweepKind, TenantID: tenant})
		inv, err := d.clients.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(d.out[outRunnerArn]), Payload: payload})
		if err != nil || inv.FunctionError != nil {
			t.Fatalf("delivery sweep in the schedule-runner: %v %s %s", err, aws.ToString(inv.FunctionError), inv.Payload)
		}
		if r := d.call(t, "GET", reports+"/deliveries?status=expired", admin, nil, nil); r.status != 200 || !strings.Contains(string(r.body), ref) {
			t.Fatalf("the sweep did not expire %s: %d %s", ref, r.status, r.body)
		}
		r := decide(t, ref, "approve", approver)
		if r.status != 409 || !strings.Contains(string(r.body), "approval_expired") {
			t.Fatalf("approve after the window: %d %s", r.status, r.body)
		}
		if n := len(emulatortest.MotoMailTo(t, mailMoto(), to)); n != 0 {
			t.Fatalf("an expired approval sent %d mails", n)
		}
	})

	t.Run("retried transient failure", func(t *testing.T) {
		to := "ops@" + internal // allowed by policy: sent at once, no approval
		restore := mailOutage(t, d.out[outSenderIdentity])
		first := sendView(t, send(t, "e2e-retry-1", to))
		id := strings.TrimPrefix(first.DeliveryRef, "delivery:")
		// A connection refused by the provider is a transient failure: retried, not dead-lettered.
		if first.Status != delivery.StatusRetryScheduled || len(first.Attempts) != 1 || first.Attempts[0].Outcome != delivery.OutcomeFailed ||
			first.FailureClass != delivery.FailUnknown || first.Attempts[0].FailureClass != delivery.FailUnknown {
			t.Fatalf("send during the provider outage: %+v", first)
		}
		if at, err := time.Parse(time.RFC3339Nano, first.NextAttemptAt); err != nil || time.Until(at) < retryBaseSeconds*time.Second/2 {
			t.Fatalf("next attempt at %q, want the backoff of %d s ahead (%v)", first.NextAttemptAt, retryBaseSeconds, err)
		}
		// The retry is a schedule on the emulator's EventBridge Scheduler, targeting the
		// deployed schedule-runner with the delivery sweep payload.
		sc, err := d.clients.Scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{
			GroupName: aws.String("tenant-" + tenant), Name: aws.String("delivery-retry-" + id + "-1")})
		if err != nil {
			t.Fatalf("retry schedule: %v", err)
		}
		var sweep delivery.SweepPayload
		if sc.Target == nil || aws.ToString(sc.Target.Arn) != d.out[outRunnerArn] ||
			json.Unmarshal([]byte(aws.ToString(sc.Target.Input)), &sweep) != nil || sweep != (delivery.SweepPayload{Kind: delivery.SweepKind, TenantID: tenant}) {
			t.Fatalf("retry schedule %s targets %+v", aws.ToString(sc.Arn), sc.Target)
		}
		// The attempt's watchdog, set before its claim, sweeps the same way 21 minutes on.
		wd, err := d.clients.Scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{
			GroupName: aws.String("tenant-" + tenant), Name: aws.String("delivery-watchdog-" + id + "-1")})
		if err != nil {
			t.Fatalf("watchdog schedule: %v", err)
		}
		if wd.Target == nil || aws.ToString(wd.Target.Arn) != d.out[outRunnerArn] || aws.ToString(wd.Target.Input) != aws.ToString(sc.Target.Input) {
			t.Fatalf("watchdog schedule %s targets %+v", aws.ToString(wd.Arn), wd.Target)
		}

		if restore(); t.Failed() { // the provider is back
			t.FailNow()
		}
		// Rather than wait out the backoff, move the recorded due time into the past, as time
		// would, and fire the schedule: its target with its input.
		pastDeadline(t, d, tenant, id, "next_attempt_at")
		fire := func() {
			t.Helper()
			inv, err := d.clients.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: sc.Target.Arn, Payload: []byte(aws.ToString(sc.Target.Input))})
			if err != nil || inv.FunctionError != nil {
				t.Fatalf("retry in the schedule-runner: %v %s %s", err, aws.ToString(inv.FunctionError), inv.Payload)
			}
		}
		fire()
		got := deliveryByRef(t, d, admin, first.DeliveryRef)
		if got.Status != delivery.StatusDelivered || len(got.Attempts) != 2 || got.Attempts[1].Outcome != delivery.OutcomeSucceeded || got.Attempts[1].FailureClass != "" {
			t.Fatalf("after the retry: %+v", got)
		}
		msgs := emulatortest.MotoMailTo(t, mailMoto(), to)
		if len(msgs) != 1 {
			t.Fatalf("%d mails in the SES store after the retry, want 1", len(msgs))
		}
		if digest := mailertest.AttachmentDigest(t, msgs[0]); digest != art.Digest {
			t.Fatalf("mailed attachment %s, artifact %s", digest, art.Digest)
		}
		// Evidence of each attempt, in the deployed table, intact.
		for i, a := range got.Attempts {
			if a.Number != i+1 || !slices.Contains(got.EvidenceRefs, a.EvidenceRef) {
				t.Fatalf("attempt %d: %+v (delivery evidence %v)", i+1, a, got.EvidenceRefs)
			}
			item := d.getItem(t, evidence.PartitionKey(tenant), strings.TrimPrefix(a.EvidenceRef, "evidence:"))
			var ev evidence.Record
			if item == nil || json.Unmarshal([]byte(attrString(item, "data")), &ev) != nil || ev.Verify() != nil {
				t.Fatalf("evidence %s of attempt %d missing or altered", a.EvidenceRef, a.Number)
			}
			if ev.Action != evidence.DeliveryAttempted || fmt.Sprint(ev.Details["attempt"]) != fmt.Sprint(a.Number) ||
				ev.Details["outcome"] != a.Outcome || fmt.Sprint(ev.Details["failure_class"]) != a.FailureClass {
				t.Fatalf("evidence %s of attempt %d: %s %v", a.EvidenceRef, a.Number, ev.Action, ev.Details)
			}
		}
		if got.Attempts[0].EvidenceRef == got.Attempts[1].EvidenceRef {
			t.Fatalf("both attempts share evidence %s", got.Attempts[0].EvidenceRef)
		}
		// No duplicate: the schedule firing again, and the same send replayed, send nothing more.
		fire()
		raw, _ := json.Marshal(map[string]any{"artifact_ref": art.ArtifactRef, "channel": "email", "recipients": []string{to}})
		r := d.call(t, "POST", reports+"/send", operator, raw, map[string]string{"Idempotency-Key": "e2e-retry-1"})
		if r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" || sendView(t, r.json(t)).DeliveryRef != first.DeliveryRef {
			t.Fatalf("replayed send: %d %s", r.status, r.body)
		}
		if again := deliveryByRef(t, d, admin, first.DeliveryRef); again.Status != delivery.StatusDelivered || len(again.Attempts) != 2 {
			t.Fatalf("after a second firing and a replay: %+v", again)
		}
		if n := len(emulatortest.MotoMailTo(t, mailMoto(), to)); n != 1 {
			t.Fatalf("%d mails after a second firing and a replay, want 1", n)
		}
	})

	t.Run("deliveries listing", func(t *testing.T) {
		r := d.call(t, "GET", reports+"/deliveries?limit=100", admin, nil, nil)
		if r.status != 200 {
			t.Fatalf("deliveries: %d %s", r.status, r.body)
		}
		var page struct {
			Deliveries []struct {
				Status   string `json:"status"`
				Attempts []any  `json:"attempts"`
			} `json:"deliveries"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, dl := range page.Deliveries {
			got = append(got, dl.Status)
		}
		slices.Sort(got)
		want := []string{delivery.StatusBlocked, delivery.StatusDelivered, delivery.StatusDelivered, delivery.StatusExpired}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("listed statuses %v, want %v: %s", got, want, r.body)
		}
		r = d.call(t, "GET", reports+"/deliveries?status=expired", admin, nil, nil)
		if r.status != 200 || strings.Count(string(r.body), `"status":"expired"`) < 1 || strings.Contains(string(r.body), `"status":"delivered"`) {
			t.Fatalf("filtered listing: %d %s", r.status, r.body)
		}
	})
}

// gateExecution finds the gate's execution for the delivery ref on the deployed machine.
func gateExecution(t *testing.T, d *deployment, ref string) *sfn.DescribeExecutionOutput {
	t.Helper()
	ctx := context.Background()
	client := d.clients.SFN
	id := ref[strings.LastIndex(ref, ":")+1:]
	var next *string
	for {
		page, err := client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(d.out[outApprovalMachine]), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			if strings.Contains(aws.ToString(e.Name), id) {
				out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: e.ExecutionArn})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
		}
		if next = page.NextToken; next == nil {
			t.Fatalf("no execution of %s for %s", d.out[outApprovalMachine], ref)
		}
	}
}

// pastDeadline rewrites a time of the delivery (approval_expires_at, next_attempt_at) to a
// minute ago, keeping its version, so the deployed functions see it passed.
func pastDeadline(t *testing.T, d *deployment, tenant, id, field string) {
	t.Helper()
	ctx := context.Background()
	key := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: delivery.PartitionKey(tenant)},
		"sk": &ddbtypes.AttributeValueMemberS{Value: id},
	}
	item := d.getItem(t, delivery.PartitionKey(tenant), id)
	if item == nil {
		t.Fatalf("delivery %s not in the table", id)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(attrString(item, "data")), &rec); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec[field].(string); !ok {
		t.Fatalf("delivery %s has no %s: %v", id, field, rec)
	}
	rec[field] = time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)
	data, _ := json.Marshal(rec)
	if _, err := d.clients.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.out["TableName"]), Key: key,
		UpdateExpression:          aws.String("SET #d = :d"),
		ExpressionAttributeNames:  map[string]string{"#d": "data"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":d": &ddbtypes.AttributeValueMemberS{Value: string(data)}},
	}); err != nil {
		t.Fatal(err)
	}
}

// retryBaseSeconds is the test tenant's delivery retry backoff (settings, 1 to 3600).
const retryBaseSeconds = 600

// deliveryJSON is the part of a delivery view (send answer, listing entry) the test reads.
type deliveryJSON struct {
	DeliveryRef   string             `json:"delivery_ref"`
	Status        string             `json:"status"`
	Attempts      []delivery.Attempt `json:"attempts"`
	EvidenceRefs  []string           `json:"evidence_refs"`
	NextAttemptAt string             `json:"next_attempt_at"`
	FailureClass  string             `json:"failure_class"`
}

func sendView(t *testing.T, m map[string]any) deliveryJSON {
	t.Helper()
	raw, _ := json.Marshal(m)
	var v deliveryJSON
	if err := json.Unmarshal(raw, &v); err != nil || v.DeliveryRef == "" {
		t.Fatalf("delivery view: %s (%v)", raw, err)
	}
	return v
}

// deliveryByRef finds one delivery in the listing the deployed get-deliveries function serves.
func deliveryByRef(t *testing.T, d *deployment, token, ref string) deliveryJSON {
	t.Helper()
	r := d.call(t, "GET", reports+"/deliveries?limit=100", token, nil, nil)
	if r.status != 200 {
		t.Fatalf("deliveries: %d %s", r.status, r.body)
	}
	var page struct {
		Deliveries []deliveryJSON `json:"deliveries"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	for _, v := range page.Deliveries {
		if v.DeliveryRef == ref {
			return v
		}
	}
	t.Fatalf("%s not in the listing: %s", ref, r.body)
	return deliveryJSON{}
}

// mailOutage makes a real provider outage: it stops the mail moto (scripts/emulators.sh stop
// moto-mail, the process its pid file names, never another) and returns what starts it again
// and verifies the sender identity anew (a restarted moto has lost its state). t.Cleanup
// calls it too, so a failure during the outage never leaves the later tests without mail.
func mailOutage(t *testing.T, sender string) (restore func()) {
	t.Helper()
	u, err := url.Parse(mailMoto())
	if err != nil || u.Port() == "" {
		t.Fatalf("mail moto endpoint %q has no port", mailMoto())
	}
	port := u.Port()
	root := filepath.Join("..", "..")
	// Only the mail moto scripts/emulators.sh started on this endpoint's port is ours to stop.
	pid, err := os.ReadFile(filepath.Join(root, ".cache", "emulators", "moto-mail.pid"))
	var args []byte
	if err == nil {
		args, err = exec.Command("ps", "-o", "args=", "-p", strings.TrimSpace(string(pid))).Output()
	}
	if f := strings.Fields(string(args)); err != nil || !strings.Contains(string(args), "moto_server") || !slices.Contains(f, "-p") ||
		slices.Index(f, "-p")+1 >= len(f) || f[slices.Index(f, "-p")+1] != port {
		msg := fmt.Sprintf("the mail moto at %s is not one scripts/emulators.sh started (pid file: %q, process: %q, %v); cannot stop it for an outage",
			mailMoto(), strings.TrimSpace(string(pid)), strings.TrimSpace(string(args)), err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	run := func(verb string) error {
		cmd := exec.Command(filepath.Join(root, "scripts", "emulators.sh"), verb, "moto-mail")
		cmd.Env = append(os.Environ(), "MOTO_MAIL_PORT="+port)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("scripts/emulators.sh %s moto-mail: %v: %s", verb, err, out)
		}
		return nil
	}
	down := false
	restore = func() {
		if !down {
			return
		}
		if err := run("start"); err != nil {
			t.Errorf("restart the mail moto: %v", err)
			return
		}
		if err := verifySender(sender); err != nil {
			t.Errorf("re-verify %s on the mail moto: %v", sender, err)
			return
		}
		down = false
	}
	t.Cleanup(restore)
	down = true
	if err := run("stop"); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(mailMoto() + "/moto-api/"); err == nil {
		resp.Body.Close()
		t.Fatalf("the mail moto still answers at %s after its stop", mailMoto())
	}
	return restore
}

// verifySender verifies address as a sender identity on the mail moto, as
// scripts/emulator-deploy.sh does (moto sends from verified identities only).
func verifySender(address string) error {
	form := url.Values{"Action": {"VerifyEmailIdentity"}, "Version": {"2010-12-01"}, "EmailAddress": {address}}
	var last error
	for try := 0; try < 5; try++ {
		req, err := http.NewRequest("POST", mailMoto()+"/", strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/"+time.Now().UTC().Format("20060102")+
			"/"+region+"/ses/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		last = err
		time.Sleep(250 * time.Millisecond)
	}
	return last
}
