package reportschedule

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Body is the create body; in a PATCH every member is optional and replaces the stored one.
type Body struct {
	Name           *string   `json:"name"`
	Status         *string   `json:"status"`
	ReportID       *string   `json:"report_id"`
	Formats        []string  `json:"formats"`
	PackageType    *string   `json:"package_type"`
	Delivery       *Delivery `json:"delivery"`
	ApprovalPolicy *string   `json:"approval_policy"`
	Schedule       *Spec     `json:"schedule"`
}

func (b Body) empty() bool {
	return b.Name == nil && b.Status == nil && b.ReportID == nil && b.Formats == nil && b.PackageType == nil &&
		b.Delivery == nil && b.ApprovalPolicy == nil && b.Schedule == nil
}

// Actor is who changes a schedule.
type Actor struct {
	Tenant   tenancy.Tenant
	Role     string
	TokenRef string
}

// Create validates a schedule, checks its recipients against the policy in force, stores
// it with evidence and registers it with the scheduler.
func (s *Service) Create(ctx context.Context, a Actor, body []byte) (Record, error) {
	var b Body
	if err := schemas.DecodeValid(schemas.ScheduleRequest, body, &b); err != nil {
		return Record{}, err
	}
	for field, missing := range map[string]bool{"name": b.Name == nil, "report_id": b.ReportID == nil,
		"formats": b.Formats == nil, "delivery": b.Delivery == nil, "schedule": b.Schedule == nil} {
		if missing {
			return Record{}, problem.InvalidField(field, "required")
		}
	}
	now := s.Clock.Now()
	rec := Record{ScheduleRef: ref.Make("schedule", newID(now)), Status: StatusActive, ApprovalPolicy: ApprovalNone,
		CreatedByRole: a.Role, CreatedByToken: a.TokenRef, CreatedAt: stamp(now), EvidenceRefs: []string{}}
	if err := s.apply(ctx, a, &rec, b); err != nil {
		return Record{}, err
	}
	n, err := s.count(ctx, a.Tenant.ID)
	if err != nil {
		return Record{}, err
	}
	if n >= MaxSchedulesPerTenant {
		return Record{}, problem.New(problem.Conflict, "too_many_schedules", "", fmt.Sprintf("a tenant keeps at most %d schedules: delete one first", MaxSchedulesPerTenant))
	}
	ev, err := s.evidence(a.Tenant.ID, a.Role, evidence.ScheduleCreated, rec, nil)
	if err != nil {
		return Record{}, err
	}
	if err := s.write(ctx, a.Tenant.ID, &rec, ev, true); err != nil {
		return Record{}, err
	}
	return rec, s.openGate(ctx, rec)
}

// Patch replaces the members body names, at version ifMatch when > 0.
func (s *Service) Patch(ctx context.Context, a Actor, scheduleRef string, ifMatch int64, body []byte) (Record, error) {
	var b Body
	if err := schemas.DecodeValid(schemas.ScheduleRequest, body, &b); err != nil {
		return Record{}, err
	}
	if b.empty() {
		return Record{}, problem.InvalidField("body", "name at least one member to change")
	}
	rec, err := s.Get(ctx, a.Tenant.ID, scheduleRef)
	if err != nil {
		return Record{}, err
	}
	if ifMatch > 0 && ifMatch != rec.version {
		return Record{}, problem.New(problem.PreconditionFailed, "version_mismatch", "If-Match", "the schedule changed since that version: read it again")
	}
	if rec.Status == StatusDisabled {
		return Record{}, problem.New(problem.Conflict, "schedule_deleted", "schedule", "a deleted schedule cannot change")
	}
	if err := s.apply(ctx, a, &rec, b); err != nil {
		return Record{}, err
	}
	ev, err := s.evidence(a.Tenant.ID, a.Role, evidence.ScheduleUpdated, rec, nil)
	if err != nil {
		return Record{}, err
	}
	if err := s.write(ctx, a.Tenant.ID, &rec, ev, false); err != nil {
		return Record{}, err
	}
	return rec, s.openGate(ctx, rec)
}

// apply merges b into rec and checks the result whole: spec rules, report and formats, and
// the recipient policy. A blocked recipient refuses the change (409 naming the reasons).
func (s *Service) apply(ctx context.Context, a Actor, rec *Record, b Body) error {
	t := a.Tenant
	st, err := s.Settings(ctx, t.ID)
	if err != nil {
		return err
	}
	setIf(&rec.Name, b.Name)
	setIf(&rec.Status, b.Status)
	setIf(&rec.ReportID, b.ReportID)
	setIf(&rec.PackageType, b.PackageType)
	setIf(&rec.ApprovalPolicy, b.ApprovalPolicy)
	if b.Formats != nil {
		rec.Formats = b.Formats
	}
	if b.Delivery != nil {
		rec.Delivery = *b.Delivery
	}
	if b.Schedule != nil {
		rec.Schedule = *b.Schedule
		if rec.Schedule.Timezone == "" {
			rec.Schedule.Timezone = st.OrganizationProfile.DefaultTimezone
		}
	}
	rec.Schedule = Normalize(rec.Schedule)
	if err := s.check(ctx, t, st, rec); err != nil {
		return err
	}
	rec.SpecDigest = Digest(rec.Schedule)
	rec.RecipientDigest = recipientDigest(rec.Delivery.Recipients)
	rec.Revision++
	rec.UpdatedAt = stamp(s.Clock.Now())
	return s.requestApproval(a, st, rec)
}

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func (s *Service) check(ctx context.Context, t tenancy.Tenant, st settings.Settings, rec *Record) error {
	if strings.TrimSpace(rec.Name) == "" {
		return problem.InvalidField("name", "must not be blank")
	}
	// The name and window refs reach exports and views: no address, key or secret in them.
	texts := map[string]string{"name": rec.Name}
	for i, w := range rec.Schedule.BlackoutWindows {
		texts[fmt.Sprintf("schedule.blackout_windows[%d].window_ref", i)] = w.WindowRef
	}
	for field, v := range texts {
		if kind := evidence.ScanString(v); kind != "" {
			return problem.New(problem.Invalid, "sensitive_content_refused", field, "must not hold "+strings.ReplaceAll(kind, "_", " ")+"s")
		}
	}
	limits := Limits{MinInterval: minInterval(st), Now: s.Clock.Now()}
	if err := Validate(effective(rec.Schedule, st), limits); err != nil {
		return underSchedule(err)
	}
	if err := s.checkReport(t, st, *rec); err != nil {
		return err
	}
	if err := checkDelivery(rec); err != nil {
		return err
	}
	dec, err := s.Sender.EvaluatePolicy(ctx, t.ID, rec.Delivery.Channel, rec.Delivery.Recipients)
	if err != nil {
		return err
	}
	if dec.Outcome == delivery.BlockedPolicy {
		return problem.New(problem.Conflict, "recipients_blocked_by_policy", "delivery.recipients",
			"the recipient policy blocks this schedule's sends: "+strings.Join(dec.Reasons, ", "))
	}
	rec.PolicyDecision = dec
	return nil
}

func minInterval(st settings.Settings) time.Duration {
	if m := st.ScheduleAndAudit.MinScheduleIntervalMinutes; m > 0 {
		return time.Duration(m) * time.Minute
	}
	return minIntervalDefault
}

// underSchedule names a spec field as it sits in the body, under "schedule".
func underSchedule(err error) error {
	p, ok := problem.As(err)
	if !ok {
		return err
	}
	field := "schedule"
	if p.Field != "" {
		field += "." + p.Field
	}
	return problem.New(p.Kind, p.Code, field, p.Message)
}

// checkReport refuses a report, format set or package type a render would refuse, by
// parsing the render the first run would make.
func (s *Service) checkReport(t tenancy.Tenant, st settings.Settings, rec Record) error {
	if rec.PackageType != "" && !slices.Contains(manifest.PackageTypes, rec.PackageType) {
		return problem.InvalidField("package_type", "unknown package type")
	}
	now := s.Clock.Now()
	fire, ok := NextFire(effective(rec.Schedule, st), now)
	if !ok {
		return problem.New(problem.Invalid, "never_fires", "schedule", "the schedule has no future run")
	}
	from, to := DataWindow(rec.Schedule, fire)
	// The window is checked against the run's time, not today's, so parse as of then.
	at := fire
	if to.After(at) {
		at = to
	}
	_, err := artifacts.ParseRenderRequest(renderBody(rec, from, to), t, rec.CreatedByRole, at)
	if p, ok := problem.As(err); ok && p.Field == "window" {
		return nil // window rules apply per run, to data that does not exist yet
	}
	return err
}

func renderBody(rec Record, from, to time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"report_id": rec.ReportID, "formats": rec.Formats,
		"window": map[string]string{"from": stamp(from), "to": stamp(to)}})
	return b
}

// checkDelivery checks the channel and recipients as a send would.
func checkDelivery(rec *Record) error {
	req := map[string]any{"channel": rec.Delivery.Channel, "recipients": rec.Delivery.Recipients}
	if rec.Delivery.Channel == delivery.GRC || packaged(*rec) {
		req["package_ref"] = "package:pkg_schedule_check"
	} else {
		req["artifact_ref"] = "artifact:art_schedule_check"
	}
	b, _ := json.Marshal(req)
	parsed, err := delivery.ParseSend(b)
	if err != nil {
		if p, ok := problem.As(err); ok && p.Field == "package_ref" {
			return problem.InvalidField("package_type", "the grc channel sends a signed package: name a package_type")
		}
		if p, ok := problem.As(err); ok {
			return problem.New(p.Kind, p.Code, "delivery."+p.Field, p.Message)
		}
		return err
	}
	if rec.Delivery.Channel == delivery.GRC && rec.PackageType == "" {
		return problem.InvalidField("package_type", "the grc channel sends a signed package: name a package_type")
	}
	rec.Delivery.Recipients = parsed.Recipients
	if rec.Delivery.Recipients == nil {
		rec.Delivery.Recipients = []string{}
	}
	return nil
}

// packaged tells whether runs send a signed package (several formats or a package type)
// rather than one artifact.
func packaged(rec Record) bool { return rec.PackageType != "" || len(rec.Formats) > 1 }

// SetStatus pauses, resumes or deletes a schedule. Pausing and deleting stop its firings;
// resuming an active schedule or pausing a paused one changes nothing and writes nothing.
func (s *Service) SetStatus(ctx context.Context, a Actor, scheduleRef, to string) (Record, error) {
	rec, err := s.Get(ctx, a.Tenant.ID, scheduleRef)
	if err != nil {
		return Record{}, err
	}
	if rec.Status == StatusDisabled {
		return Record{}, problem.New(problem.Conflict, "schedule_deleted", "schedule", "the schedule is deleted")
	}
	if rec.Status == to {
		return rec, nil
	}
	if to == StatusActive && rec.Status == StatusRequiresApproval {
		return rec, nil // resuming waits for the decision
	}
	action := map[string]evidence.Action{StatusPaused: evidence.SchedulePaused, StatusActive: evidence.ScheduleResumed, StatusDisabled: evidence.ScheduleDeleted}[to]
	prev := rec.Status
	rec.Status, rec.UpdatedAt = to, stamp(s.Clock.Now())
	rec.Revision++
	if to == StatusDisabled {
		rec.DeletedAt = rec.UpdatedAt
	}
	if to == StatusActive {
		st, err := s.Settings(ctx, a.Tenant.ID)
		if err != nil {
			return Record{}, err
		}
		if err := s.requestApproval(a, st, &rec); err != nil {
			return Record{}, err
		}
	}
	ev, err := s.evidence(a.Tenant.ID, a.Role, action, rec, map[string]any{"previous_status": prev})
	if err != nil {
		return Record{}, err
	}
	if err := s.write(ctx, a.Tenant.ID, &rec, ev, false); err != nil {
		return Record{}, err
	}
	return rec, s.openGate(ctx, rec)
}
