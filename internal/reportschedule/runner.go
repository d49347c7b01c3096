package reportschedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// Run outcomes.
const (
	OutcomeRunning         = "running"
	OutcomeSent            = "sent"
	OutcomeDeferred        = "deferred"
	OutcomeSkipped         = "skipped"
	OutcomePendingApproval = "pending_approval"
	OutcomeBlocked         = "blocked"
	OutcomeFailed          = "failed"
	OutcomeRetryScheduled  = "retry_scheduled"
	OutcomeDeadLettered    = "dead_lettered"
)

// Run is one nominal fire of a schedule and what became of it.
type Run struct {
	RunRef        string    `json:"run_ref"`
	ScheduleRef   string    `json:"schedule_ref"`
	Revision      int       `json:"revision"`
	NominalAt     string    `json:"nominal_at"`
	FiredAt       string    `json:"fired_at"`
	Outcome       string    `json:"outcome"`
	Reason        string    `json:"reason,omitempty"`
	WindowRef     string    `json:"window_ref,omitempty"`
	DeferredUntil string    `json:"deferred_until,omitempty"`
	DataWindow    [2]string `json:"data_window"`
	ArtifactRefs  []string  `json:"artifact_refs"`
	PackageRef    string    `json:"package_ref,omitempty"`
	DeliveryRefs  []string  `json:"delivery_refs"`
	// DeliveryStatus is the send's status: as the run left it, and read anew while the
	// delivery can still move (a retry, an approval), so a run shows where its mail went.
	DeliveryStatus string   `json:"delivery_status,omitempty"`
	EvidenceRefs   []string `json:"evidence_refs"`
	ClaimedAt      string   `json:"claimed_at"`
	version        int64
	key            string // its sort key, runKey of the nominal fire
}

func runsPartition(tenantID, scheduleID string) string {
	return "T#" + tenantID + "#SCHEDULE#" + scheduleID + "#RUNS"
}

// runKey sorts runs by nominal time.
func runKey(nominal time.Time) string { return nominal.UTC().Format("20060102T150405Z") }

// runLease is how long a claimed run may stay running before another firing takes it
// over (its worker died between the claim and the outcome).
const runLease = 2 * time.Minute

// lateAfter is how late a firing may be and still count as on time; a later one is a
// catch-up after downtime.
const lateAfter = 15 * time.Minute

// Fire handles a scheduler firing; payloads of other kinds are not ours and are ignored.
// A firing of an older revision, of a schedule not active, or at a time that is not a
// nominal fire (the scheduler's expression is a superset) does nothing. Each nominal fire
// runs at most once: its run record is claimed first, and the send's idempotency key is
// derived from the schedule and the nominal time, so a duplicate or replayed firing
// delivers nothing more.
func (s *Service) Fire(ctx context.Context, f scheduler.Firing) error {
	var p Payload
	if err := json.Unmarshal(f.Payload, &p); err != nil || p.Kind != FireKind {
		return nil
	}
	rec, err := s.Get(ctx, p.TenantID, "schedule:"+p.ScheduleID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil || rec.Revision != p.Revision || rec.Status != StatusActive {
		return err
	}
	st, err := s.Settings(ctx, p.TenantID)
	if err != nil {
		return err
	}
	spec := effective(rec.Schedule, st)
	nominal, deferred, ok := s.nominalOf(spec, rec, p, f.At)
	if !ok {
		return nil
	}
	run, ok, err := s.claim(ctx, p.TenantID, rec, nominal, deferred)
	if err != nil || !ok {
		return err
	}
	return s.execute(ctx, p.TenantID, st, rec, spec, run, nominal, deferred)
}

// nominalOf is the nominal fire a firing stands for: its own time, or, for a late firing
// after downtime, the latest fire missed (run_latest_once) or none (skip_missed).
func (s *Service) nominalOf(spec Spec, rec Record, p Payload, at time.Time) (time.Time, bool, bool) {
	if p.NominalAt != "" {
		t, err := time.Parse(time.RFC3339, p.NominalAt)
		return t, true, err == nil
	}
	// A firing may come some seconds after its time (EventBridge hands the target the time
	// it invoked, not the time it was due): it stands for the latest nominal fire in the
	// quarter hour before it, or for none (the expression is a superset of the fires).
	nominal := at.UTC().Truncate(time.Minute)
	if !IsNominal(spec, nominal) {
		n, ok := LatestFire(spec, at.Add(-lateAfter), at)
		if !ok {
			return time.Time{}, false, false
		}
		nominal = n
	}
	now := s.Clock.Now()
	if now.Sub(nominal) <= lateAfter {
		return nominal, false, true
	}
	last := nominal.Add(-time.Second)
	if t, err := time.Parse(time.RFC3339, rec.LastNominalAt); err == nil && t.After(last) {
		last = t
	}
	latest, ok := CatchUp(spec, last, now)
	return latest, false, ok
}

// claim takes the run of nominal: a new run, a deferred run whose time has come, or one
// whose worker's lease ran out. Anything else (a duplicate firing) is not claimed.
func (s *Service) claim(ctx context.Context, tenantID string, rec Record, nominal time.Time, deferred bool) (Run, bool, error) {
	now := s.Clock.Now()
	pk, sk := runsPartition(tenantID, rec.ID()), runKey(nominal)
	it, err := s.Items.Get(ctx, pk, sk)
	var run Run
	cond := itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent}
	switch {
	case errors.Is(err, itemstore.ErrNotFound):
		run = Run{RunRef: ref.Make("run", rec.ID()+"-"+sk), ScheduleRef: rec.ScheduleRef, NominalAt: stamp(nominal),
			ArtifactRefs: []string{}, DeliveryRefs: []string{}, EvidenceRefs: []string{}}
	case err != nil:
		return Run{}, false, fmt.Errorf("read run: %w", err)
	default:
		if err := json.Unmarshal(it.Data, &run); err != nil {
			return Run{}, false, fmt.Errorf("decode run: %w", err)
		}
		claimed, _ := time.Parse(time.RFC3339, run.ClaimedAt)
		takeOver := (deferred && run.Outcome == OutcomeDeferred) || (run.Outcome == OutcomeRunning && now.Sub(claimed) > runLease)
		if !takeOver {
			return Run{}, false, nil
		}
		cond = itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfVersion, ExpectVersion: it.Version}
	}
	run.Outcome, run.Revision, run.FiredAt, run.ClaimedAt = OutcomeRunning, rec.Revision, stamp(now), stamp(now)
	data, err := json.Marshal(run)
	if err != nil {
		return Run{}, false, err
	}
	cond.Item = itemstore.Item{PK: pk, SK: sk, Data: data}
	if err := s.Items.Transact(ctx, []itemstore.Write{cond}); err != nil {
		if errors.Is(err, itemstore.ErrConflict) {
			return Run{}, false, nil // another firing claimed it first
		}
		return Run{}, false, fmt.Errorf("claim run: %w", err)
	}
	run.version, run.key = it.Version+1, sk
	return run, true, nil
}

// execute applies blackouts and the approval policy, renders the run's window, and sends.
func (s *Service) execute(ctx context.Context, tenantID string, st settings.Settings, rec Record, spec Spec, run Run, nominal time.Time, deferred bool) error {
	evalAt := nominal
	if deferred {
		evalAt = s.Clock.Now()
	}
	d := Evaluate(spec, evalAt)
	run.WindowRef = d.WindowRef
	switch d.Action {
	case ActionSkip:
		return s.finish(ctx, tenantID, &rec, run, OutcomeSkipped, "blackout", nil)
	case ActionDefer:
		run.DeferredUntil = stamp(d.Until)
		if err := s.deferTo(ctx, tenantID, rec, nominal, d.Until); err != nil {
			return err
		}
		return s.finish(ctx, tenantID, &rec, run, OutcomeDeferred, "blackout", nil)
	}
	gate, err := s.needsApproval(ctx, tenantID, rec, d)
	if err != nil {
		return err
	}
	from, to := DataWindow(spec, nominal)
	run.DataWindow = [2]string{stamp(from), stamp(to)}
	subject, err := s.render(ctx, tenantID, rec, &run, from, to)
	if p, ok := problem.As(err); ok {
		reason := p.Code
		outcome := OutcomeFailed
		if p.Code == "empty_window" {
			outcome = OutcomeSkipped
		}
		return s.finish(ctx, tenantID, &rec, run, outcome, reason, nil)
	}
	if err != nil {
		return err // infrastructure: the firing is retried (target retry policy, next tick)
	}
	return s.send(ctx, tenantID, &rec, run, subject, nominal, gate)
}

// needsApproval tells whether this run's send must wait for an approver: its blackout
// window asks for one, or its approval policy does.
func (s *Service) needsApproval(ctx context.Context, tenantID string, rec Record, d Decision) (bool, error) {
	if d.Action == ActionRequireApproval {
		return true, nil
	}
	switch rec.ApprovalPolicy {
	case ApprovalEveryRun:
		return true, nil
	case ApprovalFirstRun, ApprovalOnRecipientChange:
		approved, err := s.approvedDigest(ctx, tenantID, rec)
		if err != nil {
			return false, err
		}
		if rec.ApprovalPolicy == ApprovalFirstRun {
			return approved == "", nil
		}
		return approved != rec.RecipientDigest, nil
	}
	return false, nil
}

// approvedDigest is the recipient digest last approved: the stored one, or that of the
// last gated send if an approver has approved it since.
func (s *Service) approvedDigest(ctx context.Context, tenantID string, rec Record) (string, error) {
	if rec.GatedDeliveryRef == "" {
		return rec.ApprovedRecipientDigest, nil
	}
	d, err := s.Sender.Get(ctx, tenantID, rec.GatedDeliveryRef)
	if err != nil {
		return "", err
	}
	if d.Approval != nil && d.Approval.Decision == "approved" {
		return rec.RecipientDigest, nil
	}
	return rec.ApprovedRecipientDigest, nil
}

// subject is what a run sends: one artifact, or a signed package of them.
type subject struct{ artifactRef, packageRef string }

func (s *Service) render(ctx context.Context, tenantID string, rec Record, run *Run, from, to time.Time) (subject, error) {
	t, err := s.Tenants.Get(ctx, tenantID)
	if err != nil {
		return subject{}, err
	}
	req, err := artifacts.ParseRenderRequest(renderBody(rec, from, to), t, rec.CreatedByRole, s.Clock.Now())
	if err != nil {
		return subject{}, err
	}
	out, err := s.Renderer.Render(ctx, t, rec.CreatedByRole, req)
	if err != nil {
		return subject{}, err
	}
	refs := make([]string, 0, len(out.Artifacts))
	for _, a := range out.Artifacts {
		refs = append(refs, a.ArtifactRef)
	}
	run.ArtifactRefs = refs
	run.EvidenceRefs = append(run.EvidenceRefs, out.EvidenceRef)
	if !packaged(rec) {
		return subject{artifactRef: refs[0]}, nil
	}
	kind := rec.PackageType
	if kind == "" {
		kind = "board_and_audit_bundle"
	}
	pkg, err := s.Packager.Create(ctx, tenantID, rec.CreatedByRole, manifest.Request{PackageType: kind, ArtifactRefs: refs})
	if err != nil {
		return subject{}, err
	}
	run.PackageRef = pkg.Manifest.PackageRef
	return subject{packageRef: pkg.Manifest.PackageRef}, nil
}

// outcomeOf maps the send's delivery status to the run's outcome.
var outcomeOf = map[string]string{
	delivery.StatusDelivered: OutcomeSent, delivery.StatusPendingApproval: OutcomePendingApproval,
	delivery.StatusBlocked: OutcomeBlocked, delivery.StatusRetryScheduled: OutcomeRetryScheduled,
	delivery.StatusDeadLettered: OutcomeDeadLettered, delivery.StatusQueued: OutcomeSent, delivery.StatusSending: OutcomeSent,
}

func (s *Service) send(ctx context.Context, tenantID string, rec *Record, run Run, subj subject, nominal time.Time, gate bool) error {
	retry := rec.Schedule.RetryPolicy
	if retry == nil {
		p := DefaultRetryPolicy()
		retry = &p
	}
	d, _, err := s.Sender.Send(ctx, delivery.SendInput{
		TenantID: tenantID, Role: rec.CreatedByRole, TokenRef: rec.CreatedByToken,
		IdempotencyKey: "schedule:" + rec.ID() + ":" + runKey(nominal),
		Request: delivery.SendRequest{ArtifactRef: subj.artifactRef, PackageRef: subj.packageRef,
			Channel: rec.Delivery.Channel, Recipients: rec.Delivery.Recipients},
		Retry: &delivery.RetryPolicy{MaxRetries: retry.MaxAttempts, Backoff: string(retry.Backoff),
			BaseSeconds: retry.BaseSeconds, CapSeconds: retry.CapSeconds},
		ScheduleRef: rec.ScheduleRef, RequireApproval: gate, ApprovedBy: approvedBy(*rec),
	})
	if p, ok := problem.As(err); ok {
		return s.finish(ctx, tenantID, rec, run, OutcomeFailed, p.Code, nil)
	}
	if err != nil {
		return err
	}
	run.DeliveryRefs = append(run.DeliveryRefs, d.DeliveryRef)
	run.DeliveryStatus = d.Status
	outcome, ok := outcomeOf[d.Status]
	if !ok {
		outcome = OutcomeFailed
	}
	return s.finish(ctx, tenantID, rec, run, outcome, d.FailureClass, func(r *Record) {
		if d.Status == delivery.StatusPendingApproval {
			r.GatedDeliveryRef = d.DeliveryRef
		}
	})
}

// approvedBy is the schedule's standing approval when it covers what runs now.
func approvedBy(rec Record) string {
	if rec.approvedFor() {
		return rec.ApprovalRef
	}
	return ""
}

// deferTo schedules the run of nominal again at until, as a one-shot.
func (s *Service) deferTo(ctx context.Context, tenantID string, rec Record, nominal, until time.Time) error {
	payload, err := json.Marshal(Payload{Kind: FireKind, TenantID: tenantID, ScheduleID: rec.ID(), Revision: rec.Revision, NominalAt: stamp(nominal)})
	if err != nil {
		return err
	}
	at := until.Truncate(time.Second)
	if at.Before(until) {
		at = at.Add(time.Second)
	}
	err = s.Scheduler.Create(ctx, scheduler.Schedule{Group: group(tenantID), Name: "report-" + rec.ID() + "-d-" + runKey(nominal),
		Expression: scheduler.OneShot(at), Payload: payload, Enabled: true})
	if err != nil && !errors.Is(err, scheduler.ErrExists) {
		return fmt.Errorf("schedule deferred run: %w", err)
	}
	return nil
}

// finish records the run's outcome with its evidence, and the schedule's last nominal fire.
func (s *Service) finish(ctx context.Context, tenantID string, rec *Record, run Run, outcome, reason string, update func(*Record)) error {
	now := s.Clock.Now()
	run.Outcome, run.Reason = outcome, reason
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: evidence.ScheduleRunRecorded, ActorRole: "system",
		SubjectRefs: append([]string{rec.ScheduleRef, run.RunRef}, append(run.DeliveryRefs, run.ArtifactRefs...)...),
		Details: map[string]any{"outcome": outcome, "reason": reason, "nominal_at": run.NominalAt, "revision": run.Revision,
			"window_ref": run.WindowRef, "deferred_until": run.DeferredUntil, "recipient_count": len(rec.Delivery.Recipients)}}, now)
	if err != nil {
		return err
	}
	run.EvidenceRefs = append(run.EvidenceRefs, ev.Ref)
	data, err := json.Marshal(run)
	if err != nil {
		return err
	}
	evw, err := ev.Write()
	if err != nil {
		return err
	}
	writes := []itemstore.Write{evw, {Kind: itemstore.Put, Cond: itemstore.IfVersion, ExpectVersion: run.version,
		Item: itemstore.Item{PK: runsPartition(tenantID, rec.ID()), SK: run.key, Data: data}}}
	if rw, ok := touchSchedule(tenantID, *rec, run, update); ok {
		writes = append(writes, rw)
	}
	err = s.Items.Transact(ctx, writes)
	if errors.Is(err, itemstore.ErrConflict) && len(writes) == 3 {
		// The schedule changed meanwhile: it keeps its own state, the run is still recorded.
		err = s.Items.Transact(ctx, writes[:2])
	}
	if err != nil {
		return fmt.Errorf("record run %s: %w", run.RunRef, err)
	}
	return nil
}

// touchSchedule moves the schedule's last nominal fire forward (and applies update), at
// the schedule's version.
func touchSchedule(tenantID string, rec Record, run Run, update func(*Record)) (itemstore.Write, bool) {
	if rec.LastNominalAt >= run.NominalAt && update == nil {
		return itemstore.Write{}, false
	}
	if run.NominalAt > rec.LastNominalAt {
		rec.LastNominalAt = run.NominalAt
	}
	if update != nil {
		update(&rec)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return itemstore.Write{}, false
	}
	return itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfVersion, ExpectVersion: rec.version,
		Item: itemstore.Item{PK: partition(tenantID), SK: rec.ID(), Data: data}}, true
}

// Runs lists a schedule's runs, newest first.
func (s *Service) Runs(ctx context.Context, tenantID, scheduleRef, cursor string, limit int) ([]Run, string, error) {
	rec, err := s.Get(ctx, tenantID, scheduleRef)
	if err != nil {
		return nil, "", err
	}
	page, err := s.Items.Query(ctx, itemstore.Query{PK: runsPartition(tenantID, rec.ID()), Desc: true, Limit: limit, Cursor: cursor})
	if errors.Is(err, itemstore.ErrInvalid) && cursor != "" {
		return nil, "", problem.InvalidField("cursor", "not a cursor from this listing")
	}
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	out := make([]Run, 0, len(page.Items))
	for _, it := range page.Items {
		var r Run
		if json.Unmarshal(it.Data, &r) != nil {
			continue
		}
		if err := s.refreshDelivery(ctx, tenantID, &r); err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	return out, page.Next, nil
}

// refreshDelivery reads the current status of a run's send while it may still change;
// a final status is stored with the delivery, so it is read once at most per run shown.
func (s *Service) refreshDelivery(ctx context.Context, tenantID string, r *Run) error {
	if len(r.DeliveryRefs) == 0 || (r.DeliveryStatus != "" && (delivery.Record{Status: r.DeliveryStatus}).Final()) {
		return nil
	}
	d, err := s.Sender.Get(ctx, tenantID, r.DeliveryRefs[len(r.DeliveryRefs)-1])
	if _, ok := problem.As(err); ok { // a ref that no longer reads: the recorded status stands
		return nil
	}
	if err != nil {
		return fmt.Errorf("run %s delivery: %w", r.RunRef, err)
	}
	r.DeliveryStatus = d.Status
	return nil
}
