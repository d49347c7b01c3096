package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

const schedulesPath = "/enterprise/aispm/reports/schedules"

// scheduleBody is a daily 09:00 Berlin email of the risk register to an internal address,
// reporting on the last 96 hours (the seeded events are 25-27 November).
func scheduleBody(mod func(b, spec map[string]any)) map[string]any {
	spec := map[string]any{"timezone": "Europe/Berlin", "cadence": map[string]any{"kind": "daily", "time": "09:00"},
		"data_window": map[string]any{"kind": "last_hours", "hours": 96}}
	b := map[string]any{"name": "Daily register", "report_id": "agent_risk_register", "formats": []string{"csv"},
		"delivery": map[string]any{"channel": "email", "recipients": []string{"ops@acme.example"}}, "schedule": spec}
	if mod != nil {
		mod(b, spec)
	}
	return b
}

type scheduleView struct {
	reportschedule.Record
	NextRunAt *string `json:"next_run_at"`
	Version   int64   `json:"version"`
}

func (e *env) createSchedule(t *testing.T, body map[string]any) scheduleView {
	t.Helper()
	r := e.call("POST", schedulesPath, e.as("acme", auth.ReportOperator), mustJSON(t, body), nil)
	var v scheduleView
	if r.status != 201 || json.Unmarshal(r.body, &v) != nil || v.ScheduleRef == "" {
		t.Fatalf("create schedule: %d %s", r.status, r.body)
	}
	return v
}

func (e *env) runs(t *testing.T, ref string) []reportschedule.Run {
	t.Helper()
	r := e.call("GET", schedulesPath+"/"+ref+"/runs", e.as("acme", auth.TenantAdmin), nil, nil)
	var out struct {
		Runs []reportschedule.Run `json:"runs"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
		t.Fatalf("runs: %d %s", r.status, r.body)
	}
	return out.Runs
}

// tickAt moves the clock to at and fires what is due.
func (e *env) tickAt(t *testing.T, at string) {
	t.Helper()
	when, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(when.Sub(e.clock.Now()))
	if err := e.app.Scheduler.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestScheduleRunsOnceAtEachNominalFire(t *testing.T) {
	e, _ := deliveryEnv(t)
	before := len(outbox(t, e))
	v := e.createSchedule(t, scheduleBody(nil))
	if v.Status != reportschedule.StatusActive || v.NextRunAt == nil || *v.NextRunAt != "2026-11-29T08:00:00Z" || v.Revision != 1 {
		t.Fatalf("created: %+v next %v", v.Record, v.NextRunAt)
	}
	e.tickAt(t, "2026-11-29T07:59:00Z")
	if n := len(e.runs(t, v.ScheduleRef)); n != 0 {
		t.Fatalf("%d runs before the first fire", n)
	}
	e.tickAt(t, "2026-11-29T08:00:00Z")
	runs := e.runs(t, v.ScheduleRef)
	if len(runs) != 1 || runs[0].Outcome != reportschedule.OutcomeSent || len(runs[0].DeliveryRefs) != 1 || runs[0].NominalAt != "2026-11-29T08:00:00Z" {
		t.Fatalf("first run: %+v", runs)
	}
	if got := len(outbox(t, e)) - before; got != 1 {
		t.Fatalf("%d mails after the first run", got)
	}

	// A duplicate firing (EventBridge fires at least once) and a replay deliver nothing more.
	payload, _ := json.Marshal(reportschedule.Payload{Kind: reportschedule.FireKind, TenantID: "acme", ScheduleID: v.ID(), Revision: 1})
	for range 3 {
		if err := e.app.Fire(context.Background(), scheduler.Firing{Payload: payload, At: time.Date(2026, 11, 29, 8, 0, 3, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.runs(t, v.ScheduleRef)); n != 1 || len(outbox(t, e))-before != 1 {
		t.Fatalf("duplicate firings: %d runs, %d mails", n, len(outbox(t, e))-before)
	}
	// A firing of an older revision does nothing.
	old, _ := json.Marshal(reportschedule.Payload{Kind: reportschedule.FireKind, TenantID: "acme", ScheduleID: v.ID(), Revision: 0})
	if err := e.app.Fire(context.Background(), scheduler.Firing{Payload: old, At: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}

	op := e.as("acme", auth.ReportOperator)
	if r := e.call("POST", schedulesPath+"/"+v.ScheduleRef+"/pause", op, nil, nil); r.status != 200 || r.json(t)["status"] != "paused" {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	e.tickAt(t, "2026-11-30T08:00:00Z")
	if n := len(e.runs(t, v.ScheduleRef)); n != 1 {
		t.Fatalf("a paused schedule ran: %d runs", n)
	}
	if r := e.call("POST", schedulesPath+"/"+v.ScheduleRef+"/resume", op, nil, nil); r.status != 200 || r.json(t)["next_run_at"] != "2026-12-01T08:00:00Z" {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}
	e.tickAt(t, "2026-12-01T08:00:00Z")
	if runs := e.runs(t, v.ScheduleRef); len(runs) != 2 || runs[0].NominalAt != "2026-12-01T08:00:00Z" {
		t.Fatalf("after resume: %+v", runs)
	}
	if r := e.call("DELETE", schedulesPath+"/"+v.ScheduleRef, op, nil, nil); r.status != 200 || r.json(t)["status"] != "disabled" {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.tickAt(t, "2026-12-02T08:00:00Z")
	if n := len(e.runs(t, v.ScheduleRef)); n != 2 {
		t.Fatalf("a deleted schedule ran, or lost its runs: %d", n)
	}
	requireError(t, e.call("POST", schedulesPath+"/"+v.ScheduleRef+"/resume", op, nil, nil), 409, "schedule_deleted", "schedule")

	// Every change and every run left evidence, none naming the recipient.
	var actions []string
	for _, rec := range e.evidenceRecords(t, "acme") {
		if strings.HasPrefix(string(rec.Action), "schedule.") {
			actions = append(actions, string(rec.Action))
			if strings.Contains(mustString(t, rec), "ops@acme.example") {
				t.Fatalf("a recipient address reached evidence: %s", rec.Ref)
			}
		}
	}
	want := "schedule.created schedule.run_recorded schedule.paused schedule.resumed schedule.run_recorded schedule.deleted"
	if strings.Join(actions, " ") != want {
		t.Fatalf("schedule evidence: %v", actions)
	}
}

func TestScheduleBlackoutsDeferAndSkip(t *testing.T) {
	e, _ := deliveryEnv(t)
	window := func(behavior string) func(b, spec map[string]any) {
		return func(b, spec map[string]any) {
			spec["blackout_windows"] = []any{map[string]any{"window_ref": "window:freeze", "kind": "absolute",
				"starts_at": "2026-11-29T07:30:00Z", "ends_at": "2026-11-29T10:00:00Z", "behavior": behavior}}
		}
	}
	deferred := e.createSchedule(t, scheduleBody(window("defer")))
	skipped := e.createSchedule(t, scheduleBody(window("skip")))
	before := len(outbox(t, e))
	e.tickAt(t, "2026-11-29T08:00:00Z")
	if r := e.runs(t, deferred.ScheduleRef); len(r) != 1 || r[0].Outcome != reportschedule.OutcomeDeferred || r[0].DeferredUntil != "2026-11-29T10:00:00Z" || r[0].WindowRef != "window:freeze" {
		t.Fatalf("deferred: %+v", r)
	}
	if r := e.runs(t, skipped.ScheduleRef); len(r) != 1 || r[0].Outcome != reportschedule.OutcomeSkipped || r[0].Reason != "blackout" {
		t.Fatalf("skipped: %+v", r)
	}
	if len(outbox(t, e)) != before {
		t.Fatal("a run inside a blackout mailed")
	}
	e.tickAt(t, "2026-11-29T10:00:00Z")
	r := e.runs(t, deferred.ScheduleRef)
	if len(r) != 1 || r[0].Outcome != reportschedule.OutcomeSent || r[0].NominalAt != "2026-11-29T08:00:00Z" || len(outbox(t, e)) != before+1 {
		t.Fatalf("after the window: %+v, %d mails", r, len(outbox(t, e))-before)
	}
}

func TestScheduleCatchesUpOnceAfterAnOutage(t *testing.T) {
	e, _ := deliveryEnv(t)
	v := e.createSchedule(t, scheduleBody(nil))
	skip := e.createSchedule(t, scheduleBody(func(_, spec map[string]any) { spec["catch_up"] = "skip_missed" }))
	// Down from before the first fire until three days later.
	e.tickAt(t, "2026-12-01T12:00:00Z")
	runs := e.runs(t, v.ScheduleRef)
	if len(runs) != 1 || runs[0].NominalAt != "2026-12-01T08:00:00Z" || runs[0].Outcome != reportschedule.OutcomeSent {
		t.Fatalf("catch-up: %+v", runs)
	}
	if n := len(e.runs(t, skip.ScheduleRef)); n != 0 {
		t.Fatalf("skip_missed ran %d times", n)
	}
}

// A firing that arrives after its minute (EventBridge invokes the target a little late and
// hands it the invocation time) runs the fire it was due for.
func TestLateFiringRunsTheFireItWasDueFor(t *testing.T) {
	e, _ := deliveryEnv(t)
	v := e.createSchedule(t, scheduleBody(nil))
	e.clock.Advance(time.Date(2026, 11, 29, 8, 1, 20, 0, time.UTC).Sub(e.clock.Now()))
	payload, _ := json.Marshal(reportschedule.Payload{Kind: reportschedule.FireKind, TenantID: "acme", ScheduleID: v.ID(), Revision: 1})
	if err := e.app.Fire(context.Background(), scheduler.Firing{Payload: payload, At: time.Date(2026, 11, 29, 8, 1, 15, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if runs := e.runs(t, v.ScheduleRef); len(runs) != 1 || runs[0].NominalAt != "2026-11-29T08:00:00Z" || runs[0].Outcome != reportschedule.OutcomeSent {
		t.Fatalf("late firing: %+v", runs)
	}
	// A firing with no nominal fire in the quarter hour before it does nothing.
	if err := e.app.Fire(context.Background(), scheduler.Firing{Payload: payload, At: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.runs(t, v.ScheduleRef)); n != 1 {
		t.Fatalf("a stray firing ran: %d runs", n)
	}
}

func TestScheduledSendRetriesByItsPolicyThenDeadLetters(t *testing.T) {
	e, _ := deliveryEnv(t)
	e.app.Delivery.Mailer = &flakyMailer{n: 100, err: mailer.ErrThrottled, next: e.app.Outbox}
	v := e.createSchedule(t, scheduleBody(func(_, spec map[string]any) {
		spec["retry_policy"] = map[string]any{"max_attempts": 2, "backoff": "linear", "base_seconds": 60, "cap_seconds": 600}
	}))
	e.tickAt(t, "2026-11-29T08:00:00Z")
	runs := e.runs(t, v.ScheduleRef)
	if len(runs) != 1 || runs[0].Outcome != reportschedule.OutcomeRetryScheduled || runs[0].DeliveryStatus != delivery.StatusRetryScheduled {
		t.Fatalf("first attempt: %+v", runs)
	}
	admin := e.as("acme", auth.TenantAdmin)
	got := func() deliveryReply {
		return decodeDelivery(t, e.call("GET", deliveriesPath, admin, nil, nil).firstDelivery(t))
	}
	if d := got(); d.NextAttemptAt != "2026-11-29T08:01:00Z" {
		t.Fatalf("first retry at %s, want 60 s later", d.NextAttemptAt)
	}
	e.tickAt(t, "2026-11-29T08:01:01Z")
	if d := got(); len(d.Attempts) != 2 || d.NextAttemptAt != "2026-11-29T08:03:01Z" {
		t.Fatalf("second retry: %d attempts, next %s (linear: 120 s)", len(d.Attempts), d.NextAttemptAt)
	}
	e.tickAt(t, "2026-11-29T08:03:02Z")
	if d := got(); d.Status != delivery.StatusDeadLettered || len(d.Attempts) != 3 {
		t.Fatalf("after the policy's retries: %s with %d attempts", d.Status, len(d.Attempts))
	}
	// The run keeps the outcome it recorded, and shows where its send ended.
	if runs := e.runs(t, v.ScheduleRef); len(runs) != 1 || runs[0].Outcome != reportschedule.OutcomeRetryScheduled ||
		runs[0].DeliveryStatus != delivery.StatusDeadLettered {
		t.Fatalf("the run after its send dead-lettered: %+v", runs)
	}
}

func TestScheduleRefusesBadInputAndStoresNothing(t *testing.T) {
	e, _ := deliveryEnv(t)
	op := e.as("acme", auth.ReportOperator)
	before := e.evidenceCount("acme")
	for _, c := range []struct {
		mod         func(b, spec map[string]any)
		status      int
		code, field string
	}{
		{func(_, s map[string]any) {
			s["cadence"] = map[string]any{"kind": "cron", "expression": "cron(0 9 * * * *)"}
		}, 400, "", "schedule.cadence.expression"},
		{func(_, s map[string]any) { s["timezone"] = "Mars/Olympus" }, 400, "", "schedule.timezone"},
		{func(_, s map[string]any) { s["start_date"], s["end_date"] = "2027-02-01", "2027-01-01" }, 400, "", "schedule.end_date"},
		{func(_, s map[string]any) {
			s["blackout_windows"] = []any{map[string]any{"window_ref": "window:always", "kind": "weekly",
				"days": []string{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}, "start": "00:00", "end": "24:00", "behavior": "skip"}}
		}, 400, "never_fires", "schedule.blackout_windows"},
		{func(_, s map[string]any) {
			s["cadence"] = map[string]any{"kind": "rate", "expression": "rate(5 minutes)"}
		}, 400, "", "schedule.cadence"},
		{func(b, _ map[string]any) {
			b["delivery"] = map[string]any{"channel": "email", "recipients": []string{"x@evil.example"}}
		}, 409, "recipients_blocked_by_policy", "delivery.recipients"},
		{func(b, _ map[string]any) { b["report_id"] = "no_such_report" }, 400, "unknown_report", "report_id"},
		{func(b, _ map[string]any) { b["formats"] = []string{"rtf"} }, 400, "", "formats[0]"},
		{func(b, _ map[string]any) {
			b["delivery"] = map[string]any{"channel": "email", "recipients": []string{"not-an-address"}}
		}, 400, "", "delivery.recipients[0]"},
		{func(b, _ map[string]any) { b["tenant"] = "globex" }, 400, "schema_violation", ""},
		{func(b, _ map[string]any) { b["name"] = "Report for ciso@acme.example" }, 400, "sensitive_content_refused", "name"},
		{func(b, _ map[string]any) { delete(b, "schedule") }, 400, "invalid_field", "schedule"},
	} {
		r := e.call("POST", schedulesPath, op, mustJSON(t, scheduleBody(c.mod)), nil)
		requireError(t, r, c.status, c.code, c.field)
	}
	if r := e.call("GET", schedulesPath, op, nil, nil); !strings.Contains(string(r.body), `"schedules":[]`) {
		t.Fatalf("refused schedules were stored: %s", r.body)
	}
	if got := e.evidenceCount("acme"); got != before {
		t.Fatalf("refusals wrote %d evidence records", got-before)
	}
	v := e.createSchedule(t, scheduleBody(nil))
	path := schedulesPath + "/" + v.ScheduleRef
	requireError(t, e.call("PATCH", path, op, []byte(`{}`), nil), 400, "invalid_field", "body")
	requireError(t, e.call("PATCH", path, op, []byte(`{"name":"x"}`), map[string]string{"If-Match": `"7"`}), 412, "version_mismatch", "If-Match")
	r := e.call("PATCH", path, op, []byte(`{"name":"Renamed","schedule":{"timezone":"America/New_York","cadence":{"kind":"weekly","days":["MON"],"time":"07:30"}}}`), map[string]string{"If-Match": `"1"`})
	if r.status != 200 || r.json(t)["next_run_at"] != "2026-11-30T12:30:00Z" || r.json(t)["revision"] != float64(2) {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	requireError(t, e.call("GET", schedulesPath+"?status=sleeping", op, nil, nil), 400, "invalid_field", "status")
	requireError(t, e.call("GET", path, e.as("globex", auth.TenantAdmin), nil, nil), 404, "schedule_not_found", "schedule")
	requireError(t, e.call("POST", schedulesPath, e.as("acme", auth.Approver), mustJSON(t, scheduleBody(nil)), nil), 403, "forbidden", "")
}

// A schedule whose sends the recipient policy gates waits for one approval, bound to what
// it runs; its runs then send without asking again, until a change needs a new approval.
func TestScheduleThePolicyGatesWaitsForApproval(t *testing.T) {
	e, _ := deliveryEnv(t)
	partner := func(to string) func(b, _ map[string]any) {
		return func(b, _ map[string]any) {
			b["delivery"] = map[string]any{"channel": "email", "recipients": []string{to}}
		}
	}
	v := e.createSchedule(t, scheduleBody(partner("auditor@partner.example")))
	if v.Status != reportschedule.StatusRequiresApproval || v.ApprovalRef == "" || v.NextRunAt != nil {
		t.Fatalf("gated schedule: %+v", v.Record)
	}
	e.tickAt(t, "2026-11-29T08:00:00Z")
	if n := len(e.runs(t, v.ScheduleRef)); n != 0 {
		t.Fatalf("a schedule awaiting approval ran %d times", n)
	}
	path := schedulesPath + "/" + v.ScheduleRef
	op, approver := e.as("acme", auth.ReportOperator), e.as("acme", auth.Approver)
	requireError(t, e.call("POST", path+"/approve", op, nil, nil), 403, "forbidden", "")
	requireError(t, e.call("POST", path+"/approve", e.as("globex", auth.Approver), nil, nil), 404, "schedule_not_found", "schedule")
	r := e.call("POST", path+"/approve", approver, []byte(`{"reason_code":"quarterly_audit"}`), nil)
	if r.status != 200 || r.json(t)["status"] != "active" || r.json(t)["next_run_at"] != "2026-11-30T08:00:00Z" {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	requireError(t, e.call("POST", path+"/deny", approver, nil, nil), 409, "not_awaiting_approval", "schedule")
	before := len(outbox(t, e))
	e.tickAt(t, "2026-11-30T08:00:00Z")
	runs := e.runs(t, v.ScheduleRef)
	if len(runs) != 1 || runs[0].Outcome != reportschedule.OutcomeSent || len(outbox(t, e)) != before+1 {
		t.Fatalf("approved schedule's run: %+v, %d mails", runs, len(outbox(t, e))-before)
	}
	d := decodeDelivery(t, e.call("GET", deliveriesPath, e.as("acme", auth.TenantAdmin), nil, nil).firstDelivery(t))
	if d.PolicyDecision.Outcome != delivery.RequireApproval || !slices.Contains(d.PolicyDecision.Reasons, delivery.ReasonScheduleApproved) {
		t.Fatalf("the run's send does not name the approval it went ahead under: %+v", d.PolicyDecision)
	}
	// A rename keeps the approval; new recipients need a new one, and a denial sends it back
	// to draft.
	if r := e.call("PATCH", path, op, []byte(`{"name":"Renamed"}`), nil); r.status != 200 || r.json(t)["status"] != "active" {
		t.Fatalf("rename: %d %s", r.status, r.body)
	}
	r = e.call("PATCH", path, op, mustJSON(t, map[string]any{"delivery": map[string]any{"channel": "email", "recipients": []string{"cfo@partner.example"}}}), nil)
	if r.status != 200 || r.json(t)["status"] != "requires_approval" {
		t.Fatalf("new recipients: %d %s", r.status, r.body)
	}
	if r := e.call("POST", path+"/deny", e.as("acme", auth.SecurityLeadership), nil, nil); r.status != 200 || r.json(t)["status"] != "draft" {
		t.Fatalf("deny: %d %s", r.status, r.body)
	}
	e.tickAt(t, "2026-12-01T08:00:00Z")
	if n := len(e.runs(t, v.ScheduleRef)); n != 1 {
		t.Fatalf("a denied schedule ran: %d runs", n)
	}
	var decided int
	for _, rec := range e.evidenceRecords(t, "acme") {
		if rec.Action == "schedule.approval_decided" {
			decided++
		}
	}
	if decided != 2 {
		t.Fatalf("%d approval decisions in evidence, want 2", decided)
	}
}
