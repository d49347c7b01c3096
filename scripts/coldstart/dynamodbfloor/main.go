// Command dynamodbfloor is the second reference of the cold-start measurement
// (scripts/measure-lambdas.sh): hello plus a DynamoDB client built from the environment,
// the least any function that reads the item store can link. The distance from hello to
// it is the SDK's; the distance from it to a function is the product's.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsenv"
)

func main() {
	cfg, err := awsenv.Load(os.Getenv("AWS_REGION"), "", os.LookupEnv)
	if err != nil {
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	lambda.Start(func(context.Context, map[string]any) (string, error) {
		_ = db
		return "hello", nil
	})
}
