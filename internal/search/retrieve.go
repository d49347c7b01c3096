package search

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Retrieval decisions (the public contract's list).
const (
	Allow           = "allow"
	Deny            = "deny"
	NotFound        = "not_found"
	ExpiredDecision = "expired"
	RequireApproval = "require_approval"
)

// LinkTTL is how long an allowed retrieval's presigned link works.
const LinkTTL = 5 * time.Minute

type verdict struct {
	Decision, Reason string
}

func decide(rec artifacts.Record, state string, scope Scope) verdict {
	switch {
	case state == artifacts.Deleted:
		return verdict{ExpiredDecision, "the artifact was deleted after its retention; only its tombstone remains"}
	case state == artifacts.Expired:
		return verdict{ExpiredDecision, "the artifact's retention has passed"}
	case !scope.Download(rec):
		return verdict{Deny, "the caller's role may not download this artifact"}
	case state == artifacts.PendingApproval:
		return verdict{RequireApproval, "the artifact is released only after approval"}
	}
	return verdict{Allow, "retention in force and role permitted"}
}

// Retrieval is the answer to a retrieval request. URL is set only for allow: it goes to
// the caller and nowhere else.
type Retrieval struct {
	RetrievalRef string `json:"retrieval_ref"`
	ArtifactRef  string `json:"artifact_ref"`
	Decision     string `json:"access_decision"`
	Reason       string `json:"reason"`
	URL          string `json:"url,omitempty"`
	ExpiresAt    string `json:"expires_at,omitempty"`
	EvidenceRef  string `json:"evidence_ref"`
}

// RetrievalRecord is what is stored (no URL).
type RetrievalRecord struct {
	RetrievalRef string `json:"retrieval_ref"`
	ArtifactRef  string `json:"artifact_ref"`
	Decision     string `json:"access_decision"`
	Reason       string `json:"reason"`
	ActorRef     string `json:"actor_ref"`
	ExpiresAt    string `json:"expires_at,omitempty"`
	DecidedAt    string `json:"decided_at"`
	EvidenceRef  string `json:"evidence_ref"`
}

// ParseRetrieve accepts an empty body or an empty JSON object.
func ParseRetrieve(body []byte) error { return schemas.EmptyObject(body) }

// Retrieve decides one retrieval. An artifact the tenant does not have, or one outside the
// role's scope, is a 404 that records nothing: it must not tell apart another tenant's
// artifact from no artifact.
func (s *Service) Retrieve(ctx context.Context, tenantID, role, artifact string) (Retrieval, error) {
	rec, err := s.artifacts.Get(ctx, tenantID, artifact)
	if err != nil {
		return Retrieval{}, err
	}
	now := s.clock.Now()
	state := rec.Effective(now)
	scope := ScopeFor(role)
	if !scope.Visible(rec, state) {
		return Retrieval{}, artifacts.ErrNotFound
	}
	v := decide(rec, state, scope)
	id := ref.NewID("ret", now)
	out := Retrieval{RetrievalRef: ref.Make("retrieval", id), ArtifactRef: rec.ArtifactRef, Decision: v.Decision, Reason: v.Reason}
	if v.Decision == Allow {
		if out.URL, err = s.presign.PresignGet(ctx, rec.ObjectKey, rec.VersionID, LinkTTL); err != nil {
			return Retrieval{}, fmt.Errorf("presign artifact: %w", err)
		}
		out.ExpiresAt = now.Add(LinkTTL).UTC().Format(time.RFC3339)
	}
	return s.recordRetrieval(ctx, tenantID, role, id, out, now)
}

func (s *Service) recordRetrieval(ctx context.Context, tenantID, role, id string, out Retrieval, now time.Time) (Retrieval, error) {
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: evidence.RetrievalDecided, ActorRole: role,
		SubjectRefs: []string{out.ArtifactRef, out.RetrievalRef},
		Details:     map[string]any{"decision": out.Decision, "link_expires_at": out.ExpiresAt, "link_ttl_seconds": int(LinkTTL.Seconds())}}, now)
	if err != nil {
		return Retrieval{}, err
	}
	out.EvidenceRef = ev.Ref
	data, err := json.Marshal(RetrievalRecord{RetrievalRef: out.RetrievalRef, ArtifactRef: out.ArtifactRef, Decision: out.Decision,
		Reason: out.Reason, ActorRef: ref.Make("role", role), ExpiresAt: out.ExpiresAt, DecidedAt: now.UTC().Format(time.RFC3339Nano), EvidenceRef: ev.Ref})
	if err != nil {
		return Retrieval{}, err
	}
	evw, err := ev.Write()
	if err != nil {
		return Retrieval{}, err
	}
	err = s.items.Transact(ctx, []itemstore.Write{{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: RetrievalKey(tenantID), SK: id, Data: data}}, evw})
	if err != nil {
		return Retrieval{}, fmt.Errorf("record retrieval: %w", err)
	}
	return out, nil
}

// Latest returns the tenant's most recent stored search and retrieval (for the export);
// ok is false for whichever does not exist yet.
func (s *Service) Latest(ctx context.Context, tenantID string) (q *QueryRecord, r *RetrievalRecord, err error) {
	var qr QueryRecord
	if found, err := s.latest(ctx, QueryKey(tenantID), &qr); err != nil {
		return nil, nil, err
	} else if found {
		q = &qr
	}
	var rr RetrievalRecord
	if found, err := s.latest(ctx, RetrievalKey(tenantID), &rr); err != nil {
		return nil, nil, err
	} else if found {
		r = &rr
	}
	return q, r, nil
}

func (s *Service) latest(ctx context.Context, pk string, into any) (bool, error) {
	page, err := s.items.Query(ctx, itemstore.Query{PK: pk, Desc: true, Limit: 1})
	if err != nil {
		return false, err
	}
	if len(page.Items) == 0 {
		return false, nil
	}
	return true, json.Unmarshal(page.Items[0].Data, into)
}
