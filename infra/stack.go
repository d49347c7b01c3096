package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/api"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// Stack is the whole service: data, signing key, the schedule target, the HTTP API and
// the audit log's functions.
type Stack struct {
	awscdk.Stack
	Data      *Data
	Signing   *Signing
	Schedules *Schedules
	Approvals *Approvals
	API       *API
	Audit     *Audit
}

// Stack outputs the deploy scripts and the end-to-end test read.
const (
	OutAPIID          = "ApiId"
	OutAPIEndpoint    = "ApiEndpoint"
	OutTableName      = "TableName"
	OutBucketName     = "ArtifactBucketName"
	OutSigningKeyArn  = "SigningKeyArn"
	OutArtifactKeyArn = "ArtifactKeyArn"
	OutSenderIdentity = "SenderIdentity"
	// The functions events start and the schedule target (the end-to-end test invokes the
	// sealer and checks the schedules).
	OutAuditWriterFunction = "AuditWriterFunctionName"
	OutAuditSealerFunction = "AuditSealerFunctionName"
	OutAuditSealerSchedule = "AuditSealerScheduleName"
	// Where the descriptions of stream batches the audit writer never appended land.
	OutAuditFailureQueueArn = "AuditFailureQueueArn"
	OutAuditFailureQueueURL = "AuditFailureQueueUrl"
	OutScheduleRunnerArn    = "ScheduleRunnerFunctionArn"
	OutSchedulerRoleArn     = "SchedulerRoleArn"
	// Where the tenant schedules' firings that never reached the schedule-runner land.
	OutScheduleDeadLetterQueueURL = "ScheduleDeadLetterQueueUrl"
	// The approval gate (the end-to-end test reads executions back).
	OutApprovalStateMachineArn = "ApprovalStateMachineArn"
	OutApprovalActivityArn     = "ApprovalActivityArn"
)

// NewStack builds the stack for cfg. The route table (internal/api.Routes) decides the
// routes and their functions.
func NewStack(scope constructs.Construct, cfg Config) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	access, err := accessFor(api.Routes())
	if err != nil {
		return nil, err
	}
	logDays, err := logRetention(cfg.LogRetentionDays)
	if err != nil {
		return nil, err
	}
	props := &awscdk.StackProps{
		Description: jsii.String("AISPM Report Center (" + cfg.Target + ")"),
	}
	if cfg.Account != "" || cfg.Region != "" {
		props.Env = &awscdk.Environment{}
		if cfg.Account != "" {
			props.Env.Account = jsii.String(cfg.Account)
		}
		if cfg.Region != "" {
			props.Env.Region = jsii.String(cfg.Region)
		}
	}
	st := awscdk.NewStack(scope, jsii.String(cfg.StackName), props)
	s := &Stack{Stack: st}
	s.Data = NewData(st, "Data", DataProps{
		TableName: cfg.TableName, BucketName: cfg.ArtifactBucketName, ObjectLockDays: cfg.ObjectLockDays,
	})
	s.Signing = NewSigning(st, "Signing", SigningProps{})
	env := map[string]string{}
	if cfg.AWSEndpoint != "" {
		env[config.EnvAWSEndpoint] = cfg.AWSEndpoint
	}
	if cfg.SESEndpoint != "" {
		env[config.EnvSESEndpoint] = cfg.SESEndpoint
	}
	functions := NewFunctions(FunctionsProps{
		Data: s.Data, SigningKey: s.Signing.Key, Arch: cfg.Arch, DistDir: cfg.DistDir, Env: env, LogRetention: logDays,
		SenderIdentity: cfg.SenderIdentity,
	})
	s.Approvals = NewApprovals(st, "Approvals", ApprovalsProps{
		Name: cfg.StackName + "-approval-gate", ActivityOutsideStack: cfg.Target == TargetEmulator,
	})
	functions.UseApprovals(s.Approvals)
	if s.Schedules, err = NewSchedules(st, "Schedules", SchedulesProps{
		Functions: functions, RunnerName: cfg.StackName + "-schedule-runner",
	}); err != nil {
		return nil, err
	}
	functions.UseSchedules(s.Schedules)
	s.API, err = NewAPI(st, "Api", APIProps{Name: cfg.StackName, Routes: api.Routes(), Access: access, Functions: functions})
	if err != nil {
		return nil, err
	}
	s.Audit, err = NewAudit(st, "Audit", AuditProps{
		Functions: functions, Data: s.Data, SealerScheduleName: cfg.StackName + "-audit-sealer",
	})
	if err != nil {
		return nil, err
	}

	output := func(id string, v *string) {
		awscdk.NewCfnOutput(st, jsii.String(id), &awscdk.CfnOutputProps{Value: v})
	}
	output(OutAPIID, s.API.HTTPAPI.ApiId())
	output(OutAPIEndpoint, s.API.HTTPAPI.ApiEndpoint())
	output(OutTableName, s.Data.Table.TableName())
	output(OutBucketName, s.Data.Bucket.BucketName())
	output(OutSigningKeyArn, s.Signing.Key.KeyArn())
	output(OutArtifactKeyArn, s.Data.Key.KeyArn())
	output(OutAuditWriterFunction, s.Audit.Writer.FunctionName())
	output(OutAuditSealerFunction, s.Audit.Sealer.FunctionName())
	output(OutAuditSealerSchedule, s.Audit.SealerSchedule.ScheduleName())
	output(OutAuditFailureQueueArn, s.Audit.Failures.QueueArn())
	output(OutAuditFailureQueueURL, s.Audit.Failures.QueueUrl())
	output(OutScheduleRunnerArn, s.Schedules.Runner.FunctionArn())
	output(OutSchedulerRoleArn, s.Schedules.SchedulerRole.RoleArn())
	output(OutScheduleDeadLetterQueueURL, s.Schedules.DeadLetters.QueueUrl())
	output(OutApprovalStateMachineArn, s.Approvals.StateMachine.StateMachineArn())
	output(OutApprovalActivityArn, s.Approvals.Activity.ActivityArn())
	if cfg.SenderIdentity != "" {
		output(OutSenderIdentity, jsii.String(cfg.SenderIdentity))
	}
	return s, nil
}
