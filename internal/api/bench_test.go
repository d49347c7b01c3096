package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
)

// BenchmarkCatalogOverHTTP measures one authenticated catalog request through the local
// server on real SQLite (loopback HTTP included).
func BenchmarkCatalogOverHTTP(b *testing.B) {
	e := newEnv(b)
	tok := e.as("acme", auth.ReportOperator)
	b.ResetTimer()
	for b.Loop() {
		if r := e.call("GET", catalogPath, tok, nil, nil); r.status != 200 {
			b.Fatal(r.status)
		}
	}
}

// BenchmarkScheduledRun measures what the schedule runner adds to the render and send it
// wraps: "direct" renders and sends through the API, "scheduled" lets a daily schedule's
// firing do the same render and send (claim, blackout and policy checks, run record and
// evidence included). Both run on the same embedded store in the same process.
func BenchmarkScheduledRun(b *testing.B) {
	e := newEnv(b)
	admin, op := e.as("acme", auth.TenantAdmin), e.as("acme", auth.ReportOperator)
	for path, body := range map[string]string{settingsPath: goodSettings, policyPath: testPolicy} {
		if r := e.call("PUT", path, admin, []byte(body), nil); r.status != 200 {
			b.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	var envs []any
	for i := range 200 {
		envs = append(envs, envelope(fmt.Sprintf("bench-%04d", i), fmt.Sprintf("2026-11-%02dT%02d:00:00Z", 25+i%3, i%24), "allowed"))
	}
	if r := e.call("POST", ingestPath, op, jsonOf(b, map[string]any{"envelopes": envs}), nil); r.status != 202 {
		b.Fatalf("ingest: %d %s", r.status, r.body)
	}
	n := 0 // across -count repetitions too: every send needs its own idempotency key
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			// The same window a scheduled run reports on: the 366 days before now.
			now := e.clock.Now()
			body := map[string]any{"report_id": "agent_risk_register", "formats": []string{"csv"}, "window": map[string]any{
				"from": now.Add(-8784 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}}
			r := e.call("POST", renderPath, op, jsonOf(b, body), nil)
			var out renderReply
			if r.status != 201 || json.Unmarshal(r.body, &out) != nil {
				b.Fatalf("render: %d %s", r.status, r.body)
			}
			n++
			send := map[string]any{"artifact_ref": out.Artifacts[0].ArtifactRef, "channel": "email", "recipients": []string{"ops@acme.example"}}
			if r := e.call("POST", sendPath, op, jsonOf(b, send), map[string]string{"Idempotency-Key": fmt.Sprintf("bench-direct-%08d", n)}); r.status != 201 {
				b.Fatalf("send: %d %s", r.status, r.body)
			}
		}
	})
	b.Run("scheduled", func(b *testing.B) {
		body := map[string]any{"name": "Bench", "report_id": "agent_risk_register", "formats": []string{"csv"},
			"delivery": map[string]any{"channel": "email", "recipients": []string{"ops@acme.example"}},
			"schedule": map[string]any{"timezone": "UTC", "cadence": map[string]any{"kind": "daily", "time": "13:00"},
				"data_window": map[string]any{"kind": "last_hours", "hours": 8784}}}
		r := e.call("POST", schedulesPath, op, jsonOf(b, body), nil)
		var v scheduleView
		if r.status != 201 || json.Unmarshal(r.body, &v) != nil {
			b.Fatalf("schedule: %d %s", r.status, r.body)
		}
		ctx := context.Background()
		for b.Loop() {
			b.StopTimer()
			e.clock.Advance(24 * time.Hour)
			b.StartTimer()
			if err := e.app.Scheduler.Tick(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runs, _, err := e.app.Schedules.Runs(ctx, "acme", v.ScheduleRef, "", 100)
		if err != nil || len(runs) == 0 || runs[0].Outcome != "sent" {
			b.Fatalf("the schedule did not send: %+v %v", runs, err)
		}
		// Deleted, so a -count repetition times one schedule's run, not one more each time.
		if r := e.call("DELETE", schedulesPath+"/"+v.ScheduleRef, op, nil, nil); r.status != 200 {
			b.Fatalf("delete schedule: %d %s", r.status, r.body)
		}
	})
}

func jsonOf(tb testing.TB, v any) []byte {
	tb.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
