package api_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
)

// schedulePolicyPacket is the part of the schedule-policy export the test reads back.
type schedulePolicyPacket struct {
	Schedule struct {
		ScheduleRef string `json:"schedule_ref"`
		Status      string `json:"status"`
		Cadence     string `json:"cadence"`
		NextRunAt   any    `json:"next_run_at"`
	} `json:"schedule"`
	RecipientGovernance struct {
		RecipientScope string   `json:"recipient_scope"`
		AllowedDomains []string `json:"allowed_domains"`
	} `json:"recipient_governance"`
	Delivery struct {
		DeliveryMode string `json:"delivery_mode"`
	} `json:"delivery"`
	BlackoutWindows []struct {
		WindowRef string `json:"window_ref"`
		StartsAt  string `json:"starts_at"`
		EndsAt    string `json:"ends_at"`
	} `json:"blackout_windows"`
	RunEvidence struct {
		LastRunRef    any      `json:"last_run_ref"`
		LastRunStatus string   `json:"last_run_status"`
		LastRunAt     any      `json:"last_run_at"`
		EvidenceRefs  []string `json:"evidence_refs"`
	} `json:"run_evidence"`
}

func (e *env) schedulePolicy(t *testing.T, tenant, query string) (reply, schedulePolicyPacket) {
	t.Helper()
	r := e.call("GET", exportsPath+"/schedule-policy"+query, e.as(tenant, auth.AuditorViewer), nil, nil)
	var p schedulePolicyPacket
	if r.status == 200 {
		validateContract(t, contractSchema(t, "aispm-report-schedule-policy"), r.body)
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
	}
	return r, p
}

// TestSchedulePolicyExport follows a tenant from no schedule to a schedule that has run:
// refused naming no_schedule, then exported from the stored schedule and its run, valid
// against the public contract, never naming a recipient, and only to its own tenant.
func TestSchedulePolicyExport(t *testing.T) {
	e, _ := deliveryEnv(t)
	r, _ := e.schedulePolicy(t, "acme", "")
	requireError(t, r, 409, "export_not_ready", "contract")
	if !strings.Contains(string(r.body), "the tenant has no report schedule yet") {
		t.Fatalf("refusal does not name the missing schedule: %s", r.body)
	}
	if got := conditionCodes(checkReadiness(t, e)["schedule-policy"]); !slices.Equal(got, []string{"no_schedule"}) {
		t.Fatalf("readiness before any schedule: %v", got)
	}
	r, _ = e.schedulePolicy(t, "acme", "?schedule=schedule:sch_nope")
	requireError(t, r, 404, "schedule_not_found", "schedule")

	v := e.createSchedule(t, scheduleBody(func(b, spec map[string]any) {
		spec["blackout_windows"] = []any{map[string]any{"window_ref": "window:sunday", "kind": "weekly",
			"days": []string{"SUN"}, "start": "12:00", "end": "13:00", "behavior": "defer"}}
	}))
	_, p := e.schedulePolicy(t, "acme", "")
	if p.Schedule.ScheduleRef != v.ScheduleRef || p.RunEvidence.LastRunStatus != "never_run" || p.RunEvidence.LastRunRef != nil {
		t.Fatalf("before the first run: %+v", p)
	}

	e.tickAt(t, "2026-11-29T08:00:00Z")
	runs := e.runs(t, v.ScheduleRef)
	if len(runs) != 1 || runs[0].Outcome != reportschedule.OutcomeSent {
		t.Fatalf("first run: %+v", runs)
	}
	r, p = e.schedulePolicy(t, "acme", "")
	if r.status != 200 {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("ops@acme.example")) || bytes.Contains(r.body, []byte("@")) {
		t.Fatalf("the export names a recipient address: %s", r.body)
	}
	if p.Schedule.Status != "active" || p.Schedule.Cadence != "daily" || p.Schedule.NextRunAt != "2026-11-30T08:00:00Z" ||
		p.RecipientGovernance.RecipientScope != "approved_internal_domain" || !slices.Equal(p.RecipientGovernance.AllowedDomains, []string{"acme.example"}) ||
		p.Delivery.DeliveryMode != "ses" {
		t.Fatalf("schedule export: %s", r.body)
	}
	if p.RunEvidence.LastRunRef != runs[0].RunRef || p.RunEvidence.LastRunStatus != "sent" || p.RunEvidence.LastRunAt != runs[0].FiredAt ||
		len(p.RunEvidence.EvidenceRefs) < 2 {
		t.Fatalf("run evidence: %+v, run %+v", p.RunEvidence, runs[0])
	}
	// The weekly window is given as its next occurrence: Sunday 29 November, 12:00-13:00 Berlin.
	if len(p.BlackoutWindows) != 1 || p.BlackoutWindows[0].StartsAt != "2026-11-29T11:00:00Z" || p.BlackoutWindows[0].EndsAt != "2026-11-29T12:00:00Z" {
		t.Fatalf("blackout windows: %+v", p.BlackoutWindows)
	}
	if named, q := e.schedulePolicy(t, "acme", "?schedule="+v.ScheduleRef); named.status != 200 || q.Schedule.ScheduleRef != v.ScheduleRef {
		t.Fatalf("named schedule: %d %s", named.status, named.body)
	}
	if x := checkReadiness(t, e)["schedule-policy"]; !x.Ready {
		t.Fatalf("readiness with a schedule: %+v", x)
	}

	// Another tenant cannot export it, and has no schedule of its own.
	r, _ = e.schedulePolicy(t, "globex", "?schedule="+v.ScheduleRef)
	requireError(t, r, 404, "schedule_not_found", "schedule")
	r, _ = e.schedulePolicy(t, "globex", "")
	requireError(t, r, 409, "export_not_ready", "contract")

	// Deleted, it is no longer the latest; named, it exports as disabled.
	if d := e.call("DELETE", schedulesPath+"/"+v.ScheduleRef, e.as("acme", auth.ReportOperator), nil, nil); d.status != 200 {
		t.Fatalf("delete: %d %s", d.status, d.body)
	}
	r, _ = e.schedulePolicy(t, "acme", "")
	requireError(t, r, 409, "export_not_ready", "contract")
	if named, q := e.schedulePolicy(t, "acme", "?schedule="+v.ScheduleRef); named.status != 200 || q.Schedule.Status != "disabled" || q.Schedule.NextRunAt != nil {
		t.Fatalf("deleted schedule, named: %d %s", named.status, named.body)
	}
}
