// Package catalogapi serves the report catalog (route get-catalog).
package catalogapi

import (
	"context"
	"net/http"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/catalog"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// Handlers serves the catalog from the tenant registry.
func Handlers(tenants api.TenantSource) api.Handlers {
	return api.Handlers{"get-catalog": func(ctx context.Context, r api.Request) (api.Response, error) {
		return getCatalog(ctx, tenants, r)
	}}
}

// FromPorts builds the handlers on their own services (one Lambda function).
func FromPorts(p ports.Set) (api.Handlers, error) {
	if err := p.Require(ports.Items, ports.Clock); err != nil {
		return nil, err
	}
	return Handlers(tenancy.NewRegistry(p.Items, p.Clock)), nil
}

type catalogBody struct {
	TenantRef string           `json:"tenant_ref"`
	Edition   string           `json:"edition"`
	Reports   []catalog.Report `json:"reports"`
}

func getCatalog(ctx context.Context, tenants api.TenantSource, r api.Request) (api.Response, error) {
	t, err := api.Tenant(ctx, tenants, r)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, catalogBody{TenantRef: "tenant:" + t.ID, Edition: t.Edition, Reports: catalog.ForTenant(t)}), nil
}
