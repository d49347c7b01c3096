package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// SchedulesProps configures the target of the tenants' EventBridge Scheduler schedules.
type SchedulesProps struct {
	Functions *Functions
	// RunnerName is the schedule-runner's physical function name (it targets itself).
	RunnerName string
}

// Schedules is what the per-tenant schedules fire: the schedule-runner function, the role
// EventBridge Scheduler assumes to invoke it and the queue a firing goes to when every
// retry failed. The schedules themselves are not in the stack: the functions with
// Access.Schedules create them at run time, one group per tenant (tenant-<id>,
// internal/artifacts.ScheduleGroup), each targeting Runner with SchedulerRole and
// dead-lettering to DeadLetters (internal/awsadapter/ebsched sets the retry policy).
type Schedules struct {
	constructs.Construct
	Runner        awslambda.Function
	SchedulerRole awsiam.Role
	// DeadLetters keeps the firings the scheduler could not deliver (an expiry sweep or a
	// delivery retry that never ran); DeadLetterAlarm fires on the first one.
	DeadLetters     awssqs.Queue
	DeadLetterAlarm awscloudwatch.Alarm
}

const (
	schedulerService = "scheduler.amazonaws.com"
	// tenantGroups matches every tenant's schedule group name (internal/artifacts.ScheduleGroup;
	// an assertions test keeps the two in step).
	tenantGroups = "tenant-*"
)

// NewSchedules creates the schedule-runner, the dead-letter queue and the scheduler's
// role, which may invoke the schedule-runner and send to the dead-letter queue, and
// nothing else.
func NewSchedules(scope constructs.Construct, id string, props SchedulesProps) (*Schedules, error) {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Schedules{Construct: c}
	s.newDeadLetters()
	var err error
	// The runner schedules delivery retries that fire itself: its schedule target is its own
	// ARN, built from a physical name (a Fn::GetAtt on itself would be a circular reference).
	access := triggerAccess[scheduleRunnerName]
	selfScheduling := access.Schedules
	access.Schedules = false
	s.Runner, err = props.Functions.New(c, scheduleRunnerName, access, 60)
	if err != nil {
		return nil, err
	}
	s.SchedulerRole = awsiam.NewRole(c, jsii.String("SchedulerRole"), &awsiam.RoleProps{
		Description: jsii.String("EventBridge Scheduler fires the tenants' schedules (groups " + tenantGroups + ") at the schedule-runner"),
		AssumedBy:   schedulerPrincipal(c, groupArn(c, tenantGroups)),
	})
	s.Runner.GrantInvoke(s.SchedulerRole)
	// The scheduler sends the undeliverable firing itself, as the schedule's role.
	s.DeadLetters.GrantSendMessages(s.SchedulerRole)
	if selfScheduling {
		name := props.RunnerName
		s.Runner.Node().DefaultChild().(awslambda.CfnFunction).SetFunctionName(jsii.String(name))
		self := awscdk.Stack_Of(c).FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("lambda"), Resource: jsii.String("function"), ResourceName: jsii.String(name),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})
		s.Runner.AddEnvironment(jsii.String(config.EnvScheduleTargetARN), self, nil)
		s.Runner.AddEnvironment(jsii.String(config.EnvScheduleRoleARN), s.SchedulerRole.RoleArn(), nil)
		s.Runner.AddEnvironment(jsii.String(config.EnvScheduleDeadLetterARN), s.DeadLetters.QueueArn(), nil)
		s.GrantManageTenantSchedules(s.Runner)
	}
	return s, nil
}

// newDeadLetters creates the dead-letter queue of the tenants' schedules and its alarm. A
// message in it is a firing that never ran (an artifact not expired on time, a delivery
// not retried): it is kept the longest SQS allows and raises the alarm at once.
func (s *Schedules) newDeadLetters() {
	s.DeadLetters = awssqs.NewQueue(s.Construct, jsii.String("ScheduleDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
	})
	s.DeadLetterAlarm = awscloudwatch.NewAlarm(s.Construct, jsii.String("ScheduleDeadLetterAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("A tenant schedule's firing never reached the schedule-runner after its retries: it is in the schedule dead-letter queue"),
		Metric: s.DeadLetters.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
		}),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// schedulerPrincipal is EventBridge Scheduler acting for this account's schedule groups
// matching groupArn only (no confused deputy through another account's schedules).
func schedulerPrincipal(scope constructs.Construct, groupArn *string) awsiam.IPrincipal {
	return awsiam.NewServicePrincipal(jsii.String(schedulerService), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(scope).Account()},
			"ArnLike":      map[string]any{"aws:SourceArn": groupArn},
		},
	})
}

// groupArn is the ARN of the schedule group(s) named name in this account and region.
func groupArn(scope constructs.Construct, name string) *string {
	return awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("scheduler"), Resource: jsii.String("schedule-group"), ResourceName: jsii.String(name),
		ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

// scheduleArn is the ARN of schedule name in group (patterns allowed) in this account and region.
func scheduleArn(scope constructs.Construct, group, name string) *string {
	return awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("scheduler"), Resource: jsii.String("schedule"), ResourceName: jsii.String(group + "/" + name),
		ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

// Actions a function that creates tenant schedules may take (internal/awsadapter/ebsched).
var (
	tenantScheduleActions = []string{"scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"}
	tenantGroupActions    = []string{"scheduler:CreateScheduleGroup", "scheduler:GetScheduleGroup"}
)

// GrantManageTenantSchedules lets grantee create, update, delete and read schedules in the
// tenants' groups (creating a tenant's group on its first schedule) of this account and
// region, and pass SchedulerRole, and only it, to EventBridge Scheduler.
func (s *Schedules) GrantManageTenantSchedules(grantee awsiam.IGrantable) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: grantee, Actions: jsii.Strings(tenantScheduleActions...),
		ResourceArns: &[]*string{scheduleArn(s.Construct, tenantGroups, "*")},
	})
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: grantee, Actions: jsii.Strings(tenantGroupActions...),
		ResourceArns: &[]*string{groupArn(s.Construct, tenantGroups)},
	})
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: grantee, Actions: jsii.Strings("iam:PassRole"),
		ResourceArns: &[]*string{s.SchedulerRole.RoleArn()},
		Conditions:   &map[string]*map[string]any{"StringEquals": {"iam:PassedToService": schedulerService}},
	})
}
