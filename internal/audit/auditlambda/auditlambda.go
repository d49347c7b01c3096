// Package auditlambda adapts the audit writer to the DynamoDB stream event a Lambda
// receives. It answers with batch item failures, so a failed record (and the records after
// it) are delivered again while the rest of the batch counts as done; the writer's
// exactly-once guard makes those re-deliveries harmless.
package auditlambda

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cavra-enterprise/aispm-reports/internal/audit"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Writer is what the handler drives (audit.Writer).
type Writer interface {
	Apply(ctx context.Context, changes []itemstore.Change) audit.Result
	Seal(ctx context.Context, tenantID string, force bool) (int, error)
}

// Handler returns the stream Lambda's handler.
func Handler(w Writer, log *slog.Logger) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		changes := make([]itemstore.Change, 0, len(ev.Records))
		origin := make([]int, 0, len(ev.Records)) // index in ev.Records of each change
		failed := map[int]bool{}
		for i, r := range ev.Records {
			c, err := dynamostore.ChangeFromEventRecord(r)
			if err != nil {
				log.ErrorContext(ctx, "unreadable stream record", "event_id", r.EventID, "err", err)
				failed[i] = true
				continue
			}
			changes, origin = append(changes, c), append(origin, i)
		}
		res := w.Apply(ctx, changes)
		for _, i := range res.Failed {
			failed[origin[i]] = true
		}
		if res.Err != nil {
			log.ErrorContext(ctx, "audit append failed; records will be retried", "failed", len(res.Failed), "err", res.Err)
		}
		// Sealing what became due is best effort here: the entries are safe in the table and
		// the scheduled audit-sealer catches up whatever a failed seal left.
		for _, t := range res.Tenants {
			if _, err := w.Seal(ctx, t, false); err != nil {
				log.ErrorContext(ctx, "audit seal failed; the sealer will retry", "tenant", t, "err", err)
			}
		}
		log.InfoContext(ctx, "audit batch", "records", len(ev.Records), "appended", res.Appended,
			"duplicates", res.Duplicates, "ignored", res.Ignored, "rejected", res.Rejected, "failed", len(failed))
		return response(ev, failed), nil
	}
}

// response reports every record from the first failure on: Lambda resumes a shard at the
// lowest reported sequence number, and reporting the rest as well keeps that true whatever
// order the service reads the list in.
func response(ev events.DynamoDBEvent, failed map[int]bool) events.DynamoDBEventResponse {
	out := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	first := -1
	for i := range ev.Records {
		if failed[i] {
			first = i
			break
		}
	}
	if first < 0 {
		return out
	}
	for _, r := range ev.Records[first:] {
		out.BatchItemFailures = append(out.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
	}
	return out
}
