package dynamostore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamofeed"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore/itemstoretest"
)

var tableSeq atomic.Int64

// clients connects to MiniStack, skipping (or failing under CI) when it is down.
func clients(t *testing.T) (*dynamodb.Client, *dynamodbstreams.Client) {
	t.Helper()
	ep := emulatortest.MiniStack(t)
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Endpoint: ep})
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	return dynamodb.NewFromConfig(cfg), dynamodbstreams.NewFromConfig(cfg)
}

// newTable creates a table no other test (or test package) uses, and drops it afterwards:
// the emulator is shared, so tests isolate by name instead of resetting it.
func newTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("itemstore-test-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
	ctx := context.Background()
	if err := dynamostore.CreateTable(ctx, db, name); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return name
}

func TestContract(t *testing.T) {
	db, streams := clients(t)
	itemstoretest.Run(t, func(t *testing.T) (itemstore.Store, itemstore.ChangeFeed) {
		s := dynamofeed.NewStore(db, streams, newTable(t, db), clock.System{})
		return s, s
	})
}

// TestCreateTableLayout reads back the settings the store and the stream consumer rely on,
// since an emulator may accept a setting and drop it.
func TestCreateTableLayout(t *testing.T) {
	ctx := context.Background()
	db, _ := clients(t)
	name := newTable(t, db)
	if err := dynamostore.CreateTable(ctx, db, name); err != nil {
		t.Fatalf("CreateTable on an existing table: %v", err)
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	tb := out.Table
	if tb.TableStatus != types.TableStatusActive {
		t.Errorf("status %s, want ACTIVE", tb.TableStatus)
	}
	if s := tb.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewAndOldImages || tb.LatestStreamArn == nil {
		t.Errorf("stream %+v arn %v, want NEW_AND_OLD_IMAGES", s, tb.LatestStreamArn)
	}
	if tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing %+v, want PAY_PER_REQUEST", tb.BillingModeSummary)
	}
	if got := keys(tb.KeySchema); got != "pk/HASH sk/RANGE" {
		t.Errorf("key schema %s", got)
	}
	if len(tb.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("%d GSIs, want gsi1 only", len(tb.GlobalSecondaryIndexes))
	}
	g := tb.GlobalSecondaryIndexes[0]
	if aws.ToString(g.IndexName) != itemstore.GSI1 || keys(g.KeySchema) != "gsi1pk/HASH gsi1sk/RANGE" || g.Projection == nil || g.Projection.ProjectionType != types.ProjectionTypeAll {
		t.Errorf("gsi %s keys %s projection %+v", aws.ToString(g.IndexName), keys(g.KeySchema), g.Projection)
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expires_at" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL %+v, want ENABLED on expires_at", d)
	}
}

func keys(ks []types.KeySchemaElement) string {
	var out string
	for i, k := range ks {
		if i > 0 {
			out += " "
		}
		out += aws.ToString(k.AttributeName) + "/" + string(k.KeyType)
	}
	return out
}

// TestAttributeLayout checks what lands in the table, which the stream Lambda and the CDK
// app read without this package.
func TestAttributeLayout(t *testing.T) {
	ctx := context.Background()
	db, _ := clients(t)
	name := newTable(t, db)
	s := dynamostore.New(db, name, clock.System{})
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	it := itemstore.Item{PK: "T", SK: "R", GSI1PK: "G", GSI1SK: "1", ExpiresAt: exp, Data: []byte(`{"a":1}`)}
	if _, err := s.Put(ctx, itemstore.Write{Item: it}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "T"}, "sk": &types.AttributeValueMemberS{Value: "R"}}})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	want := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "T"}, "sk": &types.AttributeValueMemberS{Value: "R"},
		"gsi1pk": &types.AttributeValueMemberS{Value: "G"}, "gsi1sk": &types.AttributeValueMemberS{Value: "1"},
		"expires_at": &types.AttributeValueMemberN{Value: fmt.Sprint(exp.Unix())},
		"ver":        &types.AttributeValueMemberN{Value: "1"}, "data": &types.AttributeValueMemberS{Value: `{"a":1}`},
	}
	if len(out.Item) != len(want) {
		t.Errorf("item has %d attributes, want %d: %v", len(out.Item), len(want), out.Item)
	}
	for k, w := range want {
		if fmt.Sprint(out.Item[k]) != fmt.Sprint(w) {
			t.Errorf("attribute %s = %v, want %v", k, out.Item[k], w)
		}
	}
}
