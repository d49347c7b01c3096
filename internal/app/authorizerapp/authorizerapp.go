// Package authorizerapp starts the authorizer Lambda on DynamoDB with nothing but token
// lookup linked in (see lambdaauth for why that matters).
package authorizerapp

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cavra-enterprise/aispm-reports/internal/auth"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsenv"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/lambdaauth"
)

// Start runs the authorizer; it returns only on a start-up failure, logged before exiting.
func Start() {
	h, err := handler(context.Background(), os.LookupEnv)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("start failed", "function", "authorizer", "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

func handler(ctx context.Context, lookup config.Lookup) (any, error) {
	cfg, err := config.LoadAWS(lookup)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsenv.Load(cfg.Region, cfg.Endpoint, lookup)
	if err != nil {
		return nil, err
	}
	items := dynamostore.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, clock.System{})
	return lambdaauth.Authorizer(auth.NewTokens(items, clock.System{}, nil)), nil
}
