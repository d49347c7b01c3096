// Package evidence is the evidence model: every state-changing action writes one Record in
// the same item-store transaction as the change it proves. The change feed then carries the
// record to the audit log. Records hold refs, roles, counts and digests only; the scanner
// refuses anything that looks like an address, an identity or a secret.
package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// SchemaVersion of the internal record (schemas/evidence-record.schema.json).
const SchemaVersion = "aispm.evidence_record.v1"

// ErrRefused wraps a scanner finding: the record would leak something and was not written.
var ErrRefused = errors.New("evidence refused by redaction scanner")

// Record is one piece of evidence.
type Record struct {
	SchemaVersion string         `json:"schema_version"`
	Ref           string         `json:"ref"`
	TenantRef     string         `json:"tenant_ref"`
	Action        Action         `json:"action"`
	ActorRole     string         `json:"actor_role"`
	SubjectRefs   []string       `json:"subject_refs"`
	Details       map[string]any `json:"details,omitempty"`
	OccurredAt    string         `json:"occurred_at"`
	// Digest is the sha256 of the canonical JSON of the record without this field.
	Digest string `json:"digest"`
}

// Event is what a domain action says about itself.
type Event struct {
	TenantID    string
	Action      Action
	ActorRole   string // a role name, or "system" for workers
	SubjectRefs []string
	Details     map[string]any
}

// New builds, digests and scans a record.
func New(e Event, now time.Time) (Record, error) {
	if !e.Action.known() {
		return Record{}, fmt.Errorf("evidence: unregistered action %q", e.Action)
	}
	subjects := e.SubjectRefs
	if subjects == nil {
		subjects = []string{}
	}
	r := Record{
		SchemaVersion: SchemaVersion,
		Ref:           ref.Make("evidence", ref.NewID("ev", now)),
		TenantRef:     ref.Make("tenant", e.TenantID),
		Action:        e.Action,
		ActorRole:     ref.Make("role", e.ActorRole),
		SubjectRefs:   subjects,
		Details:       e.Details,
		OccurredAt:    now.UTC().Format(time.RFC3339Nano),
	}
	digest, err := canonjson.DigestOf(r)
	if err != nil {
		return Record{}, err
	}
	r.Digest = digest
	raw, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("evidence: %w", err)
	}
	if findings := ScanJSON(raw); len(findings) > 0 {
		return Record{}, fmt.Errorf("%w: %v", ErrRefused, findings[0])
	}
	return r, nil
}

// Verify recomputes the digest of a stored record.
func (r Record) Verify() error {
	want := r.Digest
	r.Digest = ""
	got, err := canonjson.DigestOf(r)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("evidence %s: digest mismatch", r.Ref)
	}
	return nil
}

// PublicRef is the redacted form used in public packets: cavra://evidence/redacted/<id>.
func PublicRef(evidenceRef string) string {
	return "cavra://evidence/redacted/" + strings.TrimPrefix(evidenceRef, "evidence:")
}

// PartitionKey holds a tenant's evidence records, in ref (= time) order.
func PartitionKey(tenantID string) string { return "T#" + tenantID + "#EVIDENCE" }

// Write is the item-store write that stores r; put it in the same transaction as the change.
func (r Record) Write() (itemstore.Write, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return itemstore.Write{}, fmt.Errorf("evidence: %w", err)
	}
	id := strings.TrimPrefix(r.Ref, "evidence:")
	tenantID := strings.TrimPrefix(r.TenantRef, "tenant:")
	return itemstore.Write{
		Kind: itemstore.Put,
		Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: PartitionKey(tenantID), SK: id, Data: data},
	}, nil
}

// IsRecord tells whether an item-store item is an evidence record (for change-feed consumers).
func IsRecord(it itemstore.Item) bool { return strings.HasSuffix(it.PK, "#EVIDENCE") }

// Transactor is the part of the item store SaveWith needs.
type Transactor interface {
	Transact(ctx context.Context, writes []itemstore.Write) error
}

// SaveWith stores item together with r in one transaction, under optimistic concurrency:
// version 0 creates the item (it must not exist), any other version replaces exactly that
// version. A lost race gives itemstore.ErrConflict.
func (r Record) SaveWith(ctx context.Context, items Transactor, item itemstore.Item, version int64) error {
	w := itemstore.Write{Kind: itemstore.Put, Item: item, Cond: itemstore.IfAbsent}
	if version > 0 {
		w.Cond, w.ExpectVersion = itemstore.IfVersion, version
	}
	evw, err := r.Write()
	if err != nil {
		return err
	}
	return items.Transact(ctx, []itemstore.Write{w, evw})
}
