// Package artifacts keeps rendered report artifacts: it stores each file in the WORM store
// under the COMPLIANCE retention of its class, indexes it with its lifecycle state, and runs
// the lifecycle: legal hold set and release, expiry from the scheduler, deletion only once
// retention has passed (leaving a tombstone), and the deletion-readiness view. Every change
// writes its evidence record in the same item-store transaction.
package artifacts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/settings"
)

// Lifecycle states (the public contracts' list).
const (
	Retained        = "retained"
	Archived        = "archived"
	Expired         = "expired"
	LegalHold       = "legal_hold"
	PendingApproval = "pending_approval"
	Deleted         = "deleted"
)

// States lists every lifecycle state.
var States = []string{Retained, Archived, Expired, LegalHold, PendingApproval, Deleted}

// Retention classes.
const (
	OperationalRecord = "operational_record"
	GovernanceRecord  = "governance_record"
	AuditRecord       = "audit_record"
	LegalHoldClass    = "legal_hold"
)

// Record is one stored artifact.
type Record struct {
	ArtifactRef      string `json:"artifact_ref"`
	ReportID         string `json:"report_id"`
	Format           string `json:"format"`
	ContentType      string `json:"content_type"`
	ObjectKey        string `json:"object_key"`
	VersionID        string `json:"version_id"`
	Digest           string `json:"digest"`
	Size             int64  `json:"size_bytes"`
	RetentionClass   string `json:"retention_class"`
	RetainUntil      string `json:"retain_until"`
	State            string `json:"lifecycle_state"`
	LegalHoldRef     string `json:"legal_hold_ref,omitempty"`
	ApprovalRequired bool   `json:"retrieval_approval_required"`
	SnapshotRef      string `json:"data_snapshot_ref"`
	TemplateVersion  string `json:"template_version"`
	WindowFrom       string `json:"window_from"`
	WindowTo         string `json:"window_to"`
	RenderRef        string `json:"render_ref"`
	CreatedAt        string `json:"created_at"`
	RequestedBy      string `json:"requested_by"`
	EvidenceRef      string `json:"evidence_ref"`
	LastEvidenceRef  string `json:"last_evidence_ref"`
	DeletedAt        string `json:"deleted_at,omitempty"`
	// version is the item-store version this record was read at (optimistic updates).
	version int64
}

// ID is the artifact id ("art_...").
func (r Record) ID() string { return strings.TrimPrefix(r.ArtifactRef, "artifact:") }

// ImmutableStoreRef names the WORM version holding the bytes, without a URL.
func (r Record) ImmutableStoreRef() string { return "worm:" + r.ObjectKey + "#" + r.VersionID }

// Until parses RetainUntil.
func (r Record) Until() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, r.RetainUntil)
	return t
}

// Effective is the state at now: a retained or approval-pending artifact whose retention
// has passed is expired even before the expiry worker records it.
func (r Record) Effective(now time.Time) string {
	if (r.State == Retained || r.State == PendingApproval) && !now.Before(r.Until()) {
		return Expired
	}
	return r.State
}

// Items is the part of the item store artifacts need.
type Items interface {
	Get(ctx context.Context, pk, sk string) (itemstore.Item, error)
	Transact(ctx context.Context, writes []itemstore.Write) error
	Query(ctx context.Context, q itemstore.Query) (itemstore.Page, error)
}

// Objects is the part of the WORM store artifacts need.
type Objects interface {
	Put(ctx context.Context, in objectstore.PutInput) (objectstore.Info, error)
	Get(ctx context.Context, key, versionID string) (io.ReadCloser, objectstore.Info, error)
	SetLegalHold(ctx context.Context, key, versionID string, on bool) error
	DeleteVersion(ctx context.Context, key, versionID string) error
}

// Scheduler creates the one-shot expiry schedules.
type Scheduler interface {
	Create(ctx context.Context, s scheduler.Schedule) error
}

// SettingsFunc returns a tenant's settings (retention days, branding).
type SettingsFunc func(ctx context.Context, tenantID string) (settings.Settings, error)

// PartitionKey holds a tenant's artifact records, in id (= creation time) order.
func PartitionKey(tenantID string) string { return "T#" + tenantID + "#ART" }

// expiryKey is the GSI1 partition of a tenant's artifacts waiting for their retain-until.
func expiryKey(tenantID string) string { return "T#" + tenantID + "#EXPIRY" }

var idPattern = regexp.MustCompile(`^art_[0-9a-z]{26}$`)

// ParseID accepts "art_..." or "artifact:art_..."; ok is false for anything else.
func ParseID(s string) (string, bool) {
	id := strings.TrimPrefix(s, "artifact:")
	return id, idPattern.MatchString(id)
}

// sortableTime is the fixed-width UTC form used in sort keys, so text order is time order.
func sortableTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (r Record) item(tenantID string) (itemstore.Item, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return itemstore.Item{}, err
	}
	it := itemstore.Item{PK: PartitionKey(tenantID), SK: r.ID(), Data: data}
	// Only artifacts still counting down to their retain-until sit in the expiry index.
	if r.State == Retained || r.State == PendingApproval {
		it.GSI1PK, it.GSI1SK = expiryKey(tenantID), sortableTime(r.Until())+"#"+r.ID()
	}
	return it, nil
}

// Decode reads a stored record.
func Decode(it itemstore.Item) (Record, error) {
	var r Record
	if err := json.Unmarshal(it.Data, &r); err != nil {
		return Record{}, fmt.Errorf("decode artifact %s: %w", it.SK, err)
	}
	r.version = it.Version
	return r, nil
}

// update is the conditional write replacing a record read at its version.
func (r Record) update(tenantID string) (itemstore.Write, error) {
	it, err := r.item(tenantID)
	if err != nil {
		return itemstore.Write{}, err
	}
	return itemstore.Write{Kind: itemstore.Put, Item: it, Cond: itemstore.IfVersion, ExpectVersion: r.version}, nil
}

// Days returns the tenant's retention days for a class; legal_hold keeps governance days
// under its hold.
func Days(st settings.Settings, class string) int {
	switch class {
	case OperationalRecord:
		return st.RetentionDays.OperationalRecord
	case AuditRecord:
		return st.RetentionDays.AuditRecord
	}
	return st.RetentionDays.GovernanceRecord
}
