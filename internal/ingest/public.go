package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
)

// PublicSchemaVersion is the public live-ingestion envelope CAVRA's collectors send
// (schemas/live-ingestion-envelope.schema.json): the primary shape the ingest API takes.
const PublicSchemaVersion = "cavra.aispm.enterprise_live_ingestion_envelope.v1"

// PublicEnvelope is one public envelope, every field kept: it is stored as it arrived
// (canonical JSON), with event.received_at set by the server. Every struct of it declares
// its fields in the byte order of their JSON names, so encoding/json writes the canonical
// form (canonjson) straight away (encodeCanonical).
type PublicEnvelope struct {
	ContractVisibility   string            `json:"contract_visibility"`
	Edition              string            `json:"edition"`
	EnterpriseBoundaries map[string]string `json:"enterprise_boundaries"`
	Event                PublicEvent       `json:"event"`
	Integrity            PublicIntegrity   `json:"integrity"`
	Product              string            `json:"product"`
	Redaction            PublicRedaction   `json:"redaction"`
	SchemaVersion        string            `json:"schema_version"`
	Source               PublicSource      `json:"source"`
	Tenant               PublicTenant      `json:"tenant"`
	Transport            PublicTransport   `json:"transport"`
}

type PublicEvent struct {
	ActionType         string   `json:"action_type,omitempty"`
	ActorRef           string   `json:"actor_ref,omitempty"`
	AgentID            string   `json:"agent_id"`
	Decision           string   `json:"decision,omitempty"`
	EventID            string   `json:"event_id"`
	EventType          string   `json:"event_type"`
	EvidenceRefs       []string `json:"evidence_refs,omitempty"`
	OccurredAt         string   `json:"occurred_at"`
	PayloadRef         string   `json:"payload_ref,omitempty"`
	PolicyPack         string   `json:"policy_pack,omitempty"`
	ReceivedAt         string   `json:"received_at,omitempty"`
	Repository         string   `json:"repository,omitempty"`
	RiskClassification string   `json:"risk_classification,omitempty"`
	SessionID          string   `json:"session_id"`
	Severity           string   `json:"severity,omitempty"`
	TargetSummary      string   `json:"target_summary,omitempty"`
	ToolName           string   `json:"tool_name,omitempty"`
}

type PublicSource struct {
	CollectorVersion string `json:"collector_version,omitempty"`
	ConnectorID      string `json:"connector_id"`
	ConnectorType    string `json:"connector_type"`
	RuntimeVersion   string `json:"runtime_version,omitempty"`
}

type PublicTenant struct {
	DataResidencyRef string `json:"data_residency_ref,omitempty"`
	Environment      string `json:"environment"`
	Region           string `json:"region,omitempty"`
	TenantRef        string `json:"tenant_ref"`
}

type PublicRedaction struct {
	PayloadHandling        string `json:"payload_handling"`
	PrivatePayloadRequired *bool  `json:"private_payload_required,omitempty"`
	RawPromptIncluded      bool   `json:"raw_prompt_included"`
	ReasoningIncluded      bool   `json:"reasoning_included"`
	RedactionProfile       string `json:"redaction_profile,omitempty"`
	ToolOutputIncluded     bool   `json:"tool_output_included"`
}

type PublicIntegrity struct {
	ChainRef          string `json:"chain_ref,omitempty"`
	HashAlgorithm     string `json:"hash_algorithm"`
	PayloadHash       string `json:"payload_hash,omitempty"`
	SignatureRef      string `json:"signature_ref,omitempty"`
	SignatureRequired bool   `json:"signature_required"`
}

type PublicTransport struct {
	DeliverySemantics string `json:"delivery_semantics"`
	IdempotencyKey    string `json:"idempotency_key,omitempty"`
	IngressMode       string `json:"ingress_mode"`
	RetryCount        *int   `json:"retry_count,omitempty"`
}

// contentEventTypes describe a prompt, a model response or reasoning: the envelope carries
// metadata about them, so their summary is held to one short line.
var contentEventTypes = map[string]bool{"prompt": true, "model_response": true, "reasoning_trace": true}

// contentSummaryMax is the longest target_summary a content event may carry.
const contentSummaryMax = 120

// redactionFlags are the declarations a metadata-only envelope must make false.
var redactionFlags = []string{"raw_prompt_included", "reasoning_included", "tool_output_included"}

// hashHexLen is the hex length of a digest of each hash algorithm.
var hashHexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// refuseRawContent names a redaction flag declared true before the schema would answer a
// generic violation: the envelope says it carries content, which is never taken.
func refuseRawContent(doc any, field string) error {
	obj, _ := doc.(map[string]any)
	red, _ := obj["redaction"].(map[string]any)
	for _, k := range redactionFlags {
		if v, ok := red[k].(bool); ok && v {
			return problem.New(problem.Invalid, "raw_content_refused", joinField(field, "redaction."+k),
				"envelopes carry metadata only: raw prompts, reasoning and tool output are never accepted")
		}
	}
	return nil
}

// checkPublic applies the rules the schema cannot express. tenantID is the caller's tenant
// from its token.
func checkPublic(env *PublicEnvelope, field, tenantID string) error {
	if !sameTenant(env.Tenant.TenantRef, tenantID) {
		return problem.New(problem.Forbidden, "tenant_mismatch", joinField(field, "tenant.tenant_ref"),
			"tenant_ref must name the tenant of the token (tenant:<id> or <id>)")
	}
	if env.Redaction.PayloadHandling == "private_payload_ref" && env.Event.PayloadRef == "" {
		return problem.InvalidField(joinField(field, "event.payload_ref"), "required when redaction.payload_handling is private_payload_ref")
	}
	if h := env.Integrity.PayloadHash; h != "" && !validPayloadHash(h, env.Integrity.HashAlgorithm) {
		return problem.InvalidField(joinField(field, "integrity.payload_hash"),
			"must be "+env.Integrity.HashAlgorithm+":<lower-case hex digest> (or the bare hex digest) of integrity.hash_algorithm")
	}
	if s := env.Event.TargetSummary; contentEventTypes[env.Event.EventType] && (len(s) > contentSummaryMax || strings.ContainsAny(s, "\r\n")) {
		return problem.New(problem.Invalid, "sensitive_content_refused", joinField(field, "event.target_summary"),
			"prompt, model_response and reasoning_trace events carry metadata only: target_summary is one line of at most 120 characters")
	}
	return nil
}

func sameTenant(tenantRef, tenantID string) bool {
	return tenantRef == tenantID || tenantRef == ref.Make("tenant", tenantID)
}

func validPayloadHash(h, algorithm string) bool {
	h = strings.TrimPrefix(h, algorithm+":")
	if len(h) != hashHexLen[algorithm] {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// idempotencyKey is transport.idempotency_key when the collector gave one, else a key
// derived from the connector and the event id, so a collector's retry of one event is
// recognised even without a key.
func (env *PublicEnvelope) idempotencyKey() string {
	if k := env.Transport.IdempotencyKey; k != "" {
		return k
	}
	sum := sha256.Sum256([]byte(env.Source.ConnectorID + "\n" + env.Event.EventID))
	return "derived:" + hex.EncodeToString(sum[:20])
}

func (env *PublicEnvelope) idempotencyKeyField() string {
	if env.Transport.IdempotencyKey != "" {
		return "transport.idempotency_key"
	}
	return "event.event_id"
}

// contentView is the envelope without what may differ between deliveries of one event
// (the server's receipt time, the transport's retry count): its digest decides whether a
// reused key carries the same event.
func (env PublicEnvelope) contentView() PublicEnvelope {
	env.Event.ReceivedAt = ""
	env.Transport.RetryCount = nil
	return env
}

func stampReceived(env *PublicEnvelope, now time.Time) {
	env.Event.ReceivedAt = now.UTC().Format(time.RFC3339Nano)
}

// encodeCanonical writes a public envelope in canonjson's canonical form without decoding it
// again: its fields are declared in key order and encoding/json sorts map keys, so only HTML
// escaping must be off. Its strings came from encoding/json, so they are valid UTF-8.
func encodeCanonical(env PublicEnvelope) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
