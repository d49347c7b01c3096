// Command benchrender measures the executive posture brief rendered as json, csv and pdf from
// a large ingested window on the embedded default. It has two steps, run as separate
// processes so the render's peak RSS is the render's own:
//
//	benchrender seed   -dir D -events N   ingest N events (through the ingest service) over 30 days
//	benchrender render -dir D             render once; print wall time, peak RSS and digests,
//	                                      and write D/segments.txt (the segment files of the
//	                                      window) and D/brief.json for the DuckDB side
//
// Both steps run on a fixed clock, so the same seed gives the same snapshot and the render
// gives the same digests on every run. scripts/bench-render.sh drives it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/render"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

const (
	tenant = "bench"
	days   = 30
)

// now is the benchmark's fixed clock: the end of the 30-day window.
var now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchrender seed|render -dir D [-events N]")
		os.Exit(2)
	}
	fl := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dir := fl.String("dir", ".cache/bench-render", "data folder")
	events := fl.Int("events", 1_000_000, "events to ingest (seed)")
	_ = fl.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(context.Background(), *dir, *events)
	case "render":
		err = renderOnce(context.Background(), *dir)
	default:
		err = fmt.Errorf("unknown step %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrender:", err)
		os.Exit(1)
	}
}

func open(ctx context.Context, dir string) (*embeddedapp.App, error) {
	return embeddedapp.Open(ctx, config.Embedded{Listen: "127.0.0.1:0", DataDir: dir, PublicBaseURL: "http://127.0.0.1"}, clock.NewManual(now))
}

var (
	decisions  = []string{"allowed", "blocked", "approval_required", "approved", "denied", "observed", "allowed", "allowed"}
	severities = []string{"info", "low", "medium", "high", "critical"}
	connectors = []string{"agent-cli", "cursor", "github-actions", "copilot"}
	packs      = []string{"baseline", "secrets", "supply-chain", "data-egress", "change-control"}
	actions    = []string{"shell", "file_write", "network", "package_install", "git", "deploy"}
)

// seed ingests events in requests of ingest.MaxBatch, each request one day's worth, through
// the ingest service (validation, idempotency, segments, evidence) as the API would.
func seed(ctx context.Context, dir string, n int) error {
	a, err := open(ctx, dir)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Tenants.Create(ctx, tenant, "Bench Corp", tenancy.Enterprise); err != nil {
		return err
	}
	start := time.Now()
	const batch = 500
	var b strings.Builder
	for first := 0; first < n; first += batch {
		b.Reset()
		b.WriteString(`{"envelopes":[`)
		day := now.AddDate(0, 0, -days+(first/batch)%days)
		for i := first; i < min(n, first+batch); i++ {
			if i > first {
				b.WriteByte(',')
			}
			at := day.Add(time.Duration(i%86400) * time.Second)
			fmt.Fprintf(&b, `{"schema_version":"aispm.ingest_envelope.v1","idempotency_key":"bench-%09d",`+
				`"source":{"kind":"coding_agent","connector":%q,"agent":"agent-%02d"},`+
				`"event":{"event_id":"evt-%09d","occurred_at":%q,"type":"tool_call","decision":%q,"severity":%q,`+
				`"policy_pack":%q,"control_ids":["AC-%d","AU-%d"],"action_category":%q,"risk_score":%d},`+
				`"content":{"raw_prompt_included":false,"model_reasoning_included":false,"tool_output_included":false}}`,
				i, connectors[i%len(connectors)], i%50, i, at.Format(time.RFC3339), decisions[i%len(decisions)],
				severities[i%len(severities)], packs[i%len(packs)], i%20, i%7, actions[i%len(actions)], i%101)
		}
		b.WriteString(`]}`)
		if _, err := a.Ingest.Ingest(ctx, tenant, "report_operator", []byte(b.String())); err != nil {
			return fmt.Errorf("ingest batch at %d: %w", first, err)
		}
		if (first/batch)%200 == 199 {
			fmt.Fprintf(os.Stderr, "seeded %d events in %s\n", first+batch, time.Since(start).Round(time.Second))
		}
	}
	fmt.Fprintf(os.Stderr, "seeded %d events in %s\n", n, time.Since(start).Round(time.Second))
	return nil
}

type result struct {
	Events    int               `json:"events"`
	Segments  int               `json:"segments"`
	WallMS    float64           `json:"wall_ms"`
	MaxRSSKB  int64             `json:"max_rss_kb"`
	Digests   map[string]string `json:"digests"`
	Snapshot  string            `json:"data_snapshot_ref"`
	WindowFro string            `json:"window_from"`
	WindowTo  string            `json:"window_to"`
}

func renderOnce(ctx context.Context, dir string) error {
	a, err := open(ctx, dir)
	if err != nil {
		return err
	}
	defer a.Close()
	t, err := a.Tenants.Get(ctx, tenant)
	if err != nil {
		return err
	}
	from, to := now.AddDate(0, 0, -days), now
	body := fmt.Sprintf(`{"report_id":"executive_risk_brief","formats":["json","csv","pdf"],"window":{"from":%q,"to":%q}}`,
		from.Format(time.RFC3339), to.Format(time.RFC3339))
	req, err := artifacts.ParseRenderRequest([]byte(body), t, "report_operator", now)
	if err != nil {
		return err
	}
	start := time.Now()
	out, err := a.Artifacts.Render(ctx, t, "report_operator", req)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	res := result{WallMS: float64(wall.Microseconds()) / 1000, MaxRSSKB: ru.Maxrss, Digests: map[string]string{},
		Snapshot: out.SnapshotRef, WindowFro: from.Format(time.RFC3339), WindowTo: to.Format(time.RFC3339)}
	for _, r := range out.Artifacts {
		res.Digests[r.Format] = r.Digest
		if r.Format == "json" {
			if err := copyArtifact(ctx, a, r, filepath.Join(dir, "brief.json")); err != nil {
				return err
			}
		}
	}
	if res.Segments, res.Events, err = writeSegmentList(ctx, a, dir, render.Window{From: from, To: to}); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func copyArtifact(ctx context.Context, a *embeddedapp.App, r artifacts.Record, dst string) error {
	body, _, err := a.Objects.Get(ctx, r.ObjectKey, r.VersionID)
	if err != nil {
		return err
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, raw, 0o644)
}

// writeSegmentList writes the paths of the window's stored segment files (the WORM store's
// version files) for DuckDB to read, found by version id under the store's folder.
func writeSegmentList(ctx context.Context, a *embeddedapp.App, dir string, w render.Window) (int, int, error) {
	paths := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".data") {
			paths[strings.TrimSuffix(d.Name(), ".data")] = p
		}
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	var list strings.Builder
	segs, events := 0, 0
	for _, day := range w.Days() {
		got, err := a.Ingest.Segments(ctx, tenant, day)
		if err != nil {
			return 0, 0, err
		}
		for _, s := range got {
			p, ok := paths[s.VersionID]
			if !ok {
				return 0, 0, fmt.Errorf("segment %s: no file for version %s", s.SegmentRef, s.VersionID)
			}
			abs, _ := filepath.Abs(p)
			list.WriteString(abs + "\n")
			segs++
			events += s.Events
		}
	}
	return segs, events, os.WriteFile(filepath.Join(dir, "segments.txt"), []byte(list.String()), 0o644)
}
