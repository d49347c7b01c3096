package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer/mailertest"
)

const sendPath = "/enterprise/aispm/reports/send"

// send posts a send with an Idempotency-Key.
func (f *awsFamily) send(t *testing.T, key string, body map[string]any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.url+sendPath, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+f.tokens[auth.ReportOperator])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("send: %d %s", resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

type throttleOnce struct {
	mu   sync.Mutex
	done bool
	next mailer.Sender
}

func (s *throttleOnce) Send(ctx context.Context, m mailer.Message) (string, error) {
	s.mu.Lock()
	first := !s.done
	s.done = true
	s.mu.Unlock()
	if first {
		return "", fmt.Errorf("SES said slow down: %w", mailer.ErrThrottled)
	}
	return s.next.Send(ctx, m)
}

// TestDeliveryOnTheAWSAdapters runs the delivery issue's flows on DynamoDB and Step Functions
// (MiniStack) and S3 and SES v2 (moto): a policy-blocked send leaves no mail, 200 racing sends
// with one key mail once with the artifact attached, an approval-gated send completes through
// the Step Functions callback, 100 racing decisions record one, an approval expires, a
// throttled send is retried, and the listing shows it all.
func TestDeliveryOnTheAWSAdapters(t *testing.T) {
	f := newAWSFamily(t)
	ctx := context.Background()
	dom := strings.TrimPrefix(f.tenant, "emu-")
	internal, partner, blocked := dom+".example.org", dom+"-partner.example.org", dom+"-blocked.example.org"
	if st, out := f.call(t, "PUT", "/enterprise/aispm/reports/settings", auth.TenantAdmin, map[string]any{
		"delivery_provider": map[string]any{"mode": "ses", "sender_address": f.sender}}); st != 200 {
		t.Fatalf("settings: %d %v", st, out)
	}
	if st, out := f.call(t, "PUT", "/enterprise/aispm/reports/recipient-policy", auth.TenantAdmin, map[string]any{
		"domain_rules": []any{
			map[string]any{"domain": internal, "classification": "internal", "allowed_channels": []string{"email", "portal"}},
			map[string]any{"domain": partner, "classification": "external_auditor", "allowed_channels": []string{"email"}},
			map[string]any{"domain": blocked, "classification": "blocked", "allowed_channels": []string{}},
		},
		"default_action": "deny", "external_delivery_default": "require_approval"}); st != 200 {
		t.Fatalf("policy: %d %v", st, out)
	}
	f.ingest(t, 60)
	now := f.clock.Now()
	arts, _ := f.render(t, map[string]any{"report_id": "agent_risk_register", "formats": []string{"csv"},
		"window": map[string]any{"from": now.Add(-72 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}})
	art := arts[0]
	email := func(to string) map[string]any {
		return map[string]any{"artifact_ref": art.ArtifactRef, "channel": "email", "recipients": []string{to}}
	}

	// Blocked by policy: a blocked_policy delivery, nothing in SES.
	st, out := f.send(t, "emu-blocked-1", email("ciso@"+blocked))
	if st != 201 || out["status"] != delivery.StatusBlocked || len(emulatortest.MotoMailTo(t, f.mailMoto, "ciso@"+blocked)) != 0 {
		t.Fatalf("blocked: %d %v", st, out)
	}

	// 200 racing sends with one key: one delivery, one mail, the artifact attached.
	to := "team@" + internal
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			st, _ := f.send(t, "emu-race-0001", email(to))
			mu.Lock()
			codes[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	msgs := emulatortest.MotoMailTo(t, f.mailMoto, to)
	if codes[201] != 1 || codes[200] != 199 || len(msgs) != 1 {
		t.Fatalf("race: codes %v, %d mails", codes, len(msgs))
	}
	if got := mailertest.AttachmentDigest(t, msgs[0]); got != art.Digest {
		t.Fatalf("attachment %s, artifact %s", got, art.Digest)
	}

	// Approval-gated: the Step Functions execution waits on its task token until approved.
	auditor := "lead@" + partner
	st, out = f.send(t, "emu-gated-1", email(auditor))
	if st != 201 || out["status"] != delivery.StatusPendingApproval {
		t.Fatalf("gated: %d %v", st, out)
	}
	ref := out["distribution_ref"].(string)
	gs, err := f.svc.Delivery.Gate.Status(ctx, ref)
	if err != nil || gs.Status != "pending" {
		t.Fatalf("gate: %+v %v", gs, err)
	}
	if st, out = f.call(t, "POST", "/enterprise/aispm/reports/distributions/"+ref+"/approve", auth.Approver, nil); st != 200 || out["status"] != delivery.StatusDelivered {
		t.Fatalf("approve: %d %v", st, out)
	}
	if msgs := emulatortest.MotoMailTo(t, f.mailMoto, auditor); len(msgs) != 1 || mailertest.AttachmentDigest(t, msgs[0]) != art.Digest {
		t.Fatalf("approved mail: %d", len(msgs))
	}

	// 100 racing decisions on one gated send: one outcome.
	_, out = f.send(t, "emu-gated-2", email("second@"+partner))
	ref2 := out["distribution_ref"].(string)
	codes = map[int]int{}
	for i := range 100 {
		wg.Go(func() {
			verb, role := "/approve", auth.Approver
			if i%2 == 1 {
				verb, role = "/deny", auth.SecurityLeadership
			}
			st, _ := f.call(t, "POST", "/enterprise/aispm/reports/distributions/"+ref2+verb, role, nil)
			mu.Lock()
			codes[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[200] != 1 || codes[409] != 99 {
		t.Fatalf("decision race: %v", codes)
	}

	// Expired: past the approval window nothing is sent.
	_, out = f.send(t, "emu-gated-3", email("late@"+partner))
	ref3 := out["distribution_ref"].(string)
	f.clock.Advance(73 * time.Hour)
	if st, out = f.call(t, "POST", "/enterprise/aispm/reports/distributions/"+ref3+"/approve", auth.Approver, nil); st != 409 {
		t.Fatalf("expired approve: %d %v", st, out)
	}
	if len(emulatortest.MotoMailTo(t, f.mailMoto, "late@"+partner)) != 0 {
		t.Fatal("an expired approval sent mail")
	}

	// A throttled send is retried after its backoff and mailed once.
	f.svc.Delivery.Mailer = &throttleOnce{next: f.ses}
	retryTo := "retry@" + internal
	if _, out = f.send(t, "emu-retry-1", email(retryTo)); out["status"] != delivery.StatusRetryScheduled {
		t.Fatalf("retry: %v", out)
	}
	f.clock.Advance(2 * time.Minute)
	if n, err := f.svc.Delivery.RetryDue(ctx, f.tenant); err != nil || n != 1 {
		t.Fatalf("retry sweep: %d %v", n, err)
	}
	if len(emulatortest.MotoMailTo(t, f.mailMoto, retryTo)) != 1 {
		t.Fatal("retried send not mailed once")
	}

	st, out = f.call(t, "GET", "/enterprise/aispm/reports/deliveries?limit=100", auth.TenantAdmin, nil)
	list, _ := out["deliveries"].([]any)
	statuses := map[string]int{}
	for _, d := range list {
		statuses[d.(map[string]any)["status"].(string)]++
	}
	if st != 200 || len(list) != 6 || statuses[delivery.StatusExpired] != 1 || statuses[delivery.StatusBlocked] != 1 || statuses[delivery.StatusDelivered] < 3 {
		t.Fatalf("listing: %d %v", st, statuses)
	}
}
