package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// maxBackoff caps one retry delay.
const maxBackoff = time.Hour

// systemRole is the actor of attempts made by the service itself after a request returned.
const systemRole = "system"

// claimTimeout is how long a claimed attempt (status sending) may stay unrecorded before a
// sweep takes its worker for dead: Lambda stops an invocation after 15 minutes at most,
// and the local server's channels give up long before that.
const claimTimeout = 20 * time.Minute

// Outcomes of an attempt.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	// OutcomeUnknown: the worker died between claiming the attempt and recording it, so the
	// channel may or may not have delivered. It is never retried (at most once); the
	// delivery is dead-lettered for a person to check and, if need be, send again.
	OutcomeUnknown = "unknown"
)

// Status reasons of an abandoned attempt: the provider cannot be asked (dead-lettered,
// outcome unknown), or it was asked and has the mail (delivered) or has not (retried).
const (
	ReasonOutcomeUnknown = "attempt_outcome_unknown"
	ReasonReconciled     = "attempt_reconciled"
	ReasonNotSent        = "attempt_not_sent"
)

// errWorkerLost is the failure of an abandoned attempt the provider never received.
var errWorkerLost = errors.New("the worker died before handing the mail to the provider")

// advance moves a fresh delivery on: a queued one is attempted, a gated one gets its gate.
func (s *Service) advance(ctx context.Context, tenantID string, rec Record) (Record, error) {
	switch rec.Status {
	case StatusPendingApproval:
		return rec, s.ensureGate(ctx, tenantID, rec)
	case StatusQueued, StatusRetryScheduled:
		return s.attempt(ctx, tenantID, rec)
	}
	return rec, nil
}

// attempt makes one try at the channel. It first claims the attempt with a conditional write
// (status sending), so two workers never send the same delivery at once; the outcome and its
// evidence (and a portal inbox entry) are then written together.
func (s *Service) attempt(ctx context.Context, tenantID string, rec Record) (Record, error) {
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return rec, err
	}
	void, reason, err := s.stale(ctx, tenantID, st, rec)
	if err != nil {
		return rec, err // left queued: the next sweep tries again
	}
	if void {
		return s.finish(ctx, tenantID, rec, StatusVoided, map[string]any{"reason": reason}, nil)
	}
	// The watchdog sweep comes first: a claim no sweep will ever look at again would leave
	// the delivery in sending for good if this worker died mid-send. (The minute covers a
	// slow claim write: the sweep must not come before the claim is claimTimeout old.)
	if err := s.scheduleSweep(ctx, tenantID, watchdogName(rec), s.Clock.Now().Add(claimTimeout+time.Minute)); err != nil {
		return rec, err
	}
	if rec.Channel == Email {
		rec.PendingMessageID = attemptMessageID(rec, st.DeliveryProvider.SenderAddress)
	}
	rec, claimed, err := s.claim(ctx, tenantID, rec)
	if err != nil || !claimed {
		return rec, err
	}
	extra, sendErr := s.sendChannel(ctx, tenantID, st, rec)
	return s.record(ctx, tenantID, st, rec, extra, sendErr)
}

// stale re-checks, at delivery time, that the subject still has the digest the request (and
// any approval) was bound to, and that the policy still allows the send.
func (s *Service) stale(ctx context.Context, tenantID string, st settings.Settings, rec Record) (bool, string, error) {
	req := SendRequest{Channel: rec.Channel}
	if rec.Channel == GRC || isPackage(rec.SubjectRef) {
		req.PackageRef = rec.SubjectRef
	} else {
		req.ArtifactRef = rec.SubjectRef
	}
	subj, err := s.subject(ctx, tenantID, req)
	if _, refused := problem.As(err); err != nil && !refused {
		return false, "", err
	}
	if err != nil || subj.Digest != rec.SubjectDigest {
		return true, "subject_changed", nil
	}
	if rec.Approval != nil && rec.Approval.BoundDigest != subj.Digest {
		return true, "approval_digest_mismatch", nil
	}
	pol, err := s.GetPolicy(ctx, tenantID)
	if err != nil {
		return false, "", err
	}
	d := Evaluate(pol.Policy.WithBlockedDomains(st.RecipientGovernance.BlockedDomains), rec.Channel, rec.Recipients)
	if d.Outcome == BlockedPolicy || d.Outcome == RequireApproval && rec.Approval == nil && rec.ScheduleApprovalRef == "" {
		return true, "policy_changed", nil
	}
	return false, "", nil
}

func isPackage(r string) bool { return len(r) > 8 && r[:8] == "package:" }

func (s *Service) claim(ctx context.Context, tenantID string, rec Record) (Record, bool, error) {
	rec.Status = StatusSending
	rec.UpdatedAt = stamp(s.Clock.Now())
	w, err := rec.write(tenantID, itemstore.IfVersion)
	if err != nil {
		return rec, false, err
	}
	if err := s.Items.Transact(ctx, []itemstore.Write{w}); err != nil {
		if errors.Is(err, itemstore.ErrConflict) {
			cur, err := s.Get(ctx, tenantID, rec.DeliveryRef) // another worker has it: report its state
			return cur, false, err
		}
		return rec, false, fmt.Errorf("claim delivery attempt: %w", err)
	}
	rec.version++
	return rec, true, nil
}

// record writes the outcome of an attempt: delivered, retry_scheduled or dead_lettered.
func (s *Service) record(ctx context.Context, tenantID string, st settings.Settings, rec Record, extra []itemstore.Write, sendErr error) (Record, error) {
	now := s.Clock.Now()
	n := len(rec.Attempts) + 1
	class := classify(sendErr)
	rec.PendingMessageID = ""
	outcome := OutcomeSucceeded
	if sendErr != nil {
		outcome = OutcomeFailed
	}
	ev, err := s.evidence(tenantID, systemRole, evidence.DeliveryAttempted, rec, map[string]any{
		"attempt": n, "outcome": outcome, "failure_class": class, "channel": rec.Channel}, now)
	if err != nil {
		return rec, err
	}
	rec.Attempts = append(rec.Attempts, Attempt{Number: n, StartedAt: stamp(now), Outcome: outcome, FailureClass: class, EvidenceRef: ev.Ref})
	rec.EvidenceRefs = append(rec.EvidenceRefs, ev.Ref)
	rec.FailureClass = class
	evWrites := mustWrite(ev)
	if class == FailIntegrity {
		iev, err := s.integrityEvidence(ctx, tenantID, rec, sendErr, now)
		if err != nil {
			return rec, err
		}
		rec.EvidenceRefs = append(rec.EvidenceRefs, iev.Ref)
		evWrites = append(evWrites, mustWrite(iev)...)
	}
	switch {
	case sendErr == nil:
		return s.finish(ctx, tenantID, rec, StatusDelivered, map[string]any{"attempts": n}, append(extra, evWrites...))
	case !transient[class] || n >= maxAttempts(st, rec.Retry):
		return s.finish(ctx, tenantID, rec, StatusDeadLettered, map[string]any{"attempts": n, "failure_class": class}, evWrites)
	}
	delay := retryDelay(st, rec.Retry, n, s.jitter)
	rec.NextAttemptAt = stamp(now.Add(delay))
	rec.setStatus(StatusRetryScheduled, ev.Ref, now)
	if err := s.scheduleSweep(ctx, tenantID, retryName(rec), now.Add(delay)); err != nil {
		return rec, err
	}
	return rec, s.update(ctx, tenantID, &rec, evWrites)
}

// integrityEvidence logs an attempt stopped by an integrity failure and builds its evidence,
// written with the attempt's outcome: the subject, which object, the digest expected.
func (s *Service) integrityEvidence(ctx context.Context, tenantID string, rec Record, sendErr error, now time.Time) (evidence.Record, error) {
	var f *integrityFailure
	if !errors.As(sendErr, &f) {
		return evidence.Record{}, fmt.Errorf("integrity failure without its details: %w", sendErr)
	}
	artifacts.LogIntegrityFailure(ctx, tenantID, artifacts.ReadDelivery, rec.SubjectRef, f.want, sendErr)
	return evidence.New(artifacts.IntegrityEvent(tenantID, systemRole, artifacts.ReadDelivery, f.object, f.want, subjectRefs(rec)), now)
}

// SweepKind marks a schedule payload as a delivery retry sweep.
const SweepKind = "delivery_sweep"

// SweepPayload is what retry schedules carry.
type SweepPayload struct {
	Kind     string `json:"kind"`
	TenantID string `json:"tenant_id"`
}

// scheduleSweep schedules a one-shot sweep of the tenant's deliveries at at. It runs before
// what needs the sweep is recorded: a sweep with nothing due is harmless, a recorded retry
// (or claim) without a sweep would wait for some other delivery's.
func (s *Service) scheduleSweep(ctx context.Context, tenantID, name string, at time.Time) error {
	if s.Scheduler == nil {
		return nil
	}
	payload, err := json.Marshal(SweepPayload{Kind: SweepKind, TenantID: tenantID})
	if err != nil {
		return err
	}
	// Scheduler at() has whole seconds: round up so the sweep never fires before it is due.
	at = at.Truncate(time.Second).Add(time.Second)
	err = s.Scheduler.Create(ctx, scheduler.Schedule{Group: "tenant-" + tenantID,
		Name: name, Expression: scheduler.OneShot(at), Payload: payload, Enabled: true})
	if err != nil && !errors.Is(err, scheduler.ErrExists) {
		return fmt.Errorf("schedule delivery sweep: %w", err)
	}
	return nil
}

// retryName and watchdogName name the sweeps of the attempt after the recorded ones.
func retryName(rec Record) string {
	return fmt.Sprintf("delivery-retry-%s-%d", rec.ID(), len(rec.Attempts))
}

func watchdogName(rec Record) string {
	return fmt.Sprintf("delivery-watchdog-%s-%d", rec.ID(), len(rec.Attempts)+1)
}

// Fire handles a schedule firing; payloads of other kinds are not ours and are ignored.
func (s *Service) Fire(ctx context.Context, f scheduler.Firing) error {
	var p SweepPayload
	if err := json.Unmarshal(f.Payload, &p); err != nil || p.Kind != SweepKind {
		return nil
	}
	_, err := s.RetryDue(ctx, p.TenantID)
	return err
}

// finish moves a delivery to a final status with its evidence.
func (s *Service) finish(ctx context.Context, tenantID string, rec Record, status string, details map[string]any, extra []itemstore.Write) (Record, error) {
	now := s.Clock.Now()
	details["status"] = status
	details["channel"] = rec.Channel
	ev, err := s.evidence(tenantID, systemRole, evidence.DeliveryFinished, rec, details, now)
	if err != nil {
		return rec, err
	}
	rec.NextAttemptAt, rec.PendingMessageID = "", ""
	if reason, ok := details["reason"].(string); ok {
		rec.StatusReason = reason
	}
	rec.setStatus(status, ev.Ref, now)
	return rec, s.update(ctx, tenantID, &rec, append(extra, mustWrite(ev)...))
}

func (s *Service) update(ctx context.Context, tenantID string, rec *Record, extra []itemstore.Write) error {
	w, err := rec.write(tenantID, itemstore.IfVersion)
	if err != nil {
		return err
	}
	if err := s.Items.Transact(ctx, append([]itemstore.Write{w}, extra...)); err != nil {
		return fmt.Errorf("update delivery %s: %w", rec.ID(), err)
	}
	rec.version++
	return nil
}

func mustWrite(ev evidence.Record) []itemstore.Write {
	w, err := ev.Write()
	if err != nil {
		// Write only marshals a record New already marshalled: it cannot fail here.
		panic(err)
	}
	return []itemstore.Write{w}
}

func maxAttempts(st settings.Settings, p *RetryPolicy) int {
	if p != nil {
		return 1 + p.MaxRetries
	}
	if n := st.ScheduleAndAudit.MaxDeliveryAttempts; n > 0 {
		return n
	}
	return 5
}

// retryDelay is the wait after the n-th failed attempt: the delivery's own policy when it
// has one (exact, so a schedule's policy reads as written), else the settings' backoff.
func retryDelay(st settings.Settings, p *RetryPolicy, n int, jitter func(time.Duration) time.Duration) time.Duration {
	if p == nil {
		return backoff(st, n, jitter)
	}
	base := time.Duration(p.BaseSeconds) * time.Second
	d := base
	switch p.Backoff {
	case BackoffLinear:
		d = base * time.Duration(n)
	case BackoffExponential:
		for i := 1; i < n && d < time.Duration(p.CapSeconds)*time.Second; i++ {
			d *= 2
		}
	}
	return min(d, time.Duration(p.CapSeconds)*time.Second)
}

// backoff is base·2^(n-1), capped, plus up to half of that again as jitter so that many
// deliveries failing together do not retry together.
func backoff(st settings.Settings, n int, jitter func(time.Duration) time.Duration) time.Duration {
	base := time.Duration(st.ScheduleAndAudit.RetryBaseSeconds) * time.Second
	if base <= 0 {
		base = 30 * time.Second
	}
	d := base
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d + jitter(d/2)
}

// classify maps a channel error to a failure class ("" for none).
func classify(err error) string {
	var fe *failure
	var ie *integrityFailure
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ie):
		return FailIntegrity
	case errors.As(err, &fe):
		return fe.class
	case errors.Is(err, mailer.ErrAuth):
		return FailProviderAuth
	case errors.Is(err, mailer.ErrRejected), errors.Is(err, mailer.ErrInvalidEnvelope):
		return FailRecipientPolicy
	case errors.Is(err, mailer.ErrThrottled):
		return FailProviderRateLimit
	}
	return FailUnknown
}

// failure tags an error with its class where the channel knows it better than the error.
type failure struct {
	class string
	err   error
}

func (f *failure) Error() string { return f.class + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// RetryDue attempts every delivery of the tenant whose retry is due, expires every approval
// past its deadline and dead-letters every attempt its worker abandoned; it returns how
// many deliveries it moved. It reads only the deliveries not final yet (their index).
func (s *Service) RetryDue(ctx context.Context, tenantID string) (int, error) {
	now := s.Clock.Now()
	q := itemstore.Query{Index: itemstore.GSI1, PK: openKey(tenantID), Limit: 200}
	moved := 0
	for {
		page, err := s.Items.Query(ctx, q)
		if err != nil {
			return moved, fmt.Errorf("list deliveries: %w", err)
		}
		for _, it := range page.Items {
			rec, err := decodeRecord(it)
			if err != nil {
				return moved, err
			}
			ok, err := s.sweepOne(ctx, tenantID, rec, now)
			if err != nil {
				return moved, err
			}
			if ok {
				moved++
			}
		}
		if page.Next == "" {
			return moved, nil
		}
		q.Cursor = page.Next
	}
}

func (s *Service) sweepOne(ctx context.Context, tenantID string, rec Record, now time.Time) (bool, error) {
	switch rec.Status {
	case StatusQueued:
		_, err := s.attempt(ctx, tenantID, rec)
		return err == nil, err
	case StatusRetryScheduled:
		at, _ := time.Parse(time.RFC3339Nano, rec.NextAttemptAt)
		if now.Before(at) {
			return false, nil
		}
		_, err := s.attempt(ctx, tenantID, rec)
		return err == nil, err
	case StatusPendingApproval:
		expired, err := s.expireIfDue(ctx, tenantID, rec, now)
		return expired, err
	case StatusSending:
		return s.abandonIfDead(ctx, tenantID, rec, now)
	}
	return false, nil
}

// abandonIfDead dead-letters a delivery whose attempt was claimed more than claimTimeout ago
// and never recorded: its worker died, and whether the channel delivered is unknown. The
// write is conditional on the claim's version, so a worker that does record wins the race.
func (s *Service) abandonIfDead(ctx context.Context, tenantID string, rec Record, now time.Time) (bool, error) {
	claimed, err := time.Parse(time.RFC3339Nano, rec.UpdatedAt)
	if err != nil || now.Sub(claimed) < claimTimeout {
		return false, nil
	}
	if moved, asked, err := s.reconcile(ctx, tenantID, rec); asked || err != nil {
		return moved, err
	}
	n := len(rec.Attempts) + 1
	ev, err := s.evidence(tenantID, systemRole, evidence.DeliveryAttempted, rec, map[string]any{
		"attempt": n, "outcome": OutcomeUnknown, "failure_class": FailUnknown, "channel": rec.Channel}, now)
	if err != nil {
		return false, err
	}
	rec.Attempts = append(rec.Attempts, Attempt{Number: n, StartedAt: rec.UpdatedAt, Outcome: OutcomeUnknown, FailureClass: FailUnknown, EvidenceRef: ev.Ref})
	rec.EvidenceRefs = append(rec.EvidenceRefs, ev.Ref)
	rec.FailureClass = FailUnknown
	_, err = s.finish(ctx, tenantID, rec, StatusDeadLettered,
		map[string]any{"attempts": n, "failure_class": FailUnknown, "reason": ReasonOutcomeUnknown}, mustWrite(ev))
	if errors.Is(err, itemstore.ErrConflict) {
		return false, nil // the worker recorded after all
	}
	return err == nil, err
}

// reconcile asks the mail provider, where it can be asked (mailer.Finder), whether it has
// the abandoned attempt's mail by the Message-ID written with the claim: if it does the
// delivery is delivered, if not the attempt failed without sending and is retried as any
// transient failure. asked is false where the provider cannot be asked.
func (s *Service) reconcile(ctx context.Context, tenantID string, rec Record) (moved, asked bool, err error) {
	finder, ok := s.Mailer.(mailer.Finder)
	if !ok || rec.Channel != Email || rec.PendingMessageID == "" {
		return false, false, nil
	}
	providerID, found, err := finder.Find(ctx, rec.PendingMessageID)
	if err != nil {
		return false, true, fmt.Errorf("ask the mail provider about %s: %w", rec.ID(), err) // the next sweep asks again
	}
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return false, true, err
	}
	var sendErr error
	if found {
		rec.StatusReason = ReasonReconciled
		rec.ProviderMessageRef = providerID
	} else {
		rec.StatusReason = ReasonNotSent
		sendErr = &failure{class: FailUnknown, err: errWorkerLost}
	}
	_, err = s.record(ctx, tenantID, st, rec, nil, sendErr)
	if errors.Is(err, itemstore.ErrConflict) {
		return false, true, nil // the worker recorded after all
	}
	return err == nil, true, err
}
