package stackcheck

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/s3worm"
)

// NewClients builds the clients for region, against endpoint when it is set (an emulator).
func NewClients(ctx context.Context, region, endpoint string) (Clients, error) {
	cfg, err := awsclient.Load(ctx, awsclient.Options{Region: region, Endpoint: endpoint})
	if err != nil {
		return Clients{}, err
	}
	return Clients{
		DynamoDB:  dynamodb.NewFromConfig(cfg),
		S3:        s3worm.NewClient(cfg),
		APIGW:     apigatewayv2.NewFromConfig(cfg),
		Lambda:    lambda.NewFromConfig(cfg),
		Scheduler: scheduler.NewFromConfig(cfg),
		SFN:       sfn.NewFromConfig(cfg),
	}, nil
}
