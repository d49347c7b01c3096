// Package scheduleapi serves report schedules (routes post-schedule, get-schedules,
// get-schedule, patch-schedule, post-schedule-pause, post-schedule-resume,
// delete-schedule, get-schedule-runs). The domain is internal/reportschedule.
package scheduleapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/reportschedule"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Handlers serves the schedule routes.
func Handlers(tenants api.TenantSource, svc *reportschedule.Service) api.Handlers {
	h := handlers{tenants: tenants, svc: svc}
	return api.Handlers{
		"post-schedule":         h.create,
		"get-schedules":         h.list,
		"get-schedule":          h.get,
		"patch-schedule":        h.patch,
		"post-schedule-pause":   h.status(reportschedule.StatusPaused),
		"post-schedule-resume":  h.status(reportschedule.StatusActive),
		"delete-schedule":       h.status(reportschedule.StatusDisabled),
		"get-schedule-runs":     h.runs,
		"post-schedule-approve": h.decide(true),
		"post-schedule-deny":    h.decide(false),
	}
}

type handlers struct {
	tenants api.TenantSource
	svc     *reportschedule.Service
}

func (h handlers) actor(ctx context.Context, r api.Request) (reportschedule.Actor, error) {
	t, err := api.Tenant(ctx, h.tenants, r)
	return reportschedule.Actor{Tenant: t, Role: string(r.Principal.Role), TokenRef: r.Principal.TokenRef}, err
}

func (h handlers) view(ctx context.Context, tenantID string, status int, rec reportschedule.Record) (api.Response, error) {
	v, err := h.svc.ViewOf(ctx, tenantID, rec)
	if err != nil {
		return api.Response{}, err
	}
	return api.WithETag(api.JSON(status, v), rec.Version()), nil
}

func (h handlers) create(ctx context.Context, r api.Request) (api.Response, error) {
	a, err := h.actor(ctx, r)
	if err != nil {
		return api.Response{}, err
	}
	rec, err := h.svc.Create(ctx, a, r.Body)
	if err != nil {
		return api.Response{}, err
	}
	return h.view(ctx, a.Tenant.ID, http.StatusCreated, rec)
}

func (h handlers) get(ctx context.Context, r api.Request) (api.Response, error) {
	rec, err := h.svc.Get(ctx, r.Principal.TenantID, r.PathParams["schedule"])
	if err != nil {
		return api.Response{}, err
	}
	return h.view(ctx, r.Principal.TenantID, http.StatusOK, rec)
}

func (h handlers) patch(ctx context.Context, r api.Request) (api.Response, error) {
	a, err := h.actor(ctx, r)
	if err != nil {
		return api.Response{}, err
	}
	precondition, err := api.ParseIfMatch(r.Header)
	if err != nil {
		return api.Response{}, err
	}
	ref := r.PathParams["schedule"]
	ifMatch, err := precondition.Expect(func() (int64, error) {
		rec, err := h.svc.Get(ctx, a.Tenant.ID, ref)
		return rec.Version(), err
	})
	if err != nil {
		return api.Response{}, err
	}
	rec, err := h.svc.Patch(ctx, a, ref, ifMatch, r.Body)
	if err != nil {
		return api.Response{}, err
	}
	return h.view(ctx, a.Tenant.ID, http.StatusOK, rec)
}

func (h handlers) status(to string) api.HandlerFunc {
	return func(ctx context.Context, r api.Request) (api.Response, error) {
		if r.Method != http.MethodDelete {
			if err := schemas.EmptyObject(r.Body); err != nil {
				return api.Response{}, err
			}
		}
		a, err := h.actor(ctx, r)
		if err != nil {
			return api.Response{}, err
		}
		rec, err := h.svc.SetStatus(ctx, a, r.PathParams["schedule"], to)
		if err != nil {
			return api.Response{}, err
		}
		return h.view(ctx, a.Tenant.ID, http.StatusOK, rec)
	}
}

func (h handlers) decide(approve bool) api.HandlerFunc {
	return func(ctx context.Context, r api.Request) (api.Response, error) {
		a, err := h.actor(ctx, r)
		if err != nil {
			return api.Response{}, err
		}
		rec, err := h.svc.Decide(ctx, a, r.PathParams["schedule"], approve, r.Body)
		if err != nil {
			return api.Response{}, err
		}
		return h.view(ctx, a.Tenant.ID, http.StatusOK, rec)
	}
}

func (h handlers) list(ctx context.Context, r api.Request) (api.Response, error) {
	limit, err := limitOf(r)
	if err != nil {
		return api.Response{}, err
	}
	status := r.Query.Get("status")
	switch status {
	case "", reportschedule.StatusDraft, reportschedule.StatusActive, reportschedule.StatusPaused,
		reportschedule.StatusDisabled, reportschedule.StatusRequiresApproval:
	default:
		return api.Response{}, problem.InvalidField("status", "one of draft, active, paused, disabled, requires_approval")
	}
	page, err := h.svc.List(ctx, r.Principal.TenantID, status, r.Query.Get("cursor"), limit)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, page), nil
}

func (h handlers) runs(ctx context.Context, r api.Request) (api.Response, error) {
	limit, err := limitOf(r)
	if err != nil {
		return api.Response{}, err
	}
	runs, next, err := h.svc.Runs(ctx, r.Principal.TenantID, r.PathParams["schedule"], r.Query.Get("cursor"), limit)
	if err != nil {
		return api.Response{}, err
	}
	body := map[string]any{"runs": runs}
	if next != "" {
		body["next_cursor"] = next
	}
	return api.JSON(http.StatusOK, body), nil
}

func limitOf(r api.Request) (int, error) {
	v := r.Query.Get("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		return 0, problem.InvalidField("limit", "a whole number from 1 to 100")
	}
	return n, nil
}
