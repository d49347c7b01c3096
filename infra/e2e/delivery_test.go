package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
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
// sends nothing; the listing shows all three.
func TestDelivery(t *testing.T) {
	d := deployed(t)
	for _, o := range []string{outApprovalMachine, outSenderIdentity} {
		if d.out[o] == "" {
			t.Fatalf("stack output %s missing: the deployment predates the delivery work (make emulator-deploy)", o)
		}
	}
	ctx := context.Background()
	tenant := "e2e-dlv-" + randomSuffix(t)
	if _, err := d.svc.Tenants.Create(ctx, tenant, "E2E Delivery Corp", tenancy.Enterprise); err != nil {
		t.Fatalf("seed tenant: %v", err)
	}
	token := map[auth.Role]string{}
	for _, role := range []auth.Role{auth.TenantAdmin, auth.ReportOperator, auth.Approver} {
		tok, _, err := d.svc.Tokens.Issue(ctx, tenant, role, "system")
		if err != nil {
			t.Fatalf("issue %s token: %v", role, err)
		}
		token[role] = tok
	}
	admin, operator, approver := token[auth.TenantAdmin], token[auth.ReportOperator], token[auth.Approver]
	put := func(path string, body any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		if r := d.call(t, "PUT", reports+path, admin, raw, nil); r.status != 200 {
			t.Fatalf("PUT %s: %d %s", path, r.status, r.body)
		}
	}
	put("/settings", map[string]any{"delivery_provider": map[string]any{"mode": "ses", "sender_address": d.out[outSenderIdentity]}})
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
		if n := len(sesMessages(t, to)); n != 0 {
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
		if n := len(sesMessages(t, to)); n != 0 {
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
		msgs := sesMessages(t, to)
		if len(msgs) != 1 {
			t.Fatalf("%d mails in the SES store after the approval, want 1", len(msgs))
		}
		if got := attachmentDigest(t, msgs[0]); got != art.Digest {
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
		pastApprovalWindow(t, d, tenant, strings.TrimPrefix(out["delivery_ref"].(string), "delivery:"))
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
		if n := len(sesMessages(t, to)); n != 0 {
			t.Fatalf("an expired approval sent %d mails", n)
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
		want := []string{delivery.StatusBlocked, delivery.StatusDelivered, delivery.StatusExpired}
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
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: region, Endpoint: d.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	client := sfn.NewFromConfig(cfg)
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

// pastApprovalWindow rewrites the delivery's approval_expires_at to a minute ago, keeping
// its version, so the deployed functions see the window passed.
func pastApprovalWindow(t *testing.T, d *deployment, tenant, id string) {
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
	rec["approval_expires_at"] = time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)
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

// sesMessages returns the raw messages the SES store (the mail moto) holds for address.
func sesMessages(t *testing.T, address string) [][]byte {
	t.Helper()
	var data struct {
		SES struct {
			RawMessage []struct {
				Destinations []string `json:"destinations"`
				RawData      string   `json:"raw_data"`
			} `json:"RawMessage"`
		} `json:"ses"`
	}
	// moto's model dump answers 500 now and then while other requests change its state.
	for try := 0; ; try++ {
		resp, err := http.Get(mailMoto() + "/moto-api/data.json")
		if err != nil {
			t.Fatalf("mail moto: %v (scripts/emulators.sh up)", err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(raw, &data); err != nil {
				t.Fatal(err)
			}
			break
		}
		if try == 20 {
			t.Fatalf("mail moto data: %d", resp.StatusCode)
		}
		time.Sleep(250 * time.Millisecond)
	}
	var out [][]byte
	for _, m := range data.SES.RawMessage {
		if slices.Contains(m.Destinations, address) {
			out = append(out, []byte(m.RawData))
		}
	}
	return out
}

// attachmentDigest returns the digest of the one attachment of a raw message.
func attachmentDigest(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no attachment in the mail: %v", err)
		}
		if p.FileName() == "" {
			continue
		}
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			body = base64.NewDecoder(base64.StdEncoding, p)
		}
		data, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return objectstore.DigestOf(data)
	}
}
