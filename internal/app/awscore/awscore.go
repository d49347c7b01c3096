// Package awscore starts a route's Lambda function on the DynamoDB item store plus the
// ports its domain asks for (awsobjects.Open adds the object store). Routes served by one
// light domain start here and link nothing else; routes that need the integrations (KMS,
// SES, Step Functions, EventBridge Scheduler) start through awsapp, which builds on this
// package.
package awscore

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsenv"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/dynamostore"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/egress"
	"github.com/cavra-enterprise/aispm-reports/internal/lambdaapi"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// OpenItems returns the ports with the item store and the clock set; the scheduler refuses
// until a caller sets a real one, the other ports stay nil.
func OpenItems(cfg config.AWS, lookup config.Lookup) (ports.Set, aws.Config, error) {
	awsCfg, err := awsenv.Load(cfg.Region, cfg.Endpoint, lookup)
	if err != nil {
		return ports.Set{}, aws.Config{}, err
	}
	out, err := egress.New(cfg.AllowPrivateTargets, cfg.TrustedCAFile)
	if err != nil {
		return ports.Set{}, aws.Config{}, err
	}
	p := ports.Set{
		Items:     dynamostore.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, clock.System{}),
		Clock:     clock.System{},
		Scheduler: unconfiguredScheduler{},
		Egress:    out,
	}
	return p, awsCfg, nil
}

// Opener adds a port to a function's set (awsobjects.Open).
type Opener func(awsCfg aws.Config, cfg config.AWS, p *ports.Set)

// Builder makes the handlers of a domain from the ports (catalogapi.FromPorts and the like);
// it refuses a set that lacks a port its services need.
type Builder func(ports.Set) (api.Handlers, error)

// RouteHandler returns the Lambda handler of route name, served by build on p.
func RouteHandler(name string, p ports.Set, build Builder) (any, error) {
	route, ok := api.FindRoute(name)
	if !ok {
		return nil, fmt.Errorf("no route named %q in the route table", name)
	}
	handlers, err := build(p)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", name, err)
	}
	rt, err := api.NewRouter(handlers, []api.Route{route}, Logger())
	if err != nil {
		return nil, err
	}
	return lambdaapi.Handler(rt), nil
}

// StartRoute runs the Lambda of route name on the item store and the ports open adds.
func StartRoute(name string, build Builder, open ...Opener) {
	Start("route "+name, func(context.Context) (any, error) {
		cfg, err := config.LoadAWS(os.LookupEnv)
		if err != nil {
			return nil, err
		}
		p, awsCfg, err := OpenItems(cfg, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		for _, o := range open {
			o(awsCfg, cfg, &p)
		}
		return RouteHandler(name, p, build)
	})
}

// Start runs a Lambda whose handler build makes; on a start-up failure it logs why and
// exits, so the function's logs say why it never served.
func Start(what string, build func(context.Context) (any, error)) {
	h, err := build(context.Background())
	if err != nil {
		Logger().Error("start failed", "function", what, "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}

// Logger is the functions' structured logger (JSON on stderr, which Lambda ships to logs).
func Logger() *slog.Logger { return slog.New(slog.NewJSONHandler(os.Stderr, nil)) }

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
