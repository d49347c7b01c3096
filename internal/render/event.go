package render

import (
	"encoding/json"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
)

// The decision vocabulary of the public envelope. Reports keep every value in its own
// bucket: a warning is not an allow, an attested allow is not a plain one.
const (
	Allow                = "allow"
	Warn                 = "warn"
	Block                = "block"
	RequireApproval      = "require_approval"
	AllowWithAttestation = "allow_with_attestation"
	AuditOnly            = "audit_only"
	NotApplicable        = "not_applicable"
)

// Decisions lists the decision vocabulary in report order.
var Decisions = []string{Allow, Warn, Block, RequireApproval, AllowWithAttestation, AuditOnly, NotApplicable}

// Severities lists the severity vocabulary, lowest first.
var Severities = []string{"none", "low", "medium", "high", "critical"}

// EventTypes lists the public envelope's event types.
var EventTypes = []string{"prompt", "model_response", "reasoning_trace", "tool_call", "file_action", "shell_command",
	"git_operation", "mcp_activity", "ci_runner_event", "cloud_iac_event", "policy_decision", "approval_event", "evidence_event"}

// Event is one stored event as the reports read it, whichever envelope shape it was
// ingested in: the public envelope's fields, with a legacy envelope's values mapped onto
// the public vocabulary (legacyDecision, legacySeverity, legacyType).
type Event struct {
	At            time.Time
	ReceivedAt    string
	EventID       string
	SessionID     string
	Type          string
	Decision      string
	Severity      string
	Connector     string // connector id
	ConnectorType string
	Agent         string
	PolicyPack    string
	RiskClass     string
	Controls      []string // a legacy envelope's control ids; a public one's risk classification
	Action        string
	Tool          string
	Repository    string
	Actor         string
	Environment   string
	Target        string
	EvidenceRefs  []string
	PayloadRef    string
	RiskScore     *int // legacy envelopes only
}

// storedLine decodes both stored shapes at once: their field names do not collide except
// where they mean the same (occurred_at, decision, severity, policy_pack).
type storedLine struct {
	SchemaVersion string `json:"schema_version"`
	Source        struct {
		ConnectorType string `json:"connector_type"`
		ConnectorID   string `json:"connector_id"`
		Kind          string `json:"kind"`
		Connector     string `json:"connector"`
		Agent         string `json:"agent"`
	} `json:"source"`
	Tenant struct {
		Environment string `json:"environment"`
	} `json:"tenant"`
	Event struct {
		EventID            string   `json:"event_id"`
		OccurredAt         string   `json:"occurred_at"`
		ReceivedAt         string   `json:"received_at"`
		EventType          string   `json:"event_type"`
		Type               string   `json:"type"`
		SessionID          string   `json:"session_id"`
		SessionRef         string   `json:"session_ref"`
		AgentID            string   `json:"agent_id"`
		Decision           string   `json:"decision"`
		Severity           string   `json:"severity"`
		PolicyPack         string   `json:"policy_pack"`
		RiskClassification string   `json:"risk_classification"`
		ControlIDs         []string `json:"control_ids"`
		ActionType         string   `json:"action_type"`
		ActionCategory     string   `json:"action_category"`
		ToolName           string   `json:"tool_name"`
		Tool               string   `json:"tool"`
		Repository         string   `json:"repository"`
		RepositoryRef      string   `json:"repository_ref"`
		ActorRef           string   `json:"actor_ref"`
		TargetSummary      string   `json:"target_summary"`
		EvidenceRefs       []string `json:"evidence_refs"`
		PayloadRef         string   `json:"payload_ref"`
		RiskScore          *int     `json:"risk_score"`
	} `json:"event"`
}

// Legacy envelopes (aispm.ingest_envelope.v1) used a smaller vocabulary; each value maps to
// the public one that means the same.
var (
	legacyDecision = map[string]string{"allowed": Allow, "blocked": Block, "approval_required": RequireApproval,
		"approved": AllowWithAttestation, "denied": Block, "observed": AuditOnly}
	legacySeverity = map[string]string{"info": "none"}
	legacyType     = map[string]string{"approval": "approval_event", "session": "evidence_event", "config_change": "cloud_iac_event"}
	legacyKind     = map[string]string{"mcp_server": "mcp_server"}
)

// decodeEvent reads one stored line.
func decodeEvent(b []byte) (Event, error) {
	var l storedLine
	if err := json.Unmarshal(b, &l); err != nil {
		return Event{}, err
	}
	at, err := time.Parse(time.RFC3339Nano, l.Event.OccurredAt)
	if err != nil {
		return Event{}, err
	}
	if l.SchemaVersion == ingest.EnvelopeSchemaVersion || l.Source.Connector != "" {
		return legacyEvent(&l, at.UTC()), nil
	}
	e := &l.Event
	ev := Event{At: at.UTC(), ReceivedAt: e.ReceivedAt, EventID: e.EventID, SessionID: e.SessionID, Type: e.EventType,
		Decision: orDefault(e.Decision, NotApplicable), Severity: orDefault(e.Severity, "none"),
		Connector: l.Source.ConnectorID, ConnectorType: l.Source.ConnectorType, Agent: e.AgentID,
		PolicyPack: orDefault(e.PolicyPack, "unspecified"), RiskClass: e.RiskClassification,
		Action: e.ActionType, Tool: e.ToolName, Repository: e.Repository, Actor: e.ActorRef,
		Environment: l.Tenant.Environment, Target: e.TargetSummary, EvidenceRefs: e.EvidenceRefs, PayloadRef: e.PayloadRef}
	if e.RiskClassification != "" {
		ev.Controls = []string{e.RiskClassification}
	}
	return ev, nil
}

func legacyEvent(l *storedLine, at time.Time) Event {
	e := &l.Event
	return Event{At: at, EventID: e.EventID, SessionID: e.SessionRef, Type: mapped(legacyType, e.Type),
		Decision: mapped(legacyDecision, e.Decision), Severity: mapped(legacySeverity, e.Severity),
		Connector: l.Source.Connector, ConnectorType: orDefault(legacyKind[l.Source.Kind], "custom"), Agent: l.Source.Agent,
		PolicyPack: e.PolicyPack, Controls: e.ControlIDs, Action: e.ActionCategory, Tool: e.Tool,
		Repository: e.RepositoryRef, Environment: "unspecified", RiskScore: e.RiskScore}
}

func mapped(m map[string]string, v string) string { return orDefault(m[v], v) }

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
