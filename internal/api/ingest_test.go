package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/canonjson"
	"github.com/cavra-enterprise/aispm-reports/internal/ingest"
)

const ingestPath = "/enterprise/aispm/ingest"

func envelope(key, occurred, decision string) map[string]any {
	return map[string]any{
		"schema_version":  "aispm.ingest_envelope.v1",
		"idempotency_key": key,
		"source":          map[string]any{"kind": "coding_agent", "connector": "agent-cli", "agent": "build-agent", "agent_version": "1.4.2.7"},
		"event": map[string]any{
			"event_id": "evt-" + key, "occurred_at": occurred, "type": "tool_call", "decision": decision,
			"severity": "high", "policy_pack": "baseline", "control_ids": []string{"AC-3"}, "tool": "bash",
			"action_category": "shell", "repository_ref": "repo:acme/api", "risk_score": 70,
		},
		"content": map[string]any{"raw_prompt_included": false, "model_reasoning_included": false, "tool_output_included": false},
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIngestBatchIsStoredBySegmentAndIdempotent(t *testing.T) {
	e := newEnv(t)
	op := e.as("acme", auth.ReportOperator)
	var envs []any
	for i := 0; i < 250; i++ {
		day := 26 + i%2 // two UTC days
		envs = append(envs, envelope(fmt.Sprintf("key-%05d", i), fmt.Sprintf("2026-11-%02dT%02d:00:00Z", day, i%24), "blocked"))
	}
	body := mustJSON(t, map[string]any{"envelopes": envs})
	before := e.evidenceCount("acme")
	r := e.call("POST", ingestPath, op, body, nil)
	if r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.body)
	}
	var res ingest.Result
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 250 || res.Duplicates != 0 {
		t.Fatalf("accepted %d duplicates %d", res.Accepted, res.Duplicates)
	}
	// 125 events per day, at most 90 per segment: 2 segments per day.
	if len(res.Segments) != 4 || e.evidenceCount("acme") != before+4 {
		t.Fatalf("segments %d, new evidence %d", len(res.Segments), e.evidenceCount("acme")-before)
	}
	total := 0
	for _, day := range []string{"2026-11-26", "2026-11-27"} {
		segs, err := e.app.Ingest.Segments(context.Background(), "acme", day)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range segs {
			total += s.Events
			assertSegmentBytes(t, e, s)
		}
	}
	if total != 250 {
		t.Fatalf("indexed %d events", total)
	}
	// The same batch again: all duplicates, nothing new written.
	before = e.evidenceCount("acme")
	again := e.call("POST", ingestPath, op, body, nil)
	if again.status != 200 {
		t.Fatalf("replay: %d %s", again.status, again.body)
	}
	if err := json.Unmarshal(again.body, &res); err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 0 || res.Duplicates != 250 || e.evidenceCount("acme") != before {
		t.Fatalf("replay accepted %d duplicates %d", res.Accepted, res.Duplicates)
	}
	// Tenant isolation: globex sees none of acme's segments.
	if segs, _ := e.app.Ingest.Segments(context.Background(), "globex", "2026-11-26"); len(segs) != 0 {
		t.Fatalf("globex sees %d acme segments", len(segs))
	}
}

func assertSegmentBytes(t *testing.T, e *env, s ingest.Segment) {
	t.Helper()
	rc, info, err := e.app.Objects.Get(context.Background(), s.ObjectKey, s.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if canonjson.Digest(b) != s.Digest || info.Digest != s.Digest {
		t.Fatalf("segment %s digest mismatch", s.SegmentRef)
	}
	if lines := bytes.Count(b, []byte("\n")); lines != s.Events {
		t.Fatalf("segment has %d lines, index says %d", lines, s.Events)
	}
	if info.Retention.Until.IsZero() {
		t.Fatal("segment stored without retention")
	}
}

func TestIngestRefusals(t *testing.T) {
	e := newEnv(t)
	op := e.as("acme", auth.ReportOperator)
	base := envelope("key-refusal-1", "2026-11-28T09:00:00Z", "allowed")
	if r := e.call("POST", ingestPath, op, mustJSON(t, envelope("key-stored-1", "2026-11-28T09:00:00Z", "allowed")), nil); r.status != 202 {
		t.Fatalf("seed: %s", r.body)
	}
	with := func(mutate func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(mustJSON(t, base), &m)
		mutate(m)
		return mustJSON(t, m)
	}
	cases := []struct {
		name        string
		body        []byte
		status      int
		code, field string
	}{
		{"raw prompt declared", with(func(m map[string]any) { m["content"].(map[string]any)["raw_prompt_included"] = true }), 400, "schema_violation", "content.raw_prompt_included"},
		{"tool output declared", with(func(m map[string]any) { m["content"].(map[string]any)["tool_output_included"] = true }), 400, "schema_violation", "content.tool_output_included"},
		{"raw prompt field", with(func(m map[string]any) { m["prompt"] = "write me a virus" }), 400, "schema_violation", ""},
		{"email as agent", with(func(m map[string]any) { m["source"].(map[string]any)["agent"] = "dev@acme.example" }), 400, "", "source.agent"},
		{"ip in tool", with(func(m map[string]any) { m["event"].(map[string]any)["tool"] = "ssh 10.1.2.3" }), 400, "sensitive_content_refused", "event.tool"},
		{"bad timestamp", with(func(m map[string]any) { m["event"].(map[string]any)["occurred_at"] = "yesterday" }), 400, "schema_violation", "event.occurred_at"},
		{"far future", with(func(m map[string]any) { m["event"].(map[string]any)["occurred_at"] = "2027-06-01T00:00:00Z" }), 400, "invalid_field", "event.occurred_at"},
		{"missing content", with(func(m map[string]any) { delete(m, "content") }), 400, "schema_violation", ""},
		{"wrong version", with(func(m map[string]any) { m["schema_version"] = "v0" }), 400, "schema_violation", "schema_version"},
		{"empty batch", []byte(`{"envelopes":[]}`), 400, "batch_size", "envelopes"},
		{"batch extra field", []byte(`{"envelopes":[1],"x":1}`), 400, "schema_violation", "x"},
		{"bad item in batch", mustJSON(t, map[string]any{"envelopes": []any{base, map[string]any{"schema_version": "aispm.ingest_envelope.v1"}}}), 400, "schema_violation", "envelopes[1]"},
		{"key reused in batch", mustJSON(t, map[string]any{"envelopes": []any{base, envelope("key-refusal-1", "2026-11-28T10:00:00Z", "blocked")}}), 400, "idempotency_key_reused", "envelopes[1].idempotency_key"},
		{"key reused across requests", mustJSON(t, envelope("key-stored-1", "2026-11-28T11:00:00Z", "blocked")), 409, "idempotency_key_reused", "idempotency_key"},
		{"malformed", []byte(`{"envelopes":[`), 400, "malformed_json", ""},
		{"too many", mustJSON(t, map[string]any{"envelopes": make([]any, 501)}), 400, "batch_size", "envelopes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.evidenceCount("acme")
			requireError(t, e.call("POST", ingestPath, op, c.body, nil), c.status, c.code, c.field)
			if e.evidenceCount("acme") != before {
				t.Fatal("refused ingest wrote evidence")
			}
		})
	}
	segs, _ := e.app.Ingest.Segments(context.Background(), "acme", "2026-11-28")
	if len(segs) != 1 {
		t.Fatalf("refusals left %d segments, want only the seed", len(segs))
	}
}

// TestIngestRaceOneKey sends the same envelope from 40 goroutines: it is stored exactly once.
func TestIngestRaceOneKey(t *testing.T) {
	e := newEnv(t)
	op := e.as("acme", auth.ReportOperator)
	body := mustJSON(t, envelope("key-race-0001", "2026-11-28T08:00:00Z", "approval_required"))
	var wg sync.WaitGroup
	statuses := make(chan int, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- e.call("POST", ingestPath, op, body, nil).status
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[202] != 1 || counts[200] != 39 {
		t.Fatalf("statuses %v, want one 202 and 39 200", counts)
	}
	segs, _ := e.app.Ingest.Segments(context.Background(), "acme", "2026-11-28")
	if len(segs) != 1 || segs[0].Events != 1 {
		t.Fatalf("segments %+v", segs)
	}
}

func TestIngestSingleEnvelopeFieldsHaveNoPrefix(t *testing.T) {
	e := newEnv(t)
	r := e.call("POST", ingestPath, e.as("acme", auth.TenantAdmin), []byte(strings.Replace(string(mustJSON(t, envelope("key-prefix-1", "2026-11-28T08:00:00Z", "allowed"))), `"high"`, `"severe"`, 1)), nil)
	requireError(t, r, 400, "schema_violation", "event.severity")
}
