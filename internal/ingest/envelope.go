// Package ingest accepts AISPM live-ingestion envelopes (metadata only) and stores them for
// rendering: events are grouped by UTC day into immutable JSONL segments in the object
// store, and each segment is indexed in the item store under its tenant and day, so a
// render reads only the days of its window and streams one segment at a time.
package ingest

// EnvelopeSchemaVersion is the only accepted envelope version.
const EnvelopeSchemaVersion = "aispm.ingest_envelope.v1"

// Envelope is one event (schemas/ingest-envelope.schema.json).
type Envelope struct {
	SchemaVersion  string  `json:"schema_version"`
	IdempotencyKey string  `json:"idempotency_key"`
	Source         Source  `json:"source"`
	Event          Event   `json:"event"`
	Content        Content `json:"content"`
}

type Source struct {
	Kind         string `json:"kind"`
	Connector    string `json:"connector"`
	Agent        string `json:"agent"`
	AgentVersion string `json:"agent_version,omitempty"`
}

type Event struct {
	EventID        string   `json:"event_id"`
	OccurredAt     string   `json:"occurred_at"`
	Type           string   `json:"type"`
	Decision       string   `json:"decision"`
	Severity       string   `json:"severity"`
	PolicyPack     string   `json:"policy_pack"`
	PolicyID       string   `json:"policy_id,omitempty"`
	ControlIDs     []string `json:"control_ids,omitempty"`
	Tool           string   `json:"tool,omitempty"`
	ActionCategory string   `json:"action_category,omitempty"`
	RepositoryRef  string   `json:"repository_ref,omitempty"`
	SessionRef     string   `json:"session_ref,omitempty"`
	RiskScore      *int     `json:"risk_score,omitempty"`
}

// Content declares what the envelope carries. Every flag must be false: the product takes
// metadata only.
type Content struct {
	RawPromptIncluded      bool `json:"raw_prompt_included"`
	ModelReasoningIncluded bool `json:"model_reasoning_included"`
	ToolOutputIncluded     bool `json:"tool_output_included"`
}
