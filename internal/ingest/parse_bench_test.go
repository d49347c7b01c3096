package ingest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchPublic is public envelope i with every optional field set, as a collector sends it.
func benchPublic(i int) string {
	return fmt.Sprintf(`{"schema_version":"cavra.aispm.enterprise_live_ingestion_envelope.v1","product":"CAVRA","edition":"enterprise","contract_visibility":"public_contract",`+
		`"event":{"event_id":"evt-%06d","event_type":"shell_command","occurred_at":"2026-11-28T%02d:%02d:00Z","received_at":"2020-01-01T00:00:00Z","session_id":"sess-%d","agent_id":"agent-%d",`+
		`"repository":"github.com/acme/api","actor_ref":"actor:%d","tool_name":"bash","action_type":"exec","target_summary":"ran the unit tests",`+
		`"decision":"warn","severity":"low","risk_classification":"supply_chain","policy_pack":"baseline","evidence_refs":["evidence:ci-run-1"],"payload_ref":"payload:blob-%d"},`+
		`"source":{"connector_type":"codex","connector_id":"conn-%d","runtime_version":"1.2.3.4","collector_version":"0.9.1"},`+
		`"tenant":{"tenant_ref":"tenant:t1","environment":"production","region":"eu-west-1","data_residency_ref":"residency:eu"},`+
		`"redaction":{"payload_handling":"private_payload_ref","raw_prompt_included":false,"reasoning_included":false,"tool_output_included":false,"redaction_profile":"strict","private_payload_required":true},`+
		`"integrity":{"signature_required":true,"signature_ref":"sig:1","hash_algorithm":"sha256","payload_hash":"sha256:%s","chain_ref":"chain:c1"},`+
		`"transport":{"ingress_mode":"https","delivery_semantics":"at_least_once","idempotency_key":"pub-key-%06d","retry_count":0},`+
		`"enterprise_boundaries":{"collector_implementation":"requires_cavra_enterprise","tenant_persistence":"requires_cavra_enterprise","streaming_transport":"requires_cavra_enterprise","raw_payload_storage":"requires_cavra_enterprise","license_enforcement":"requires_cavra_enterprise"}}`,
		i, i%12, i%60, i%7, i%5, i%3, i, i%4, strings.Repeat("ab", 32), i)
}

func benchBodies() (batch, ndjson []byte) {
	var envs []string
	for i := range MaxBatch {
		envs = append(envs, benchPublic(i))
	}
	return []byte(`{"envelopes":[` + strings.Join(envs, ",") + `]}`), []byte(strings.Join(envs, "\n") + "\n")
}

// BenchmarkParse: validating a full request of public envelopes, per envelope.
func BenchmarkParse(b *testing.B) {
	batch, ndjson := benchBodies()
	for _, c := range []struct {
		name  string
		body  []byte
		parse func([]byte, string, time.Time) ([]parsed, error)
	}{{"batch", batch, Parse}, {"ndjson", ndjson, ParseNDJSON}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				envs, err := c.parse(c.body, "t1", fuzzNow)
				if err != nil || len(envs) != MaxBatch {
					b.Fatalf("%d envelopes: %v", len(envs), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxBatch), "ns/envelope")
		})
	}
}
