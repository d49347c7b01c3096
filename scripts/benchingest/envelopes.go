package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
)

// The schema's vocabularies, cycled so every few dozen envelopes cover all of them.
var (
	eventTypes = []string{"tool_call", "file_action", "shell_command", "git_operation", "mcp_activity", "ci_runner_event",
		"cloud_iac_event", "policy_decision", "approval_event", "evidence_event", "prompt", "model_response", "reasoning_trace"}
	decisions      = []string{"allow", "warn", "block", "require_approval", "allow_with_attestation", "audit_only", "not_applicable"}
	severities     = []string{"none", "low", "medium", "high", "critical"}
	connectorTypes = []string{"codex", "claude_code", "github_copilot", "cursor", "gemini_cli", "mcp_server", "github_actions",
		"gitlab_ci", "azure_pipelines", "cloud_provider", "custom"}
	environments = []string{"dev", "test", "staging", "production", "sandbox"}
	boundaries   = map[string]string{"collector_implementation": "requires_cavra_enterprise", "tenant_persistence": "requires_cavra_enterprise",
		"streaming_transport": "requires_cavra_enterprise", "raw_payload_storage": "requires_cavra_enterprise", "license_enforcement": "requires_cavra_enterprise"}
)

// envelope builds public envelope i the way a collector sends it: every optional field set.
// run makes its idempotency key and event id unique to this run.
func envelope(run string, i int) ingest.PublicEnvelope {
	retry, private := i%3, true
	sum := sha256.Sum256([]byte(run + fmt.Sprint(i)))
	return ingest.PublicEnvelope{
		SchemaVersion: ingest.PublicSchemaVersion, Product: "CAVRA", Edition: "enterprise", ContractVisibility: "public_contract",
		Event: ingest.PublicEvent{
			EventID: fmt.Sprintf("evt-%s-%07d", run, i), EventType: eventTypes[i%len(eventTypes)],
			OccurredAt: now.Add(-time.Duration(1+i%86_000) * time.Second).Format(time.RFC3339),
			SessionID:  fmt.Sprintf("sess-%d", i%97), AgentID: fmt.Sprintf("agent-%d", i%13), Repository: "github.com/acme/api",
			ActorRef: fmt.Sprintf("actor:%d", i%31), ToolName: "bash", ActionType: "exec", TargetSummary: "ran the unit tests",
			Decision: decisions[i%len(decisions)], Severity: severities[i%len(severities)], RiskClassification: "supply_chain",
			PolicyPack: "baseline", EvidenceRefs: []string{fmt.Sprintf("evidence:ci-run-%d", i%1000)}, PayloadRef: fmt.Sprintf("payload:blob-%d", i),
		},
		Source: ingest.PublicSource{ConnectorType: connectorTypes[i%len(connectorTypes)], ConnectorID: fmt.Sprintf("conn-%d", i%4),
			RuntimeVersion: "1.2.3.4", CollectorVersion: "0.9.1"},
		Tenant: ingest.PublicTenant{TenantRef: "tenant:" + tenant, Environment: environments[i%len(environments)],
			Region: "eu-west-1", DataResidencyRef: "residency:eu"},
		Redaction: ingest.PublicRedaction{PayloadHandling: "private_payload_ref", RedactionProfile: "strict", PrivatePayloadRequired: &private},
		Integrity: ingest.PublicIntegrity{SignatureRequired: true, SignatureRef: "sig:1", HashAlgorithm: "sha256",
			PayloadHash: "sha256:" + hex.EncodeToString(sum[:]), ChainRef: "chain:c1"},
		Transport: ingest.PublicTransport{IngressMode: "https", DeliverySemantics: "at_least_once",
			IdempotencyKey: fmt.Sprintf("bench-%s-%07d", run, i), RetryCount: &retry},
		EnterpriseBoundaries: boundaries,
	}
}

// Schema bounds the padding stays within.
const (
	summaryMax     = 512
	contentMax     = 120 // target_summary of prompt, model_response and reasoning_trace events
	labelMax       = 300
	evidenceRefMax = 64
)

const filler = "segment-digest-checked-offline-by-the-auditor-"

// padded is envelope i grown to at most size bytes of JSON (within the length of one
// evidence ref prefix of it) with a long target summary and long evidence refs, all within
// the schema's bounds and all plain words the scanner takes.
func padded(run string, i, size int) (ingest.PublicEnvelope, error) {
	env := envelope(run, i)
	env.Event.TargetSummary = fill("ran the unit tests and the integration suite: ", summaryMax)
	if t := env.Event.EventType; t == "prompt" || t == "model_response" || t == "reasoning_trace" {
		env.Event.TargetSummary = fill("summarised the request: ", contentMax)
	}
	base, err := json.Marshal(env)
	if err != nil {
		return env, err
	}
	// Each added ref costs its length plus two quotes and a comma.
	for left := size - len(base); len(env.Event.EvidenceRefs) < evidenceRefMax; {
		prefix := fmt.Sprintf("evidence:artifact/%07d/%02d/", i, len(env.Event.EvidenceRefs))
		n := min(labelMax, left-3)
		if n < len(prefix) {
			break
		}
		env.Event.EvidenceRefs = append(env.Event.EvidenceRefs, fill(prefix, n))
		left -= n + 3
	}
	if got, err := json.Marshal(env); err != nil || len(got) > size {
		return env, fmt.Errorf("padded envelope %d is %d bytes, more than %d (%v)", i, len(got), size, err)
	}
	return env, nil
}

// fill is prefix followed by filler, n bytes in all (n >= len(prefix)).
func fill(prefix string, n int) string {
	return (prefix + strings.Repeat(filler, n/len(filler)+1))[:n]
}

func envelopes(run string, first, n int) []ingest.PublicEnvelope {
	out := make([]ingest.PublicEnvelope, n)
	for k := range out {
		out[k] = envelope(run, first+k)
	}
	return out
}

// batchBody is {"envelopes":[...]}.
func batchBody(envs []ingest.PublicEnvelope) ([]byte, error) {
	return json.Marshal(struct {
		Envelopes []ingest.PublicEnvelope `json:"envelopes"`
	}{envs})
}

// ndjsonBody is one envelope a line.
func ndjsonBody(envs []ingest.PublicEnvelope) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // Encode ends each document with the newline NDJSON needs
	for _, e := range envs {
		if err := enc.Encode(e); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
