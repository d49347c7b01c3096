package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	sched "github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
)

// TestDeployedSchedule creates a report schedule through API Gateway, finds it in the
// emulator's EventBridge Scheduler with the runner as target and its revision as input,
// lets the emulator fire it, and reads the run and the mail it sent; a second schedule
// inside a blackout window records a deferral and sends nothing yet; a third fires during a
// provider outage, records a retry, and its send lands once when the provider is back.
func TestDeployedSchedule(t *testing.T) {
	d := deployed(t)
	ctx := context.Background()
	tenant, token := d.seedTenant(t, "e2e-sch-", "E2E Schedule Corp", auth.TenantAdmin, auth.ReportOperator)
	admin, operator := token[auth.TenantAdmin], token[auth.ReportOperator]
	put := func(path string, body any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		if r := d.call(t, "PUT", reports+path, admin, raw, nil); r.status != 200 {
			t.Fatalf("PUT %s: %d %s", path, r.status, r.body)
		}
	}
	put("/settings", map[string]any{"delivery_provider": map[string]any{"mode": "ses", "sender_address": d.out[outSenderIdentity]}})
	internal := tenant + ".example.org"
	put("/recipient-policy", map[string]any{
		"domain_rules":   []any{map[string]any{"domain": internal, "classification": "internal", "allowed_channels": []string{"email"}}},
		"default_action": "deny", "external_delivery_default": "require_approval",
	})
	now := time.Now().UTC()
	var envs []any
	for i := range 5 {
		envs = append(envs, envelope(fmt.Sprintf("e2e-sch-%s-%d", tenant, i), now.Add(-time.Duration(i+1)*time.Minute)))
	}
	body, _ := json.Marshal(map[string]any{"envelopes": envs})
	if r := d.call(t, "POST", "/enterprise/aispm/ingest", operator, body, nil); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}

	// Daily at the next whole minute but one (UTC), reporting on the last 24 hours.
	// The outage schedule fires two minutes later, once the first run's mail is in.
	fire := now.Truncate(time.Minute).Add(2 * time.Minute)
	outageFire := fire.Add(2 * time.Minute)
	to, outageTo := "ops@"+internal, "oncall@"+internal
	create := func(name string, at time.Time, recipient string, windows []any) reportschedule.Record {
		t.Helper()
		if windows == nil {
			windows = []any{}
		}
		raw, _ := json.Marshal(map[string]any{"name": name, "report_id": "agent_risk_register", "formats": []string{"csv"},
			"delivery": map[string]any{"channel": "email", "recipients": []string{recipient}},
			"schedule": map[string]any{"timezone": "UTC", "cadence": map[string]any{"kind": "daily", "time": at.Format("15:04")},
				"data_window": map[string]any{"kind": "last_hours", "hours": 24}, "blackout_windows": windows,
				"retry_policy": map[string]any{"max_attempts": 2, "backoff": "linear", "base_seconds": 300, "cap_seconds": 600}}})
		r := d.call(t, "POST", reports+"/schedules", operator, raw, nil)
		var rec reportschedule.Record
		if r.status != 201 || json.Unmarshal(r.body, &rec) != nil {
			t.Fatalf("create schedule: %d %s", r.status, r.body)
		}
		return rec
	}
	daily := create("E2E daily", fire, to, nil)
	outage := create("E2E outage", outageFire, outageTo, nil)
	held := create("E2E held", fire, to, []any{map[string]any{"window_ref": "window:e2e", "kind": "absolute",
		"starts_at": fire.Add(-time.Minute).Format(time.RFC3339), "ends_at": fire.Add(time.Hour).Format(time.RFC3339), "behavior": "defer"}})

	sc, err := d.clients.Scheduler.GetSchedule(ctx, &sched.GetScheduleInput{GroupName: aws.String("tenant-" + tenant), Name: aws.String("report-" + daily.ID())})
	if err != nil {
		t.Fatalf("the schedule is not in the emulator's Scheduler: %v", err)
	}
	var input reportschedule.Payload
	if json.Unmarshal([]byte(aws.ToString(sc.Target.Input)), &input) != nil || input.ScheduleID != daily.ID() || input.Revision != 1 || input.TenantID != tenant ||
		aws.ToString(sc.Target.Arn) != d.out[outRunnerArn] || aws.ToString(sc.ScheduleExpressionTimezone) != "UTC" ||
		!strings.HasPrefix(aws.ToString(sc.ScheduleExpression), fmt.Sprintf("cron(%d %d ", fire.Minute(), fire.Hour())) {
		t.Fatalf("scheduler entry: expression %s zone %s target %s input %s", aws.ToString(sc.ScheduleExpression),
			aws.ToString(sc.ScheduleExpressionTimezone), aws.ToString(sc.Target.Arn), aws.ToString(sc.Target.Input))
	}

	runs := func(rec reportschedule.Record) []reportschedule.Run {
		r := d.call(t, "GET", reports+"/schedules/"+rec.ScheduleRef+"/runs", admin, nil, nil)
		var out struct {
			Runs []reportschedule.Run `json:"runs"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
			t.Fatalf("runs: %d %s", r.status, r.body)
		}
		return out.Runs
	}
	// settled waits for the emulator to fire rec at nominal and the run to leave running.
	settled := func(rec reportschedule.Record, nominal time.Time, within time.Duration) reportschedule.Run {
		t.Helper()
		for {
			got := runs(rec)
			if len(got) == 1 && got[0].Outcome != reportschedule.OutcomeRunning {
				if got[0].NominalAt != nominal.Format(time.RFC3339) {
					t.Fatalf("run of %s: %+v", rec.ScheduleRef, got[0])
				}
				t.Logf("the emulator fired %s; run recorded %v after its nominal time", rec.ScheduleRef, time.Since(nominal).Round(time.Second))
				return got[0]
			}
			if time.Now().After(nominal.Add(within)) {
				t.Fatalf("no run of %s %v after the nominal fire: %+v", rec.ScheduleRef, time.Since(nominal).Round(time.Second), got)
			}
			time.Sleep(3 * time.Second)
		}
	}
	deadline := fire.Add(90 * time.Second)
	if run := settled(daily, fire, 90*time.Second); run.Outcome != reportschedule.OutcomeSent || run.DeliveryStatus != delivery.StatusDelivered {
		t.Fatalf("daily run: %+v", run)
	}
	if msgs := emulatortest.MotoMailTo(t, mailMoto(), to); len(msgs) != 1 {
		t.Fatalf("%d mails to the schedule's recipient, want 1", len(msgs))
	}
	// The provider goes down before the outage schedule's fire.
	if left := time.Until(outageFire); left < 10*time.Second {
		t.Fatalf("the first run took until %v before the outage schedule's fire; no time to stop the provider", left.Round(time.Second))
	}
	restore := mailOutage(t, d.out[outSenderIdentity])
	for {
		got := runs(held)
		if len(got) == 1 {
			if got[0].Outcome != reportschedule.OutcomeDeferred || got[0].WindowRef != "window:e2e" {
				t.Fatalf("held run: %+v", got[0])
			}
			break
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("the held schedule recorded no run: %+v", got)
		}
		time.Sleep(3 * time.Second)
	}
	checkOutageRetry(t, d, tenant, admin, settled(outage, outageFire, 90*time.Second), outageTo, restore)

	if r := d.call(t, "DELETE", reports+"/schedules/"+daily.ScheduleRef, operator, nil, nil); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, err := d.clients.Scheduler.GetSchedule(ctx, &sched.GetScheduleInput{GroupName: aws.String("tenant-" + tenant), Name: aws.String("report-" + daily.ID())}); err == nil {
		t.Fatal("a deleted schedule is still in the emulator's Scheduler")
	}
}

// checkOutageRetry takes the run of a schedule that fired during a provider outage: its send
// is waiting for a retry. With the provider back (restore), it moves the retry's due time
// into the past, fires the delivery sweep as the retry's Scheduler entry would, and expects
// exactly one mail and the run showing its delivery delivered.
func checkOutageRetry(t *testing.T, d *deployment, tenant, admin string, run reportschedule.Run, to string, restore func()) {
	t.Helper()
	if run.Outcome != reportschedule.OutcomeRetryScheduled || run.DeliveryStatus != delivery.StatusRetryScheduled || len(run.DeliveryRefs) != 1 {
		t.Fatalf("run during the provider outage: %+v", run)
	}
	dl := deliveryByRef(t, d, admin, run.DeliveryRefs[0])
	if len(dl.Attempts) != 1 || dl.Attempts[0].Outcome != delivery.OutcomeFailed {
		t.Fatalf("the run's send during the outage: %+v", dl)
	}
	if at, err := time.Parse(time.RFC3339Nano, dl.NextAttemptAt); err != nil || time.Until(at) < 150*time.Second {
		t.Fatalf("next attempt at %q, want the schedule's linear backoff of 300 s ahead (%v)", dl.NextAttemptAt, err)
	}
	if restore(); t.Failed() {
		t.FailNow()
	}
	pastDeadline(t, d, tenant, strings.TrimPrefix(dl.DeliveryRef, "delivery:"), "next_attempt_at")
	sweep, _ := json.Marshal(delivery.SweepPayload{Kind: delivery.SweepKind, TenantID: tenant})
	for range 2 { // the retry's firing, then a duplicate of it
		inv, err := d.clients.Lambda.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(d.out[outRunnerArn]), Payload: sweep})
		if err != nil || inv.FunctionError != nil {
			t.Fatalf("delivery sweep in the schedule-runner: %v %s %s", err, aws.ToString(inv.FunctionError), inv.Payload)
		}
	}
	if got := deliveryByRef(t, d, admin, dl.DeliveryRef); got.Status != delivery.StatusDelivered || len(got.Attempts) != 2 {
		t.Fatalf("the run's send after the retry: %+v", got)
	}
	if n := len(emulatortest.MotoMailTo(t, mailMoto(), to)); n != 1 {
		t.Fatalf("%d mails to the outage schedule's recipient after the retry, want 1", n)
	}
	r := d.call(t, "GET", reports+"/schedules/"+run.ScheduleRef+"/runs", admin, nil, nil)
	var out struct {
		Runs []reportschedule.Run `json:"runs"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil || len(out.Runs) != 1 ||
		out.Runs[0].Outcome != reportschedule.OutcomeRetryScheduled || out.Runs[0].DeliveryStatus != delivery.StatusDelivered {
		t.Fatalf("the run after its retry delivered: %d %s", r.status, r.body)
	}
}
