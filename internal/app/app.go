// Package app wires the domain services onto a set of ports. The embedded and AWS entry
// points differ only in which adapters they pass in (see embeddedapp and awsapp), so the
// two cannot drift apart.
package app

import (
	"context"
	"log/slog"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/api/catalogapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/ingestapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/openapiapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/reportapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/scheduleapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/settingsapi"
	"github.com/cavra-enterprise/aispm-reports/internal/api/tokenapi"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/pagecursor"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/signer"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

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
	Schedules *reportschedule.Service
	Signer    signer.Signer
	Audit     *audit.Writer
	// Reports also gathers what the public exports read (the CLI's export command).
	Reports *reportapi.Services
}

// Build creates the services.
func Build(p ports.Set) *Services {
	st := settings.NewService(p.Items, p.Clock, p.Egress)
	s := &Services{
		Tokens:   auth.NewTokens(p.Items, p.Clock, st.TokenLifetimes),
		Tenants:  tenancy.NewRegistry(p.Items, p.Clock),
		Settings: st,
		Ingest:   ingest.NewService(p.Items, p.Objects, st.OperationalRetentionDays, p.Clock),
		Signer:   p.Signer,
	}
	s.Artifacts = artifacts.NewService(p.Items, p.Objects, s.Ingest, p.Scheduler, st.Of, p.Signer, p.Clock)
	s.Packages = manifest.NewService(p.Items, p.Objects, s.Artifacts, p.Signer, st.Of, p.Clock)
	s.Search = search.NewService(p.Items, p.Objects, s.Artifacts, p.Clock, pagecursor.New(p.Items))
	s.Delivery = delivery.NewService(delivery.Ports{Items: p.Items, Objects: p.Objects, Artifacts: s.Artifacts,
		Packages: s.Packages, Settings: st.Of, Mailer: p.Mailer, Gate: p.Gate, Scheduler: p.Scheduler, Clock: p.Clock})
	s.Schedules = reportschedule.NewService(reportschedule.Ports{Items: p.Items, Scheduler: p.Scheduler, Tenants: s.Tenants,
		Renderer: s.Artifacts, Packager: s.Packages, Sender: s.Delivery, Settings: st.Of, Clock: p.Clock, Gate: p.Gate})
	s.Audit = newAuditWriter(p, st.Of)
	s.Reports = &reportapi.Services{Tenants: s.Tenants, Settings: s.Settings, Artifacts: s.Artifacts, Packages: s.Packages,
		Search: s.Search, Delivery: s.Delivery, Signer: p.Signer, Proofs: s.Audit, Items: p.Items, Schedules: s.Schedules}
	return s
}

// Handlers serve every route of api.Routes(). They are joined here, on demand, rather than
// in Build: the functions that serve no route (schedule runner, audit) then link no
// handler code at all.
func (s *Services) Handlers() api.Handlers {
	handlers, err := api.Join(
		catalogapi.Handlers(s.Tenants),
		openapiapi.Handlers(),
		settingsapi.Handlers(s.Tenants, s.Settings),
		ingestapi.Handlers(s.Ingest),
		reportapi.Handlers(s.Reports),
		tokenapi.Handlers(s.Tokens),
		scheduleapi.Handlers(s.Tenants, s.Schedules),
	)
	if err != nil {
		panic(err) // two packages claim one route: a wiring bug that every test run catches
	}
	return handlers
}

// Router serves the whole route table (the local server and the tests).
func (s *Services) Router(log *slog.Logger) *api.Router {
	rt, err := api.NewRouter(s.Handlers(), api.Routes(), log)
	if err != nil {
		panic(err) // Build joins a handler for every route; TestEveryRouteHasOneHandler guards it
	}
	return rt
}

// RouteHandlers builds every service and serves the routes that need more than one domain
// (a Lambda function of the report routes).
func RouteHandlers(p ports.Set) (api.Handlers, error) {
	if err := p.Require(ports.Items, ports.Objects, ports.Clock); err != nil {
		return nil, err
	}
	return Build(p).Handlers(), nil
}

// Fire is the schedule target: the embedded scheduler's callback and the schedule-runner
// Lambda both hand every firing here.
func (s *Services) Fire(ctx context.Context, f scheduler.Firing) error {
	if err := s.Artifacts.Fire(ctx, f); err != nil {
		return err
	}
	if err := s.Schedules.Fire(ctx, f); err != nil {
		return err
	}
	return s.Delivery.Fire(ctx, f)
}
