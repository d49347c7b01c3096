package ingest

import (
	"encoding/json"
	"strconv"
)

// publicFromDoc reads a public envelope from the document the schema validated, where every
// field has its schema type and no other field exists, so each is read by its name. Read
// from that document rather than decoded again from the body, the struct holds exactly what
// was validated and scanned (with a key given twice, both see the last). It fails only for a
// retry_count the schema takes as an integer but an int cannot hold (3.0, 1e2).
func publicFromDoc(doc map[string]any) (PublicEnvelope, error) {
	transport, err := publicTransport(object(doc, "transport"))
	if err != nil {
		return PublicEnvelope{}, err
	}
	return PublicEnvelope{
		ContractVisibility:   text(doc, "contract_visibility"),
		Edition:              text(doc, "edition"),
		EnterpriseBoundaries: textMap(object(doc, "enterprise_boundaries")),
		Event:                publicEvent(object(doc, "event")),
		Integrity:            publicIntegrity(object(doc, "integrity")),
		Product:              text(doc, "product"),
		Redaction:            publicRedaction(object(doc, "redaction")),
		SchemaVersion:        text(doc, "schema_version"),
		Source:               publicSource(object(doc, "source")),
		Tenant:               publicTenant(object(doc, "tenant")),
		Transport:            transport,
	}, nil
}

func publicEvent(m map[string]any) PublicEvent {
	return PublicEvent{
		ActionType: text(m, "action_type"), ActorRef: text(m, "actor_ref"), AgentID: text(m, "agent_id"),
		Decision: text(m, "decision"), EventID: text(m, "event_id"), EventType: text(m, "event_type"),
		EvidenceRefs: texts(m, "evidence_refs"), OccurredAt: text(m, "occurred_at"), PayloadRef: text(m, "payload_ref"),
		PolicyPack: text(m, "policy_pack"), ReceivedAt: text(m, "received_at"), Repository: text(m, "repository"),
		RiskClassification: text(m, "risk_classification"), SessionID: text(m, "session_id"), Severity: text(m, "severity"),
		TargetSummary: text(m, "target_summary"), ToolName: text(m, "tool_name"),
	}
}

func publicSource(m map[string]any) PublicSource {
	return PublicSource{CollectorVersion: text(m, "collector_version"), ConnectorID: text(m, "connector_id"),
		ConnectorType: text(m, "connector_type"), RuntimeVersion: text(m, "runtime_version")}
}

func publicTenant(m map[string]any) PublicTenant {
	return PublicTenant{DataResidencyRef: text(m, "data_residency_ref"), Environment: text(m, "environment"),
		Region: text(m, "region"), TenantRef: text(m, "tenant_ref")}
}

func publicRedaction(m map[string]any) PublicRedaction {
	r := PublicRedaction{PayloadHandling: text(m, "payload_handling"), RawPromptIncluded: truth(m, "raw_prompt_included"),
		ReasoningIncluded: truth(m, "reasoning_included"), RedactionProfile: text(m, "redaction_profile"),
		ToolOutputIncluded: truth(m, "tool_output_included")}
	if v, ok := m["private_payload_required"].(bool); ok {
		r.PrivatePayloadRequired = &v
	}
	return r
}

func publicIntegrity(m map[string]any) PublicIntegrity {
	return PublicIntegrity{ChainRef: text(m, "chain_ref"), HashAlgorithm: text(m, "hash_algorithm"),
		PayloadHash: text(m, "payload_hash"), SignatureRef: text(m, "signature_ref"), SignatureRequired: truth(m, "signature_required")}
}

func publicTransport(m map[string]any) (PublicTransport, error) {
	t := PublicTransport{DeliverySemantics: text(m, "delivery_semantics"), IdempotencyKey: text(m, "idempotency_key"),
		IngressMode: text(m, "ingress_mode")}
	n, ok := m["retry_count"].(json.Number)
	if !ok {
		return t, nil
	}
	// As encoding/json decodes a number into an int.
	v, err := strconv.ParseInt(string(n), 10, strconv.IntSize)
	if err != nil {
		return PublicTransport{}, err
	}
	retry := int(v)
	t.RetryCount = &retry
	return t, nil
}

func object(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func text(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

func truth(m map[string]any, k string) bool {
	v, _ := m[k].(bool)
	return v
}

// texts is nil for an absent array and an empty slice for an empty one, as encoding/json.
func texts(m map[string]any, k string) []string {
	list, ok := m[k].([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(list))
	for i, v := range list {
		out[i], _ = v.(string)
	}
	return out
}

func textMap(m map[string]any) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k], _ = v.(string)
	}
	return out
}
