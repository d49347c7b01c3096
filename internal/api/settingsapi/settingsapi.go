// Package settingsapi serves the tenant's setup settings (routes get-settings, put-settings).
package settingsapi

import (
	"context"
	"net/http"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// Handlers serves the settings routes.
func Handlers(tenants api.TenantSource, st *settings.Service) api.Handlers {
	return api.Handlers{
		"get-settings": func(ctx context.Context, r api.Request) (api.Response, error) {
			return getSettings(ctx, tenants, st, r)
		},
		"put-settings": func(ctx context.Context, r api.Request) (api.Response, error) {
			return putSettings(ctx, tenants, st, r)
		},
	}
}

// FromPorts builds the handlers on their own services (one Lambda function).
func FromPorts(p ports.Set) (api.Handlers, error) {
	if err := p.Require(ports.Items, ports.Clock); err != nil {
		return nil, err
	}
	return Handlers(tenancy.NewRegistry(p.Items, p.Clock), settings.NewService(p.Items, p.Clock, p.Egress)), nil
}

func getSettings(ctx context.Context, tenants api.TenantSource, st *settings.Service, r api.Request) (api.Response, error) {
	t, err := api.Tenant(ctx, tenants, r)
	if err != nil {
		return api.Response{}, err
	}
	cur, err := st.Get(ctx, t.ID, t.DisplayName)
	if err != nil {
		return api.Response{}, err
	}
	last, err := st.LastTestDelivery(ctx, t.ID)
	if err != nil {
		return api.Response{}, err
	}
	return api.WithETag(api.JSON(http.StatusOK, getSettingsBody{Current: cur, LastTestDelivery: last}), cur.Version), nil
}

// getSettingsBody is the settings with the outcome of the last test delivery, if any.
type getSettingsBody struct {
	settings.Current
	LastTestDelivery *settings.TestDeliveryOutcome `json:"last_test_delivery,omitempty"`
}

type putSettingsBody struct {
	settings.Current
	EvidenceRef string `json:"evidence_ref"`
}

func putSettings(ctx context.Context, tenants api.TenantSource, st *settings.Service, r api.Request) (api.Response, error) {
	t, err := api.Tenant(ctx, tenants, r)
	if err != nil {
		return api.Response{}, err
	}
	precondition, err := api.ParseIfMatch(r.Header)
	if err != nil {
		return api.Response{}, err
	}
	ifMatch, err := precondition.Expect(func() (int64, error) {
		cur, err := st.Get(ctx, t.ID, t.DisplayName)
		return cur.Version, err
	})
	if err != nil {
		return api.Response{}, err
	}
	cur, evRef, err := st.Put(ctx, settings.PutRequest{
		TenantID: t.ID, DisplayName: t.DisplayName, ActorRole: string(r.Principal.Role), Body: r.Body, IfMatch: ifMatch,
	})
	if err != nil {
		return api.Response{}, err
	}
	return api.WithETag(api.JSON(http.StatusOK, putSettingsBody{Current: cur, EvidenceRef: evRef}), cur.Version), nil
}
