package ingest

import (
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/problem"
)

const seedEnvelope = `{"schema_version":"aispm.ingest_envelope.v1","idempotency_key":"k-00000001","source":{"kind":"ci","connector":"gh","agent":"a"},"event":{"event_id":"e1","occurred_at":"2026-11-28T10:00:00Z","type":"tool_call","decision":"blocked","severity":"high","policy_pack":"p"},"content":{"raw_prompt_included":false,"model_reasoning_included":false,"tool_output_included":false}}`

// FuzzParse: any body is either a list of valid envelopes or a 400 problem; never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(seedEnvelope))
	f.Add([]byte(`{"envelopes":[` + seedEnvelope + `,` + seedEnvelope + `]}`))
	f.Add([]byte(`{"envelopes":[]}`))
	f.Add([]byte(`"x"`))
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		envs, err := Parse(body, now)
		if err != nil {
			if p, ok := problem.As(err); !ok || p.Kind != problem.Invalid {
				t.Fatalf("refusal is not a 400 problem: %v", err)
			}
			return
		}
		if len(envs) == 0 || len(envs) > MaxBatch {
			t.Fatalf("accepted %d envelopes", len(envs))
		}
		for _, e := range envs {
			if e.env.Content.RawPromptIncluded || e.env.Content.ToolOutputIncluded || e.env.Content.ModelReasoningIncluded {
				t.Fatal("accepted an envelope that declares raw content")
			}
		}
	})
}
