package publicexport

import (
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// State is the tenant state the exports read. The loaders run only for the export asked
// for, so a settings export never reads artifacts.
type State struct {
	Tenant   tenancy.Tenant
	Settings settings.Settings
	Now      time.Time
	// Served lists the endpoints the deployment serves ("POST /enterprise/aispm/reports/send"),
	// filled by the caller from the route table: a packet names only endpoints that exist.
	Served []string
	// PackageRef names the package to export ("" for the latest).
	PackageRef string
	// Package loads the package to export (manifest.ErrNotFound when there is none).
	Package func() (manifest.Record, error)
	// Artifacts loads the tenant's most recent artifact records, newest first.
	Artifacts func() ([]artifacts.Record, error)
	// Search loads the latest stored search and retrieval decision (nil when none yet).
	Search func() (*search.QueryRecord, *search.RetrievalRecord, error)
	// AuditStart is when the tenant's evidence log begins ("" when it is empty).
	AuditStart func() (string, error)
	// RecipientPolicy loads the tenant's recipient policy (the default when none is saved).
	RecipientPolicy func() (delivery.StoredPolicy, error)
	// Deliveries loads the tenant's most recent deliveries, newest first.
	Deliveries func() ([]delivery.Record, error)
	// Delivery loads one of the tenant's deliveries by ref.
	Delivery func(deliveryRef string) (delivery.Record, error)
	// ScheduleRef names the report schedule to export ("" for the latest not deleted).
	ScheduleRef string
	// Schedule loads the schedule to export and its most recent runs, newest first
	// (reportschedule.ErrNotFound when there is none).
	Schedule func() (reportschedule.View, []reportschedule.Run, error)
	// Checkpoint loads the tenant's latest signed audit checkpoint (nil before the first seal).
	Checkpoint func() (*audit.Checkpointed, error)
	// SigningKeyID names the key that signs manifests and audit checkpoints ("" when none is
	// configured).
	SigningKeyID string
}
