// Package dynamofeed reads the DynamoDB table's stream as the item store's change feed
// (itemstore.ChangeFeed). It is apart from dynamostore so that the functions which only
// read and write items do not link the streams client; in AWS the audit writer gets the
// stream as Lambda batches and needs no reader at all.
package dynamofeed

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

// Feed page sizes; GetRecords returns at most 1000 records.
const (
	defaultFeedLimit = 100
	maxFeedLimit     = 1000
)

// feedCursor is where a reader is in the table's stream: per shard, the last sequence
// number read, and whether a closed shard has been read to its end (its children may only
// be read after that, to keep each item's changes in order).
type feedCursor struct {
	Stream string               `json:"a,omitempty"`
	Shards map[string]*shardPos `json:"s,omitempty"`
}

type shardPos struct {
	Seq  string `json:"q,omitempty"`
	Done bool   `json:"d,omitempty"`
}

func decodeFeedCursor(s string) (feedCursor, error) {
	c := feedCursor{Shards: map[string]*shardPos{}}
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, fmt.Errorf("change feed cursor is malformed: %w", itemstore.ErrInvalid)
	}
	if c.Shards == nil {
		c.Shards = map[string]*shardPos{}
	}
	return c, nil
}

func (c feedCursor) encode() (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode change feed cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Feed reads one table's stream. Safe for concurrent use.
type Feed struct {
	db      *dynamodb.Client
	streams *dynamodbstreams.Client
	table   string

	mu        sync.Mutex
	streamARN string // looked up once
}

// New returns the feed of table.
func New(db *dynamodb.Client, streams *dynamodbstreams.Client, table string) *Feed {
	return &Feed{db: db, streams: streams, table: table}
}

var _ itemstore.ChangeFeed = (*Feed)(nil)

// Store is the item store together with its change feed, for the embedded-style audit
// poller and the tests that read what they wrote.
type Store struct {
	*dynamostore.Store
	*Feed
}

// NewStore returns the store on table with its feed.
func NewStore(db *dynamodb.Client, streams *dynamodbstreams.Client, table string, clk clock.Clock) Store {
	return Store{Store: dynamostore.New(db, table, clk), Feed: New(db, streams, table)}
}

// ReadChanges reads the table's stream after cursor: each shard after its parent, records in
// shard order. limit <= 0 means 100; at most 1000.
func (s *Feed) ReadChanges(ctx context.Context, cursor string, limit int) ([]itemstore.Change, string, error) {
	cur, err := decodeFeedCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = defaultFeedLimit
	}
	arn, err := s.stream(ctx)
	if err != nil {
		return nil, "", err
	}
	if cur.Stream != arn {
		if cur.Stream != "" {
			// The stream was turned off and on again: the old one's positions mean nothing now.
			slog.WarnContext(ctx, "item store stream replaced; reading the new one from its start", "table", s.table, "old", cur.Stream, "new", arn)
		}
		cur = feedCursor{Stream: arn, Shards: map[string]*shardPos{}}
	}
	shards, err := s.shards(ctx, arn)
	if err != nil {
		return nil, "", err
	}
	out, err := s.readShards(ctx, &cur, shards, min(limit, maxFeedLimit))
	if err != nil {
		return nil, "", err
	}
	next, err := cur.encode()
	return out, next, err
}

// readShards reads ready shards until limit changes or until every ready shard is caught up.
// Finishing a closed shard makes its children ready, hence the passes.
func (s *Feed) readShards(ctx context.Context, cur *feedCursor, shards []streamtypes.Shard, limit int) ([]itemstore.Change, error) {
	known := map[string]bool{}
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		known[id] = true
		if cur.Shards[id] == nil {
			cur.Shards[id] = &shardPos{}
		}
	}
	for id := range cur.Shards {
		if !known[id] {
			delete(cur.Shards, id) // trimmed away: nothing left to resume
		}
	}
	var out []itemstore.Change
	caughtUp := map[string]bool{}
	for progress := true; progress && len(out) < limit; {
		progress = false
		for _, sh := range shards {
			id := aws.ToString(sh.ShardId)
			pos := cur.Shards[id]
			if pos.Done || caughtUp[id] || !ready(sh, cur) || len(out) >= limit {
				continue
			}
			got, err := s.readShard(ctx, cur.Stream, id, pos, limit-len(out))
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
			caughtUp[id] = !pos.Done
			progress = progress || len(got) > 0 || pos.Done
		}
	}
	return out, nil
}

// ready: a shard is read only after its parent is read to the end (or trimmed away).
func ready(sh streamtypes.Shard, cur *feedCursor) bool {
	parent := cur.Shards[aws.ToString(sh.ParentShardId)]
	return sh.ParentShardId == nil || parent == nil || parent.Done
}

// readShard reads one shard from pos until it returns nothing, closes, or limit is reached,
// moving pos along.
func (s *Feed) readShard(ctx context.Context, arn, id string, pos *shardPos, limit int) ([]itemstore.Change, error) {
	it, err := s.iterator(ctx, arn, id, pos.Seq)
	if err != nil {
		return nil, err
	}
	var out []itemstore.Change
	for it != nil && len(out) < limit {
		res, err := s.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(int32(limit - len(out)))})
		if err != nil {
			return nil, fmt.Errorf("read stream shard %s of %s: %w", id, s.table, err)
		}
		for _, r := range res.Records {
			c, err := dynamostore.ChangeFromStreamRecord(r)
			if err != nil {
				return nil, fmt.Errorf("stream of %s: %w", s.table, err)
			}
			out, pos.Seq = append(out, c), c.Seq
		}
		if it = res.NextShardIterator; it == nil {
			pos.Done = true // a closed shard read to its end
		}
		if len(res.Records) == 0 {
			break
		}
	}
	return out, nil
}

func (s *Feed) iterator(ctx context.Context, arn, id, after string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(id), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
	if after != "" {
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
	}
	out, err := s.streams.GetShardIterator(ctx, in)
	var trimmed *streamtypes.TrimmedDataAccessException
	if errors.As(err, &trimmed) && after != "" {
		// The reader fell more than the stream's 24 hours behind: what it missed is gone.
		slog.WarnContext(ctx, "item store stream trimmed past the cursor; changes were lost", "table", s.table, "shard", id, "after", after)
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeTrimHorizon, nil
		out, err = s.streams.GetShardIterator(ctx, in)
	}
	if err != nil {
		return nil, fmt.Errorf("stream shard %s of %s: iterator: %w", id, s.table, err)
	}
	return out.ShardIterator, nil
}

// shards lists every shard of the stream, oldest first as DescribeStream returns them.
func (s *Feed) shards(ctx context.Context, arn string) ([]streamtypes.Shard, error) {
	var out []streamtypes.Shard
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)}
	for {
		res, err := s.streams.DescribeStream(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe stream of %s: %w", s.table, err)
		}
		out = append(out, res.StreamDescription.Shards...)
		if res.StreamDescription.LastEvaluatedShardId == nil {
			return out, nil
		}
		in.ExclusiveStartShardId = res.StreamDescription.LastEvaluatedShardId
	}
}

// stream returns the table's current stream ARN, looked up once.
func (s *Feed) stream(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streamARN != "" {
		return s.streamARN, nil
	}
	out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		return "", fmt.Errorf("describe table %s: %w", s.table, err)
	}
	if out.Table == nil || out.Table.LatestStreamArn == nil {
		return "", fmt.Errorf("table %s has no stream; it needs NEW_AND_OLD_IMAGES", s.table)
	}
	s.streamARN = *out.Table.LatestStreamArn
	return s.streamARN, nil
}
