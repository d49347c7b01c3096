package reportapi

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/publicexport"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// Services are the domain services the report routes call.
type Services struct {
	Tenants   *tenancy.Registry
	Settings  *settings.Service
	Artifacts *artifacts.Service
	Packages  *manifest.Service
	Search    *search.Service
	Delivery  *delivery.Service
	Signer    signer.Signer
	Proofs    ProofSource
	// Items answers the read-only queries of the public exports.
	Items interface {
		Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
	}
}

type handlerFunc func(ctx context.Context, h *Services, r api.Request) (api.Response, error)

var routes = map[string]handlerFunc{
	"get-export":                getExport,
	"get-evidence-proof":        getEvidenceProof,
	"post-render":               postRender,
	"post-search":               postSearch,
	"get-artifact":              getArtifact,
	"post-retrieval":            postRetrieval,
	"post-legal-hold":           postLegalHold,
	"post-legal-hold-release":   postReleaseHold,
	"delete-artifact":           deleteArtifact,
	"post-deletion-readiness":   postDeletionReadiness,
	"post-package":              postPackage,
	"get-package":               getPackage,
	"get-recipient-policy":      getRecipientPolicy,
	"put-recipient-policy":      putRecipientPolicy,
	"post-send":                 postSend,
	"post-distribution-approve": postApprove,
	"post-distribution-deny":    postDeny,
	"get-deliveries":            getDeliveries,
}

// Handlers serves the report routes on s.
func Handlers(s *Services) api.Handlers {
	out := make(api.Handlers, len(routes))
	for name, f := range routes {
		out[name] = func(ctx context.Context, r api.Request) (api.Response, error) { return f(ctx, s, r) }
	}
	return out
}

func (h *Services) tenant(ctx context.Context, r api.Request) (tenancy.Tenant, error) {
	return api.Tenant(ctx, h.Tenants, r)
}

func getExport(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	name := r.PathParams["contract"]
	if !slices.Contains(publicexport.Contracts, name) {
		return api.Response{}, problem.New(problem.NotFound, "unknown_contract", "contract",
			"known exports: "+strings.Join(publicexport.Contracts, ", "))
	}
	t, err := h.tenant(ctx, r)
	if err != nil {
		return api.Response{}, err
	}
	cur, err := h.Settings.Get(ctx, t.ID, t.DisplayName)
	if err != nil {
		return api.Response{}, err
	}
	raw, err := publicexport.Build(name, h.ExportState(ctx, t, cur.Settings, r.Query.Get("package")))
	if err != nil {
		return api.Response{}, err
	}
	return api.Response{Status: http.StatusOK, Raw: raw}, nil
}
