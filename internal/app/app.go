// Package app wires the domain services onto a set of ports. The embedded and AWS entry
// points differ only in which adapters they pass in (see embeddedapp and awsapp), so the
// two cannot drift apart.
package app

import (
	"context"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// Ports are the adapters the services run on.
type Ports struct {
	Items   itemstore.Store
	Objects objectstore.Store
	Clock   clock.Clock
}

// Services are the domain services built on the ports.
type Services struct {
	Tokens   *auth.Tokens
	Tenants  *tenancy.Registry
	Settings *settings.Service
	Ingest   *ingest.Service
	Handlers *api.Handlers
}

// Build creates the services.
func Build(p Ports) *Services {
	st := settings.NewService(p.Items, p.Clock)
	retention := func(ctx context.Context, tenantID string) (int, error) {
		cur, err := st.Get(ctx, tenantID, "")
		if err != nil {
			return 0, err
		}
		return cur.Settings.RetentionDays.OperationalRecord, nil
	}
	s := &Services{
		Tokens:   auth.NewTokens(p.Items, p.Clock),
		Tenants:  tenancy.NewRegistry(p.Items, p.Clock),
		Settings: st,
		Ingest:   ingest.NewService(p.Items, p.Objects, retention, p.Clock),
	}
	s.Handlers = &api.Handlers{Tenants: s.Tenants, Settings: s.Settings, Ingest: s.Ingest}
	return s
}
