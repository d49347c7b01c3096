package artifacts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// ErrNotFound is the refusal for an artifact this tenant does not have (including every
// other tenant's artifact: the answer does not tell them apart).
var ErrNotFound = problem.New(problem.NotFound, "artifact_not_found", "artifact", "no such artifact")

// Get reads one of the tenant's artifacts.
func (s *Service) Get(ctx context.Context, tenantID, artifact string) (Record, error) {
	id, ok := ParseID(artifact)
	if !ok {
		return Record{}, ErrNotFound
	}
	it, err := s.items.Get(ctx, PartitionKey(tenantID), id)
	if errors.Is(err, itemstore.ErrNotFound) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("read artifact: %w", err)
	}
	return Decode(it)
}

// Now is the service clock (handlers compute effective states with it).
func (s *Service) Now() time.Time { return s.clock.Now() }

// HoldRequest is the body of the legal-hold routes.
type HoldRequest struct {
	CaseRef string `json:"case_ref"`
}

// ParseHold validates a legal-hold body.
func ParseHold(body []byte) (HoldRequest, error) {
	var h HoldRequest
	return h, schemas.DecodeValid(schemas.LegalHold, body, &h)
}

// SetLegalHold places the artifact's WORM version under legal hold and records it.
func (s *Service) SetLegalHold(ctx context.Context, tenantID, role, artifact string, h HoldRequest) (Record, string, error) {
	rec, err := s.Get(ctx, tenantID, artifact)
	if err != nil {
		return Record{}, "", err
	}
	now := s.clock.Now()
	switch rec.Effective(now) {
	case LegalHold:
		return Record{}, "", problem.New(problem.Conflict, "already_on_hold", "artifact", "the artifact is already under legal hold")
	case Deleted:
		return Record{}, "", problem.New(problem.Conflict, "artifact_deleted", "artifact", "a deleted artifact cannot be held")
	}
	// The object store first: a hold that reached WORM but not the index only over-protects.
	if err := s.objects.SetLegalHold(ctx, rec.ObjectKey, rec.VersionID, true); err != nil {
		return Record{}, "", fmt.Errorf("set legal hold: %w", err)
	}
	prev := rec.Effective(now)
	rec.State, rec.LegalHoldRef = LegalHold, h.CaseRef
	return s.change(ctx, tenantID, role, rec, evidence.LegalHoldSet, map[string]any{"case_ref": h.CaseRef, "previous_state": prev}, now)
}

// ReleaseLegalHold lifts the hold; the artifact returns to the state its retention gives.
func (s *Service) ReleaseLegalHold(ctx context.Context, tenantID, role, artifact string, h HoldRequest) (Record, string, error) {
	rec, err := s.Get(ctx, tenantID, artifact)
	if err != nil {
		return Record{}, "", err
	}
	if rec.State != LegalHold {
		return Record{}, "", problem.New(problem.Conflict, "not_on_hold", "artifact", "the artifact is not under legal hold")
	}
	if rec.LegalHoldRef != h.CaseRef {
		return Record{}, "", problem.New(problem.Conflict, "case_mismatch", "case_ref", "the hold was placed for another case")
	}
	if err := s.objects.SetLegalHold(ctx, rec.ObjectKey, rec.VersionID, false); err != nil {
		return Record{}, "", fmt.Errorf("release legal hold: %w", err)
	}
	now := s.clock.Now()
	rec.State, rec.LegalHoldRef = Retained, ""
	if rec.ApprovalRequired {
		rec.State = PendingApproval
	}
	if rec.Effective(now) == Expired {
		rec.State = Expired
	}
	return s.change(ctx, tenantID, role, rec, evidence.LegalHoldReleased, map[string]any{"case_ref": h.CaseRef, "next_state": rec.State}, now)
}

// blockedStates may not be deleted; the WORM store refuses them as well.
var blockedStates = []string{Retained, LegalHold, PendingApproval}

// DeletableStates may be deleted (archived is never assigned by this build).
var DeletableStates = []string{Expired}

// BlockedStates lists the states whose deletion is refused.
func BlockedStates() []string { return slices.Clone(blockedStates) }

// Delete removes an expired artifact's bytes and leaves a tombstone record.
func (s *Service) Delete(ctx context.Context, tenantID, role, artifact string) (Record, string, error) {
	rec, err := s.Get(ctx, tenantID, artifact)
	if err != nil {
		return Record{}, "", err
	}
	now := s.clock.Now()
	state := rec.Effective(now)
	if state == Deleted {
		return Record{}, "", problem.New(problem.Conflict, "artifact_deleted", "artifact", "the artifact is already deleted")
	}
	if state != Expired {
		return Record{}, "", problem.New(problem.Conflict, "deletion_refused", "artifact", "an artifact in state "+state+" cannot be deleted: "+reason(state))
	}
	err = s.objects.DeleteVersion(ctx, rec.ObjectKey, rec.VersionID)
	if errors.Is(err, objectstore.ErrLocked) {
		return Record{}, "", problem.New(problem.Conflict, "deletion_refused", "artifact", "the immutable store still locks this artifact")
	}
	if err != nil && !errors.Is(err, objectstore.ErrNotFound) {
		return Record{}, "", fmt.Errorf("delete artifact bytes: %w", err)
	}
	rec.State, rec.DeletedAt = Deleted, now.UTC().Format(time.RFC3339Nano)
	return s.change(ctx, tenantID, role, rec, evidence.ArtifactDeleted, map[string]any{"digest": rec.Digest, "size_bytes": rec.Size, "retention_class": rec.RetentionClass}, now)
}

func reason(state string) string {
	switch state {
	case Retained:
		return "its retention period has not passed"
	case LegalHold:
		return "it is under legal hold"
	case PendingApproval:
		return "it awaits approval and its retention period has not passed"
	case Deleted:
		return "it is already deleted"
	}
	return "its retention period has passed"
}

func (s *Service) change(ctx context.Context, tenantID, role string, rec Record, action evidence.Action, details map[string]any, now time.Time) (Record, string, error) {
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: action, ActorRole: role,
		SubjectRefs: []string{rec.ArtifactRef}, Details: details}, now)
	if err != nil {
		return Record{}, "", err
	}
	rec.LastEvidenceRef = ev.Ref
	w, err := rec.update(tenantID)
	if err != nil {
		return Record{}, "", err
	}
	evw, err := ev.Write()
	if err != nil {
		return Record{}, "", err
	}
	err = s.items.Transact(ctx, []itemstore.Write{w, evw})
	if errors.Is(err, itemstore.ErrConflict) {
		return Record{}, "", problem.New(problem.Conflict, "concurrent_update", "artifact", "the artifact changed meanwhile; read it again and retry")
	}
	if err != nil {
		return Record{}, "", fmt.Errorf("update artifact: %w", err)
	}
	rec.version++
	return rec, ev.Ref, nil
}

// ExpiryKind marks a schedule payload as an artifact expiry sweep.
const ExpiryKind = "artifact_expiry"

// ExpiryPayload is what the expiry schedules carry.
type ExpiryPayload struct {
	Kind     string `json:"kind"`
	TenantID string `json:"tenant_id"`
}

// expiryBatch bounds one transaction: the records plus their evidence record.
const expiryBatch = 50

// Fire handles a schedule firing (the embedded scheduler's callback, the schedule-runner
// Lambda in AWS). Payloads of other kinds are not ours and are ignored.
func (s *Service) Fire(ctx context.Context, f scheduler.Firing) error {
	var p ExpiryPayload
	if err := json.Unmarshal(f.Payload, &p); err != nil || p.Kind != ExpiryKind {
		return nil
	}
	_, err := s.ExpireDue(ctx, p.TenantID)
	return err
}

// ExpireDue marks every artifact of the tenant whose retain-until has passed as expired, in
// batches with one evidence record each, and returns how many it expired.
func (s *Service) ExpireDue(ctx context.Context, tenantID string) (int, error) {
	now := s.clock.Now()
	total := 0
	for {
		page, err := s.items.Query(ctx, itemstore.Query{Index: itemstore.GSI1, PK: expiryKey(tenantID), SKTo: sortableTime(now) + "~", Limit: expiryBatch})
		if err != nil {
			return total, fmt.Errorf("list due artifacts: %w", err)
		}
		if len(page.Items) == 0 {
			return total, nil
		}
		n, err := s.expireBatch(ctx, tenantID, page.Items, now)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

func (s *Service) expireBatch(ctx context.Context, tenantID string, items []itemstore.Item, now time.Time) (int, error) {
	var recs []Record
	for _, it := range items {
		// The index is eventually consistent in DynamoDB: read the record itself.
		fresh, err := s.items.Get(ctx, PartitionKey(tenantID), it.SK)
		if err != nil {
			continue
		}
		rec, err := Decode(fresh)
		if err != nil {
			return 0, err
		}
		if rec.Effective(now) == Expired && rec.State != Expired {
			recs = append(recs, rec)
		}
	}
	if len(recs) == 0 {
		return 0, nil
	}
	refs := make([]string, len(recs))
	for i := range recs {
		refs[i] = recs[i].ArtifactRef
	}
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: evidence.ArtifactExpired, ActorRole: "system",
		SubjectRefs: refs, Details: map[string]any{"expired": len(recs), "as_of": now.UTC().Format(time.RFC3339)}}, now)
	if err != nil {
		return 0, err
	}
	writes := make([]itemstore.Write, 0, len(recs)+1)
	for _, rec := range recs {
		rec.State, rec.LastEvidenceRef = Expired, ev.Ref
		w, err := rec.update(tenantID)
		if err != nil {
			return 0, err
		}
		writes = append(writes, w)
	}
	evw, err := ev.Write()
	if err != nil {
		return 0, err
	}
	if err := s.items.Transact(ctx, append(writes, evw)); err != nil {
		return 0, fmt.Errorf("expire artifacts: %w", err)
	}
	return len(recs), nil
}
