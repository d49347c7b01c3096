package reportapi

import (
	"context"
	"errors"
	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"net/http"
	"regexp"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/auditlog"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

// ProofSource is a tenant's audit log as the read routes see it (audit.Writer): inclusion
// proofs of evidence, and the latest signed checkpoint the exports name.
type ProofSource interface {
	Proof(ctx context.Context, tenantID, evidenceRef string) (auditlog.Proof, error)
	LatestCheckpoint(ctx context.Context, tenantID string) (*audit.Checkpointed, error)
}

// evidenceIDPattern is the id part of an evidence ref (ref.NewID("ev", ...)).
var evidenceIDPattern = regexp.MustCompile(`^ev_[0-9a-z]{10,40}$`)

// getEvidenceProof returns the inclusion proof of one evidence record against the tenant's
// latest signed checkpoint; `aispm-reports verify proof FILE` checks it offline.
func getEvidenceProof(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	id := strings.TrimPrefix(r.PathParams["evidence_ref"], "evidence:")
	if !evidenceIDPattern.MatchString(id) {
		return api.Response{}, problem.InvalidField("evidence_ref", "must be an evidence ref such as evidence:ev_...")
	}
	p, err := h.Proofs.Proof(ctx, r.Principal.TenantID, "evidence:"+id)
	switch {
	case errors.Is(err, audit.ErrUnknownEvidence):
		return api.Response{}, problem.New(problem.NotFound, "unknown_evidence", "evidence_ref", "this tenant has no such evidence record")
	case errors.Is(err, audit.ErrNotLogged), errors.Is(err, audit.ErrNotCheckpointed):
		return api.Response{}, problem.New(problem.Conflict, "proof_pending", "evidence_ref",
			"the record is not yet covered by a signed checkpoint; retry after the next checkpoint")
	case err != nil:
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, p), nil
}
