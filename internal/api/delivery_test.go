package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/emlmail"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer/mailertest"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

const (
	policyPath     = "/enterprise/aispm/reports/recipient-policy"
	sendPath       = "/enterprise/aispm/reports/send"
	deliveriesPath = "/enterprise/aispm/reports/deliveries"
	distPath       = "/enterprise/aispm/reports/distributions/"
)

const testPolicy = `{
  "domain_rules": [
    {"domain": "acme.example", "classification": "internal", "allowed_channels": ["email", "portal"]},
    {"domain": "partner.example", "classification": "external_partner", "allowed_channels": ["email"]},
    {"domain": "evil.example", "classification": "blocked", "allowed_channels": []}
  ],
  "recipient_groups": [{"group_ref": "group:board", "member_count": 7}],
  "default_action": "deny",
  "external_delivery_default": "require_approval"
}`

type deliveryReply struct {
	DeliveryRef     string             `json:"delivery_ref"`
	DistributionRef string             `json:"distribution_ref"`
	Status          string             `json:"status"`
	Recipients      []string           `json:"recipients"`
	RecipientCount  int                `json:"recipient_count"`
	PolicyDecision  delivery.Decision  `json:"policy_decision"`
	Attempts        []delivery.Attempt `json:"attempts"`
	EvidenceRefs    []string           `json:"evidence_refs"`
	SubjectDigest   string             `json:"subject_digest"`
	Approval        *delivery.Approval `json:"approval"`
	StatusReason    string             `json:"status_reason"`
	NextAttemptAt   string             `json:"next_attempt_at"`
}

func decodeDelivery(t *testing.T, r reply) deliveryReply {
	t.Helper()
	var d deliveryReply
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return d
}

// deliveryEnv is acme with sending settings, the test policy and one rendered csv artifact.
func deliveryEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t)
	admin := e.as("acme", auth.TenantAdmin)
	if r := e.call("PUT", settingsPath, admin, []byte(goodSettings), nil); r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	if r := e.call("PUT", policyPath, admin, []byte(testPolicy), nil); r.status != 200 {
		t.Fatalf("policy: %d %s", r.status, r.body)
	}
	seedEvents(t, e, "acme", 20, "dlv")
	out := e.render(t, auth.ReportOperator, renderBody("agent_risk_register", "csv"))
	return e, out.Artifacts[0].ArtifactRef
}

func (e *env) send(t *testing.T, key string, body map[string]any) reply {
	t.Helper()
	return e.call("POST", sendPath, e.as("acme", auth.ReportOperator), mustJSON(t, body), map[string]string{"Idempotency-Key": key})
}

func emailBody(artifact string, to ...string) map[string]any {
	return map[string]any{"artifact_ref": artifact, "channel": "email", "recipients": to, "message": "Weekly register"}
}

func outbox(t *testing.T, e *env) []emlmail.Entry {
	t.Helper()
	list, err := e.app.Outbox.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestRecipientPolicyCRUD(t *testing.T) {
	e := newEnv(t)
	admin := e.as("acme", auth.TenantAdmin)
	got := e.call("GET", policyPath, e.as("acme", auth.Approver), nil, nil)
	if got.status != 200 || got.json(t)["configured"] != false {
		t.Fatalf("default policy: %d %s", got.status, got.body)
	}
	requireError(t, e.call("PUT", policyPath, e.as("acme", auth.ReportOperator), []byte(testPolicy), nil), 403, "forbidden", "")
	requireError(t, e.call("GET", policyPath, e.as("acme", auth.AuditorViewer), nil, nil), 403, "forbidden", "")
	before := e.evidenceCount("acme")
	for body, field := range map[string]string{
		strings.Replace(testPolicy, "acme.example", "not a domain", 1):                            "domain_rules[0].domain",
		strings.Replace(testPolicy, "evil.example", "acme.example", 1):                            "domain_rules[2].domain",
		strings.Replace(testPolicy, `"deny"`, `"sometimes"`, 1):                                   "default_action",
		strings.Replace(testPolicy, `"internal"`, `"friends"`, 1):                                 "domain_rules[0].classification",
		strings.Replace(testPolicy, `"allowed_channels": []`, `"allowed_channels": ["email"]`, 1): "domain_rules[2].allowed_channels",
	} {
		r := e.call("PUT", policyPath, admin, []byte(body), nil)
		requireError(t, r, 400, "", field)
	}
	if e.evidenceCount("acme") != before {
		t.Fatal("a refused policy wrote evidence")
	}
	put := e.call("PUT", policyPath, admin, []byte(testPolicy), nil)
	if put.status != 200 || put.json(t)["version"] != float64(1) || e.evidenceCount("acme") != before+1 {
		t.Fatalf("put: %d %s", put.status, put.body)
	}
	requireError(t, e.call("PUT", policyPath, admin, []byte(testPolicy), map[string]string{"If-Match": `"7"`}), 412, "version_mismatch", "If-Match")
	read := e.call("GET", policyPath, e.as("acme", auth.SecurityLeadership), nil, nil).json(t)
	if read["version"] != float64(1) || len(read["policy"].(map[string]any)["domain_rules"].([]any)) != 3 {
		t.Fatalf("read back: %v", read)
	}
	if e.call("GET", policyPath, e.as("globex", auth.TenantAdmin), nil, nil).json(t)["configured"] != false {
		t.Fatal("globex sees acme's policy")
	}
}

func TestEvaluate(t *testing.T) {
	p, err := delivery.ParsePolicy([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		channel string
		to      []string
		want    string
		reason  string
	}{
		{"email", []string{"a@acme.example"}, delivery.Allow, ""},
		{"email", []string{"a@acme.example", "b@partner.example"}, delivery.RequireApproval, "external_recipient"},
		{"email", []string{"a@evil.example", "b@partner.example"}, delivery.BlockedPolicy, "domain_blocked"},
		{"email", []string{"a@unknown.example"}, delivery.BlockedPolicy, "domain_not_in_policy"},
		{"portal", []string{"b@partner.example"}, delivery.BlockedPolicy, "channel_not_allowed_for_domain"},
		{"portal", nil, delivery.Allow, ""},
	} {
		d := delivery.Evaluate(p, c.channel, c.to)
		if d.Outcome != c.want || c.reason != "" && !strings.Contains(strings.Join(d.Reasons, ","), c.reason) {
			t.Errorf("%s %v: %+v, want %s (%s)", c.channel, c.to, d, c.want, c.reason)
		}
	}
	p.ChannelEligibility["grc"] = false
	if d := delivery.Evaluate(p, "grc", nil); d.Outcome != delivery.BlockedPolicy {
		t.Errorf("ineligible channel: %+v", d)
	}
}

func TestSendBlockedAllowedAndApproved(t *testing.T) {
	e, art := deliveryEnv(t)
	blocked := e.send(t, "key-blocked-1", emailBody(art, "x@evil.example"))
	if blocked.status != 201 || decodeDelivery(t, blocked).Status != delivery.StatusBlocked {
		t.Fatalf("blocked: %d %s", blocked.status, blocked.body)
	}
	if n := len(outbox(t, e)); n != 0 {
		t.Fatalf("a blocked send mailed %d messages", n)
	}
	if len(decodeDelivery(t, blocked).EvidenceRefs) != 1 {
		t.Fatalf("blocked delivery has no evidence: %s", blocked.body)
	}

	ok := e.send(t, "key-allowed-1", emailBody(art, "Ops@Acme.example"))
	d := decodeDelivery(t, ok)
	if ok.status != 201 || d.Status != delivery.StatusDelivered || len(d.Attempts) != 1 {
		t.Fatalf("allowed: %d %s", ok.status, ok.body)
	}
	mails := outbox(t, e)
	if len(mails) != 1 || mails[0].To[0] != "ops@acme.example" {
		t.Fatalf("outbox: %+v", mails)
	}
	checkAttachment(t, e, mails[0].ID, d.SubjectDigest)

	gated := decodeDelivery(t, e.send(t, "key-gated-1", emailBody(art, "cfo@partner.example")))
	if gated.Status != delivery.StatusPendingApproval {
		t.Fatalf("gated: %+v", gated)
	}
	approve := distPath + gated.DistributionRef + "/approve"
	requireError(t, e.call("POST", approve, e.as("acme", auth.AuditorViewer), nil, nil), 403, "forbidden", "")
	requireError(t, e.call("POST", approve, e.as("acme", auth.ReportOperator), nil, nil), 403, "forbidden", "")
	requireError(t, e.call("POST", approve, e.as("globex", auth.Approver), nil, nil), 404, "unknown_distribution", "distribution_ref")
	requireError(t, e.call("POST", approve, e.as("acme", auth.Approver), []byte(`{"reason_code":"Not Valid"}`), nil), 400, "", "reason_code")
	if len(outbox(t, e)) != 1 {
		t.Fatal("mail left before approval")
	}
	r := e.call("POST", approve, e.as("acme", auth.Approver), []byte(`{"reason_code":"quarterly_review"}`), nil)
	done := decodeDelivery(t, r)
	if r.status != 200 || done.Status != delivery.StatusDelivered || done.Approval == nil || done.Approval.ApproverRole != "approver" ||
		done.Approval.BoundDigest != done.SubjectDigest {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	if len(outbox(t, e)) != 2 {
		t.Fatal("approved send was not mailed")
	}
	requireError(t, e.call("POST", approve, e.as("acme", auth.SecurityLeadership), nil, nil), 409, "already_decided", "distribution_ref")
	requireError(t, e.call("POST", distPath+gated.DistributionRef+"/deny", e.as("acme", auth.Approver), nil, nil), 409, "already_decided", "distribution_ref")

	denied := decodeDelivery(t, e.send(t, "key-gated-2", emailBody(art, "cto@partner.example")))
	r = e.call("POST", distPath+denied.DeliveryRef+"/deny", e.as("acme", auth.SecurityLeadership), nil, nil)
	if r.status != 200 || decodeDelivery(t, r).Status != delivery.StatusDenied || len(outbox(t, e)) != 2 {
		t.Fatalf("deny: %d %s", r.status, r.body)
	}
	e.checkNoAddressInEvidence(t, "acme")
}

// checkAttachment parses the stored mail and compares its attachment with the artifact.
func checkAttachment(t *testing.T, e *env, id, digest string) {
	t.Helper()
	msg, _, err := e.app.Outbox.Read(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg.Raw))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Header.Get("From"), "reports@acme.example") {
		t.Fatalf("From: %s", m.Header.Get("From"))
	}
	if got := mailertest.AttachmentDigest(t, msg.Raw); got != digest {
		t.Fatalf("attachment digest %s, artifact %s", got, digest)
	}
}

func (e *env) checkNoAddressInEvidence(t *testing.T, tenant string) {
	t.Helper()
	for _, rec := range e.evidenceRecords(t, tenant) {
		raw, _ := json.Marshal(rec)
		if strings.Contains(string(raw), "@") {
			t.Fatalf("evidence %s holds an address: %s", rec.Ref, raw)
		}
	}
}

func TestSendRefusesBadInputAndWritesNothing(t *testing.T) {
	e, art := deliveryEnv(t)
	other := e.render(t, auth.ReportOperator, renderBody("agent_risk_register", "json")) // acme's
	_ = other
	before := e.evidenceCount("acme")
	op := e.as("acme", auth.ReportOperator)
	cases := []struct {
		body        map[string]any
		key         string
		status      int
		code, field string
	}{
		{emailBody(art, "not-an-address"), "key-bad-0001", 400, "invalid_field", "recipients[0]"},
		{emailBody(art, "a@acme.example", "A@acme.example"), "key-bad-0002", 400, "invalid_field", "recipients[1]"},
		{map[string]any{"artifact_ref": art, "channel": "fax"}, "key-bad-0003", 400, "", "channel"},
		{map[string]any{"artifact_ref": art, "channel": "email"}, "key-bad-0004", 400, "invalid_field", "recipients"},
		{map[string]any{"artifact_ref": art, "channel": "grc"}, "key-bad-0005", 400, "invalid_field", "package_ref"},
		{map[string]any{"channel": "portal"}, "key-bad-0006", 400, "invalid_field", "artifact_ref"},
		{emailBody(art, "a@acme.example"), "short", 400, "invalid_field", "Idempotency-Key"},
		{emailBody("artifact:art_00000000000000000000000000", "a@acme.example"), "key-bad-0007", 404, "unknown_artifact", "artifact_ref"},
	}
	for _, c := range cases {
		r := e.call("POST", sendPath, op, mustJSON(t, c.body), map[string]string{"Idempotency-Key": c.key})
		requireError(t, r, c.status, c.code, c.field)
	}
	requireError(t, e.call("POST", sendPath, op, mustJSON(t, emailBody(art, "a@acme.example")), nil), 400, "invalid_field", "Idempotency-Key")
	// Another tenant's artifact is unknown to globex.
	r := e.call("POST", sendPath, e.as("globex", auth.ReportOperator), mustJSON(t, map[string]any{"artifact_ref": art, "channel": "portal"}),
		map[string]string{"Idempotency-Key": "key-globex-1"})
	requireError(t, r, 404, "unknown_artifact", "artifact_ref")
	requireError(t, e.call("POST", sendPath, e.as("acme", auth.Approver), mustJSON(t, emailBody(art, "a@acme.example")),
		map[string]string{"Idempotency-Key": "key-bad-0008"}), 403, "forbidden", "")
	if e.evidenceCount("acme") != before || len(outbox(t, e)) != 0 {
		t.Fatal("a refused send changed state")
	}
	// The same key with another body is a conflict, not a second send.
	if r := e.send(t, "key-reuse-1", emailBody(art, "a@acme.example")); r.status != 201 {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	requireError(t, e.send(t, "key-reuse-1", emailBody(art, "b@acme.example")), 409, "idempotency_key_reused", "Idempotency-Key")
	if len(outbox(t, e)) != 1 {
		t.Fatal("key reuse sent again")
	}
}

func TestTwoHundredConcurrentSendsDeliverOnce(t *testing.T) {
	e, art := deliveryEnv(t)
	statuses := raceCalls(200, func(int) int {
		return e.send(t, "key-race-0001", emailBody(art, "team@acme.example")).status
	})
	if statuses[201] != 1 || statuses[200] != 199 {
		t.Fatalf("statuses %v, want one 201 and 199 replays", statuses)
	}
	if n := len(outbox(t, e)); n != 1 {
		t.Fatalf("%d mails for one idempotency key", n)
	}
	page := e.call("GET", deliveriesPath, e.as("acme", auth.TenantAdmin), nil, nil).json(t)
	if n := len(page["deliveries"].([]any)); n != 1 {
		t.Fatalf("%d deliveries for one idempotency key", n)
	}
}

func raceCalls(n int, call func(i int) int) map[int]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[int]int{}
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s := call(i)
			mu.Lock()
			out[s]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func TestHundredConcurrentDecisionsRecordOne(t *testing.T) {
	e, art := deliveryEnv(t)
	gated := decodeDelivery(t, e.send(t, "key-decide-1", emailBody(art, "cfo@partner.example")))
	statuses := raceCalls(100, func(i int) int {
		verb, role := "/approve", auth.Approver
		if i%2 == 1 {
			verb, role = "/deny", auth.SecurityLeadership
		}
		return e.call("POST", distPath+gated.DistributionRef+verb, e.as("acme", role), nil, nil).status
	})
	if statuses[200] != 1 || statuses[409] != 99 {
		t.Fatalf("statuses %v, want one 200 and 99 conflicts", statuses)
	}
	n := 0
	for _, rec := range e.evidenceRecords(t, "acme") {
		if rec.Action == evidence.ApprovalDecided {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d decisions recorded", n)
	}
	final := decodeDelivery(t, e.call("GET", deliveriesPath, e.as("acme", auth.TenantAdmin), nil, nil).firstDelivery(t))
	if sent := len(outbox(t, e)); final.Status == delivery.StatusDelivered && sent != 1 || final.Status == delivery.StatusDenied && sent != 0 {
		t.Fatalf("status %s with %d mails", final.Status, sent)
	}
}

func (r reply) firstDelivery(t *testing.T) reply {
	t.Helper()
	var page struct {
		Deliveries []json.RawMessage `json:"deliveries"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Deliveries) == 0 {
		t.Fatalf("no deliveries: %s", r.body)
	}
	return reply{status: r.status, body: page.Deliveries[0]}
}

func TestSelfApprovalIsRefused(t *testing.T) {
	e, art := deliveryEnv(t)
	gated := decodeDelivery(t, e.send(t, "key-self-1", emailBody(art, "cfo@partner.example")))
	rec, err := e.app.Delivery.Get(context.Background(), "acme", gated.DeliveryRef)
	if err != nil {
		t.Fatal(err)
	}
	// The route table keeps senders and approvers apart; the domain also refuses a token
	// deciding on its own request, whatever its role.
	_, err = e.app.Delivery.Decide(context.Background(), delivery.DecideInput{TenantID: "acme", Role: "approver",
		TokenRef: rec.RequesterTokenRef, DeliveryRef: gated.DeliveryRef, Approve: true})
	if err == nil || !strings.Contains(err.Error(), "self_approval") {
		t.Fatalf("self approval: %v", err)
	}
}

func TestApprovalExpiresAndSendsNothing(t *testing.T) {
	e, art := deliveryEnv(t)
	gated := decodeDelivery(t, e.send(t, "key-expire-1", emailBody(art, "cfo@partner.example")))
	e.clock.Advance(73 * time.Hour) // settings: approval_timeout_hours 72
	if _, err := e.app.Gates.Expire(context.Background()); err != nil {
		t.Fatal(err)
	}
	requireError(t, e.call("POST", distPath+gated.DistributionRef+"/approve", e.as("acme", auth.Approver), nil, nil), 409, "approval_expired", "distribution_ref")
	got := decodeDelivery(t, e.call("GET", deliveriesPath+"?status=expired", e.as("acme", auth.Approver), nil, nil).firstDelivery(t))
	if got.Status != delivery.StatusExpired || len(outbox(t, e)) != 0 {
		t.Fatalf("expired: %+v", got)
	}
	requireError(t, e.call("POST", distPath+gated.DistributionRef+"/deny", e.as("acme", auth.Approver), nil, nil), 409, "approval_expired", "distribution_ref")
}

// flakyMailer fails its first n sends with err, then hands over to next.
type flakyMailer struct {
	mu   sync.Mutex
	n    int
	err  error
	next mailer.Sender
}

func (f *flakyMailer) Send(ctx context.Context, m mailer.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n > 0 {
		f.n--
		return "", fmt.Errorf("provider said no: %w", f.err)
	}
	return f.next.Send(ctx, m)
}

func TestTransientFailureIsRetriedWithBackoff(t *testing.T) {
	e, art := deliveryEnv(t)
	e.app.Delivery.SetJitter(func(time.Duration) time.Duration { return 0 })
	e.app.Delivery.Mailer = &flakyMailer{n: 1, err: mailer.ErrThrottled, next: e.app.Outbox}
	r := decodeDelivery(t, e.send(t, "key-retry-1", emailBody(art, "ops@acme.example")))
	if r.Status != delivery.StatusRetryScheduled || r.Attempts[0].FailureClass != delivery.FailProviderRateLimit || len(outbox(t, e)) != 0 {
		t.Fatalf("first attempt: %+v", r)
	}
	// Not due yet (base 30 s): the sweep leaves it.
	e.clock.Advance(10 * time.Second)
	if n, err := e.app.Delivery.RetryDue(context.Background(), "acme"); err != nil || n != 0 {
		t.Fatalf("early sweep moved %d: %v", n, err)
	}
	e.clock.Advance(25 * time.Second)
	if err := e.app.Scheduler.Tick(context.Background()); err != nil { // the retry's one-shot sweep
		t.Fatal(err)
	}
	got := decodeDelivery(t, e.call("GET", deliveriesPath, e.as("acme", auth.ReportOperator), nil, nil).firstDelivery(t))
	if got.Status != delivery.StatusDelivered || len(got.Attempts) != 2 || len(outbox(t, e)) != 1 {
		t.Fatalf("after retry: %+v, %d mails", got, len(outbox(t, e)))
	}
	for _, a := range got.Attempts {
		if a.EvidenceRef == "" {
			t.Fatalf("attempt without evidence: %+v", a)
		}
	}

	// A provider that keeps throttling dead-letters after max attempts (5).
	e.app.Delivery.Mailer = &flakyMailer{n: 100, err: mailer.ErrThrottled, next: e.app.Outbox}
	r = decodeDelivery(t, e.send(t, "key-retry-2", emailBody(art, "ops@acme.example")))
	for i := 0; i < 6; i++ {
		e.clock.Advance(time.Hour)
		if _, err := e.app.Delivery.RetryDue(context.Background(), "acme"); err != nil {
			t.Fatal(err)
		}
	}
	got = decodeDelivery(t, e.call("GET", deliveriesPath+"?status=dead_lettered", e.as("acme", auth.ReportOperator), nil, nil).firstDelivery(t))
	if got.DeliveryRef != r.DeliveryRef || len(got.Attempts) != 5 {
		t.Fatalf("dead letter: %+v", got)
	}
	// A provider auth failure is not retried.
	e.app.Delivery.Mailer = &flakyMailer{n: 1, err: mailer.ErrAuth, next: e.app.Outbox}
	r = decodeDelivery(t, e.send(t, "key-retry-3", emailBody(art, "ops@acme.example")))
	if r.Status != delivery.StatusDeadLettered || r.Attempts[0].FailureClass != delivery.FailProviderAuth {
		t.Fatalf("auth failure: %+v", r)
	}
	if len(outbox(t, e)) != 1 {
		t.Fatal("failed sends mailed")
	}
}

func TestPortalAndGRCChannels(t *testing.T) {
	e, art := deliveryEnv(t)
	r := decodeDelivery(t, e.send(t, "key-portal-1", map[string]any{"artifact_ref": art, "channel": "portal"}))
	if r.Status != delivery.StatusDelivered {
		t.Fatalf("portal: %+v", r)
	}
	if _, err := e.app.Items.Get(context.Background(), delivery.InboxKey("acme"), r.DistributionRef); err != nil {
		t.Fatalf("no inbox entry: %v", err)
	}
	pkg := e.call("POST", packagesPath, e.as("acme", auth.TenantAdmin),
		mustJSON(t, map[string]any{"package_type": "board_and_audit_bundle", "artifact_refs": []string{art}}), nil)
	var pb struct {
		PackageRef string `json:"package_ref"`
	}
	json.Unmarshal(pkg.body, &pb)
	g := decodeDelivery(t, e.send(t, "key-grc-1", map[string]any{"package_ref": pb.PackageRef, "channel": "grc"}))
	if g.Status != delivery.StatusDelivered {
		t.Fatalf("grc: %+v", g)
	}
	key := delivery.GRCKey("acme", "", pb.PackageRef, "manifest.json")
	if _, err := e.app.Objects.Head(context.Background(), key, ""); err != nil {
		t.Fatalf("grc export missing at %s: %v", key, err)
	}
}

func TestDeliveriesListing(t *testing.T) {
	e, art := deliveryEnv(t)
	e.send(t, "key-list-0001", emailBody(art, "x@evil.example"))
	e.send(t, "key-list-0002", emailBody(art, "ops@acme.example"))
	e.send(t, "key-list-0003", map[string]any{"artifact_ref": art, "channel": "portal"})
	e.send(t, "key-list-0004", emailBody(art, "cfo@partner.example"))
	admin := e.as("acme", auth.TenantAdmin)
	all := e.call("GET", deliveriesPath, admin, nil, nil).json(t)["deliveries"].([]any)
	if len(all) != 4 {
		t.Fatalf("%d deliveries", len(all))
	}
	if f := all[0].(map[string]any); f["status"] != delivery.StatusPendingApproval || f["recipients"] == nil {
		t.Fatalf("newest first, recipients for admins: %v", f)
	}
	for q, want := range map[string]int{"?status=blocked_policy": 1, "?channel=portal": 1, "?channel=email": 3,
		"?report_id=agent_risk_register": 4, "?from=2026-11-29T00:00:00Z": 0, "?to=2026-11-27T00:00:00Z": 0, "?from=2026-11-28T00:00:00Z": 4} {
		if got := len(e.call("GET", deliveriesPath+q, admin, nil, nil).json(t)["deliveries"].([]any)); got != want {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}
	// Pages of one.
	seen, cursor := 0, ""
	for {
		p := e.call("GET", deliveriesPath+"?limit=1&cursor="+cursor, admin, nil, nil).json(t)
		seen += len(p["deliveries"].([]any))
		next, _ := p["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if seen != 4 {
		t.Fatalf("paged %d", seen)
	}
	aud := e.call("GET", deliveriesPath, e.as("acme", auth.AuditorViewer), nil, nil)
	if aud.status != 200 || strings.Contains(string(aud.body), "@") {
		t.Fatalf("auditor sees addresses: %s", aud.body)
	}
	if len(e.call("GET", deliveriesPath, e.as("globex", auth.TenantAdmin), nil, nil).json(t)["deliveries"].([]any)) != 0 {
		t.Fatal("globex sees acme's deliveries")
	}
	requireError(t, e.call("GET", deliveriesPath+"?status=lost", admin, nil, nil), 400, "invalid_field", "status")
	requireError(t, e.call("GET", deliveriesPath+"?limit=0", admin, nil, nil), 400, "invalid_field", "limit")
	requireError(t, e.call("GET", deliveriesPath+"?cursor=zzz", admin, nil, nil), 400, "invalid_field", "cursor")
}

func TestLargeArtifactIsLinkedNotAttached(t *testing.T) {
	e, art := deliveryEnv(t)
	small := strings.Replace(goodSettings, `"sender_address": "reports@acme.example"}`,
		`"sender_address": "reports@acme.example", "max_attachment_bytes": 1024}`, 1)
	if r := e.call("PUT", settingsPath, e.as("acme", auth.TenantAdmin), []byte(small), nil); r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	rec, err := e.app.Artifacts.Get(context.Background(), "acme", art)
	if err != nil || rec.Size <= 1024 {
		t.Fatalf("artifact of %d bytes is too small for this test: %v", rec.Size, err)
	}
	if d := decodeDelivery(t, e.send(t, "key-link-1", emailBody(art, "ops@acme.example"))); d.Status != delivery.StatusDelivered {
		t.Fatalf("send: %+v", d)
	}
	msg, _, err := e.app.Outbox.Read(context.Background(), outbox(t, e)[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(msg.Raw)
	if strings.Contains(raw, "Content-Disposition: attachment") || !strings.Contains(raw, "http://127.0.0.1") {
		t.Fatalf("want a link and no attachment:\n%s", raw)
	}
	e.checkNoAddressInEvidence(t, "acme")
	for _, rec := range e.evidenceRecords(t, "acme") {
		if b, _ := json.Marshal(rec); strings.Contains(string(b), "http") {
			t.Fatalf("evidence %s holds a link", rec.Ref)
		}
	}
}

// crashingMailer dies as a worker killed mid-attempt: after the provider accepted the mail
// (handedOver) or before it got it, with the outcome never recorded.
type crashingMailer struct {
	next       mailer.Sender
	handedOver bool
}

func (c crashingMailer) Send(ctx context.Context, m mailer.Message) (string, error) {
	if c.handedOver {
		if _, err := c.next.Send(ctx, m); err != nil {
			return "", err
		}
	}
	panic("worker killed mid-attempt")
}

// senderOnly hides the outbox's Find, as a provider that cannot be asked about a message.
type senderOnly struct{ next mailer.Sender }

func (s senderOnly) Send(ctx context.Context, m mailer.Message) (string, error) {
	return s.next.Send(ctx, m)
}

// crashMidSend sends through a mailer that kills the worker, restores a working mailer
// (sweeper), and runs the watchdog sweep once the claim is old enough.
func crashMidSend(t *testing.T, e *env, art, key string, crash, sweeper mailer.Sender) deliveryReply {
	t.Helper()
	e.app.Delivery.Mailer = crash
	if r := e.send(t, key, emailBody(art, "ops@acme.example")); r.status != 500 {
		t.Fatalf("crashed send: %d %s", r.status, r.body)
	}
	e.app.Delivery.Mailer = sweeper
	if got := listFirst(t, e); got.Status != delivery.StatusSending {
		t.Fatalf("after the crash: %+v", got)
	}
	// The worker may still be running (Lambda allows 15 minutes): the sweep leaves it.
	e.clock.Advance(15 * time.Minute)
	if n, err := e.app.Delivery.RetryDue(context.Background(), "acme"); err != nil || n != 0 {
		t.Fatalf("early sweep moved %d: %v", n, err)
	}
	// The watchdog sweep scheduled before the claim finds it abandoned.
	e.clock.Advance(7 * time.Minute)
	if err := e.app.Scheduler.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	return listFirst(t, e)
}

func listFirst(t *testing.T, e *env) deliveryReply {
	t.Helper()
	return decodeDelivery(t, e.call("GET", deliveriesPath, e.as("acme", auth.ReportOperator), nil, nil).firstDelivery(t))
}

// A provider that cannot be asked: the abandoned attempt is dead-lettered with its outcome
// unknown and the listing says why; it is never sent again.
func TestDeadWorkerIsDeadLetteredNotResent(t *testing.T) {
	e, art := deliveryEnv(t)
	got := crashMidSend(t, e, art, "key-crash-1", crashingMailer{next: e.app.Outbox, handedOver: true}, senderOnly{e.app.Outbox})
	if got.Status != delivery.StatusDeadLettered || len(got.Attempts) != 1 ||
		got.Attempts[0].Outcome != delivery.OutcomeUnknown || got.Attempts[0].FailureClass != delivery.FailUnknown ||
		got.Attempts[0].EvidenceRef == "" || got.StatusReason != delivery.ReasonOutcomeUnknown || len(outbox(t, e)) != 1 {
		t.Fatalf("abandoned attempt: %+v, %d mails", got, len(outbox(t, e)))
	}
	// At most once: neither a later sweep nor the client's retry sends it again.
	e.clock.Advance(time.Hour)
	if _, err := e.app.Delivery.RetryDue(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	replayed := decodeDelivery(t, e.send(t, "key-crash-1", emailBody(art, "ops@acme.example")))
	if replayed.Status != delivery.StatusDeadLettered || len(outbox(t, e)) != 1 {
		t.Fatalf("replay: %+v, %d mails", replayed, len(outbox(t, e)))
	}
}

// The outbox can be asked: a mail that left before the crash makes the delivery delivered,
// with no second mail.
func TestDeadWorkerWhoseMailLeftIsReconciledDelivered(t *testing.T) {
	e, art := deliveryEnv(t)
	got := crashMidSend(t, e, art, "key-crash-2", crashingMailer{next: e.app.Outbox, handedOver: true}, e.app.Outbox)
	if got.Status != delivery.StatusDelivered || got.StatusReason != delivery.ReasonReconciled || len(got.Attempts) != 1 ||
		got.Attempts[0].Outcome != delivery.OutcomeSucceeded || len(outbox(t, e)) != 1 {
		t.Fatalf("reconciled attempt: %+v, %d mails", got, len(outbox(t, e)))
	}
}

// The outbox can be asked: a mail that never left is retried, and sent exactly once.
func TestDeadWorkerWhoseMailNeverLeftIsRetried(t *testing.T) {
	e, art := deliveryEnv(t)
	got := crashMidSend(t, e, art, "key-crash-3", crashingMailer{next: e.app.Outbox}, e.app.Outbox)
	if got.Status != delivery.StatusRetryScheduled || got.StatusReason != delivery.ReasonNotSent || len(outbox(t, e)) != 0 {
		t.Fatalf("abandoned unsent attempt: %+v, %d mails", got, len(outbox(t, e)))
	}
	e.clock.Advance(2 * time.Hour)
	if _, err := e.app.Delivery.RetryDue(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	if got := listFirst(t, e); got.Status != delivery.StatusDelivered || len(got.Attempts) != 2 || len(outbox(t, e)) != 1 {
		t.Fatalf("retry of the unsent attempt: %+v, %d mails", got, len(outbox(t, e)))
	}
}

// failingScheduler refuses every schedule, as a scheduler outage.
type failingScheduler struct{}

func (failingScheduler) Create(context.Context, scheduler.Schedule) error {
	return errors.New("scheduler unavailable")
}

func TestNoAttemptWithoutItsWatchdogAndTheRetryAttempts(t *testing.T) {
	e, art := deliveryEnv(t)
	working := e.app.Delivery.Scheduler
	e.app.Delivery.Scheduler = failingScheduler{}
	if r := e.send(t, "key-watchdog-1", emailBody(art, "ops@acme.example")); r.status != 500 {
		t.Fatalf("send without a watchdog: %d %s", r.status, r.body)
	}
	got := decodeDelivery(t, e.call("GET", deliveriesPath, e.as("acme", auth.ReportOperator), nil, nil).firstDelivery(t))
	if got.Status != delivery.StatusQueued || len(outbox(t, e)) != 0 {
		t.Fatalf("unclaimed delivery: %+v, %d mails", got, len(outbox(t, e)))
	}
	e.app.Delivery.Scheduler = working
	r := decodeDelivery(t, e.send(t, "key-watchdog-1", emailBody(art, "ops@acme.example")))
	if r.DeliveryRef != got.DeliveryRef || r.Status != delivery.StatusDelivered || len(outbox(t, e)) != 1 {
		t.Fatalf("client retry: %+v, %d mails", r, len(outbox(t, e)))
	}
}
