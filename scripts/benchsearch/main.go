// Command benchsearch measures POST .../reports/search on the embedded default over N
// artifact records (default 100,000): p50 and p99 per query, each query run R times through
// the search service (scope, filters, pagination and the audit write of every search).
//
//	go run ./scripts/benchsearch [-dir D] [-artifacts 100000] [-runs 200]
//
// Seeding: a few real renders give real records; they are cloned (new time-ordered ids
// spread over a year, varied report, format, class and state) straight into the artifact
// partition, because rendering 100,000 files would measure the renderer, not search. The
// clock is fixed, so each run sees the same records.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/ref"
	"github.com/cavra-enterprise/aispm-reports/internal/search"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

const tenant = "bench"

var now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func main() {
	dir := flag.String("dir", ".cache/bench-search", "data folder (seeded on first use)")
	n := flag.Int("artifacts", 100_000, "artifact records")
	runs := flag.Int("runs", 200, "runs per query")
	flag.Parse()
	if err := run(context.Background(), *dir, *n, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "benchsearch:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, n, runs int) error {
	clk := clock.NewManual(now)
	a, err := embeddedapp.Open(ctx, config.Embedded{Listen: "127.0.0.1:0", DataDir: dir, PublicBaseURL: "http://127.0.0.1"}, clk)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Tenants.Get(ctx, tenant); err != nil {
		if err := seed(ctx, a, n); err != nil {
			return err
		}
	}
	fmt.Printf("search over %d artifact records, %d runs per query (embedded default)\n", n, runs)
	fmt.Printf("%-44s %9s %9s %8s %8s\n", "query", "p50 ms", "p99 ms", "results", "scanned")
	for _, q := range queries() {
		if err := measure(ctx, a, q, runs); err != nil {
			return fmt.Errorf("%s: %w", q.name, err)
		}
	}
	return nil
}

type query struct {
	name  string
	role  string
	body  string
	pages int // follow the cursor this many pages; the last page is timed
}

func queries() []query {
	return []query{
		{name: "first page, no filter", role: "tenant_admin", body: `{}`},
		{name: "report_ids=[agent_risk_register]", role: "tenant_admin", body: `{"report_ids":["agent_risk_register"]}`},
		{name: "formats=[pdf], page_size 100", role: "security_leadership", body: `{"formats":["pdf"],"page_size":100}`},
		{name: "one-day time range", role: "tenant_admin", body: `{"from":"2026-06-01T00:00:00Z","to":"2026-06-02T00:00:00Z"}`},
		{name: "mode legal_hold_only (1% of records)", role: "tenant_admin", body: `{"mode":"legal_hold_only"}`},
		{name: "include_expired_metadata, state expired", role: "auditor_viewer", body: `{"mode":"include_expired_metadata","lifecycle_states":["expired"]}`},
		{name: "approver scope (pending_approval only)", role: "approver", body: `{}`},
		{name: "page 20 of the default search", role: "tenant_admin", body: `{}`, pages: 20},
	}
}

func measure(ctx context.Context, a *embeddedapp.App, q query, runs int) error {
	req, err := search.ParseRequest([]byte(q.body))
	if err != nil {
		return err
	}
	for range q.pages { // walk to the timed page once; its cursor is reused
		out, err := a.Search.Search(ctx, tenant, q.role, req)
		if err != nil {
			return err
		}
		req.Cursor = out.NextCursor
	}
	var took []time.Duration
	var last search.Response
	for range runs {
		start := time.Now()
		out, err := a.Search.Search(ctx, tenant, q.role, req)
		if err != nil {
			return err
		}
		took = append(took, time.Since(start))
		last = out
	}
	slices.Sort(took)
	ms := func(p float64) float64 { return float64(took[int(p*float64(len(took)-1))].Microseconds()) / 1000 }
	fmt.Printf("%-44s %9.2f %9.2f %8d %8d\n", q.name, ms(0.50), ms(0.99), len(last.Results), last.Scanned)
	return nil
}

// seed renders one artifact of each kind for real and clones their records n times.
func seed(ctx context.Context, a *embeddedapp.App, n int) error {
	t, err := a.Tenants.Create(ctx, tenant, "Bench Corp", tenancy.Enterprise)
	if err != nil {
		return err
	}
	if err := ingestSome(ctx, a); err != nil {
		return err
	}
	var models []artifacts.Record
	for _, r := range []struct{ report, formats string }{
		{"executive_risk_brief", `"json","pdf","csv"`}, {"agent_risk_register", `"xlsx","jsonl"`},
		{"control_coverage_export", `"csv"`}, {"evidence_freshness_export", `"json"`}, {"pdf_board_pack", `"pdf","zip"`},
	} {
		body := fmt.Sprintf(`{"report_id":%q,"formats":[%s],"window":{"from":"2026-11-20T00:00:00Z","to":"2026-11-30T00:00:00Z"}}`, r.report, r.formats)
		req, err := artifacts.ParseRenderRequest([]byte(body), t, "tenant_admin", now)
		if err != nil {
			return err
		}
		out, err := a.Artifacts.Render(ctx, t, "tenant_admin", req)
		if err != nil {
			return err
		}
		models = append(models, out.Artifacts...)
	}
	start := time.Now()
	var writes []itemstore.Write
	for i := range n {
		w, err := clone(models[i%len(models)], i, n)
		if err != nil {
			return err
		}
		if writes = append(writes, w); len(writes) == 100 || i == n-1 {
			if err := a.Items.Transact(ctx, writes); err != nil {
				return err
			}
			writes = writes[:0]
		}
	}
	fmt.Fprintf(os.Stderr, "seeded %d artifact records in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// clone spreads record i of n over the year before now; 1% are on hold, 5% await approval,
// records older than their class's retention are expired and 1% of those deleted.
func clone(m artifacts.Record, i, n int) (itemstore.Write, error) {
	created := now.Add(-time.Duration(n-i) * (365 * 24 * time.Hour / time.Duration(n)))
	id := ref.NewID("art", created)
	m.ArtifactRef = ref.Make("artifact", id)
	m.CreatedAt = created.Format(time.RFC3339Nano)
	m.State, m.LegalHoldRef, m.ApprovalRequired, m.RetentionClass = artifacts.Retained, "", false, artifacts.GovernanceRecord
	days := 365
	switch {
	case i%100 == 7:
		m.State, m.LegalHoldRef, m.RetentionClass = artifacts.LegalHold, "case:bench-"+fmt.Sprint(i%9), artifacts.LegalHoldClass
	case i%20 == 3:
		m.State, m.ApprovalRequired = artifacts.PendingApproval, true
	case i%3 == 0:
		m.RetentionClass, days = artifacts.OperationalRecord, 90
	}
	until := created.AddDate(0, 0, days)
	m.RetainUntil = until.Format(time.RFC3339Nano)
	if m.State == artifacts.Retained && until.Before(now) {
		m.State = artifacts.Expired
		if i%100 == 1 {
			m.State = artifacts.Deleted
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return itemstore.Write{}, err
	}
	return itemstore.Write{Kind: itemstore.Put, Cond: itemstore.IfAbsent,
		Item: itemstore.Item{PK: artifacts.PartitionKey(tenant), SK: id, Data: data}}, nil
}

func ingestSome(ctx context.Context, a *embeddedapp.App) error {
	var envs []string
	for i := range 200 {
		at := time.Date(2026, 11, 20+i%10, i%24, 0, 0, 0, time.UTC)
		envs = append(envs, fmt.Sprintf(`{"schema_version":"aispm.ingest_envelope.v1","idempotency_key":"bench-%06d",`+
			`"source":{"kind":"coding_agent","connector":"cursor","agent":"agent-%d"},"event":{"event_id":"e-%d","occurred_at":%q,`+
			`"type":"tool_call","decision":"blocked","severity":"high","policy_pack":"baseline","control_ids":["AC-3"]},`+
			`"content":{"raw_prompt_included":false,"model_reasoning_included":false,"tool_output_included":false}}`, i, i%5, i, at.Format(time.RFC3339)))
	}
	_, err := a.Ingest.Ingest(ctx, tenant, "report_operator", []byte(`{"envelopes":[`+strings.Join(envs, ",")+`]}`))
	return err
}
