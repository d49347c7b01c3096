package publicexport

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
)

// testSchedule is an active daily email schedule of one csv to an internal and a partner
// address, as stored after create: normalized spec, policy evaluation, creation evidence.
func testSchedule() reportschedule.View {
	next := "2026-11-29T08:00:00Z"
	spec := reportschedule.Normalize(reportschedule.Spec{Timezone: "Europe/Berlin",
		Cadence: reportschedule.Cadence{Kind: reportschedule.Daily, Time: "09:00"}})
	return reportschedule.View{Record: reportschedule.Record{ScheduleRef: "schedule:sch_1", Name: "Daily register",
		Status: reportschedule.StatusActive, ReportID: "agent_risk_register", Formats: []string{"csv"},
		Delivery:       reportschedule.Delivery{Channel: delivery.Email, Recipients: []string{"ops@acme.example", "cfo@partner.example"}},
		ApprovalPolicy: reportschedule.ApprovalNone, Schedule: spec,
		PolicyDecision: delivery.Decision{Outcome: delivery.RequireApproval, Reasons: []string{"external_recipient"}},
		CreatedByRole:  "report_operator", CreatedAt: "2026-11-28T11:00:00Z", EvidenceRefs: []string{"evidence:ev_s1"}},
		NextRunAt: &next, Version: 1}
}

// testPolicy classes acme.example internal (email, portal), partner.example external
// (email) and evil.example blocked.
func testPolicy() delivery.StoredPolicy {
	p := delivery.DefaultPolicy()
	p.DomainRules = []delivery.DomainRule{
		{Domain: "acme.example", Classification: delivery.Internal, AllowedChannels: []string{delivery.Email, delivery.Portal}},
		{Domain: "partner.example", Classification: delivery.ExternalPartner, AllowedChannels: []string{delivery.Email}},
		{Domain: "evil.example", Classification: delivery.BlockedDomain, AllowedChannels: []string{}},
	}
	return delivery.StoredPolicy{Policy: p, Configured: true, EvidenceRef: "evidence:ev_p"}
}

// withSchedule is a tenant sending by ses under testPolicy, with schedule v, its runs
// (newest first) and the deliveries they made.
func withSchedule(s State, v reportschedule.View, runs []reportschedule.Run, deliveries ...delivery.Record) State {
	s.Settings.DeliveryProvider.Mode = "ses"
	s.RecipientPolicy = func() (delivery.StoredPolicy, error) { return testPolicy(), nil }
	s.Schedule = func() (reportschedule.View, []reportschedule.Run, error) { return v, runs, nil }
	s.Delivery = func(ref string) (delivery.Record, error) {
		for _, d := range deliveries {
			if d.DeliveryRef == ref {
				return d, nil
			}
		}
		return delivery.Record{}, errors.New("no such delivery")
	}
	return s
}

func section(t *testing.T, s State, key string) map[string]any {
	t.Helper()
	return build(t, "schedule-policy", s)[key].(map[string]any)
}

func TestSchedulePolicyWithoutScheduleIsNotReady(t *testing.T) {
	s := emptyState()
	requireNotReady(t, "schedule-policy", s, "the tenant has no report schedule yet")
	s.ScheduleRef = "schedule:sch_unknown"
	if _, err := Build("schedule-policy", s); !errors.Is(err, reportschedule.ErrNotFound) {
		t.Fatalf("a named unknown schedule: %v, want schedule_not_found", err)
	}
}

func TestSchedulePolicyNeverRun(t *testing.T) {
	got := build(t, "schedule-policy", withSchedule(emptyState(), testSchedule(), nil))
	sched := got["schedule"].(map[string]any)
	if sched["cadence"] != "daily" || sched["next_run_at"] != "2026-11-29T08:00:00Z" || sched["created_by"] != "role:report_operator" ||
		sched["timezone"] != "Europe/Berlin" || sched["status"] != "active" {
		t.Fatalf("schedule: %v", sched)
	}
	gov := got["recipient_governance"].(map[string]any)
	if gov["recipient_scope"] != "approved_external_domain" || gov["external_delivery_allowed"] != true ||
		strings.Join(toStrings(gov["allowed_domains"]), " ") != "acme.example partner.example" || gov["rbac_scope"] != "role:report_operator/schedules" {
		t.Fatalf("recipient governance: %v", gov)
	}
	if d := got["delivery"].(map[string]any); d["delivery_mode"] != "ses" || d["target_ref"] != "channel:email" || d["package_manifest_required"] != false {
		t.Fatalf("delivery: %v", d)
	}
	ap := got["approval_policy"].(map[string]any)
	if ap["approval_required"] != true || ap["approval_ref"] != "approval:none" || ap["external_recipient_requires_approval"] != true {
		t.Fatalf("approval: %v", ap)
	}
	// Default retry policy: 3 retries, exponential from 60 s: 60 + 120 + 240 s = 7 minutes.
	if r := got["retry_policy"].(map[string]any); r["max_attempts"] != float64(3) || r["backoff"] != "exponential" || r["retry_window_minutes"] != float64(7) {
		t.Fatalf("retry: %v", r)
	}
	ev := got["run_evidence"].(map[string]any)
	if ev["last_run_status"] != "never_run" || ev["last_run_ref"] != nil || ev["last_run_at"] != nil ||
		ev["audit_event_ref"] != "cavra://evidence/redacted/ev_s1" {
		t.Fatalf("run evidence: %v", ev)
	}
}

func TestSchedulePolicyMapsCadenceAndRecipients(t *testing.T) {
	internal := testSchedule()
	internal.Delivery.Recipients = []string{"ops@acme.example", "cfo@acme.example"}
	internal.PolicyDecision = delivery.Decision{Outcome: delivery.Allow, Reasons: []string{}}
	internal.Schedule.Cadence = reportschedule.Cadence{Kind: reportschedule.Rate, Expression: "rate(6 hours)"}
	internal.Formats = []string{"csv", "pdf"}
	s := withSchedule(emptyState(), internal, nil)
	if c := section(t, s, "schedule")["cadence"]; c != "cron" {
		t.Fatalf("rate cadence exports as %v, want cron", c)
	}
	gov := section(t, s, "recipient_governance")
	if gov["recipient_scope"] != "approved_internal_domain" || gov["external_delivery_allowed"] != false ||
		!slices.Equal(toStrings(gov["allowed_domains"]), []string{"acme.example"}) {
		t.Fatalf("internal schedule: %v", gov)
	}
	if section(t, s, "delivery")["package_manifest_required"] != true || section(t, s, "approval_policy")["approval_required"] != false {
		t.Fatal("two formats send a signed package; an allowed internal schedule needs no approval")
	}

	portal := testSchedule()
	portal.Delivery = reportschedule.Delivery{Channel: delivery.Portal, Recipients: []string{}}
	portal.PolicyDecision = delivery.Decision{Outcome: delivery.Allow, Reasons: []string{}}
	s = withSchedule(emptyState(), portal, nil)
	if section(t, s, "recipient_governance")["recipient_scope"] != "system_connector" || section(t, s, "delivery")["delivery_mode"] != "download" {
		t.Fatal("a portal schedule without recipients is a system connector delivered as download")
	}

	unknown := testSchedule()
	unknown.PolicyDecision = delivery.Decision{Outcome: delivery.RequireApproval, Reasons: []string{"domain_not_in_policy", "external_recipient"}}
	requireNotReady(t, "schedule-policy", withSchedule(emptyState(), unknown, nil), "a domain without a rule in the recipient policy")

	grc := testSchedule()
	grc.Delivery = reportschedule.Delivery{Channel: delivery.GRC, Recipients: []string{}}
	grc.PackageType = "grc_upload_package"
	requireNotReady(t, "schedule-policy", withSchedule(emptyState(), grc, nil), "GRC folder export")

	disabled := withSchedule(emptyState(), testSchedule(), nil)
	disabled.Settings.DeliveryProvider.Mode = "disabled"
	requireNotReady(t, "schedule-policy", disabled, "the delivery provider mode is disabled")

	odd := testSchedule()
	odd.Formats = []string{"pptx"}
	requireNotReady(t, "schedule-policy", withSchedule(emptyState(), odd, nil), "a format the contract cannot name")
}

func TestSchedulePolicyBlackoutWindows(t *testing.T) {
	v := testSchedule()
	v.Schedule.BlackoutWindows = []reportschedule.BlackoutWindow{
		{WindowRef: "freeze", Kind: reportschedule.AbsoluteWindow, StartsAt: "2026-12-20T00:00:00+01:00", EndsAt: "2027-01-02T00:00:00+01:00", Behavior: reportschedule.BehaviorSkip},
		// Monday 22:00 to 02:00 Berlin, wrapping: the next one after Saturday noon.
		{WindowRef: "maint", Kind: reportschedule.WeeklyWindow, Days: []string{"MON"}, Start: "22:00", End: "02:00", Behavior: reportschedule.BehaviorDefer},
		// Saturday 12:00 to 14:00 Berlin holds testNow (13:00 Berlin): that occurrence.
		{WindowRef: "sat", Kind: reportschedule.WeeklyWindow, Days: []string{"SAT"}, Start: "12:00", End: "14:00", Behavior: reportschedule.BehaviorRequireApproval},
		// Friday 23:00 to 24:00 Berlin: over; next Friday.
		{WindowRef: "fri", Kind: reportschedule.WeeklyWindow, Days: []string{"FRI"}, Start: "23:00", End: "24:00", Behavior: reportschedule.BehaviorDefer},
	}
	got := build(t, "schedule-policy", withSchedule(emptyState(), v, nil))
	want := []string{
		"freeze 2026-12-19T23:00:00Z 2027-01-01T23:00:00Z skip",
		"maint 2026-11-30T21:00:00Z 2026-12-01T01:00:00Z defer",
		"sat 2026-11-28T11:00:00Z 2026-11-28T13:00:00Z require_manual_approval",
		"fri 2026-12-04T22:00:00Z 2026-12-04T23:00:00Z defer",
	}
	var have []string
	for _, w := range got["blackout_windows"].([]any) {
		m := w.(map[string]any)
		have = append(have, strings.Join([]string{m["window_ref"].(string), m["starts_at"].(string), m["ends_at"].(string), m["behavior"].(string)}, " "))
	}
	if !slices.Equal(have, want) {
		t.Fatalf("blackout windows\n got %q\nwant %q", have, want)
	}
	if got["approval_policy"].(map[string]any)["approval_required"] != true {
		t.Fatal("a window requiring manual approval, yet approval_required is false")
	}
}

func TestSchedulePolicyLastRunFollowsItsDelivery(t *testing.T) {
	run := func(id, outcome string, deliveries ...string) reportschedule.Run {
		return reportschedule.Run{RunRef: "run:sch_1-" + id, ScheduleRef: "schedule:sch_1", Outcome: outcome, FiredAt: "2026-11-28T08:00:00Z",
			DeliveryRefs: deliveries, EvidenceRefs: []string{"evidence:ev_r" + id}}
	}
	dlv := func(status string) delivery.Record {
		return delivery.Record{DeliveryRef: "delivery:dlv_9", Status: status, ApprovalRef: "approval:dlv_9"}
	}
	for _, c := range []struct {
		label string
		runs  []reportschedule.Run
		dlv   delivery.Record
		want  string // status and run ref
	}{
		{"approved since", []reportschedule.Run{run("2", reportschedule.OutcomePendingApproval, "delivery:dlv_9")}, dlv(delivery.StatusDelivered), "sent run:sch_1-2"},
		{"still waiting", []reportschedule.Run{run("2", reportschedule.OutcomePendingApproval, "delivery:dlv_9")}, dlv(delivery.StatusPendingApproval), "pending_approval run:sch_1-2"},
		{"retrying", []reportschedule.Run{run("2", reportschedule.OutcomeRetryScheduled, "delivery:dlv_9")}, dlv(delivery.StatusRetryScheduled), "failed run:sch_1-2"},
		{"dead letter", []reportschedule.Run{run("2", reportschedule.OutcomeRetryScheduled, "delivery:dlv_9")}, dlv(delivery.StatusDeadLettered), "failed run:sch_1-2"},
		{"blackout skip", []reportschedule.Run{run("2", reportschedule.OutcomeSkipped)}, delivery.Record{}, "skipped run:sch_1-2"},
		{"deferred", []reportschedule.Run{run("2", reportschedule.OutcomeDeferred)}, delivery.Record{}, "deferred run:sch_1-2"},
		{"render failed", []reportschedule.Run{run("2", reportschedule.OutcomeFailed)}, delivery.Record{}, "failed run:sch_1-2"},
		{"in progress, earlier done", []reportschedule.Run{run("3", reportschedule.OutcomeRunning), run("2", reportschedule.OutcomeSkipped)}, delivery.Record{}, "skipped run:sch_1-2"},
		{"queued, earlier done", []reportschedule.Run{run("3", reportschedule.OutcomeSent, "delivery:dlv_9"), run("2", reportschedule.OutcomeDeferred)}, dlv(delivery.StatusQueued), "deferred run:sch_1-2"},
	} {
		v := testSchedule()
		got := section(t, withSchedule(emptyState(), v, c.runs, c.dlv), "run_evidence")
		if have := got["last_run_status"].(string) + " " + got["last_run_ref"].(string); have != c.want {
			t.Errorf("%s: %s, want %s", c.label, have, c.want)
		}
		refs := toStrings(got["evidence_refs"])
		if refs[0] != "cavra://evidence/redacted/ev_s1" || !slices.Contains(refs, "cavra://evidence/redacted/ev_r2") || got["last_run_at"] != "2026-11-28T08:00:00Z" {
			t.Errorf("%s: evidence %v", c.label, got)
		}
	}
	requireNotReady(t, "schedule-policy", withSchedule(emptyState(), testSchedule(), []reportschedule.Run{run("3", reportschedule.OutcomeRunning)}),
		"the schedule's runs have no outcome yet")

	gated := testSchedule()
	gated.GatedDeliveryRef = "delivery:dlv_9"
	if r := section(t, withSchedule(emptyState(), gated, nil, dlv(delivery.StatusPendingApproval)), "approval_policy")["approval_ref"]; r != "approval:dlv_9" {
		t.Fatalf("approval_ref %v, want the gated delivery's approval", r)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
