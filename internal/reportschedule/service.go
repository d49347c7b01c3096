package reportschedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/delivery"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/manifest"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// Statuses of a report schedule. Only an active schedule runs.
const (
	StatusDraft            = "draft"
	StatusActive           = "active"
	StatusPaused           = "paused"
	StatusDisabled         = "disabled" // deleted: stopped for good, the record and its runs kept
	StatusRequiresApproval = "requires_approval"
)

// Approval policies: when a run's send waits for an approver through the delivery gate.
const (
	ApprovalNone              = "none"
	ApprovalEveryRun          = "every_run"
	ApprovalFirstRun          = "first_run"
	ApprovalOnRecipientChange = "on_recipient_change"
)

// Items is the part of the item store schedules need.
type Items interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// Renderer renders a run's report (artifacts.Service).
type Renderer interface {
	Render(ctx context.Context, t tenancy.Tenant, role string, req artifacts.RenderRequest) (artifacts.Rendered, error)
}

// Packager signs a run's artifacts into one package (manifest.Service).
type Packager interface {
	Create(ctx context.Context, tenantID, role string, req manifest.Request) (manifest.Record, error)
}

// Sender sends a run's report and evaluates recipients (delivery.Service).
type Sender interface {
	Send(ctx context.Context, in delivery.SendInput) (delivery.Record, bool, error)
	EvaluatePolicy(ctx context.Context, tenantID, channel string, recipients []string) (delivery.Decision, error)
	Get(ctx context.Context, tenantID, deliveryRef string) (delivery.Record, error)
}

// Tenants finds the tenant a firing names.
type Tenants interface {
	Get(ctx context.Context, id string) (tenancy.Tenant, error)
}

// Ports are what the service runs on.
type Ports struct {
	Items     Items
	Scheduler scheduler.Scheduler
	Tenants   Tenants
	Renderer  Renderer
	Packager  Packager
	Sender    Sender
	Settings  func(ctx context.Context, tenantID string) (settings.Settings, error)
	Clock     clock.Clock
	// Gate decides schedules the recipient policy gates (nil: such a schedule is refused).
	Gate approvalgate.Gate
}

// Service keeps report schedules and runs them.
type Service struct{ Ports }

func NewService(p Ports) *Service { return &Service{Ports: p} }

// Delivery is where a schedule's runs go. Recipients never reach evidence: only their count
// and the digest of the sorted list.
type Delivery struct {
	Channel    string   `json:"channel"`
	Recipients []string `json:"recipients"`
}

// Record is a stored report schedule.
type Record struct {
	ScheduleRef    string   `json:"schedule_ref"`
	Name           string   `json:"name"`
	Status         string   `json:"status"`
	ReportID       string   `json:"report_id"`
	Formats        []string `json:"formats"`
	PackageType    string   `json:"package_type,omitempty"`
	Delivery       Delivery `json:"delivery"`
	ApprovalPolicy string   `json:"approval_policy"`
	Schedule       Spec     `json:"schedule"`
	// SpecDigest is the digest of the normalized schedule; Revision counts changes, and the
	// scheduler's payload carries it so a firing of an older revision is ignored.
	SpecDigest      string            `json:"spec_digest"`
	RecipientDigest string            `json:"recipient_digest"`
	Revision        int               `json:"revision"`
	PolicyDecision  delivery.Decision `json:"policy_decision"`
	// ApprovedRecipientDigest is the recipient digest of the last run whose gated send was
	// approved (first_run and on_recipient_change ask again when it differs).
	ApprovedRecipientDigest string `json:"approved_recipient_digest,omitempty"`
	// GatedDeliveryRef is the last run's send that waited for approval.
	GatedDeliveryRef string `json:"gated_delivery_ref,omitempty"`
	// ApprovalRef names the approval a schedule the policy gates waits for (status
	// requires_approval), bound to ApprovalBoundDigest: what runs and to whom. Approval is
	// its decision; a later change to either needs a new one.
	ApprovalRef         string            `json:"approval_ref,omitempty"`
	ApprovalBoundDigest string            `json:"approval_bound_digest,omitempty"`
	ApprovalExpiresAt   string            `json:"approval_expires_at,omitempty"`
	ApprovalRequestedBy string            `json:"approval_requested_by_token_ref,omitempty"`
	Approval            *ScheduleApproval `json:"approval,omitempty"`
	LastNominalAt       string            `json:"last_nominal_at,omitempty"`
	CreatedByRole       string            `json:"created_by_role"`
	CreatedByToken      string            `json:"created_by_token_ref"`
	CreatedAt           string            `json:"created_at"`
	UpdatedAt           string            `json:"updated_at"`
	DeletedAt           string            `json:"deleted_at,omitempty"`
	EvidenceRefs        []string          `json:"evidence_refs"`
	version             int64
}

// ScheduleApproval is the one decision on a schedule's approval request.
type ScheduleApproval struct {
	ApprovalRef  string `json:"approval_ref"`
	Decision     string `json:"decision"` // approved or denied
	ApproverRole string `json:"approver_role"`
	BoundDigest  string `json:"bound_digest"`
	ReasonCode   string `json:"reason_code,omitempty"`
	DecidedAt    string `json:"decided_at"`
	EvidenceRef  string `json:"evidence_ref"`
}

// approvedFor tells whether the schedule's standing approval covers what it runs now.
func (r Record) approvedFor() bool {
	return r.Approval != nil && r.Approval.Decision == "approved" && r.Approval.BoundDigest == r.boundDigest()
}

// boundDigest is what an approval of the schedule is bound to: the report, its formats
// and package, the channel and the recipients (as their digest), and the cadence.
func (r Record) boundDigest() string {
	d, _ := canonjson.DigestOf(map[string]any{"report_id": r.ReportID, "formats": r.Formats, "package_type": r.PackageType,
		"channel": r.Delivery.Channel, "recipient_digest": r.RecipientDigest, "spec_digest": r.SpecDigest})
	return d
}

// ID is the record's id (the ref without its kind).
func (r Record) ID() string { return strings.TrimPrefix(r.ScheduleRef, "schedule:") }

// Version is the stored item's version (the ETag).
func (r Record) Version() int64 { return r.version }

// View is a schedule as the API shows it.
type View struct {
	Record
	NextRunAt *string `json:"next_run_at"`
	Version   int64   `json:"version"`
}

func partition(tenantID string) string { return "T#" + tenantID + "#SCHEDULES" }

// Group and name of a schedule's recurring EventBridge Scheduler schedule.
func group(tenantID string) string { return "tenant-" + tenantID }
func schedName(id string) string   { return "report-" + id }

// FireKind marks a scheduler payload as a report schedule's firing.
const FireKind = "report_schedule"

// Payload is what a report schedule's scheduler entries carry. NominalAt is set on a
// deferred run's one-shot: the nominal fire it runs for.
type Payload struct {
	Kind       string `json:"kind"`
	TenantID   string `json:"tenant_id"`
	ScheduleID string `json:"schedule_id"`
	Revision   int    `json:"revision"`
	NominalAt  string `json:"nominal_at,omitempty"`
}

// Limits a tenant's schedules are held to, besides the spec's own (Limits).
const (
	MaxSchedulesPerTenant = 100
	minIntervalDefault    = time.Hour
)

// effective is the spec the rules evaluate: the schedule's own plus the tenant's holiday
// calendar from its settings, so a holiday added there applies to every schedule.
func effective(spec Spec, st settings.Settings) Spec {
	if len(st.ScheduleAndAudit.Holidays) == 0 {
		return spec
	}
	spec.Holidays = append(slices.Clone(spec.Holidays), st.ScheduleAndAudit.Holidays...)
	return Normalize(spec)
}

func recipientDigest(rs []string) string {
	sorted := slices.Clone(rs)
	slices.Sort(sorted)
	d, _ := canonjson.DigestOf(sorted)
	return d
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ErrNotFound is a schedule the tenant does not have (another tenant's alike).
var ErrNotFound = problem.New(problem.NotFound, "schedule_not_found", "schedule", "no such schedule")

// Get returns one of the tenant's schedules.
func (s *Service) Get(ctx context.Context, tenantID, scheduleRef string) (Record, error) {
	id, ok := strings.CutPrefix(scheduleRef, "schedule:")
	if !ok || !strings.HasPrefix(id, "sch_") {
		return Record{}, ErrNotFound
	}
	it, err := s.Items.Get(ctx, partition(tenantID), id)
	if errors.Is(err, itemstore.ErrNotFound) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("read schedule: %w", err)
	}
	var rec Record
	if err := json.Unmarshal(it.Data, &rec); err != nil {
		return Record{}, fmt.Errorf("decode schedule %s: %w", id, err)
	}
	rec.version = it.Version
	return rec, nil
}

// ViewOf adds the next run time (for an active schedule) and the version.
func (s *Service) ViewOf(ctx context.Context, tenantID string, rec Record) (View, error) {
	v := View{Record: rec, Version: rec.version}
	if rec.Status != StatusActive {
		return v, nil
	}
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return View{}, err
	}
	if next, ok := NextFire(effective(rec.Schedule, st), s.Clock.Now()); ok {
		n := stamp(next)
		v.NextRunAt = &n
	}
	return v, nil
}

// Page is one page of a listing.
type Page struct {
	Schedules  []View `json:"schedules"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// List returns the tenant's schedules, newest first, optionally of one status.
func (s *Service) List(ctx context.Context, tenantID, status, cursor string, limit int) (Page, error) {
	out := Page{Schedules: []View{}}
	q := itemstore.Query{PK: partition(tenantID), Desc: true, Limit: limit, Cursor: cursor}
	for {
		page, err := s.Items.Query(ctx, q)
		if errors.Is(err, itemstore.ErrInvalid) && q.Cursor == cursor && cursor != "" {
			return Page{}, problem.InvalidField("cursor", "not a cursor from this listing")
		}
		if err != nil {
			return Page{}, fmt.Errorf("list schedules: %w", err)
		}
		for _, it := range page.Items {
			var rec Record
			if json.Unmarshal(it.Data, &rec) != nil || (status != "" && rec.Status != status) {
				continue
			}
			rec.version = it.Version
			v, err := s.ViewOf(ctx, tenantID, rec)
			if err != nil {
				return Page{}, err
			}
			out.Schedules = append(out.Schedules, v)
		}
		if page.Next == "" || len(out.Schedules) >= limit {
			out.NextCursor = page.Next
			return out, nil
		}
		q.Cursor, q.Limit = page.Next, limit-len(out.Schedules)
	}
}

// count is how many schedules the tenant holds that are not deleted.
func (s *Service) count(ctx context.Context, tenantID string) (int, error) {
	n := 0
	q := itemstore.Query{PK: partition(tenantID), Limit: 1000}
	for {
		page, err := s.Items.Query(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("count schedules: %w", err)
		}
		for _, it := range page.Items {
			var rec Record
			if json.Unmarshal(it.Data, &rec) == nil && rec.Status != StatusDisabled {
				n++
			}
		}
		if page.Next == "" {
			return n, nil
		}
		q.Cursor = page.Next
	}
}

// write stores rec (IfAbsent when new, else at its version) with its evidence, then points
// the scheduler at its revision. The scheduler follows the record: a failure there leaves a
// record whose schedule is stale, which the runner refuses by revision, and the caller's
// retry repairs.
func (s *Service) write(ctx context.Context, tenantID string, rec *Record, ev evidence.Record, isNew bool) error {
	rec.EvidenceRefs = append(rec.EvidenceRefs, ev.Ref)
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	item := itemstore.Item{PK: partition(tenantID), SK: rec.ID(), Data: data}
	w := itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfVersion, ExpectVersion: rec.version, Item: item}
	if isNew {
		w = itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent, Item: item}
	}
	evw, err := ev.Write()
	if err != nil {
		return err
	}
	if err := s.Items.Transact(ctx, []itemstore.Write{w, evw}); err != nil {
		if errors.Is(err, itemstore.ErrConflict) {
			return problem.New(problem.Conflict, "concurrent_update", "schedule", "the schedule changed meanwhile: read it again")
		}
		return fmt.Errorf("store schedule: %w", err)
	}
	rec.version++
	if isNew {
		rec.version = 1
	}
	return s.sync(ctx, tenantID, *rec, isNew)
}

// sync makes the scheduler's entry match the record: enabled while active, disabled while
// paused or awaiting approval, gone once deleted.
func (s *Service) sync(ctx context.Context, tenantID string, rec Record, isNew bool) error {
	if s.Scheduler == nil {
		return nil
	}
	if rec.Status == StatusDisabled {
		err := s.Scheduler.Delete(ctx, group(tenantID), schedName(rec.ID()))
		if err != nil && !errors.Is(err, scheduler.ErrNotFound) {
			return fmt.Errorf("delete schedule entry: %w", err)
		}
		return nil
	}
	payload, err := json.Marshal(Payload{Kind: FireKind, TenantID: tenantID, ScheduleID: rec.ID(), Revision: rec.Revision})
	if err != nil {
		return err
	}
	st, err := s.Settings(ctx, tenantID)
	if err != nil {
		return err
	}
	spec := effective(rec.Schedule, st)
	entry := scheduler.Schedule{Group: group(tenantID), Name: schedName(rec.ID()), Expression: CandidateExpression(spec),
		Timezone: spec.Timezone, Payload: payload, Enabled: rec.Status == StatusActive}
	if anchor, ok := RateAnchor(spec); ok {
		entry.Start = anchor
	}
	if isNew {
		err = s.Scheduler.Create(ctx, entry)
		if errors.Is(err, scheduler.ErrExists) {
			err = s.Scheduler.Update(ctx, entry)
		}
	} else {
		err = s.Scheduler.Update(ctx, entry)
		if errors.Is(err, scheduler.ErrNotFound) {
			err = s.Scheduler.Create(ctx, entry)
		}
	}
	if err != nil {
		return fmt.Errorf("schedule entry: %w", err)
	}
	return nil
}

func (s *Service) evidence(tenantID, role string, action evidence.Action, rec Record, details map[string]any) (evidence.Record, error) {
	base := map[string]any{"status": rec.Status, "revision": rec.Revision, "spec_digest": rec.SpecDigest,
		"channel": rec.Delivery.Channel, "recipient_count": len(rec.Delivery.Recipients), "recipient_digest": rec.RecipientDigest}
	for k, v := range details {
		base[k] = v
	}
	return evidence.New(evidence.Event{TenantID: tenantID, Action: action, ActorRole: role,
		SubjectRefs: []string{rec.ScheduleRef}, Details: base}, s.Clock.Now())
}

// newID makes a schedule id.
func newID(now time.Time) string { return ref.NewID("sch", now) }
