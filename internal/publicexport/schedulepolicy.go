package publicexport

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// contractFormats are the formats the schedule-policy contract can name.
var contractFormats = []string{"markdown", "json", "csv", "pdf", "xlsx", "docx", "html", "jsonl", "zip"}

// contractDeliveryModes are the delivery modes of the schedule-policy contract.
var contractDeliveryModes = []string{"download", "smtp", "microsoft365", "google_workspace", "ses", "sendgrid", "webhook"}

// schedulePolicy exports one report schedule (the named one, or the tenant's latest that is
// not deleted) with its recipient governance, delivery, approval, blackout and retry rules
// and the evidence of its last run. Every field is read from the stored schedule, its runs,
// the deliveries they made, the tenant's settings and recipient policy; a value the contract
// cannot express truthfully refuses the export with a condition.
func schedulePolicy(s State) (any, []Condition, error) {
	v, runs, err := s.Schedule()
	if errors.Is(err, reportschedule.ErrNotFound) && s.ScheduleRef == "" {
		return nil, []Condition{{"no_schedule", "the tenant has no report schedule yet"}}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	rec := v.Record
	var unmet []Condition
	sched, c := scheduleSection(v)
	unmet = append(unmet, c...)
	gov, c, err := recipientGovernance(s, rec)
	if err != nil {
		return nil, nil, err
	}
	unmet = append(unmet, c...)
	dlv, c := scheduleDelivery(s.Settings, rec)
	unmet = append(unmet, c...)
	approval, err := scheduleApproval(s, rec)
	if err != nil {
		return nil, nil, err
	}
	blackouts, c := blackoutWindows(rec.Schedule, s.Now)
	unmet = append(unmet, c...)
	evid, c, err := runEvidence(s, rec, runs)
	if err != nil {
		return nil, nil, err
	}
	if unmet = append(unmet, c...); len(unmet) > 0 {
		return nil, unmet, nil
	}
	red := redaction()
	red["provider_response_included"] = false
	return map[string]any{
		"schema_version": "cavra.aispm.report_schedule_policy.v1", "product": product, "edition": editionEnterprise,
		"contract_visibility": publicContract, "generated_at": s.Now.UTC().Format(time.RFC3339), "tenant_ref": ref.Make("tenant", s.Tenant.ID),
		"schedule": sched, "recipient_governance": gov, "delivery": dlv, "approval_policy": approval,
		"blackout_windows": blackouts, "retry_policy": retryPolicy(rec.Schedule), "run_evidence": evid,
		"redaction": red,
		"enterprise_boundaries": boundaries("scheduler_worker", "calendar_blackout_engine", "recipient_resolution",
			"provider_delivery", "schedule_persistence"),
	}, nil, nil
}

// scheduleSection is the schedule itself. The stored statuses are the contract's own. A
// rate() cadence exports as "cron": like a cron() cadence it is a scheduler expression
// rather than a calendar rule, and the contract names no other kind for it. next_run_at
// is the view's (set only while the schedule is active). The product's schedule sends one
// report, so report_ids holds one id.
func scheduleSection(v reportschedule.View) (map[string]any, []Condition) {
	rec := v.Record
	var unmet []Condition
	for _, f := range rec.Formats {
		if !slices.Contains(contractFormats, f) {
			unmet = append(unmet, Condition{"format_not_in_contract", "the schedule renders a format the contract cannot name"})
			break
		}
	}
	cadence := string(rec.Schedule.Cadence.Kind)
	if rec.Schedule.Cadence.Kind == reportschedule.Rate {
		cadence = string(reportschedule.Cron)
	}
	var next any
	if v.NextRunAt != nil {
		next = rfc3339(*v.NextRunAt)
	}
	return map[string]any{"schedule_ref": rec.ScheduleRef, "name": rec.Name, "status": rec.Status,
		"report_ids": []string{rec.ReportID}, "formats": rec.Formats, "cadence": cadence,
		"timezone": rec.Schedule.Timezone, "next_run_at": next, "created_by": ref.Make("role", rec.CreatedByRole)}, unmet
}

// recipientGovernance reads the recipient scope from the policy evaluation stored with the
// schedule (made when it was created or last changed; every run's send evaluates again).
// A portal or GRC schedule without recipients goes to a system connector; any recipient
// evaluated as external makes the scope external; a recipient whose domain had no rule is
// refused, as for an approval decision, since the contract's scopes name approved domains
// only. allowed_domains are the recipients' domains (never addresses) that the tenant's
// recipient policy in force, with the settings' blocked domains, allows on the schedule's
// channel.
func recipientGovernance(s State, rec reportschedule.Record) (map[string]any, []Condition, error) {
	dec := rec.PolicyDecision
	var scope string
	var unmet []Condition
	switch {
	case len(rec.Delivery.Recipients) == 0 && (rec.Delivery.Channel == delivery.Portal || rec.Delivery.Channel == delivery.GRC):
		scope = "system_connector"
	case dec.UnknownDomain():
		unmet = append(unmet, Condition{"recipient_domain_not_in_policy",
			"the schedule sends to a domain without a rule in the recipient policy, which recipient_scope cannot express"})
	case dec.External():
		scope = "approved_external_domain"
	default:
		scope = "approved_internal_domain"
	}
	pol, err := s.RecipientPolicy()
	if err != nil {
		return nil, nil, err
	}
	allowed := allowedDomains(pol.Policy.WithBlockedDomains(s.Settings.RecipientGovernance.BlockedDomains),
		rec.Delivery.Channel, rec.Delivery.Recipients)
	return map[string]any{"recipient_scope": scope, "allowed_domains": allowed,
		"rbac_scope":                   ref.Make("role", rec.CreatedByRole) + "/schedules",
		"external_delivery_allowed":    dec.External() && dec.Outcome != delivery.BlockedPolicy,
		"recipient_addresses_redacted": true}, unmet, nil
}

// allowedDomains lists, sorted and once each, the domains of recipients whose rule allows
// the channel and does not block the domain.
func allowedDomains(pol delivery.Policy, channel string, recipients []string) []string {
	out := []string{}
	for _, addr := range recipients {
		_, domain, _ := strings.Cut(addr, "@")
		for _, r := range pol.DomainRules {
			if r.Domain == domain && r.Classification != delivery.BlockedDomain && slices.Contains(r.AllowedChannels, channel) &&
				!slices.Contains(out, domain) {
				out = append(out, domain)
			}
		}
	}
	slices.Sort(out)
	return out
}

// scheduleDelivery maps the channel to the contract's delivery mode: the portal is
// download, email goes out through the tenant's delivery provider mode (a run sends with
// the settings of its time, so today's mode is the one the next run uses; "disabled" is no
// mode); the GRC folder export is named by no mode of the contract (its signed webhook is
// not implemented). Runs send a signed package, with its manifest, when the schedule names
// a package type or several formats. The product neither watermarks nor encrypts
// attachments.
func scheduleDelivery(st settings.Settings, rec reportschedule.Record) (map[string]any, []Condition) {
	var mode string
	var unmet []Condition
	switch ch := rec.Delivery.Channel; {
	case ch == delivery.Portal:
		mode = "download"
	case ch == delivery.Email && slices.Contains(contractDeliveryModes, st.DeliveryProvider.Mode):
		mode = st.DeliveryProvider.Mode
	case ch == delivery.Email:
		unmet = append(unmet, Condition{"delivery_mode_disabled", "the schedule sends email while the delivery provider mode is disabled"})
	default:
		unmet = append(unmet, Condition{"delivery_mode_not_in_contract",
			"the schedule delivers as a GRC folder export, which no delivery mode of the contract names"})
	}
	return map[string]any{"delivery_mode": mode, "target_ref": ref.Make("channel", rec.Delivery.Channel),
		"package_manifest_required": rec.PackageType != "" || len(rec.Formats) > 1,
		"watermark_required":        false, "encrypted_attachment_required": false}, unmet
}

// scheduleApproval: a run waits for an approver when the schedule's approval policy asks
// for one, when the recipient evaluation requires approval, or when a blackout window
// requires manual approval. approval_ref is the schedule's own approval request when the
// policy gates it, else the approval of the last send that waited at the gate, else the
// placeholder approval:none. A schedule the policy gates needs a new approval for every
// change of what it runs or to whom (change_requires_approval); others change freely.
func scheduleApproval(s State, rec reportschedule.Record) (map[string]any, error) {
	gated := rec.PolicyDecision.Outcome == delivery.RequireApproval
	required := rec.ApprovalPolicy != reportschedule.ApprovalNone || gated ||
		slices.ContainsFunc(rec.Schedule.BlackoutWindows, func(w reportschedule.BlackoutWindow) bool {
			return w.Behavior == reportschedule.BehaviorRequireApproval
		})
	approvalRef := ref.None("approval")
	switch {
	case rec.ApprovalRef != "":
		approvalRef = rec.ApprovalRef
	case rec.GatedDeliveryRef != "":
		d, err := s.Delivery(rec.GatedDeliveryRef)
		if err != nil {
			return nil, err
		}
		if d.ApprovalRef != "" {
			approvalRef = d.ApprovalRef
		}
	}
	pol, err := s.RecipientPolicy()
	if err != nil {
		return nil, err
	}
	return map[string]any{"approval_required": required, "approver_group": "role:approver", "approval_ref": approvalRef,
		"change_requires_approval":             gated,
		"external_recipient_requires_approval": pol.Policy.ExternalDeliveryDefault == "require_approval"}, nil
}

// blackoutWindows exports absolute windows as they are stored. A weekly window repeats, and
// the contract holds one interval per window: it exports as its occurrence in force at
// generated_at or, if none is, its next one, computed on the wall clock of the schedule's
// zone (so a DST change moves the instants, as it moves the runner's).
func blackoutWindows(spec reportschedule.Spec, now time.Time) ([]map[string]any, []Condition) {
	out := make([]map[string]any, 0, len(spec.BlackoutWindows))
	loc, err := time.LoadLocation(spec.Timezone)
	if err != nil {
		return nil, []Condition{{"schedule_zone_unknown", "the schedule's time zone cannot be loaded"}}
	}
	for _, w := range spec.BlackoutWindows {
		from, to := rfc3339(w.StartsAt), rfc3339(w.EndsAt)
		if w.Kind == reportschedule.WeeklyWindow {
			start, end, ok := nextWeekly(w, now, loc)
			if !ok {
				return nil, []Condition{{"blackout_window_unreadable", "a weekly blackout window of the schedule cannot be read"}}
			}
			from, to = start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)
		}
		out = append(out, map[string]any{"window_ref": w.WindowRef, "starts_at": from, "ends_at": to, "behavior": string(w.Behavior)})
	}
	return out, nil
}

var weekdays = map[string]time.Weekday{"SUN": time.Sunday, "MON": time.Monday, "TUE": time.Tuesday,
	"WED": time.Wednesday, "THU": time.Thursday, "FRI": time.Friday, "SAT": time.Saturday}

// nextWeekly is the first occurrence of a weekly window that has not ended at now. An
// occurrence starts on one of its days at Start and ends at End the same day, or the next
// day when End is not after Start (it wraps past midnight); "24:00" is the next midnight.
// Occurrences that began up to a day before today are looked at too, since a wrapping one
// may still be in force.
func nextWeekly(w reportschedule.BlackoutWindow, now time.Time, loc *time.Location) (time.Time, time.Time, bool) {
	startMin, ok1 := clockMinutes(w.Start)
	endMin, ok2 := clockMinutes(w.End)
	if !ok1 || !ok2 {
		return time.Time{}, time.Time{}, false
	}
	local := now.In(loc)
	for offset := -1; offset <= 7; offset++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+offset, 0, 0, 0, 0, loc)
		if !slices.ContainsFunc(w.Days, func(d string) bool { wd, ok := weekdays[d]; return ok && wd == day.Weekday() }) {
			continue
		}
		start := time.Date(day.Year(), day.Month(), day.Day(), 0, startMin, 0, 0, loc)
		endDay := day.Day()
		if endMin <= startMin {
			endDay++
		}
		end := time.Date(day.Year(), day.Month(), endDay, 0, endMin, 0, 0, loc)
		if end.After(now) {
			return start, end, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// clockMinutes reads "HH:MM" (up to "24:00") as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err == nil {
		return t.Hour()*60 + t.Minute(), true
	}
	return 24 * 60, s == "24:00"
}

// retryPolicy: max_attempts is the schedule's number of retries after the first attempt
// (the contract allows 0, which only a count of retries can be); retry_window_minutes is
// the sum of every retry delay, rounded up to whole minutes so the window covers the last
// retry. A run whose retries are used up is dead-lettered.
func retryPolicy(spec reportschedule.Spec) map[string]any {
	p := reportschedule.DefaultRetryPolicy()
	if spec.RetryPolicy != nil {
		p = *spec.RetryPolicy
	}
	var total time.Duration
	at := time.Unix(0, 0).UTC()
	for attempt := 1; ; attempt++ {
		next, ok := reportschedule.RetryAt(p, attempt, at)
		if !ok {
			break
		}
		total += next.Sub(at)
	}
	minutes := int((total + time.Minute - 1) / time.Minute)
	return map[string]any{"max_attempts": p.MaxAttempts, "backoff": string(p.Backoff),
		"retry_window_minutes": minutes, "dead_letter_required": true}
}

// runStatusOf maps what became of a run to the contract's statuses, or reports that it has
// no outcome yet. The run record keeps the outcome of its send request, and the delivery
// moves on after it (an approval, a retry), so a run that made a delivery takes the
// delivery's status now. Outcomes the contract does not name map to "failed": a send the
// policy blocked, a delivery dead-lettered, denied, expired or voided, and a retry_scheduled
// one (its last attempt failed; once a retry delivers, the export says "sent"). A run still
// claimed, or a delivery still queued or sending, has no outcome yet.
func runStatusOf(s State, run reportschedule.Run) (string, bool, error) {
	if n := len(run.DeliveryRefs); n > 0 {
		d, err := s.Delivery(run.DeliveryRefs[n-1])
		if err != nil {
			return "", false, err
		}
		switch d.Status {
		case delivery.StatusDelivered:
			return "sent", true, nil
		case delivery.StatusPendingApproval:
			return "pending_approval", true, nil
		case delivery.StatusQueued, delivery.StatusSending:
			return "", false, nil
		}
		return "failed", true, nil
	}
	switch run.Outcome {
	case reportschedule.OutcomeRunning:
		return "", false, nil
	case reportschedule.OutcomeSent, reportschedule.OutcomeDeferred, reportschedule.OutcomeSkipped, reportschedule.OutcomePendingApproval:
		return run.Outcome, true, nil
	}
	return "failed", true, nil
}

// runEvidence describes the latest run that has an outcome (runs newest first). A schedule
// that has never run is never_run with null refs; one whose only runs have no outcome yet is
// refused until they have. The evidence refs are the schedule's (every change) and the
// run's; the audit event is the schedule's creation.
func runEvidence(s State, rec reportschedule.Record, runs []reportschedule.Run) (map[string]any, []Condition, error) {
	if len(rec.EvidenceRefs) == 0 {
		return nil, []Condition{{"schedule_without_evidence", "the schedule has no evidence of its creation"}}, nil
	}
	refs := publicRefs(rec.EvidenceRefs)
	out := map[string]any{"last_run_ref": nil, "last_run_status": "never_run", "last_run_at": nil,
		"evidence_refs": refs, "audit_event_ref": evidence.PublicRef(rec.EvidenceRefs[0])}
	for _, run := range runs {
		status, final, err := runStatusOf(s, run)
		if err != nil {
			return nil, nil, err
		}
		if !final {
			continue
		}
		for _, r := range publicRefs(run.EvidenceRefs) {
			if !slices.Contains(refs, r) {
				refs = append(refs, r)
			}
		}
		out["last_run_ref"], out["last_run_status"], out["last_run_at"], out["evidence_refs"] = run.RunRef, status, rfc3339(run.FiredAt), refs
		return out, nil, nil
	}
	if len(runs) > 0 {
		return nil, []Condition{{"run_in_progress", "the schedule's runs have no outcome yet"}}, nil
	}
	return out, nil, nil
}
