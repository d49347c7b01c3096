package audit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cavra-enterprise/aispm-reports/internal/audit/audittest"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamofeed"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/kmssigner"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/s3worm"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
)

func uniqueName(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%s-%s", prefix, hex.EncodeToString(b))
}

// emulated opens the AWS family: DynamoDB and its real stream plus KMS on MiniStack, S3
// Object Lock on moto (per-version locks). Every subtest gets its own table, bucket and key.
func emulated(t testing.TB) audittest.Harness {
	t.Helper()
	ctx := context.Background()
	mini, moto := emulatortest.MiniStack(t), emulatortest.Moto(t)
	miniCfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: mini})
	if err != nil {
		t.Fatal(err)
	}
	motoCfg, err := awsclient.Load(ctx, awsclient.Options{Endpoint: moto})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(miniCfg)
	table := uniqueName(t, "audit-test")
	if err := dynamostore.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}) })
	s3c := s3worm.NewClient(motoCfg)
	bucket := uniqueName(t, "audit-test")
	if err := s3worm.CreateBucket(ctx, s3c, bucket); err != nil {
		t.Fatal(err)
	}
	kc := kms.NewFromConfig(miniCfg)
	arn, err := kmssigner.CreateKey(ctx, kc, "audit test "+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return audittest.Harness{
		Items:   dynamofeed.NewStore(db, dynamodbstreams.NewFromConfig(miniCfg), table, clock.System{}),
		Objects: s3worm.New(s3c, s3.NewPresignClient(s3c), bucket),
		Signer:  kmssigner.New(kc, arn),
		Clock:   clock.System{},
		Sleep:   time.Sleep,
	}
}

func TestEmulator(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audittest.Harness { return emulated(t) })
}
