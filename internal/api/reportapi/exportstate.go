package reportapi

import (
	"context"
	"encoding/json"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/publicexport"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// ExportSubject names the records an export is about; "" is the latest of each.
type ExportSubject struct {
	Package  string // ?package=, for export-package-manifest
	Schedule string // ?schedule=, for schedule-policy
}

// ExportState gathers what the public exports read for tenant t; pkg names the package to
// export ("" = the latest).
func (h *Services) ExportState(ctx context.Context, t tenancy.Tenant, st settings.Settings, pkg string) publicexport.State {
	return h.ExportStateOf(ctx, t, st, ExportSubject{Package: pkg})
}

// ExportStateOf gathers what the public exports read for tenant t, about subject.
func (h *Services) ExportStateOf(ctx context.Context, t tenancy.Tenant, st settings.Settings, subject ExportSubject) publicexport.State {
	items, pkg := h.Items, subject.Package
	s := publicexport.State{Tenant: t, Settings: st, Now: h.Artifacts.Now(), Served: servedEndpoints(), PackageRef: pkg,
		ScheduleRef: subject.Schedule}
	if h.Signer != nil {
		s.SigningKeyID = h.Signer.KeyID()
	}
	s.Package = func() (manifest.Record, error) { return h.Packages.Get(ctx, t.ID, pkg) }
	s.Checkpoint = func() (*audit.Checkpointed, error) { return h.Proofs.LatestCheckpoint(ctx, t.ID) }
	s.Search = func() (*search.QueryRecord, *search.RetrievalRecord, error) { return h.Search.Latest(ctx, t.ID) }
	s.Artifacts = func() ([]artifacts.Record, error) {
		page, err := items.Query(ctx, itemstore.Query{PK: artifacts.PartitionKey(t.ID), Desc: true, Limit: 100})
		if err != nil {
			return nil, err
		}
		out := make([]artifacts.Record, 0, len(page.Items))
		for _, it := range page.Items {
			rec, err := artifacts.Decode(it)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
		return out, nil
	}
	s.RecipientPolicy = func() (delivery.StoredPolicy, error) { return h.Delivery.GetPolicy(ctx, t.ID) }
	s.Deliveries = func() ([]delivery.Record, error) {
		page, err := h.Delivery.List(ctx, t.ID, delivery.Filter{Limit: 100})
		return page.Deliveries, err
	}
	s.Delivery = func(ref string) (delivery.Record, error) { return h.Delivery.Get(ctx, t.ID, ref) }
	s.Schedule = func() (reportschedule.View, []reportschedule.Run, error) {
		return h.scheduleToExport(ctx, t.ID, subject.Schedule)
	}
	s.AuditStart = func() (string, error) {
		page, err := items.Query(ctx, itemstore.Query{PK: evidence.PartitionKey(t.ID), Limit: 1})
		if err != nil || len(page.Items) == 0 {
			return "", err
		}
		var rec evidence.Record
		if err := json.Unmarshal(page.Items[0].Data, &rec); err != nil {
			return "", err
		}
		return rec.OccurredAt, nil
	}
	return s
}

// scheduleRunLimit bounds the runs an export reads: the latest with an outcome is among them
// unless that many newer ones are all still in progress.
const scheduleRunLimit = 20

// scheduleToExport loads the named schedule, or the tenant's latest that is not deleted,
// as the API shows it, with its most recent runs. A deployment without schedules has none.
func (h *Services) scheduleToExport(ctx context.Context, tenantID, scheduleRef string) (reportschedule.View, []reportschedule.Run, error) {
	if h.Schedules == nil {
		return reportschedule.View{}, nil, reportschedule.ErrNotFound
	}
	var v reportschedule.View
	var err error
	if scheduleRef != "" {
		var rec reportschedule.Record
		if rec, err = h.Schedules.Get(ctx, tenantID, scheduleRef); err == nil {
			v, err = h.Schedules.ViewOf(ctx, tenantID, rec)
		}
	} else {
		v, err = h.latestSchedule(ctx, tenantID)
	}
	if err != nil {
		return reportschedule.View{}, nil, err
	}
	runs, _, err := h.Schedules.Runs(ctx, tenantID, v.ScheduleRef, "", scheduleRunLimit)
	return v, runs, err
}

// latestSchedule is the tenant's newest schedule that is not deleted.
func (h *Services) latestSchedule(ctx context.Context, tenantID string) (reportschedule.View, error) {
	cursor := ""
	for {
		page, err := h.Schedules.List(ctx, tenantID, "", cursor, 50)
		if err != nil {
			return reportschedule.View{}, err
		}
		for _, v := range page.Schedules {
			if v.Status != reportschedule.StatusDisabled {
				return v, nil
			}
		}
		if page.NextCursor == "" {
			return reportschedule.View{}, reportschedule.ErrNotFound
		}
		cursor = page.NextCursor
	}
}

// servedEndpoints lists the route table's endpoints as "METHOD /path".
func servedEndpoints() []string {
	routes := api.Routes()
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.Method + " " + r.Path
	}
	return out
}
