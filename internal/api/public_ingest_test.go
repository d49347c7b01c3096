package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
	"github.com/cavra-enterprise/aispm-reports/internal/render"
)

var (
	publicEventTypes = render.EventTypes
	publicDecisions  = render.Decisions
	publicSeverities = render.Severities
	environments     = []string{"dev", "test", "staging", "production", "sandbox"}
	connectorTypes   = []string{"codex", "claude_code", "github_copilot", "cursor", "gemini_cli", "mcp_server", "github_actions", "gitlab_ci", "azure_pipelines", "cloud_provider", "custom"}
)

// publicEnvelope builds envelope i the way a collector sends it: every optional field set,
// and the vocabularies cycled so a few dozen envelopes cover all of them.
func publicEnvelope(tenant string, i int, occurred string) map[string]any {
	return map[string]any{
		"schema_version": ingest.PublicSchemaVersion, "product": "CAVRA", "edition": "enterprise", "contract_visibility": "public_contract",
		"event": map[string]any{
			"event_id": fmt.Sprintf("evt-%06d", i), "event_type": publicEventTypes[i%len(publicEventTypes)], "occurred_at": occurred,
			"received_at": "2020-01-01T00:00:00Z", "session_id": fmt.Sprintf("sess-%d", i%7), "agent_id": fmt.Sprintf("agent-%d", i%5),
			"repository": "github.com/acme/api", "actor_ref": fmt.Sprintf("actor:%d", i%3), "tool_name": "bash", "action_type": "exec",
			"target_summary": "ran the unit tests", "decision": publicDecisions[i%len(publicDecisions)],
			"severity": publicSeverities[i%len(publicSeverities)], "risk_classification": "supply_chain", "policy_pack": "baseline",
			"evidence_refs": []string{"evidence:ci-run-1"}, "payload_ref": "payload:blob-1",
		},
		"source":    map[string]any{"connector_type": connectorTypes[i%len(connectorTypes)], "connector_id": fmt.Sprintf("conn-%d", i%4), "runtime_version": "1.2.3.4", "collector_version": "0.9.1"},
		"tenant":    map[string]any{"tenant_ref": "tenant:" + tenant, "environment": environments[i%len(environments)], "region": "eu-west-1", "data_residency_ref": "residency:eu"},
		"redaction": map[string]any{"payload_handling": "private_payload_ref", "raw_prompt_included": false, "reasoning_included": false, "tool_output_included": false, "redaction_profile": "strict", "private_payload_required": true},
		"integrity": map[string]any{"signature_required": true, "signature_ref": "sig:1", "hash_algorithm": "sha256", "payload_hash": "sha256:" + strings.Repeat("ab", 32), "chain_ref": "chain:c1"},
		"transport": map[string]any{"ingress_mode": "https", "delivery_semantics": "at_least_once", "idempotency_key": fmt.Sprintf("pub-key-%06d", i), "retry_count": 0},
		"enterprise_boundaries": map[string]any{"collector_implementation": "requires_cavra_enterprise", "tenant_persistence": "requires_cavra_enterprise",
			"streaming_transport": "requires_cavra_enterprise", "raw_payload_storage": "requires_cavra_enterprise", "license_enforcement": "requires_cavra_enterprise"},
	}
}

// publicInputSchema is the public live-ingestion envelope (../shared/contracts/cavra-public-input).
func publicInputSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	return sharedSchema(t, "cavra-public-input", "aispm-enterprise-live-ingestion-envelope.schema.json")
}

func ndjson(t *testing.T, envs []map[string]any) []byte {
	var b bytes.Buffer
	for _, e := range envs {
		b.Write(mustJSON(t, e))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

var ndjsonHeader = map[string]string{"Content-Type": "application/x-ndjson"}

// storedLines reads back every stored line of a tenant's day.
func storedLines(t *testing.T, e *env, tenant, day string) []map[string]any {
	t.Helper()
	segs, err := e.app.Ingest.Segments(context.Background(), tenant, day)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, s := range segs {
		rc, _, err := e.app.Objects.Get(context.Background(), s.ObjectKey, s.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		for _, ln := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(ln, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// TestPublicEnvelopesIngestLosslessly sends public envelopes as a batch and as an NDJSON
// stream; every envelope validates against the public contract, every field comes back
// from the stored segment (received_at set by the server), and replays are duplicates.
func TestPublicEnvelopesIngestLosslessly(t *testing.T) {
	e := newEnv(t)
	op := e.as("acme", auth.ReportOperator)
	schema := publicInputSchema(t)
	var batch, stream []map[string]any
	for i := range 300 {
		env := publicEnvelope("acme", i, fmt.Sprintf("2026-11-27T%02d:%02d:00Z", i%24, i%60))
		validateContract(t, schema, mustJSON(t, env))
		if i < 200 {
			batch = append(batch, env)
		} else {
			stream = append(stream, env)
		}
	}
	if r := e.call("POST", ingestPath, op, mustJSON(t, map[string]any{"envelopes": batch}), nil); r.status != 202 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	r := e.call("POST", ingestPath, op, ndjson(t, stream), ndjsonHeader)
	if r.status != 202 {
		t.Fatalf("ndjson: %d %s", r.status, r.body)
	}
	lines := storedLines(t, e, "acme", "2026-11-27")
	if len(lines) != 300 {
		t.Fatalf("stored %d lines, want 300", len(lines))
	}
	byID := map[string]map[string]any{}
	for _, l := range lines {
		byID[l["event"].(map[string]any)["event_id"].(string)] = l
	}
	for i, sent := range append(batch, stream...) {
		got := byID[sent["event"].(map[string]any)["event_id"].(string)]
		assertLossless(t, i, sent, got)
	}
	// A collector's replay (retry_count raised, its own received_at) is a duplicate.
	for _, env := range stream {
		env["transport"].(map[string]any)["retry_count"] = 3
		env["event"].(map[string]any)["received_at"] = "2026-11-28T00:00:00Z"
	}
	again := e.call("POST", ingestPath, op, ndjson(t, stream), ndjsonHeader)
	var res ingest.Result
	_ = json.Unmarshal(again.body, &res)
	if again.status != 200 || res.Duplicates != 100 || res.Accepted != 0 {
		t.Fatalf("replay: %d %s", again.status, again.body)
	}
}

// assertLossless: the stored line equals what was sent, except received_at (the server's).
func assertLossless(t *testing.T, i int, sent, got map[string]any) {
	t.Helper()
	if got == nil {
		t.Fatalf("envelope %d not stored", i)
	}
	ev := got["event"].(map[string]any)
	if ev["received_at"] != testNow.Format("2006-01-02T15:04:05Z") {
		t.Fatalf("envelope %d received_at %v, want the server's clock", i, ev["received_at"])
	}
	var want map[string]any
	_ = json.Unmarshal(mustJSON(t, sent), &want)
	want["event"].(map[string]any)["received_at"] = ev["received_at"]
	if a, b := mustJSON(t, want), mustJSON(t, got); !bytes.Equal(a, b) {
		t.Fatalf("envelope %d not stored losslessly:\nsent   %s\nstored %s", i, a, b)
	}
}

// TestPublicEnvelopeIdempotency: without a transport key the connector and event id are
// the key; the same event again is a duplicate, other content under it is 409.
func TestPublicEnvelopeIdempotency(t *testing.T) {
	e := newEnv(t)
	op := e.as("acme", auth.ReportOperator)
	env := publicEnvelope("acme", 1, "2026-11-28T08:00:00Z")
	delete(env["transport"].(map[string]any), "idempotency_key")
	first := e.call("POST", ingestPath, op, mustJSON(t, env), nil)
	var res ingest.Result
	_ = json.Unmarshal(first.body, &res)
	if first.status != 202 || !strings.HasPrefix(res.Envelopes[0].IdempotencyKey, "derived:") || res.Envelopes[0].EventID != "evt-000001" {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	if r := e.call("POST", ingestPath, op, mustJSON(t, env), nil); r.status != 200 {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	env["event"].(map[string]any)["decision"] = "block"
	requireError(t, e.call("POST", ingestPath, op, mustJSON(t, env), nil), 409, "idempotency_key_reused", "event.event_id")
}

// TestPublicEnvelopeRefusals: each rule is a 4xx naming the field, and nothing is stored.
func TestPublicEnvelopeRefusals(t *testing.T) {
	e := newEnv(t)
	op := e.as("acme", auth.ReportOperator)
	with := func(mutate func(ev, root map[string]any)) []byte {
		m := publicEnvelope("acme", 2, "2026-11-28T09:00:00Z")
		mutate(m["event"].(map[string]any), m)
		return mustJSON(t, m)
	}
	sub := func(root map[string]any, k string) map[string]any { return root[k].(map[string]any) }
	long := strings.Repeat("summary ", 20)
	cases := []struct {
		name, field, code string
		status            int
		body              []byte
		hdr               map[string]string
	}{
		{"other tenant", "tenant.tenant_ref", "tenant_mismatch", 403, with(func(_, r map[string]any) { sub(r, "tenant")["tenant_ref"] = "tenant:globex" }), nil},
		{"raw prompt", "redaction.raw_prompt_included", "raw_content_refused", 400, with(func(_, r map[string]any) { sub(r, "redaction")["raw_prompt_included"] = true }), nil},
		{"reasoning", "redaction.reasoning_included", "raw_content_refused", 400, with(func(_, r map[string]any) { sub(r, "redaction")["reasoning_included"] = true }), nil},
		{"tool output", "redaction.tool_output_included", "raw_content_refused", 400, with(func(_, r map[string]any) { sub(r, "redaction")["tool_output_included"] = true }), nil},
		{"private ref missing", "event.payload_ref", "invalid_field", 400, with(func(ev, _ map[string]any) { delete(ev, "payload_ref") }), nil},
		{"bad payload hash", "integrity.payload_hash", "invalid_field", 400, with(func(_, r map[string]any) { sub(r, "integrity")["payload_hash"] = "md5:abc" }), nil},
		{"short payload hash", "integrity.payload_hash", "invalid_field", 400, with(func(_, r map[string]any) { sub(r, "integrity")["payload_hash"] = strings.Repeat("a", 63) }), nil},
		{"email in summary", "event.target_summary", "sensitive_content_refused", 400, with(func(ev, _ map[string]any) { ev["target_summary"] = "mailed dev@acme.example" }), nil},
		{"ip in repository", "event.repository", "sensitive_content_refused", 400, with(func(ev, _ map[string]any) { ev["repository"] = "git@10.0.0.8:acme/api" }), nil},
		{"secret in actor", "event.actor_ref", "sensitive_content_refused", 400, with(func(ev, _ map[string]any) { ev["actor_ref"] = "API_TOKEN=abc123" }), nil},
		{"prompt content", "event.target_summary", "sensitive_content_refused", 400, with(func(ev, _ map[string]any) { ev["event_type"], ev["target_summary"] = "prompt", long }), nil},
		{"unknown field", "event", "schema_violation", 400, with(func(ev, _ map[string]any) { ev["prompt_text"] = "x" }), nil},
		{"bad severity", "event.severity", "schema_violation", 400, with(func(ev, _ map[string]any) { ev["severity"] = "info" }), nil},
		{"unknown version", "schema_version", "schema_violation", 400, with(func(_, r map[string]any) { r["schema_version"] = "v9" }), nil},
		{"ndjson bad line", "lines[1]", "malformed_json", 400, []byte(string(with(func(_, _ map[string]any) {})) + "\n{oops\n"), ndjsonHeader},
		{"ndjson too many", "", "batch_size", 400, bytes.Repeat(append(with(func(_, _ map[string]any) {}), '\n'), 501), ndjsonHeader},
		{"ndjson empty", "", "batch_size", 400, []byte("\n\n"), ndjsonHeader},
		{"wrong media type", "Content-Type", "unsupported_media_type", 415, with(func(_, _ map[string]any) {}), map[string]string{"Content-Type": "text/plain"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.evidenceCount("acme")
			requireError(t, e.call("POST", ingestPath, op, c.body, c.hdr), c.status, c.code, c.field)
			if e.evidenceCount("acme") != before {
				t.Fatal("refused ingest wrote evidence")
			}
		})
	}
	if segs, _ := e.app.Ingest.Segments(context.Background(), "acme", "2026-11-28"); len(segs) != 0 {
		t.Fatalf("refusals left %d segments", len(segs))
	}
}
