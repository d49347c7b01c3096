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
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// ExportState gathers what the public exports read for tenant t; pkg names the package to
// export ("" = the latest).
func (h *Services) ExportState(ctx context.Context, t tenancy.Tenant, st settings.Settings, pkg string) publicexport.State {
	items := h.Items
	s := publicexport.State{Tenant: t, Settings: st, Now: h.Artifacts.Now(), Served: servedEndpoints(), PackageRef: pkg}
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

// servedEndpoints lists the route table's endpoints as "METHOD /path".
func servedEndpoints() []string {
	routes := api.Routes()
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.Method + " " + r.Path
	}
	return out
}
