package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DataProps configures the stateful resources.
type DataProps struct {
	TableName string
	// BucketName is optional; empty lets CloudFormation choose.
	BucketName     string
	ObjectLockDays int
}

// Data holds the product's state: the single DynamoDB table (with its stream feeding the
// audit writer and projections), the Object Lock artifact bucket and the KMS key that
// encrypts it. Every resource here is RETAINed and has a fixed logical ID: renaming a
// construct must not replace a table or a bucket.
type Data struct {
	constructs.Construct
	Table  awsdynamodb.Table
	Bucket awss3.Bucket
	Key    awskms.Key
}

// Item layout names shared with internal/awsadapter/dynamostore.
const (
	attrPK, attrSK         = "pk", "sk"
	attrGSI1PK, attrGSI1SK = "gsi1pk", "gsi1sk"
	gsi1Name               = "gsi1"
	ttlAttribute           = "expires_at"
)

// NewData creates the table, the bucket and the bucket's key.
func NewData(scope constructs.Construct, id string, props DataProps) *Data {
	c := constructs.NewConstruct(scope, jsii.String(id))
	d := &Data{Construct: c}

	d.Key = awskms.NewKey(c, jsii.String("ArtifactKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the AISPM report artifact bucket"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		Policy:            accountKeyPolicy(usageSymmetric),
	})
	pin(d.Key, "ArtifactKey")

	var tableName *string
	if props.TableName != "" {
		tableName = jsii.String(props.TableName)
	}
	d.Table = awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:    tableName,
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(attrPK), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(attrSK), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Stream:       awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection:  jsii.Bool(true),
		TimeToLiveAttribute: jsii.String(ttlAttribute),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	d.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(gsi1Name),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(attrGSI1PK), Type: awsdynamodb.AttributeType_STRING},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(attrGSI1SK), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	pin(d.Table, "Table")

	var bucketName *string
	if props.BucketName != "" {
		bucketName = jsii.String(props.BucketName)
	}
	d.Bucket = awss3.NewBucket(c, jsii.String("ArtifactBucket"), &awss3.BucketProps{
		BucketName:                 bucketName,
		ObjectLockEnabled:          jsii.Bool(true),
		ObjectLockDefaultRetention: awss3.ObjectLockRetention_Compliance(awscdk.Duration_Days(jsii.Number(float64(props.ObjectLockDays)))),
		Versioned:                  jsii.Bool(true),
		BlockPublicAccess:          awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:            awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		EnforceSSL:                 jsii.Bool(true),
		Encryption:                 awss3.BucketEncryption_KMS,
		EncryptionKey:              d.Key,
		BucketKeyEnabled:           jsii.Bool(true),
		RemovalPolicy:              awscdk.RemovalPolicy_RETAIN,
	})
	pin(d.Bucket, "ArtifactBucket")
	return d
}

// StreamConsumerProps configures a consumer of the table's change stream.
type StreamConsumerProps struct {
	// BatchSize defaults to 100.
	BatchSize int
	// RetryAttempts of a failed batch; 0 means 10.
	RetryAttempts int
	// OnFailure receives the description (shard, sequence range) of every batch the consumer
	// never took: retries spent or records aged out of the stream. nil drops them silently.
	OnFailure awslambda.IEventSourceDlq
}

// AddStreamConsumer is the wiring point for the change-feed consumers (the audit writer,
// then the projections): fn receives the table's NEW_AND_OLD_IMAGES stream from the oldest
// record on, reports batch item failures (the handler returns
// events.DynamoDBEventResponse) and gets read access to the stream only. Batches are not
// bisected on error: the handler names the first failed record itself (and every record
// after it), so Lambda resumes exactly there; a consumer that returns an error has failed
// as a whole and gets the same batch again.
func (d *Data) AddStreamConsumer(fn awslambda.IFunction, props StreamConsumerProps) {
	batch, retries := props.BatchSize, props.RetryAttempts
	if batch <= 0 {
		batch = 100
	}
	if retries <= 0 {
		retries = 10
	}
	fn.AddEventSource(awslambdaeventsources.NewDynamoEventSource(d.Table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(float64(batch)),
		RetryAttempts:           jsii.Number(float64(retries)),
		BisectBatchOnError:      jsii.Bool(false),
		ReportBatchItemFailures: jsii.Bool(true),
		OnFailure:               props.OnFailure,
	}))
}

// pin fixes the CloudFormation logical ID of a stateful resource so that moving or renaming
// its construct can never make CloudFormation replace (and so orphan) the data.
func pin(c constructs.IConstruct, logicalID string) {
	cfn, ok := c.Node().DefaultChild().(awscdk.CfnResource)
	if !ok {
		panic("pin " + logicalID + ": no CloudFormation resource to pin")
	}
	cfn.OverrideLogicalId(jsii.String(logicalID))
}
