// Package awsapp opens the product on its AWS adapters (DynamoDB, S3 Object Lock) for the
// Lambda functions, in AWS or against an emulator endpoint.
package awsapp

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/app"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/s3worm"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/lambdaapi"
)

// Open builds the services on DynamoDB and S3.
func Open(ctx context.Context, cfg config.AWS) (*app.Services, error) {
	awsCfg, err := awsclient.Load(ctx, awsclient.Options{Region: cfg.Region, Endpoint: cfg.Endpoint})
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	streams := dynamodbstreams.NewFromConfig(awsCfg)
	s3c := s3worm.NewClient(awsCfg)
	items := dynamostore.New(ddb, streams, cfg.Table, clock.System{})
	objects := s3worm.New(s3c, s3.NewPresignClient(s3c), cfg.ArtifactBucket)
	return app.Build(app.Ports{Items: items, Objects: objects, Clock: clock.System{}}), nil
}

func logger() *slog.Logger { return slog.New(slog.NewJSONHandler(os.Stderr, nil)) }

// RouteHandler returns the Lambda handler for one route of the route table.
func RouteHandler(ctx context.Context, name string, lookup config.Lookup) (any, error) {
	route, ok := api.FindRoute(name)
	if !ok {
		return nil, fmt.Errorf("no route named %q in the route table", name)
	}
	cfg, err := config.LoadAWS(lookup)
	if err != nil {
		return nil, err
	}
	svc, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return lambdaapi.Handler(api.NewRouter(svc.Handlers, []api.Route{route}, logger())), nil
}

// AuthorizerHandler returns the API Gateway Lambda authorizer.
func AuthorizerHandler(ctx context.Context, lookup config.Lookup) (any, error) {
	cfg, err := config.LoadAWS(lookup)
	if err != nil {
		return nil, err
	}
	svc, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return lambdaapi.Authorizer(svc.Tokens), nil
}

// StartRoute runs the Lambda for one route; it returns only on a start-up failure, which it
// logs before exiting so the function's logs say why it never served.
func StartRoute(name string) {
	start("route "+name, func(ctx context.Context) (any, error) { return RouteHandler(ctx, name, os.LookupEnv) })
}

// StartAuthorizer runs the authorizer Lambda.
func StartAuthorizer() {
	start("authorizer", func(ctx context.Context) (any, error) { return AuthorizerHandler(ctx, os.LookupEnv) })
}

func start(what string, build func(context.Context) (any, error)) {
	h, err := build(context.Background())
	if err != nil {
		logger().Error("start failed", "function", what, "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
