package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// DecisionRequest is a validated approve/deny body.
type DecisionRequest struct {
	ReasonCode string `json:"reason_code,omitempty"`
}

// ParseDecision validates an approve or deny body (empty means {}).
func ParseDecision(body []byte) (DecisionRequest, error) {
	var d DecisionRequest
	if len(body) == 0 {
		return d, nil
	}
	return d, schemas.DecodeValid("approval-decision-request.schema.json", body, &d)
}

// gateInput is what the gate (a Step Functions execution's input) carries: refs and the
// digest the approval binds to, never recipients.
type gateInput struct {
	TenantID      string `json:"tenant_id"`
	DeliveryRef   string `json:"delivery_ref"`
	SubjectDigest string `json:"subject_digest"`
}

// ensureGate opens the delivery's gate unless it is open already; the timeout is what is
// left of the approval window, so a late reopen cannot extend it.
func (s *Service) ensureGate(ctx context.Context, tenantID string, rec Record) error {
	_, err := s.Gate.Status(ctx, rec.ID())
	if err == nil {
		return nil
	}
	if !errors.Is(err, approvalgate.ErrNotFound) {
		return fmt.Errorf("approval gate status: %w", err)
	}
	until, _ := time.Parse(time.RFC3339Nano, rec.ApprovalExpiresAt)
	left := until.Sub(s.Clock.Now()).Truncate(time.Second)
	if left < time.Second {
		return nil // past its window: the sweep expires it
	}
	in, err := json.Marshal(gateInput{TenantID: tenantID, DeliveryRef: rec.DeliveryRef, SubjectDigest: rec.SubjectDigest})
	if err != nil {
		return err
	}
	if err := s.Gate.Open(ctx, rec.ID(), left, in); err != nil && !errors.Is(err, approvalgate.ErrExists) {
		return fmt.Errorf("open approval gate: %w", err)
	}
	return nil
}

// DecideInput is one approve or deny call.
type DecideInput struct {
	TenantID    string
	Role        string
	TokenRef    string
	DeliveryRef string
	Approve     bool
	Request     DecisionRequest
}

var (
	errSelfApproval = problem.New(problem.Forbidden, "self_approval", "distribution_ref", "the requester of a send may not decide on it")
	errDecided      = problem.New(problem.Conflict, "already_decided", "distribution_ref", "this request was already decided")
	errExpired      = problem.New(problem.Conflict, "approval_expired", "distribution_ref", "this approval request expired; nothing was sent")
)

// Decide records the one decision on a gated delivery. The gate is the arbiter: of racing
// decisions only the one whose gate decision lands is recorded; the others get 409. An
// approval is bound to the subject digest of the request, and delivery re-checks both.
func (s *Service) Decide(ctx context.Context, in DecideInput) (Record, error) {
	rec, err := s.Get(ctx, in.TenantID, in.DeliveryRef)
	if err != nil {
		return Record{}, err
	}
	if rec.RequesterTokenRef == in.TokenRef {
		return Record{}, errSelfApproval
	}
	if err := s.checkOpen(ctx, in.TenantID, rec); err != nil {
		return Record{}, err
	}
	out, err := json.Marshal(map[string]any{"approved": in.Approve, "approver_role": in.Role, "bound_digest": rec.SubjectDigest})
	if err != nil {
		return Record{}, err
	}
	if err := s.Gate.Decide(ctx, rec.ID(), in.Approve, out); err != nil {
		return Record{}, s.gateRefusal(ctx, in.TenantID, rec, err)
	}
	rec, err = s.recordDecision(ctx, in, rec)
	if err != nil || !in.Approve {
		return rec, err
	}
	return s.attempt(ctx, in.TenantID, rec)
}

func (s *Service) checkOpen(ctx context.Context, tenantID string, rec Record) error {
	switch {
	case rec.Status == StatusExpired:
		return errExpired
	case rec.Status != StatusPendingApproval:
		return errDecided
	case s.Gate == nil:
		return problem.New(problem.Conflict, "approval_gate_unavailable", "", "no approval gate is configured")
	}
	if expired, err := s.expireIfDue(ctx, tenantID, rec, s.Clock.Now()); err != nil || expired {
		if err == nil {
			err = errExpired
		}
		return err
	}
	return nil
}

func (s *Service) gateRefusal(ctx context.Context, tenantID string, rec Record, err error) error {
	switch {
	case errors.Is(err, approvalgate.ErrDecided):
		return errDecided
	case errors.Is(err, approvalgate.ErrExpired):
		if _, xerr := s.markExpired(ctx, tenantID, rec); xerr != nil {
			return xerr
		}
		return errExpired
	case errors.Is(err, approvalgate.ErrNotFound):
		return problem.New(problem.Conflict, "approval_not_open", "distribution_ref", "the approval gate of this request is not open")
	}
	return fmt.Errorf("decide approval gate: %w", err)
}

// recordDecision writes the gate's winner into the delivery. Only the gate winner gets here,
// so a version conflict can only come from the sweep: re-read and write again.
func (s *Service) recordDecision(ctx context.Context, in DecideInput, rec Record) (Record, error) {
	decision, status := "denied", StatusDenied
	if in.Approve {
		decision, status = "approved", StatusQueued
	}
	for range 5 {
		now := s.Clock.Now()
		ev, err := s.evidence(in.TenantID, in.Role, evidence.ApprovalDecided, rec, map[string]any{
			"decision": decision, "approver_role": in.Role, "bound_digest": rec.SubjectDigest, "reason_code": in.Request.ReasonCode}, now)
		if err != nil {
			return rec, err
		}
		next := rec
		next.Approval = &Approval{ApprovalRef: rec.ApprovalRef, Decision: decision, ApproverRole: in.Role,
			BoundDigest: rec.SubjectDigest, ReasonCode: in.Request.ReasonCode, DecidedAt: stamp(now), EvidenceRef: ev.Ref}
		next.setStatus(status, ev.Ref, now)
		if status == StatusDenied {
			fin, err := s.evidence(in.TenantID, in.Role, evidence.DeliveryFinished, rec, map[string]any{"status": StatusDenied, "channel": rec.Channel}, now)
			if err != nil {
				return rec, err
			}
			next.EvidenceRefs = append(next.EvidenceRefs, fin.Ref)
			err = s.update(ctx, in.TenantID, &next, append(mustWrite(ev), mustWrite(fin)...))
			if err == nil {
				return next, nil
			}
		} else if err = s.update(ctx, in.TenantID, &next, mustWrite(ev)); err == nil {
			return next, nil
		}
		if rec, err = s.Get(ctx, in.TenantID, rec.DeliveryRef); err != nil {
			return rec, err
		}
		// The sweep expired it between the gate's decision and this write: expiry stands.
		if rec.Status == StatusExpired {
			return rec, errExpired
		}
	}
	return rec, fmt.Errorf("record approval decision: the delivery kept changing")
}

// expireIfDue expires a pending approval whose window has passed (or whose gate says so).
func (s *Service) expireIfDue(ctx context.Context, tenantID string, rec Record, now time.Time) (bool, error) {
	until, _ := time.Parse(time.RFC3339Nano, rec.ApprovalExpiresAt)
	due := !now.Before(until)
	if !due && s.Gate != nil {
		st, err := s.Gate.Status(ctx, rec.ID())
		due = err == nil && st.Status == approvalgate.Expired
	}
	if !due {
		return false, nil
	}
	_, err := s.markExpired(ctx, tenantID, rec)
	return err == nil, err
}

func (s *Service) markExpired(ctx context.Context, tenantID string, rec Record) (Record, error) {
	if rec.Status != StatusPendingApproval {
		return rec, nil
	}
	out, err := s.finish(ctx, tenantID, rec, StatusExpired, map[string]any{"reason": "approval_window_passed"}, nil)
	if err != nil && errors.Is(err, itemstore.ErrConflict) {
		return s.Get(ctx, tenantID, rec.DeliveryRef)
	}
	return out, err
}
