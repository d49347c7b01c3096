// Package search finds a tenant's artifacts and decides retrievals. Results are scoped to
// the tenant (its own partition only) and to the caller's role, retention-aware by default
// (expired and deleted artifacts are hidden unless asked for), paginated with opaque
// cursors, and every search and every retrieval decision is recorded as evidence. A
// retrieval that is allowed gets a short-lived presigned link, which is returned to the
// caller only: it is never logged and never put in evidence.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/catalog"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/pagecursor"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/render"
	"github.com/cavra-enterprise/aispm-reports/schemas"
)

// Retention-aware modes.
const (
	RetentionAware         = "retention_aware"
	IncludeExpiredMetadata = "include_expired_metadata"
	LegalHoldOnly          = "legal_hold_only"
)

// Page sizes.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
	// scanBudget bounds the records one request examines; a selective search over a large
	// tenant returns what it found with a cursor to continue, instead of scanning on.
	scanBudget = 20000
	// maxRange bounds a search's time range.
	maxRange = 3660 * 24 * time.Hour
)

// Items is the part of the item store search needs.
type Items interface {
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// Presigner makes short-lived links to WORM versions.
type Presigner interface {
	PresignGet(ctx context.Context, key, versionID string, ttl time.Duration) (string, error)
}

// ArtifactReader reads one artifact record.
type ArtifactReader interface {
	Get(ctx context.Context, tenantID, artifact string) (artifacts.Record, error)
}

// Service searches and decides retrievals.
type Service struct {
	items     Items
	presign   Presigner
	artifacts ArtifactReader
	clock     clock.Clock
	cursors   Cursors
}

// Cursors seals page cursors to a scope (pagecursor.Sealer).
type Cursors interface {
	Seal(ctx context.Context, scope string, position []byte) (string, error)
	Open(ctx context.Context, scope, cursor string) ([]byte, error)
}

func NewService(items Items, presign Presigner, arts ArtifactReader, clk clock.Clock, cursors Cursors) *Service {
	return &Service{items: items, presign: presign, artifacts: arts, clock: clk, cursors: cursors}
}

// Request is the body of POST /enterprise/aispm/reports/search.
type Request struct {
	ReportIDs       []string `json:"report_ids,omitempty"`
	Formats         []string `json:"formats,omitempty"`
	LifecycleStates []string `json:"lifecycle_states,omitempty"`
	From            string   `json:"from,omitempty"`
	To              string   `json:"to,omitempty"`
	Mode            string   `json:"mode,omitempty"`
	PageSize        int      `json:"page_size,omitempty"`
	Cursor          string   `json:"cursor,omitempty"`

	from, to time.Time
}

// Filters are the recorded, cursor-bound part of a request.
type Filters struct {
	ReportIDs       []string `json:"report_ids"`
	Formats         []string `json:"formats"`
	LifecycleStates []string `json:"lifecycle_states"`
	From            string   `json:"from,omitempty"`
	To              string   `json:"to,omitempty"`
	Mode            string   `json:"mode"`
	PageSize        int      `json:"page_size"`
}

// ParseRequest validates a search body. Nothing is recorded for a refused search.
func ParseRequest(body []byte) (Request, error) {
	var r Request
	if err := schemas.DecodeValid(schemas.SearchRequest, schemas.OrEmptyObject(body), &r); err != nil {
		return r, err
	}
	return r, r.check()
}

func (r *Request) check() error {
	for i, id := range r.ReportIDs {
		if _, ok := catalog.Find(id); !ok {
			return problem.New(problem.Invalid, "unknown_report", fmt.Sprintf("report_ids[%d]", i), "no report with this id in the catalog")
		}
	}
	for i, f := range r.Formats {
		if !slices.Contains(render.FormatNames(), f) {
			return problem.New(problem.Invalid, "unknown_format", fmt.Sprintf("formats[%d]", i), "known formats: "+strings.Join(render.FormatNames(), ", "))
		}
	}
	switch {
	case r.PageSize == 0:
		r.PageSize = DefaultPageSize
	case r.PageSize < 1:
		return problem.InvalidField("page_size", "must be at least 1")
	case r.PageSize > MaxPageSize:
		return problem.New(problem.Invalid, "page_size_too_large", "page_size", fmt.Sprintf("at most %d results per page", MaxPageSize))
	}
	if r.Mode == "" {
		r.Mode = RetentionAware
	}
	if r.Mode == RetentionAware && slices.ContainsFunc(r.LifecycleStates, hidden) {
		return problem.New(problem.Invalid, "mode_conflict", "lifecycle_states", "expired and deleted artifacts are hidden in retention_aware mode; use include_expired_metadata")
	}
	return r.parseRange()
}

func hidden(state string) bool { return state == artifacts.Expired || state == artifacts.Deleted }

func (r *Request) parseRange() error {
	var err error
	if r.From != "" {
		if r.from, err = time.Parse(time.RFC3339, r.From); err != nil {
			return problem.InvalidField("from", "must be an RFC 3339 timestamp")
		}
	}
	if r.To != "" {
		if r.to, err = time.Parse(time.RFC3339, r.To); err != nil {
			return problem.InvalidField("to", "must be an RFC 3339 timestamp")
		}
	}
	if r.From != "" && r.To != "" {
		if !r.to.After(r.from) {
			return problem.New(problem.Invalid, "inverted_range", "to", "to must be after from")
		}
		if r.to.Sub(r.from) > maxRange {
			return problem.New(problem.Invalid, "range_too_large", "to", "a search covers at most ten years")
		}
	}
	return nil
}

func (r Request) filters() Filters {
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return Filters{ReportIDs: nz(r.ReportIDs), Formats: nz(r.Formats), LifecycleStates: nz(r.LifecycleStates),
		From: r.From, To: r.To, Mode: r.Mode, PageSize: r.PageSize}
}

// errForeignCursor refuses a cursor issued to another tenant, for other filters, or altered.
var errForeignCursor = problem.New(problem.Invalid, "invalid_cursor", "cursor", "the cursor does not belong to this search")

// cursorScope is what a cursor is sealed to: the tenant and the digest of the filters.
func cursorScope(tenantID, filtersDigest string) string {
	return "search\x00" + tenantID + "\x00" + filtersDigest
}

// openCursor returns the artifact id a cursor resumes after ("" for the first page).
func (s *Service) openCursor(ctx context.Context, tenantID, filtersDigest, c string) (string, error) {
	if c == "" {
		return "", nil
	}
	pos, err := s.cursors.Open(ctx, cursorScope(tenantID, filtersDigest), c)
	if errors.Is(err, pagecursor.ErrInvalid) {
		return "", errForeignCursor
	}
	if err != nil {
		return "", fmt.Errorf("open cursor: %w", err)
	}
	if _, ok := artifacts.ParseID(string(pos)); !ok {
		return "", errForeignCursor
	}
	return string(pos), nil
}

// Scope is what a role may see and download.
type Scope struct {
	Name string
	// StoredState, when set, is the only stored lifecycle state Visible can accept.
	StoredState string
	// Visible reports whether the role sees the artifact's metadata at all.
	Visible func(r artifacts.Record, state string) bool
	// Download reports whether the role may receive its bytes.
	Download func(r artifacts.Record) bool
}

var (
	all          = func(artifacts.Record, string) bool { return true }
	anyClass     = func(artifacts.Record) bool { return true }
	auditClasses = []string{artifacts.GovernanceRecord, artifacts.AuditRecord, artifacts.LegalHoldClass}
)

// ScopeFor is the RBAC scope of a role. Approvers see only what awaits approval and never
// download; auditors see every artifact's metadata but download governance, audit and
// legal-hold records only.
func ScopeFor(role string) Scope {
	switch role {
	case "approver":
		return Scope{Name: "role:approver/pending_approval_metadata", StoredState: artifacts.PendingApproval,
			Visible:  func(_ artifacts.Record, st string) bool { return st == artifacts.PendingApproval },
			Download: func(artifacts.Record) bool { return false }}
	case "auditor_viewer":
		return Scope{Name: "role:auditor_viewer/governance_audit_legal_hold_downloads", Visible: all,
			Download: func(r artifacts.Record) bool { return slices.Contains(auditClasses, r.RetentionClass) }}
	}
	return Scope{Name: "role:" + role + "/all_artifacts", Visible: all, Download: anyClass}
}

// Result is one search hit.
type Result struct {
	ArtifactRef       string `json:"artifact_ref"`
	ReportID          string `json:"report_id"`
	Format            string `json:"format"`
	CreatedAt         string `json:"created_at"`
	LifecycleState    string `json:"lifecycle_state"`
	RetentionClass    string `json:"retention_class"`
	RetainUntil       string `json:"retain_until"`
	SizeBytes         int64  `json:"size_bytes"`
	Digest            string `json:"digest"`
	DownloadAllowed   bool   `json:"download_allowed"`
	EvidenceRef       string `json:"evidence_ref"`
	ImmutableStoreRef string `json:"immutable_store_ref"`
}

// Response is one page of results.
type Response struct {
	QueryRef    string   `json:"query_ref"`
	RBACScope   string   `json:"rbac_scope"`
	Mode        string   `json:"retention_mode"`
	Results     []Result `json:"results"`
	NextCursor  string   `json:"next_cursor,omitempty"`
	Scanned     int      `json:"scanned"`
	EvidenceRef string   `json:"evidence_ref"`
}

// QueryRecord is a stored search (what the public search-retrieval export shows).
type QueryRecord struct {
	QueryRef    string   `json:"query_ref"`
	ActorRef    string   `json:"actor_ref"`
	RBACScope   string   `json:"rbac_scope"`
	Filters     Filters  `json:"filters"`
	Results     []Result `json:"results"`
	LoggedAt    string   `json:"logged_at"`
	EvidenceRef string   `json:"evidence_ref"`
}

// QueryKey and RetrievalKey are the partitions of stored searches and retrieval decisions.
func QueryKey(tenantID string) string     { return "T#" + tenantID + "#SEARCH" }
func RetrievalKey(tenantID string) string { return "T#" + tenantID + "#RETRIEVAL" }

// Search runs one page of a search and records it.
func (s *Service) Search(ctx context.Context, tenantID, role string, req Request) (Response, error) {
	f := req.filters()
	fd, err := canonjson.DigestOf(f)
	if err != nil {
		return Response{}, err
	}
	after, err := s.openCursor(ctx, tenantID, fd, req.Cursor)
	if err != nil {
		return Response{}, err
	}
	now := s.clock.Now()
	scope := ScopeFor(role)
	res, last, scanned, more, err := s.scan(ctx, tenantID, req, after, scope, now)
	if err != nil {
		return Response{}, err
	}
	out := Response{RBACScope: scope.Name, Mode: req.Mode, Results: res, Scanned: scanned}
	if more {
		if out.NextCursor, err = s.cursors.Seal(ctx, cursorScope(tenantID, fd), []byte(last)); err != nil {
			return Response{}, fmt.Errorf("seal cursor: %w", err)
		}
	}
	return s.record(ctx, tenantID, role, f, out, now)
}

func (s *Service) scan(ctx context.Context, tenantID string, req Request, after string, scope Scope, now time.Time) ([]Result, string, int, bool, error) {
	q := itemstore.Query{PK: artifacts.PartitionKey(tenantID), Limit: 500}
	if !req.from.IsZero() {
		q.SKFrom, _ = ref.IDBounds("art", req.from)
	}
	if !req.to.IsZero() {
		_, q.SKTo = ref.IDBounds("art", req.to)
	}
	if after != "" {
		q.SKFrom = max(q.SKFrom, after+" ")
	}
	if q.SKTo == "" && q.SKFrom != "" {
		q.SKTo = "art_~"
	}
	results := []Result{}
	if q.SKFrom != "" && q.SKFrom > q.SKTo {
		return results, "", 0, false, nil
	}
	scanned, last := 0, ""
	pre := req.prefilter(scope)
	for {
		page, err := s.items.Query(ctx, q)
		if err != nil {
			return nil, "", 0, false, fmt.Errorf("search artifacts: %w", err)
		}
		for i, it := range page.Items {
			scanned++
			last = it.SK
			if pre.excludes(it.Data) {
				continue
			}
			rec, err := artifacts.Decode(it)
			if err != nil {
				return nil, "", 0, false, err
			}
			if r, ok := match(rec, req, scope, now); ok {
				results = append(results, r)
			}
			moreHere := i < len(page.Items)-1 || page.Next != ""
			if len(results) == req.PageSize || scanned >= scanBudget {
				return results, last, scanned, moreHere, nil
			}
		}
		if page.Next == "" {
			return results, last, scanned, false, nil
		}
		q.Cursor = page.Next
	}
}

func match(rec artifacts.Record, req Request, scope Scope, now time.Time) (Result, bool) {
	state := rec.Effective(now)
	switch {
	case !scope.Visible(rec, state):
		return Result{}, false
	case req.Mode == RetentionAware && hidden(state):
		return Result{}, false
	case req.Mode == LegalHoldOnly && state != artifacts.LegalHold:
		return Result{}, false
	case len(req.ReportIDs) > 0 && !slices.Contains(req.ReportIDs, rec.ReportID):
		return Result{}, false
	case len(req.Formats) > 0 && !slices.Contains(req.Formats, rec.Format):
		return Result{}, false
	case len(req.LifecycleStates) > 0 && !slices.Contains(req.LifecycleStates, state):
		return Result{}, false
	}
	return Result{
		ArtifactRef: rec.ArtifactRef, ReportID: rec.ReportID, Format: rec.Format, CreatedAt: rec.CreatedAt,
		LifecycleState: state, RetentionClass: rec.RetentionClass, RetainUntil: rec.RetainUntil, SizeBytes: rec.Size,
		Digest: rec.Digest, DownloadAllowed: decide(rec, state, scope).Decision == Allow,
		EvidenceRef: rec.LastEvidenceRef, ImmutableStoreRef: rec.ImmutableStoreRef(),
	}, true
}

// recordedResults bounds the results kept in a stored search (the evidence keeps counts).
const recordedResults = 50

func (s *Service) record(ctx context.Context, tenantID, role string, f Filters, out Response, now time.Time) (Response, error) {
	id := ref.NewID("qry", now)
	out.QueryRef = ref.Make("query", id)
	ev, err := evidence.New(evidence.Event{TenantID: tenantID, Action: evidence.SearchPerformed, ActorRole: role,
		SubjectRefs: []string{out.QueryRef},
		Details: map[string]any{"mode": f.Mode, "rbac_scope": out.RBACScope, "results": len(out.Results), "scanned": out.Scanned,
			"report_ids": f.ReportIDs, "formats": f.Formats, "lifecycle_states": f.LifecycleStates, "from": f.From, "to": f.To,
			"has_next_page": out.NextCursor != ""}}, now)
	if err != nil {
		return Response{}, err
	}
	out.EvidenceRef = ev.Ref
	kept := out.Results[:min(len(out.Results), recordedResults)]
	data, err := json.Marshal(QueryRecord{QueryRef: out.QueryRef, ActorRef: ref.Make("role", role), RBACScope: out.RBACScope,
		Filters: f, Results: kept, LoggedAt: now.UTC().Format(time.RFC3339Nano), EvidenceRef: ev.Ref})
	if err != nil {
		return Response{}, err
	}
	evw, err := ev.Write()
	if err != nil {
		return Response{}, err
	}
	err = s.items.Transact(ctx, []itemstore.Write{{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: QueryKey(tenantID), SK: id, Data: data}}, evw})
	if err != nil {
		return Response{}, fmt.Errorf("record search: %w", err)
	}
	return out, nil
}
