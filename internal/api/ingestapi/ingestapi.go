// Package ingestapi serves metadata ingestion (route post-ingest).
package ingestapi

import (
	"context"
	"mime"
	"net/http"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// Handlers serves the ingest route.
func Handlers(svc *ingest.Service) api.Handlers {
	return api.Handlers{"post-ingest": func(ctx context.Context, r api.Request) (api.Response, error) {
		return postIngest(ctx, svc, r)
	}}
}

// FromPorts builds the handlers on their own services (one Lambda function).
func FromPorts(p ports.Set) (api.Handlers, error) {
	if err := p.Require(ports.Items, ports.Objects, ports.Clock); err != nil {
		return nil, err
	}
	st := settings.NewService(p.Items, p.Clock, p.Egress)
	return Handlers(ingest.NewService(p.Items, p.Objects, st.OperationalRetentionDays, p.Clock)), nil
}

func postIngest(ctx context.Context, svc *ingest.Service, r api.Request) (api.Response, error) {
	ingest := svc.Ingest
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == api.MediaNDJSON {
		ingest = svc.IngestNDJSON
	}
	res, err := ingest(ctx, r.Principal.TenantID, string(r.Principal.Role), r.Body)
	if err != nil {
		return api.Response{}, err
	}
	status := http.StatusAccepted
	if res.Accepted == 0 {
		status = http.StatusOK // every envelope was already stored: nothing new happened
	}
	return api.JSON(status, res), nil
}
