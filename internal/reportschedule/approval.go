package reportschedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

var (
	errSelfApproval = problem.New(problem.Forbidden, "self_approval", "schedule", "whoever made the change that needs approval may not decide on it")
	errNotAwaiting  = problem.New(problem.Conflict, "not_awaiting_approval", "schedule", "the schedule is not waiting for an approval")
	errExpired      = problem.New(problem.Conflict, "approval_expired", "schedule", "the approval request expired: change or resume the schedule to ask again")
	errNoGate       = problem.New(problem.Conflict, "approval_gate_unavailable", "", "this schedule needs approval and no approval gate is configured")
)

// needsApproval tells whether the recipient policy gates the schedule's sends and no
// standing approval covers what it runs now.
func (r Record) needsApproval() bool {
	return r.PolicyDecision.Outcome == delivery.RequireApproval && !r.approvedFor()
}

// requestApproval moves a schedule about to become active, whose sends the policy gates,
// to requires_approval, bound to what it runs; the gate opens once the record is stored
// (openGate). A schedule that no longer needs one goes back to active.
func (s *Service) requestApproval(a Actor, st settings.Settings, rec *Record) error {
	switch {
	case rec.Status == StatusRequiresApproval && !rec.needsApproval():
		rec.Status = StatusActive
		return nil
	case (rec.Status != StatusActive && rec.Status != StatusRequiresApproval) || !rec.needsApproval():
		return nil
	case s.Gate == nil:
		return errNoGate
	}
	now := s.Clock.Now()
	rec.Status = StatusRequiresApproval
	rec.ApprovalRef = ref.Make("approval", gateID(*rec))
	rec.ApprovalBoundDigest = rec.boundDigest()
	rec.ApprovalRequestedBy = a.TokenRef
	rec.ApprovalExpiresAt = stamp(now.Add(approvalTimeout(st)))
	return nil
}

func approvalTimeout(st settings.Settings) time.Duration {
	if h := st.ScheduleAndAudit.ApprovalTimeoutHours; h > 0 {
		return time.Duration(h) * time.Hour
	}
	return 72 * time.Hour
}

// gateID names the gate of the schedule's current revision (one approval per change).
func gateID(rec Record) string { return "sch-" + rec.ID() + "-r" + strconv.Itoa(rec.Revision) }

// openGate opens the approval gate of a schedule waiting for one.
func (s *Service) openGate(ctx context.Context, rec Record) error {
	if rec.Status != StatusRequiresApproval {
		return nil
	}
	input, err := json.Marshal(map[string]any{"schedule_ref": rec.ScheduleRef, "revision": rec.Revision, "bound_digest": rec.ApprovalBoundDigest})
	if err != nil {
		return err
	}
	expires, _ := time.Parse(time.RFC3339, rec.ApprovalExpiresAt)
	timeout := max(time.Second, expires.Sub(s.Clock.Now()).Truncate(time.Second))
	if err := s.Gate.Open(ctx, gateID(rec), timeout, input); err != nil && !errors.Is(err, approvalgate.ErrExists) {
		return fmt.Errorf("open schedule approval gate: %w", err)
	}
	return nil
}

// Decide records the one decision on a schedule waiting for approval: approved, it becomes
// active (its runs' gated sends go ahead under this approval while what it runs is
// unchanged); denied, it goes back to draft. The gate is the arbiter of racing decisions.
func (s *Service) Decide(ctx context.Context, a Actor, scheduleRef string, approve bool, body []byte) (Record, error) {
	var d struct {
		ReasonCode string `json:"reason_code"`
	}
	if err := schemas.DecodeValid(schemas.Decision, schemas.OrEmptyObject(body), &d); err != nil {
		return Record{}, err
	}
	rec, err := s.Get(ctx, a.Tenant.ID, scheduleRef)
	if err != nil {
		return Record{}, err
	}
	now := s.Clock.Now()
	switch expires, _ := time.Parse(time.RFC3339, rec.ApprovalExpiresAt); {
	case rec.Status != StatusRequiresApproval:
		return Record{}, errNotAwaiting
	case a.TokenRef == rec.ApprovalRequestedBy:
		return Record{}, errSelfApproval
	case !now.Before(expires):
		return Record{}, errExpired
	case s.Gate == nil:
		return Record{}, errNoGate
	}
	out, err := json.Marshal(map[string]any{"approved": approve, "approver_role": a.Role, "bound_digest": rec.ApprovalBoundDigest})
	if err != nil {
		return Record{}, err
	}
	if err := s.Gate.Decide(ctx, gateID(rec), approve, out); err != nil {
		return Record{}, gateRefusal(err)
	}
	decision, status := "denied", StatusDraft
	if approve {
		decision, status = "approved", StatusActive
	}
	ev, err := s.evidence(a.Tenant.ID, a.Role, evidence.ScheduleApprovalDecided, rec, map[string]any{
		"decision": decision, "approval_ref": rec.ApprovalRef, "bound_digest": rec.ApprovalBoundDigest, "reason_code": d.ReasonCode})
	if err != nil {
		return Record{}, err
	}
	rec.Approval = &ScheduleApproval{ApprovalRef: rec.ApprovalRef, Decision: decision, ApproverRole: a.Role,
		BoundDigest: rec.ApprovalBoundDigest, ReasonCode: d.ReasonCode, DecidedAt: stamp(now), EvidenceRef: ev.Ref}
	rec.Status, rec.UpdatedAt = status, stamp(now)
	rec.Revision++
	return rec, s.write(ctx, a.Tenant.ID, &rec, ev, false)
}

func gateRefusal(err error) error {
	switch {
	case errors.Is(err, approvalgate.ErrDecided):
		return problem.New(problem.Conflict, "already_decided", "schedule", "this approval was already decided")
	case errors.Is(err, approvalgate.ErrExpired):
		return errExpired
	case errors.Is(err, approvalgate.ErrNotFound):
		return problem.New(problem.Conflict, "approval_not_open", "schedule", "the approval gate of this schedule is not open: change or resume it to ask again")
	}
	return fmt.Errorf("decide schedule approval gate: %w", err)
}
