// Package awsapp opens the product on its AWS adapters (DynamoDB, S3 Object Lock, KMS,
// EventBridge Scheduler) for the Lambda functions, in AWS or against an emulator endpoint.
package awsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sched "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/app"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/ebsched"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/kmssigner"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/s3worm"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sesmail"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sfngate"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/lambdaapi"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
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
	p := app.Ports{Items: items, Objects: objects, Clock: clock.System{}, Scheduler: unconfiguredScheduler{}}
	if cfg.SigningKeyID != "" {
		p.Signer = kmssigner.New(kms.NewFromConfig(awsCfg), cfg.SigningKeyID)
	}
	if cfg.SESEnabled {
		p.Mailer = sesmail.New(sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) {
			if cfg.SESEndpoint != "" { // emulator only (config.EnvSESEndpoint)
				o.BaseEndpoint = &cfg.SESEndpoint
			}
		}))
	}
	if cfg.ApprovalStateMachineARN != "" {
		// Tokens and claims live in the table, so every function deciding or opening gates
		// shares them; the conditional writes make one decision win.
		p.Gate = sfngate.New(sfn.NewFromConfig(awsCfg), sfngate.NewItemTokens(items),
			sfngate.Config{StateMachineARN: cfg.ApprovalStateMachineARN, ActivityARN: cfg.ApprovalActivityARN})
	}
	if cfg.ScheduleTargetARN != "" {
		p.Scheduler = ebsched.New(sched.NewFromConfig(awsCfg), ebsched.Target{FunctionARN: cfg.ScheduleTargetARN, RoleARN: cfg.ScheduleRoleARN})
	}
	return app.Build(p), nil
}

// unconfiguredScheduler stands in when no schedule target is configured: a render that
// needs an expiry schedule fails with this error instead of silently skipping the schedule.
type unconfiguredScheduler struct{}

var _ scheduler.Scheduler = unconfiguredScheduler{}

var errNoScheduler = fmt.Errorf("no schedule target configured: set %s and %s", config.EnvScheduleTargetARN, config.EnvScheduleRoleARN)

func (unconfiguredScheduler) Create(context.Context, scheduler.Schedule) error { return errNoScheduler }
func (unconfiguredScheduler) Update(context.Context, scheduler.Schedule) error { return errNoScheduler }
func (unconfiguredScheduler) Delete(context.Context, string, string) error     { return errNoScheduler }
func (unconfiguredScheduler) Get(context.Context, string, string) (scheduler.Schedule, error) {
	return scheduler.Schedule{}, errNoScheduler
}
func (unconfiguredScheduler) List(context.Context, string) ([]scheduler.Schedule, error) {
	return nil, errNoScheduler
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

// StartRoute runs the Lambda for one route; it returns only on a start-up failure, which it
// logs before exiting so the function's logs say why it never served.
func StartRoute(name string) {
	start("route "+name, func(ctx context.Context) (any, error) { return RouteHandler(ctx, name, os.LookupEnv) })
}

// ScheduleRunnerHandler returns the target of EventBridge Scheduler: the event is the
// schedule's payload (its Target.Input), handed to the domain like an embedded firing.
func ScheduleRunnerHandler(ctx context.Context, lookup config.Lookup) (func(context.Context, json.RawMessage) error, error) {
	cfg, err := config.LoadAWS(lookup)
	if err != nil {
		return nil, err
	}
	svc, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, payload json.RawMessage) error {
		return svc.Fire(ctx, scheduler.Firing{Payload: payload, At: time.Now().UTC()})
	}, nil
}

// StartScheduleRunner runs the schedule-runner Lambda.
func StartScheduleRunner() {
	start("schedule-runner", func(ctx context.Context) (any, error) { return ScheduleRunnerHandler(ctx, os.LookupEnv) })
}

func start(what string, build func(context.Context) (any, error)) {
	h, err := build(context.Background())
	if err != nil {
		logger().Error("start failed", "function", what, "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
