package ingest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

const seedEnvelope = `{"schema_version":"aispm.ingest_envelope.v1","idempotency_key":"k-00000001","source":{"kind":"ci","connector":"gh","agent":"a"},"event":{"event_id":"e1","occurred_at":"2026-11-28T10:00:00Z","type":"tool_call","decision":"blocked","severity":"high","policy_pack":"p"},"content":{"raw_prompt_included":false,"model_reasoning_included":false,"tool_output_included":false}}`

const seedPublic = `{"schema_version":"cavra.aispm.enterprise_live_ingestion_envelope.v1","product":"CAVRA","edition":"enterprise","contract_visibility":"public_contract",` +
	`"event":{"event_id":"e1","event_type":"shell_command","occurred_at":"2026-11-28T10:00:00Z","session_id":"s1","agent_id":"a1","decision":"warn","severity":"none"},` +
	`"source":{"connector_type":"codex","connector_id":"c1"},"tenant":{"tenant_ref":"tenant:t1","environment":"dev"},` +
	`"redaction":{"payload_handling":"metadata_only","raw_prompt_included":false,"reasoning_included":false,"tool_output_included":false},` +
	`"integrity":{"signature_required":false,"hash_algorithm":"sha256"},"transport":{"ingress_mode":"https","delivery_semantics":"at_least_once"},` +
	`"enterprise_boundaries":{"collector_implementation":"requires_cavra_enterprise","tenant_persistence":"requires_cavra_enterprise","streaming_transport":"requires_cavra_enterprise","raw_payload_storage":"requires_cavra_enterprise","license_enforcement":"requires_cavra_enterprise"}}`

var fuzzNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// checkParsed: a refusal is a 4xx problem, an acceptance holds 1..MaxBatch envelopes that
// declare no raw content and are stored as canonical JSON.
func checkParsed(t *testing.T, envs []parsed, err error) {
	t.Helper()
	if err != nil {
		if p, ok := problem.As(err); !ok || (p.Kind != problem.Invalid && p.Kind != problem.Forbidden) {
			t.Fatalf("refusal is not a 4xx problem: %v", err)
		}
		return
	}
	if len(envs) == 0 || len(envs) > MaxBatch {
		t.Fatalf("accepted %d envelopes", len(envs))
	}
	for _, e := range envs {
		var stored struct {
			Content   map[string]bool `json:"content"`
			Redaction map[string]any  `json:"redaction"`
		}
		if err := json.Unmarshal(e.line, &stored); err != nil {
			t.Fatalf("stored line is not JSON: %v", err)
		}
		if canon, err := canonjson.Canonicalize(e.line); err != nil || !bytes.Equal(canon, e.line) {
			t.Fatalf("stored line is not canonical JSON: %s", e.line)
		}
		for _, v := range stored.Content {
			if v {
				t.Fatal("accepted a legacy envelope that declares raw content")
			}
		}
		for _, k := range redactionFlags {
			if stored.Redaction != nil && stored.Redaction[k] != false {
				t.Fatalf("accepted a public envelope with %s not false", k)
			}
		}
		if e.key == "" || e.digest == "" {
			t.Fatal("accepted an envelope without key or digest")
		}
	}
}

// FuzzParse: any JSON body is either a list of valid envelopes or a 4xx problem; never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(seedEnvelope))
	f.Add([]byte(seedPublic))
	f.Add([]byte(`{"envelopes":[` + seedEnvelope + `,` + seedPublic + `]}`))
	f.Add([]byte(`{"envelopes":[]}`))
	f.Add([]byte(`"x"`))
	f.Fuzz(func(t *testing.T, body []byte) {
		envs, err := Parse(body, "t1", fuzzNow)
		checkParsed(t, envs, err)
	})
}

// FuzzParseNDJSON: the same for application/x-ndjson bodies.
func FuzzParseNDJSON(f *testing.F) {
	f.Add([]byte(seedPublic + "\n" + seedEnvelope + "\n"))
	f.Add([]byte(seedPublic + "\r\n\r\n" + seedPublic))
	f.Add([]byte("\n\n"))
	f.Add([]byte("{\n}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		envs, err := ParseNDJSON(body, "t1", fuzzNow)
		checkParsed(t, envs, err)
	})
}
