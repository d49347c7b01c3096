package delivery

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Delivery statuses. blocked_policy, delivered, dead_lettered, denied, expired and voided
// are final.
const (
	StatusBlocked         = "blocked_policy"
	StatusPendingApproval = "pending_approval"
	StatusQueued          = "queued"
	StatusSending         = "sending"
	StatusRetryScheduled  = "retry_scheduled"
	StatusDelivered       = "delivered"
	StatusDeadLettered    = "dead_lettered"
	StatusDenied          = "denied"
	StatusExpired         = "expired"
	// StatusVoided: approved, but the artifact digest or the policy changed before delivery.
	StatusVoided = "voided"
)

// Final tells whether a status ends the delivery.
func Final(status string) bool {
	switch status {
	case StatusBlocked, StatusDelivered, StatusDeadLettered, StatusDenied, StatusExpired, StatusVoided:
		return true
	}
	return false
}

// Failure classes of an attempt.
const (
	FailProviderAuth      = "provider_auth"
	FailRecipientPolicy   = "recipient_policy"
	FailProviderRateLimit = "provider_rate_limit"
	FailRenderError       = "render_error"
	FailAuditStoreError   = "audit_store_error"
	// FailIntegrity: the stored bytes failed the digest the product recorded (or are gone);
	// nothing was sent. Never retried: the bytes will not heal.
	FailIntegrity = "integrity_failure"
	FailUnknown   = "unknown"
)

// transient failure classes are retried; the others dead-letter at once, since a retry
// would fail the same way until someone changes configuration or policy.
var transient = map[string]bool{FailProviderRateLimit: true, FailAuditStoreError: true, FailUnknown: true}

// Record is one delivery. Recipients are the only addresses the product keeps; they stay in
// this item and in the views of roles allowed to see them.
type Record struct {
	DeliveryRef string `json:"delivery_ref"`
	Channel     string `json:"channel"`
	// ProviderMode is the settings' delivery provider mode when an email send was requested,
	// so exports name the mode the send was made through, not today's; "" for the other
	// channels and for email records written before the mode was kept.
	ProviderMode      string        `json:"provider_mode,omitempty"`
	SubjectRef        string        `json:"subject_ref"`
	SubjectDigest     string        `json:"subject_digest"`
	ReportID          string        `json:"report_id"`
	Format            string        `json:"format"`
	ImmutableStoreRef string        `json:"immutable_store_ref"`
	Status            string        `json:"status"`
	Decision          Decision      `json:"policy_decision"`
	Recipients        []string      `json:"recipients"`
	Message           string        `json:"message,omitempty"`
	RequesterRole     string        `json:"requester_role"`
	RequesterTokenRef string        `json:"requester_token_ref"`
	IdempotencyDigest string        `json:"idempotency_digest"`
	RequestDigest     string        `json:"request_digest"`
	ApprovalRef       string        `json:"approval_ref,omitempty"`
	ApprovalExpiresAt string        `json:"approval_expires_at,omitempty"`
	Approval          *Approval     `json:"approval,omitempty"`
	Attempts          []Attempt     `json:"attempts"`
	History           []StatusEntry `json:"status_history"`
	EvidenceRefs      []string      `json:"evidence_refs"`
	NextAttemptAt     string        `json:"next_attempt_at,omitempty"`
	FailureClass      string        `json:"failure_class,omitempty"`
	// StatusReason says why the delivery reached its status where a code says more than the
	// failure class: attempt_outcome_unknown, attempt_reconciled, subject_changed, ...
	StatusReason string `json:"status_reason,omitempty"`
	// PendingMessageID is the Message-ID of the email attempt claimed and not yet recorded,
	// written with the claim so that after a crash the provider can be asked about it.
	PendingMessageID string `json:"pending_message_id,omitempty"`
	// ProviderMessageRef is the provider's id of a mail found by reconciliation.
	ProviderMessageRef string `json:"provider_message_ref,omitempty"`
	// Retry is the retry policy of this delivery when its requester set one (a scheduled
	// run carries its schedule's); nil means the tenant's settings.
	Retry *RetryPolicy `json:"retry_policy,omitempty"`
	// ScheduleRef names the report schedule whose run requested this delivery;
	// ScheduleApprovalRef the schedule's approval a gated send went ahead under.
	ScheduleRef         string `json:"schedule_ref,omitempty"`
	ScheduleApprovalRef string `json:"schedule_approval_ref,omitempty"`
	CreatedAt           string `json:"created_at"`
	UpdatedAt           string `json:"updated_at"`
	version             int64
}

// RetryPolicy overrides the tenant's delivery retry settings for one delivery: at most
// 1+MaxRetries attempts, the n-th retry after BaseSeconds·1 (none), ·n (linear) or
// ·2^(n-1) (exponential), capped at CapSeconds.
type RetryPolicy struct {
	MaxRetries  int    `json:"max_retries"`
	Backoff     string `json:"backoff"`
	BaseSeconds int    `json:"base_seconds"`
	CapSeconds  int    `json:"cap_seconds"`
}

// Backoffs a RetryPolicy may name.
const (
	BackoffNone        = "none"
	BackoffLinear      = "linear"
	BackoffExponential = "exponential"
)

// Approval is the one decision on a gated delivery, bound to the digest it approved.
type Approval struct {
	ApprovalRef   string `json:"approval_ref"`
	Decision      string `json:"decision"`
	ApproverRole  string `json:"approver_role"`
	BoundDigest   string `json:"bound_digest"`
	ReasonCode    string `json:"reason_code,omitempty"`
	DecidedAt     string `json:"decided_at"`
	EvidenceRef   string `json:"evidence_ref"`
	approverToken string
}

// Attempt is one try at the channel.
type Attempt struct {
	Number       int    `json:"number"`
	StartedAt    string `json:"started_at"`
	Outcome      string `json:"outcome"` // OutcomeSucceeded, OutcomeFailed or OutcomeUnknown
	FailureClass string `json:"failure_class,omitempty"`
	EvidenceRef  string `json:"evidence_ref"`
}

// StatusEntry is one step of the status history.
type StatusEntry struct {
	Status      string `json:"status"`
	At          string `json:"at"`
	EvidenceRef string `json:"evidence_ref"`
}

// ID is the delivery id ("dlv_..."), also the approval gate's ref.
func (r Record) ID() string { return strings.TrimPrefix(r.DeliveryRef, "delivery:") }

// PartitionKey holds a tenant's deliveries in id (= creation time) order.
func PartitionKey(tenantID string) string { return "T#" + tenantID + "#DLV" }

// openKey is the GSI1 partition of a tenant's deliveries that are not final yet, the only
// ones a sweep has work for: sweeps read those instead of the whole delivery log.
func openKey(tenantID string) string { return "T#" + tenantID + "#DLV#OPEN" }

// open tells whether a sweep may still move the delivery on.
func (r Record) open() bool {
	switch r.Status {
	case StatusQueued, StatusSending, StatusRetryScheduled, StatusPendingApproval:
		return true
	}
	return false
}

// Final tells whether the delivery has reached a status nothing moves it from.
func (r Record) Final() bool { return !r.open() }

func idempotencyKey(tenantID string) string { return "T#" + tenantID + "#IDEM" }

// InboxKey holds a tenant's portal inbox.
func InboxKey(tenantID string) string { return "T#" + tenantID + "#INBOX" }

func policyKey(tenantID string) (string, string) { return "T#" + tenantID, "RECIPIENT_POLICY" }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (r *Record) setStatus(status, evidenceRef string, now time.Time) {
	r.Status = status
	r.History = append(r.History, StatusEntry{Status: status, At: stamp(now), EvidenceRef: evidenceRef})
	if !slices.Contains(r.EvidenceRefs, evidenceRef) {
		r.EvidenceRefs = append(r.EvidenceRefs, evidenceRef)
	}
	r.UpdatedAt = stamp(now)
}

func (r Record) write(tenantID string, cond itemstore.Condition) (itemstore.Write, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return itemstore.Write{}, fmt.Errorf("encode delivery: %w", err)
	}
	it := itemstore.Item{PK: PartitionKey(tenantID), SK: r.ID(), Data: data}
	if r.open() {
		it.GSI1PK, it.GSI1SK = openKey(tenantID), r.ID()
	}
	return itemstore.Write{Kind: itemstore.Put, Cond: cond, ExpectVersion: r.version, Item: it}, nil
}

func decodeRecord(it itemstore.Item) (Record, error) {
	var r Record
	if err := json.Unmarshal(it.Data, &r); err != nil {
		return Record{}, fmt.Errorf("decode delivery %s: %w", it.SK, err)
	}
	r.version = it.Version
	return r, nil
}
