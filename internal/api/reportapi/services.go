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
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
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
	Schedules *reportschedule.Service
	// Items answers the read-only queries of the public exports.
	Items interface {
		Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
	}
}

type handlerFunc func(ctx context.Context, h *Services, r api.Request) (api.Response, error)

var routes = map[string]handlerFunc{
	"get-export":                getExport,
	"get-exports":               getExports,
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

// getExport answers one public contract's packet; a public contract the product does not
// build, or whose state is missing, is 409 export_not_ready naming why.
func getExport(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	name := r.PathParams["contract"]
	if !slices.Contains(publicexport.PublicContracts, name) {
		return api.Response{}, problem.New(problem.NotFound, "unknown_contract", "contract",
			"known exports: "+strings.Join(publicexport.PublicContracts, ", "))
	}
	s, err := h.exportState(ctx, r, ExportSubject{Package: r.Query.Get("package"), Schedule: r.Query.Get("schedule")})
	if err != nil {
		return api.Response{}, err
	}
	raw, err := publicexport.Build(name, s)
	if err != nil {
		return api.Response{}, err
	}
	return api.Response{Status: http.StatusOK, Raw: raw}, nil
}

// getExports is the readiness view: every public contract, whether it can be exported now,
// and each condition it does not meet yet.
func getExports(ctx context.Context, h *Services, r api.Request) (api.Response, error) {
	s, err := h.exportState(ctx, r, ExportSubject{})
	if err != nil {
		return api.Response{}, err
	}
	v, err := publicexport.ReadinessOf(s)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, v), nil
}

func (h *Services) exportState(ctx context.Context, r api.Request, subject ExportSubject) (publicexport.State, error) {
	t, err := h.tenant(ctx, r)
	if err != nil {
		return publicexport.State{}, err
	}
	cur, err := h.Settings.Get(ctx, t.ID, t.DisplayName)
	if err != nil {
		return publicexport.State{}, err
	}
	return h.ExportStateOf(ctx, t, cur.Settings, subject), nil
}
