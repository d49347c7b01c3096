package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/audit/audittest"
	"github.com/cavra-enterprise/aispm-reports/internal/evidence"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// batchSize is the stream batch the benchmarks append: the DynamoDB event source mapping's
// default of 100 records.
const batchSize = 100

// batches builds n batches of evidence-record inserts as the change feed carries them.
func batches(b *testing.B, n int) [][]itemstore.Change {
	b.Helper()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	out := make([][]itemstore.Change, n)
	for i := range out {
		out[i] = make([]itemstore.Change, batchSize)
		for j := range out[i] {
			rec, err := evidence.New(evidence.Event{TenantID: "bench", Action: evidence.IngestAccepted, ActorRole: "report_operator",
				SubjectRefs: []string{"segment:seg_bench"}, Details: map[string]any{"events": 90}}, now.Add(time.Duration(i*batchSize+j)*time.Millisecond))
			if err != nil {
				b.Fatal(err)
			}
			w, err := rec.Write()
			if err != nil {
				b.Fatal(err)
			}
			it := w.Item
			it.Version = 1
			out[i][j] = itemstore.Change{Kind: itemstore.Inserted, PK: it.PK, SK: it.SK, New: &it, At: now}
		}
	}
	return out
}

// benchAppend measures the writer appending batches of 100 stream records to one tenant's
// log (the worst case: every batch contends for one head), in entries per second.
func benchAppend(b *testing.B, h audittest.Harness) {
	w := audit.New(audit.Config{Items: h.Items, Objects: h.Objects, Signer: h.Signer, Clock: h.Clock,
		Policy: func(context.Context, string) (audit.Policy, error) {
			return audit.Policy{CheckpointEntries: 1000, CheckpointEvery: time.Hour, RetentionDays: 1}, nil
		}})
	in := batches(b, b.N)
	b.ResetTimer()
	for i := range b.N {
		if res := w.Apply(context.Background(), in[i]); res.Err != nil || res.Appended != batchSize {
			b.Fatalf("batch %d: %+v", i, res)
		}
	}
	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkAppendEmbedded(b *testing.B) { benchAppend(b, audittest.Embedded(b)) }

func BenchmarkAppendEmulator(b *testing.B) { benchAppend(b, emulated(b)) }
