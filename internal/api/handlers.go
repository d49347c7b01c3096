package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/catalog"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/publicexport"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// Handlers holds the domain services the routes call.
type Handlers struct {
	Tenants   *tenancy.Registry
	Settings  *settings.Service
	Ingest    *ingest.Service
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

// tenant reads the caller's tenant; a token whose tenant no longer exists authenticates nobody.
func (h *Handlers) tenant(ctx context.Context, r Request) (tenancy.Tenant, error) {
	t, err := h.Tenants.Get(ctx, r.Principal.TenantID)
	if errors.Is(err, itemstore.ErrNotFound) {
		return tenancy.Tenant{}, auth.ErrUnauthenticated
	}
	return t, err
}

type catalogBody struct {
	TenantRef string           `json:"tenant_ref"`
	Edition   string           `json:"edition"`
	Reports   []catalog.Report `json:"reports"`
}

func getCatalog(ctx context.Context, h *Handlers, r Request) (Response, error) {
	t, err := h.tenant(ctx, r)
	if err != nil {
		return Response{}, err
	}
	return JSON(http.StatusOK, catalogBody{TenantRef: "tenant:" + t.ID, Edition: t.Edition, Reports: catalog.ForTenant(t)}), nil
}

func getSettings(ctx context.Context, h *Handlers, r Request) (Response, error) {
	t, err := h.tenant(ctx, r)
	if err != nil {
		return Response{}, err
	}
	cur, err := h.Settings.Get(ctx, t.ID, t.DisplayName)
	if err != nil {
		return Response{}, err
	}
	return withETag(JSON(http.StatusOK, cur), cur.Version), nil
}

type putSettingsBody struct {
	settings.Current
	EvidenceRef string `json:"evidence_ref"`
}

func putSettings(ctx context.Context, h *Handlers, r Request) (Response, error) {
	t, err := h.tenant(ctx, r)
	if err != nil {
		return Response{}, err
	}
	ifMatch, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		return Response{}, err
	}
	cur, evRef, err := h.Settings.Put(ctx, settings.PutRequest{
		TenantID: t.ID, DisplayName: t.DisplayName, ActorRole: string(r.Principal.Role), Body: r.Body, IfMatch: ifMatch,
	})
	if err != nil {
		return Response{}, err
	}
	return withETag(JSON(http.StatusOK, putSettingsBody{Current: cur, EvidenceRef: evRef}), cur.Version), nil
}

func withETag(resp Response, version int64) Response {
	resp.Header = http.Header{"Etag": {`"` + strconv.FormatInt(version, 10) + `"`}}
	return resp
}

func parseIfMatch(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || n < 1 {
		return 0, problem.InvalidField("If-Match", "must be a settings version as returned in ETag")
	}
	return n, nil
}

func postIngest(ctx context.Context, h *Handlers, r Request) (Response, error) {
	res, err := h.Ingest.Ingest(ctx, r.Principal.TenantID, string(r.Principal.Role), r.Body)
	if err != nil {
		return Response{}, err
	}
	status := http.StatusAccepted
	if res.Accepted == 0 {
		status = http.StatusOK // every envelope was already stored: nothing new happened
	}
	return JSON(status, res), nil
}

func getExport(ctx context.Context, h *Handlers, r Request) (Response, error) {
	name := r.PathParams["contract"]
	if !slices.Contains(publicexport.Contracts, name) {
		return Response{}, problem.New(problem.NotFound, "unknown_contract", "contract",
			"known exports: "+strings.Join(publicexport.Contracts, ", "))
	}
	t, err := h.tenant(ctx, r)
	if err != nil {
		return Response{}, err
	}
	cur, err := h.Settings.Get(ctx, t.ID, t.DisplayName)
	if err != nil {
		return Response{}, err
	}
	raw, err := publicexport.Build(name, h.ExportState(ctx, t, cur.Settings, r.Query.Get("package")))
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Raw: raw}, nil
}
