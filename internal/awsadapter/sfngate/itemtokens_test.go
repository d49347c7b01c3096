package sfngate_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate"
	"github.com/cavra-enterprise/aispm-reports/internal/approvalgate/approvalgatetest"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sfngate"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
)

// dynamoTokens is an ItemTokens on a DynamoDB table of the test's own on MiniStack.
func dynamoTokens(t *testing.T) *sfngate.ItemTokens {
	t.Helper()
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Endpoint: emulatortest.MiniStack(t)})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	name := fmt.Sprintf("gate-tokens-%d", time.Now().UnixNano())
	if err := dynamostore.CreateTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}) })
	return sfngate.NewItemTokens(dynamostore.New(db, name, clock.System{}))
}

// TestContractMiniStackDynamoTokens runs the gate contract (100 racing decisions, expiry,
// second decisions) with tokens and claims in DynamoDB, as the Lambdas share them.
func TestContractMiniStackDynamoTokens(t *testing.T) {
	c := client(t)
	tokens := dynamoTokens(t)
	approvalgatetest.Run(t, func(t *testing.T) approvalgate.Gate {
		return sfngate.New(c, tokens, provision(t, c))
	})
}

// TestItemTokensClaimOnce races 100 claims on one gate: exactly one wins and every loser
// reads the winner back.
func TestItemTokensClaimOnce(t *testing.T) {
	tokens := dynamoTokens(t)
	ctx := context.Background()
	ref := approvalgatetest.Ref(t)
	if err := tokens.PutToken(ctx, ref, "first"); err != nil {
		t.Fatal(err)
	}
	if err := tokens.PutToken(ctx, ref, "second"); err != nil {
		t.Fatal(err)
	}
	if tok, err := tokens.Token(ctx, ref); err != nil || tok != "first" {
		t.Fatalf("Token = %q, %v; want the first", tok, err)
	}
	if _, err := tokens.Token(ctx, "unknown-"+ref); err != sfngate.ErrNoToken {
		t.Fatalf("unknown token: %v", err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	wins, seen := 0, map[string]bool{}
	for i := range 100 {
		wg.Go(func() {
			st := approvalgate.Approved
			if i%2 == 1 {
				st = approvalgate.Denied
			}
			held, won, err := tokens.Claim(ctx, ref, sfngate.Claim{Status: st, Output: fmt.Appendf(nil, `{"i":%d}`, i), At: time.Now()})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if won {
				wins++
			}
			seen[string(held.Output)] = true
		})
	}
	wg.Wait()
	if wins != 1 || len(seen) != 1 {
		t.Fatalf("%d winners, %d distinct outcomes seen", wins, len(seen))
	}
}
