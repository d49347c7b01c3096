package examples

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/artifacts"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/tenancy"
)

// TestRenderedReportsAreCurrent renders requests/render-brief.json over the example ingest
// batch (legacy envelopes) and stream (public envelopes) and keeps the markdown and csv artifacts under reports/. They are byte-stable: the
// same snapshot and template version always give the same bytes, whatever the day.
func TestRenderedReportsAreCurrent(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	a, err := embeddedapp.Open(ctx, config.Embedded{DataDir: t.TempDir(), PublicBaseURL: "http://127.0.0.1"}, clock.NewManual(now))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tn, err := a.Tenants.Create(ctx, "example", "Example Corp", tenancy.Enterprise)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := os.ReadFile("requests/ingest-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest.Ingest(ctx, "example", "report_operator", batch); err != nil {
		t.Fatal(err)
	}
	stream, err := os.ReadFile("requests/ingest-public.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ingest.IngestNDJSON(ctx, "example", "report_operator", stream); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("requests/render-brief.json")
	if err != nil {
		t.Fatal(err)
	}
	req, err := artifacts.ParseRenderRequest(body, tn, "report_operator", now)
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.Artifacts.Render(ctx, tn, "report_operator", req)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range out.Artifacts {
		r, _, err := a.Objects.Get(ctx, rec.ObjectKey, rec.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		ext := map[string]string{"markdown": "md", "csv": "csv"}[rec.Format]
		compare(t, "reports/"+rec.ReportID+"."+ext, b)
	}
}
