// Package app wires the domain services onto a set of ports. The embedded and AWS entry
// points differ only in which adapters they pass in (see embeddedapp and awsapp), so the
// two cannot drift apart.
package app

import (
	"context"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/mailer"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// Ports are the adapters the services run on. Signer may be nil where no signing key is
// configured: package creation then fails with a configuration error, nothing else does.
type Ports struct {
	Items     itemstore.Store
	Objects   objectstore.Store
	Scheduler scheduler.Scheduler
	Signer    signer.Signer
	Clock     clock.Clock
	// Mailer and Gate may be nil where not configured: email then dead-letters as
	// provider_auth and a send that needs approval is refused.
	Mailer mailer.Sender
	Gate   approvalgate.Gate
}

// Services are the domain services built on the ports.
type Services struct {
	Tokens    *auth.Tokens
	Tenants   *tenancy.Registry
	Settings  *settings.Service
	Ingest    *ingest.Service
	Artifacts *artifacts.Service
	Packages  *manifest.Service
	Search    *search.Service
	Delivery  *delivery.Service
	Signer    signer.Signer
	Audit     *audit.Writer
	Handlers  *api.Handlers
}

// Build creates the services.
func Build(p Ports) *Services {
	st := settings.NewService(p.Items, p.Clock)
	tenantSettings := func(ctx context.Context, tenantID string) (settings.Settings, error) {
		cur, err := st.Get(ctx, tenantID, "")
		return cur.Settings, err
	}
	retention := func(ctx context.Context, tenantID string) (int, error) {
		s, err := tenantSettings(ctx, tenantID)
		return s.RetentionDays.OperationalRecord, err
	}
	s := &Services{
		Tokens:   auth.NewTokens(p.Items, p.Clock),
		Tenants:  tenancy.NewRegistry(p.Items, p.Clock),
		Settings: st,
		Ingest:   ingest.NewService(p.Items, p.Objects, retention, p.Clock),
		Signer:   p.Signer,
	}
	s.Artifacts = artifacts.NewService(p.Items, p.Objects, s.Ingest, p.Scheduler, tenantSettings, p.Clock)
	s.Packages = manifest.NewService(p.Items, p.Objects, s.Artifacts, p.Signer, tenantSettings, p.Clock)
	s.Search = search.NewService(p.Items, p.Objects, s.Artifacts, p.Clock)
	s.Delivery = delivery.NewService(delivery.Ports{Items: p.Items, Objects: p.Objects, Artifacts: s.Artifacts,
		Packages: s.Packages, Settings: tenantSettings, Mailer: p.Mailer, Gate: p.Gate, Scheduler: p.Scheduler, Clock: p.Clock})
	s.Handlers = &api.Handlers{Tenants: s.Tenants, Settings: s.Settings, Ingest: s.Ingest, Artifacts: s.Artifacts,
		Packages: s.Packages, Search: s.Search, Delivery: s.Delivery, Signer: p.Signer, Items: p.Items}
	s.Audit = newAuditWriter(p, tenantSettings)
	s.Handlers.Proofs = s.Audit
	return s
}

// Fire is the schedule target: the embedded scheduler's callback and the schedule-runner
// Lambda both hand every firing here.
func (s *Services) Fire(ctx context.Context, f scheduler.Firing) error {
	if err := s.Artifacts.Fire(ctx, f); err != nil {
		return err
	}
	return s.Delivery.Fire(ctx, f)
}
