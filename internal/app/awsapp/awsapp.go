// Package awsapp opens the whole product on its AWS adapters (DynamoDB, S3 Object Lock, KMS,
// SES, Step Functions, EventBridge Scheduler) for the Lambda functions that need more than
// the state stores, in AWS or against an emulator endpoint.
package awsapp

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	sched "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/cavra-enterprise/aispm-reports/internal/app"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awscore"
	"github.com/cavra-enterprise/aispm-reports/internal/app/awsobjects"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/ebsched"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/kmssigner"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sesmail"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sfngate"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/ports"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// Open builds every service: the state stores of awscore plus the integrations that are
// configured (KMS signing, SES, Step Functions approvals, EventBridge Scheduler).
func Open(cfg config.AWS, lookup config.Lookup) (*app.Services, error) {
	p, err := OpenPorts(cfg, lookup)
	if err != nil {
		return nil, err
	}
	return app.Build(p), nil
}

// OpenPorts opens the state stores and the configured integrations.
func OpenPorts(cfg config.AWS, lookup config.Lookup) (ports.Set, error) {
	p, awsCfg, err := awscore.OpenItems(cfg, lookup)
	if err != nil {
		return ports.Set{}, err
	}
	awsobjects.Open(awsCfg, cfg, &p)
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
		p.Gate = sfngate.New(sfn.NewFromConfig(awsCfg), sfngate.NewItemTokens(p.Items),
			sfngate.Config{StateMachineARN: cfg.ApprovalStateMachineARN, ActivityARN: cfg.ApprovalActivityARN})
	}
	if cfg.ScheduleTargetARN != "" {
		p.Scheduler = ebsched.New(sched.NewFromConfig(awsCfg), ebsched.Target{
			FunctionARN: cfg.ScheduleTargetARN, RoleARN: cfg.ScheduleRoleARN, DeadLetterARN: cfg.ScheduleDeadLetterARN,
		})
	}
	return p, nil
}

// RouteHandler returns the Lambda handler for one route, served with every service.
func RouteHandler(name string, lookup config.Lookup) (any, error) {
	cfg, err := config.LoadAWS(lookup)
	if err != nil {
		return nil, err
	}
	p, err := OpenPorts(cfg, lookup)
	if err != nil {
		return nil, err
	}
	return awscore.RouteHandler(name, p, app.RouteHandlers)
}

// StartRoute runs the Lambda for one route that needs more than the state stores.
func StartRoute(name string) {
	awscore.Start("route "+name, func(context.Context) (any, error) { return RouteHandler(name, os.LookupEnv) })
}

// ScheduleRunnerHandler returns the target of EventBridge Scheduler: the event is the
// schedule's payload (its Target.Input), handed to the domain like an embedded firing.
func ScheduleRunnerHandler(lookup config.Lookup) (func(context.Context, json.RawMessage) error, error) {
	cfg, err := config.LoadAWS(lookup)
	if err != nil {
		return nil, err
	}
	svc, err := Open(cfg, lookup)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, payload json.RawMessage) error {
		return svc.Fire(ctx, scheduler.Firing{Payload: payload, At: time.Now().UTC()})
	}, nil
}

// StartScheduleRunner runs the schedule-runner Lambda.
func StartScheduleRunner() {
	awscore.Start("schedule-runner", func(context.Context) (any, error) { return ScheduleRunnerHandler(os.LookupEnv) })
}
