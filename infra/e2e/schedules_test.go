package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sched "github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
)

// TestDeployedSchedule creates a report schedule through API Gateway, finds it in the
// emulator's EventBridge Scheduler with the runner as target and its revision as input,
// lets the emulator fire it, and reads the run and the mail it sent; a second schedule
// inside a blackout window records a deferral and sends nothing yet.
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
	fire := now.Truncate(time.Minute).Add(2 * time.Minute)
	to := "ops@" + internal
	create := func(name string, windows []any) reportschedule.Record {
		t.Helper()
		if windows == nil {
			windows = []any{}
		}
		raw, _ := json.Marshal(map[string]any{"name": name, "report_id": "agent_risk_register", "formats": []string{"csv"},
			"delivery": map[string]any{"channel": "email", "recipients": []string{to}},
			"schedule": map[string]any{"timezone": "UTC", "cadence": map[string]any{"kind": "daily", "time": fire.Format("15:04")},
				"data_window": map[string]any{"kind": "last_hours", "hours": 24}, "blackout_windows": windows}})
		r := d.call(t, "POST", reports+"/schedules", operator, raw, nil)
		var rec reportschedule.Record
		if r.status != 201 || json.Unmarshal(r.body, &rec) != nil {
			t.Fatalf("create schedule: %d %s", r.status, r.body)
		}
		return rec
	}
	daily := create("E2E daily", nil)
	held := create("E2E held", []any{map[string]any{"window_ref": "window:e2e", "kind": "absolute",
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
	deadline := fire.Add(90 * time.Second)
	for {
		got := runs(daily)
		if len(got) == 1 && got[0].Outcome != reportschedule.OutcomeRunning {
			if got[0].Outcome != reportschedule.OutcomeSent || got[0].NominalAt != fire.Format(time.RFC3339) {
				t.Fatalf("run: %+v", got[0])
			}
			t.Logf("the emulator fired the schedule; run recorded %v after its nominal time", time.Since(fire).Round(time.Second))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run %v after the nominal fire: %+v", time.Since(fire).Round(time.Second), got)
		}
		time.Sleep(3 * time.Second)
	}
	if msgs := emulatortest.MotoMailTo(t, mailMoto(), to); len(msgs) != 1 {
		t.Fatalf("%d mails to the schedule's recipient, want 1", len(msgs))
	}
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
	if r := d.call(t, "DELETE", reports+"/schedules/"+daily.ScheduleRef, operator, nil, nil); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, err := d.clients.Scheduler.GetSchedule(ctx, &sched.GetScheduleInput{GroupName: aws.String("tenant-" + tenant), Name: aws.String("report-" + daily.ID())}); err == nil {
		t.Fatal("a deleted schedule is still in the emulator's Scheduler")
	}
}
