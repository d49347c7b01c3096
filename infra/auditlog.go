package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AuditProps configures the audit log's functions (docs/audit.md).
type AuditProps struct {
	Functions *Functions
	Data      *Data
	// SealerScheduleName names the sealer's EventBridge Scheduler schedule (default group).
	SealerScheduleName string
	// SealEveryMinutes is the sealer's rate; 0 means every minute.
	SealEveryMinutes int
}

// Audit is the audit log's machinery: the writer consumes the table's stream and appends
// every evidence record to its tenant's hash-chained log (sealing what becomes due after
// each batch); the sealer runs on a schedule and seals the quiet tenants whose checkpoint
// is due by age.
type Audit struct {
	constructs.Construct
	Writer, Sealer awslambda.Function
	// Failures holds the description of every stream batch the writer never appended (its
	// retries spent, or the records aged out of the stream's 24 hours): the evidence records
	// themselves stay in the table, this says which ones the log is missing.
	Failures awssqs.Queue
	// LagAlarm fires while the writer falls an hour behind the stream, long before records
	// can age out; FailureAlarm fires on any batch in Failures.
	LagAlarm, FailureAlarm awscloudwatch.Alarm
	SealerSchedule         awsscheduler.Schedule
	// SealerScheduleRole is what EventBridge Scheduler assumes to invoke the sealer (and only it).
	SealerScheduleRole awsiam.Role
}

// auditWriterRetries is how often a failed stream batch is retried (the service maximum):
// a record the writer never appends is a hole in the tenant's evidence, and re-deliveries
// are harmless (the writer appends each record exactly once).
const auditWriterRetries = 10000

// auditLagAlarmMillis is the writer's iterator age that raises the lag alarm: an hour, so
// people have most of the stream's 24 hours to act before a record can age out.
const auditLagAlarmMillis = 60 * 60 * 1000

// NewAudit creates the writer on the table's stream and the scheduled sealer.
func NewAudit(scope constructs.Construct, id string, props AuditProps) (*Audit, error) {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &Audit{Construct: c}
	var err error
	if a.Writer, err = props.Functions.New(c, auditWriterName, triggerAccess[auditWriterName], 60); err != nil {
		return nil, err
	}
	a.Failures = awssqs.NewQueue(c, jsii.String("StreamFailures"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
	})
	props.Data.AddStreamConsumer(a.Writer, StreamConsumerProps{BatchSize: 100, RetryAttempts: auditWriterRetries,
		OnFailure: awslambdaeventsources.NewSqsDlq(a.Failures)})
	a.LagAlarm = awscloudwatch.NewAlarm(c, jsii.String("WriterLagAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("The audit writer is more than an hour behind the table stream; records leave the stream after 24 hours"),
		Metric: a.Writer.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
		}),
		Threshold:          jsii.Number(auditLagAlarmMillis),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	a.FailureAlarm = awscloudwatch.NewAlarm(c, jsii.String("WriterFailureAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("A table stream batch never reached the audit log: its description is in the stream failure queue"),
		Metric: a.Failures.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
		}),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})

	if a.Sealer, err = props.Functions.New(c, auditSealerName, triggerAccess[auditSealerName], 60); err != nil {
		return nil, err
	}
	every := props.SealEveryMinutes
	if every <= 0 {
		every = 1
	}
	a.SealerScheduleRole = awsiam.NewRole(c, jsii.String("SealerScheduleRole"), &awsiam.RoleProps{
		Description: jsii.String("EventBridge Scheduler invokes the audit sealer"),
		AssumedBy:   schedulerPrincipal(c, groupArn(c, "default")),
	})
	a.SealerSchedule = awsscheduler.NewSchedule(c, jsii.String("SealerSchedule"), &awsscheduler.ScheduleProps{
		ScheduleName: jsii.String(props.SealerScheduleName),
		Description:  jsii.String("Seals the audit logs whose checkpoint is due by age"),
		Schedule:     awsscheduler.ScheduleExpression_Rate(awscdk.Duration_Minutes(jsii.Number(float64(every)))),
		// No retries: the next firing seals whatever this one left.
		Target: awsschedulertargets.NewLambdaInvoke(a.Sealer, &awsschedulertargets.ScheduleTargetBaseProps{
			Role: a.SealerScheduleRole, RetryAttempts: jsii.Number(0),
		}),
	})
	return a, nil
}
