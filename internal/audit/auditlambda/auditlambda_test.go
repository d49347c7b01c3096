package auditlambda_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/audit/auditlambda"
	"github.com/cavra-enterprise/aispm-reports/internal/audit/audittest"
)

func event(t *testing.T, name string) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func writer(t *testing.T) *audit.Writer {
	t.Helper()
	h := audittest.Embedded(t)
	return audit.New(audit.Config{Items: h.Items, Objects: h.Objects, Signer: h.Signer, Clock: h.Clock,
		Policy: func(context.Context, string) (audit.Policy, error) {
			return audit.Policy{CheckpointEntries: 2, CheckpointEvery: time.Hour, RetentionDays: 1}, nil
		}})
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestStreamEvent: a batch with two evidence inserts and a settings change appends the two
// (and seals them: two reach the test policy's checkpoint size); the same batch delivered
// again appends nothing and fails nothing.
func TestStreamEvent(t *testing.T) {
	w := writer(t)
	h := auditlambda.Handler(w, quiet)
	ev := event(t, "stream-event.json")
	for round := range 2 {
		resp, err := h(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("round %d: %v %+v", round, err, resp)
		}
	}
	for i, r := range []int{0, 2} {
		var rec struct{ Ref string }
		json.Unmarshal([]byte(ev.Records[r].Change.NewImage["data"].String()), &rec)
		seq, err := w.EntryOf(context.Background(), "acme", rec.Ref)
		if err != nil || seq != uint64(i) {
			t.Fatalf("%s: entry %d %v", rec.Ref, seq, err)
		}
	}
	if _, err := w.Proof(context.Background(), "acme", "evidence:"+ev.Records[0].Change.Keys["sk"].String()); err != nil {
		t.Fatalf("the handler did not seal what was due: %v", err)
	}
}

// TestUnreadableRecordFailsFromThere: a record without its images (a stream not set to
// NEW_AND_OLD_IMAGES) is reported, with every record after it, so Lambda resumes there.
func TestUnreadableRecordFailsFromThere(t *testing.T) {
	h := auditlambda.Handler(writer(t), quiet)
	resp, err := h(context.Background(), event(t, "stream-event-keys-only.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	if !slices.Equal(ids, []string{"300", "400"}) {
		t.Fatalf("batch item failures %v, want [300 400]", ids)
	}
}
