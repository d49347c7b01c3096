package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
)

// SIEMSchema names the layout of one SIEM line (docs/siem.md maps every field).
const SIEMSchema = "aispm.siem_event.v1"

// MaxSIEMEvents bounds one SIEM export: the file is built in memory before it is stored,
// so a longer window is refused (ErrTooManyEvents) and exported in shorter windows.
const MaxSIEMEvents = 250_000

// ErrTooManyEvents means the window holds more events than one SIEM export carries.
var ErrTooManyEvents = errors.New("the window holds more events than one SIEM export carries")

// SIEMEvent is one line: ECS-style top-level names a SIEM maps without configuration, and
// the product's own vocabulary under cavra.
type SIEMEvent struct {
	Schema    string         `json:"schema"`
	Timestamp string         `json:"@timestamp"`
	Event     siemEventBlock `json:"event"`
	Agent     siemID         `json:"agent"`
	Connector siemID         `json:"connector"`
	Observer  siemObserver   `json:"observer"`
	Tenant    string         `json:"tenant_ref"`
	Snapshot  string         `json:"data_snapshot_ref"`
	Cavra     siemCavra      `json:"cavra"`
}

type siemEventBlock struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Category string `json:"category"`
	Action   string `json:"action"`
	Outcome  string `json:"outcome"`
	Severity int    `json:"severity"`
	Ingested string `json:"ingested,omitempty"`
}

type siemID struct {
	ID   string `json:"id"`
	Type string `json:"type,omitempty"`
}

type siemObserver struct {
	Vendor  string `json:"vendor"`
	Product string `json:"product"`
}

type siemCavra struct {
	EventType     string   `json:"event_type"`
	Decision      string   `json:"decision"`
	Severity      string   `json:"severity"`
	SessionID     string   `json:"session_id,omitempty"`
	PolicyPack    string   `json:"policy_pack,omitempty"`
	RiskClass     string   `json:"risk_classification,omitempty"`
	ActionType    string   `json:"action_type,omitempty"`
	ToolName      string   `json:"tool_name,omitempty"`
	Repository    string   `json:"repository,omitempty"`
	ActorRef      string   `json:"actor_ref,omitempty"`
	Environment   string   `json:"environment,omitempty"`
	TargetSummary string   `json:"target_summary,omitempty"`
	EvidenceRefs  []string `json:"evidence_refs,omitempty"`
	PayloadRef    string   `json:"payload_ref,omitempty"`
	Controls      []string `json:"controls,omitempty"`
	RiskScore     *int     `json:"risk_score,omitempty"`
}

// siemCategory maps event types onto ECS event categories.
var siemCategory = map[string]string{
	"file_action": "file", "shell_command": "process", "git_operation": "configuration", "ci_runner_event": "process",
	"cloud_iac_event": "configuration", "mcp_activity": "network", "approval_event": "iam", "policy_decision": "intrusion_detection",
}

// siemOutcome: a blocked action failed, an allowed one succeeded, the rest are not outcomes.
var siemOutcome = map[string]string{Allow: "success", AllowWithAttestation: "success", Block: "failure"}

func siemLine(e *Event, doc *Document) SIEMEvent {
	return SIEMEvent{Schema: SIEMSchema, Timestamp: ts(e.At),
		Event: siemEventBlock{ID: e.EventID, Kind: "event", Category: orDefault(siemCategory[e.Type], "host"), Action: e.Type,
			Outcome: orDefault(siemOutcome[e.Decision], "unknown"), Severity: severityRank[e.Severity], Ingested: e.ReceivedAt},
		Agent: siemID{ID: e.Agent}, Connector: siemID{ID: e.Connector, Type: e.ConnectorType},
		Observer: siemObserver{Vendor: "CAVRA", Product: "AISPM Report Center"},
		Tenant:   doc.Meta.TenantRef, Snapshot: doc.Meta.SnapshotRef,
		Cavra: siemCavra{EventType: e.Type, Decision: e.Decision, Severity: e.Severity, SessionID: e.SessionID,
			PolicyPack: e.PolicyPack, RiskClass: e.RiskClass, ActionType: e.Action, ToolName: e.Tool, Repository: e.Repository,
			ActorRef: e.Actor, Environment: e.Environment, TargetSummary: e.Target, EvidenceRefs: e.EvidenceRefs,
			PayloadRef: e.PayloadRef, Controls: e.Controls, RiskScore: e.RiskScore}}
}

// writeSIEM writes the window's events, one canonical JSON line each, in the snapshot's
// segment order and each segment's own (time) order: the same snapshot gives the same bytes.
func writeSIEM(ctx context.Context, doc Document, src Sources) ([]byte, error) {
	var buf bytes.Buffer
	n := 0
	for _, s := range src.Snapshot.Segments {
		err := eachEvent(ctx, src.Objects, s, src.Window, func(e *Event) error {
			if n++; n > MaxSIEMEvents {
				return ErrTooManyEvents
			}
			b, err := canonjson.Marshal(siemLine(e, &doc))
			if err != nil {
				return err
			}
			buf.Write(b)
			buf.WriteByte('\n')
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("siem export: %w", err)
		}
	}
	return buf.Bytes(), nil
}
