package artifacts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/catalog"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/render"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/sealed"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Service renders and keeps artifacts.
type Service struct {
	items     Items
	objects   Objects
	segments  render.Segments
	scheduler Scheduler
	settings  SettingsFunc
	signer    sealed.Signer
	clock     clock.Clock
}

// NewService renders with sg signing the reports that are signed (the evidence packet, the
// GRC upload package's manifest).
func NewService(items Items, objects Objects, segments render.Segments, sched Scheduler, st SettingsFunc, sg sealed.Signer, clk clock.Clock) *Service {
	return &Service{items: items, objects: objects, segments: segments, scheduler: sched, settings: st, signer: sg, clock: clk}
}

// RenderRequest is the body of POST /enterprise/aispm/reports/render.
type RenderRequest struct {
	ReportID string   `json:"report_id"`
	Formats  []string `json:"formats"`
	Window   struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"window"`
	PackageType               string `json:"package_type,omitempty"`
	RetentionClass            string `json:"retention_class,omitempty"`
	RetentionDays             int    `json:"retention_days,omitempty"`
	LegalHoldRef              string `json:"legal_hold_ref,omitempty"`
	RetrievalApprovalRequired bool   `json:"retrieval_approval_required,omitempty"`

	window render.Window
}

// Window is the parsed window (after ParseRenderRequest).
func (r RenderRequest) ParsedWindow() render.Window { return r.window }

// holdRoles may place artifacts under legal hold, at render time or later.
var holdRoles = []string{"tenant_admin", "security_leadership"}

// ParseRenderRequest validates a render body for tenant t and actor role; nothing has
// happened yet when it refuses.
func ParseRenderRequest(body []byte, t tenancy.Tenant, role string, now time.Time) (RenderRequest, error) {
	var req RenderRequest
	if err := schemas.DecodeValid(schemas.RenderRequest, body, &req); err != nil {
		return req, err
	}
	rep, ok := catalog.Find(req.ReportID)
	if !ok || !render.Supported(req.ReportID) {
		return req, problem.New(problem.Invalid, "unknown_report", "report_id", "no report with this id in the catalog")
	}
	if !slices.ContainsFunc(catalog.ForTenant(t), func(r catalog.Report) bool { return r.ReportID == req.ReportID && r.Renderable }) {
		return req, problem.New(problem.Forbidden, "report_not_in_edition", "report_id", "this report needs the enterprise edition")
	}
	for i, f := range req.Formats {
		if _, known := render.LookupFormat(f); !known {
			return req, problem.New(problem.Invalid, "unknown_format", fmt.Sprintf("formats[%d]", i), "known formats: "+strings.Join(render.FormatNames(), ", "))
		}
		if !slices.Contains(rep.Formats, f) {
			return req, problem.New(problem.Invalid, "format_not_offered", fmt.Sprintf("formats[%d]", i), "this report is offered as: "+strings.Join(rep.Formats, ", "))
		}
	}
	w, err := ParseWindow(req.Window.From, req.Window.To, "window", now)
	if err != nil {
		return req, err
	}
	req.window = w
	return req, checkRetention(&req, role)
}

// ParseWindow checks a [from, to) range: ordered, at most render.MaxWindow, not in the future.
func ParseWindow(from, to, field string, now time.Time) (render.Window, error) {
	f, err1 := time.Parse(time.RFC3339, from)
	t, err2 := time.Parse(time.RFC3339, to)
	if err1 != nil || err2 != nil {
		return render.Window{}, problem.InvalidField(field, "from and to must be RFC 3339 timestamps")
	}
	w := render.Window{From: f.UTC(), To: t.UTC()}
	switch {
	case !w.To.After(w.From):
		return w, problem.New(problem.Invalid, "inverted_window", field, "to must be after from")
	case w.To.Sub(w.From) > render.MaxWindow:
		return w, problem.New(problem.Invalid, "window_too_large", field, "a window covers at most 366 days")
	case w.From.After(now):
		return w, problem.New(problem.Invalid, "window_in_future", field, "the window starts in the future")
	}
	return w, nil
}

func checkRetention(req *RenderRequest, role string) error {
	if req.RetentionClass == "" {
		req.RetentionClass = GovernanceRecord
	}
	if req.RetentionClass == LegalHoldClass {
		if !slices.Contains(holdRoles, role) {
			return problem.New(problem.Forbidden, "forbidden", "retention_class", "only tenant_admin or security_leadership may place a legal hold")
		}
		if req.LegalHoldRef == "" {
			return problem.InvalidField("legal_hold_ref", "required when retention_class is legal_hold")
		}
	} else if req.LegalHoldRef != "" {
		return problem.InvalidField("legal_hold_ref", "only with retention_class legal_hold")
	}
	return nil
}

// Rendered is the outcome of one render.
type Rendered struct {
	RenderRef   string   `json:"render_ref"`
	SnapshotRef string   `json:"data_snapshot_ref"`
	Artifacts   []Record `json:"artifacts"`
	EvidenceRef string   `json:"evidence_ref"`
}

type output struct {
	format render.Format
	body   []byte
}

// Render computes the report, writes every format to the WORM store and indexes them with
// one evidence record in one transaction. Every format is produced before anything is
// stored, so an error never leaves a partial set; a stored object whose transaction failed
// is never indexed, so it is never listed or served.
func (s *Service) Render(ctx context.Context, t tenancy.Tenant, role string, req RenderRequest) (Rendered, error) {
	st, err := s.settings(ctx, t.ID)
	if err != nil {
		return Rendered{}, err
	}
	days := Days(st, req.RetentionClass)
	if req.RetentionDays != 0 && req.RetentionDays < days {
		return Rendered{}, problem.New(problem.Invalid, "retention_below_minimum", "retention_days",
			fmt.Sprintf("the tenant keeps %s for at least %d days", req.RetentionClass, days))
	}
	days = max(days, req.RetentionDays)
	outs, snapRef, err := s.produce(ctx, t, st, req)
	if err != nil {
		return Rendered{}, err
	}
	now := s.clock.Now()
	until := now.AddDate(0, 0, days)
	if err := s.scheduleExpiry(ctx, t.ID, until); err != nil {
		return Rendered{}, err
	}
	recs, err := s.store(ctx, t.ID, role, req, outs, snapRef, now, until)
	if err != nil {
		return Rendered{}, err
	}
	return s.index(ctx, t.ID, role, recs, snapRef, now)
}

func (s *Service) produce(ctx context.Context, t tenancy.Tenant, st settings.Settings, req RenderRequest) ([]output, string, error) {
	w := req.window
	snap, err := render.TakeSnapshot(ctx, s.segments, t.ID, w)
	if errors.Is(err, render.ErrNoData) {
		return nil, "", problem.New(problem.Invalid, "empty_window", "window", "no ingested events in this window: nothing to render")
	}
	if err != nil {
		return nil, "", err
	}
	rep, _ := catalog.Find(req.ReportID)
	doc, err := render.Render(ctx, s.objects, snap, w, req.ReportID, render.Meta{
		TenantRef: ref.Make("tenant", t.ID), Title: rep.Title,
		Branding: render.Branding{PrimaryColor: st.Branding.PrimaryColor, AccentColor: st.Branding.AccentColor,
			TitlePrefix: st.Branding.ReportTitlePrefix, FooterText: st.Branding.FooterText, Organization: st.OrganizationProfile.DisplayName},
	})
	if errors.Is(err, render.ErrNoData) {
		return nil, "", problem.New(problem.Invalid, "empty_window", "window", "no ingested events in this window: nothing to render")
	}
	if err != nil {
		return nil, "", err
	}
	var zipOf []string
	for _, f := range rep.Formats {
		if f != "zip" {
			zipOf = append(zipOf, f)
		}
	}
	src := render.Sources{Objects: s.objects, Snapshot: snap, Window: w, Signer: s.signer}
	outs := make([]output, 0, len(req.Formats))
	for _, name := range req.Formats {
		f, _ := render.LookupFormat(name)
		body, err := render.WriteReport(ctx, doc, name, zipOf, src)
		if errors.Is(err, render.ErrTooManyEvents) {
			return nil, "", problem.New(problem.Invalid, "window_too_large", "window",
				fmt.Sprintf("one SIEM export carries at most %d events: export shorter windows", render.MaxSIEMEvents))
		}
		if err != nil {
			return nil, "", err
		}
		if len(body) == 0 {
			return nil, "", fmt.Errorf("render %s as %s produced no bytes", req.ReportID, name)
		}
		outs = append(outs, output{format: f, body: body})
	}
	return outs, snap.Ref, nil
}

// scheduleExpiry makes sure one expiry sweep per tenant and UTC day fires after until.
// It runs before anything is stored: a sweep with nothing to expire is harmless, an
// artifact without a sweep would only be expired by reads.
func (s *Service) scheduleExpiry(ctx context.Context, tenantID string, until time.Time) error {
	day := until.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	payload, _ := json.Marshal(ExpiryPayload{Kind: ExpiryKind, TenantID: tenantID})
	err := s.scheduler.Create(ctx, scheduler.Schedule{
		Group: ScheduleGroup(tenantID), Name: "artifact-expiry-" + day.Format("20060102"),
		Expression: scheduler.OneShot(day), Payload: payload, Enabled: true,
	})
	if err != nil && !errors.Is(err, scheduler.ErrExists) {
		return fmt.Errorf("schedule artifact expiry: %w", err)
	}
	return nil
}

// ScheduleGroup is the tenant's schedule group.
func ScheduleGroup(tenantID string) string { return "tenant-" + tenantID }

func (s *Service) store(ctx context.Context, tenantID, role string, req RenderRequest, outs []output, snapRef string, now, until time.Time) ([]Record, error) {
	renderRef := ref.Make("render", ref.NewID("rnd", now))
	state := Retained
	if req.RetrievalApprovalRequired {
		state = PendingApproval
	}
	if req.RetentionClass == LegalHoldClass {
		state = LegalHold
	}
	recs := make([]Record, 0, len(outs))
	for _, o := range outs {
		id := ref.NewID("art", now)
		key := objectKey(tenantID, now, id, o.format.Ext)
		info, err := s.objects.Put(ctx, objectstore.PutInput{
			Key: key, Body: bytes.NewReader(o.body), ContentType: o.format.ContentType,
			Retention: objectstore.Retention{Mode: objectstore.Compliance, Until: until},
			LegalHold: state == LegalHold,
			Metadata:  map[string]string{"tenant": tenantID, "record-class": req.RetentionClass, "report-id": req.ReportID},
		})
		if err != nil {
			return nil, fmt.Errorf("store artifact: %w", err)
		}
		recs = append(recs, Record{
			ArtifactRef: ref.Make("artifact", id), ReportID: req.ReportID, Format: o.format.Name, ContentType: o.format.ContentType,
			ObjectKey: key, VersionID: info.VersionID, Digest: info.Digest, Size: info.Size,
			RetentionClass: req.RetentionClass, RetainUntil: until.UTC().Format(time.RFC3339Nano), State: state,
			LegalHoldRef: req.LegalHoldRef, ApprovalRequired: req.RetrievalApprovalRequired,
			SnapshotRef: snapRef, TemplateVersion: render.TemplateVersion(req.ReportID),
			WindowFrom: req.Window.From, WindowTo: req.Window.To, RenderRef: renderRef,
			CreatedAt: now.UTC().Format(time.RFC3339Nano), RequestedBy: ref.Make("role", role),
		})
	}
	return recs, nil
}

func (s *Service) index(ctx context.Context, tenantID, role string, recs []Record, snapRef string, now time.Time) (Rendered, error) {
	refs := make([]string, len(recs))
	digests := map[string]any{}
	for i, r := range recs {
		refs[i] = r.ArtifactRef
		digests[r.Format] = r.Digest
	}
	ev, err := evidence.New(evidence.Event{
		TenantID: tenantID, Action: evidence.ReportRendered, ActorRole: role, SubjectRefs: refs,
		Details: map[string]any{"report_id": recs[0].ReportID, "render_ref": recs[0].RenderRef, "data_snapshot_ref": snapRef,
			"template_version": recs[0].TemplateVersion, "digests": digests, "retention_class": recs[0].RetentionClass,
			"retain_until": recs[0].RetainUntil, "lifecycle_state": recs[0].State},
	}, now)
	if err != nil {
		return Rendered{}, err
	}
	writes := make([]itemstore.Write, 0, len(recs)+1)
	for i := range recs {
		recs[i].EvidenceRef, recs[i].LastEvidenceRef = ev.Ref, ev.Ref
		it, err := recs[i].item(tenantID)
		if err != nil {
			return Rendered{}, err
		}
		writes = append(writes, itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent, Item: it})
	}
	evw, err := ev.Write()
	if err != nil {
		return Rendered{}, err
	}
	if err := s.items.Transact(ctx, append(writes, evw)); err != nil {
		return Rendered{}, fmt.Errorf("index artifacts: %w", err)
	}
	return Rendered{RenderRef: recs[0].RenderRef, SnapshotRef: snapRef, Artifacts: recs, EvidenceRef: ev.Ref}, nil
}
