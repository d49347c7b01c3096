package artifacts

import (
	"context"
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Readiness is the deletion-readiness view: what may be deleted now and why the rest may not.
type Readiness struct {
	AsOf        string          `json:"as_of"`
	Deletable   int             `json:"deletable"`
	Blocked     map[string]int  `json:"blocked_by_state"`
	Items       []ReadinessItem `json:"items"`
	Truncated   bool            `json:"truncated"`
	EvidenceRef string          `json:"evidence_ref"`
}

// ReadinessItem is one artifact's verdict.
type ReadinessItem struct {
	ArtifactRef string `json:"artifact_ref"`
	State       string `json:"lifecycle_state"`
	RetainUntil string `json:"retain_until"`
	Deletable   bool   `json:"deletable"`
	Reason      string `json:"reason"`
}

// readinessLimit bounds the listed items; counts cover every artifact.
const readinessLimit = 500

// DeletionReadiness walks the tenant's artifacts and records the verdict as evidence.
func (s *Service) DeletionReadiness(ctx context.Context, tenantID, role string) (Readiness, error) {
	now := s.clock.Now()
	out := Readiness{AsOf: now.UTC().Format(time.RFC3339), Blocked: map[string]int{}, Items: []ReadinessItem{}}
	var deletable []string
	q := itemstore.Query{PK: PartitionKey(tenantID), Limit: 1000}
	for {
		page, err := s.items.Query(ctx, q)
		if err != nil {
			return Readiness{}, fmt.Errorf("list artifacts: %w", err)
		}
		for _, it := range page.Items {
			rec, err := Decode(it)
			if err != nil {
				return Readiness{}, err
			}
			state := rec.Effective(now)
			if state == Deleted {
				continue
			}
			ok := state == Expired
			if ok {
				out.Deletable++
				if len(deletable) < 100 {
					deletable = append(deletable, rec.ArtifactRef)
				}
			} else {
				out.Blocked[state]++
			}
			if len(out.Items) < readinessLimit {
				out.Items = append(out.Items, ReadinessItem{ArtifactRef: rec.ArtifactRef, State: state, RetainUntil: rec.RetainUntil, Deletable: ok, Reason: reason(state)})
			} else {
				out.Truncated = true
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	blocked := map[string]any{}
	for k, v := range out.Blocked {
		blocked[k] = v
	}
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: evidence.DeletionReadiness, ActorRole: role,
		SubjectRefs: deletable, Details: map[string]any{"deletable": out.Deletable, "blocked_by_state": blocked, "as_of": out.AsOf}}, now)
	if err != nil {
		return Readiness{}, err
	}
	evw, err := ev.Write()
	if err != nil {
		return Readiness{}, err
	}
	if err := s.items.Transact(ctx, []itemstore.Write{evw}); err != nil {
		return Readiness{}, fmt.Errorf("record deletion readiness: %w", err)
	}
	out.EvidenceRef = ev.Ref
	return out, nil
}
