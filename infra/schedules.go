package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
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

// Schedules is what the per-tenant schedules fire: the schedule-runner function and the
// role EventBridge Scheduler assumes to invoke it. The schedules themselves are not in the
// stack: the render route creates them at run time, one group per tenant (tenant-<id>,
// internal/artifacts.ScheduleGroup), each targeting Runner with SchedulerRole.
type Schedules struct {
	constructs.Construct
	Runner        awslambda.Function
	SchedulerRole awsiam.Role
}

const (
	schedulerService = "scheduler.amazonaws.com"
	// tenantGroups matches every tenant's schedule group name (internal/artifacts.ScheduleGroup;
	// an assertions test keeps the two in step).
	tenantGroups = "tenant-*"
)

// NewSchedules creates the schedule-runner and the scheduler's role, which may invoke the
// schedule-runner and nothing else.
func NewSchedules(scope constructs.Construct, id string, props SchedulesProps) (*Schedules, error) {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := &Schedules{Construct: c}
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
	if selfScheduling {
		name := props.RunnerName
		s.Runner.Node().DefaultChild().(awslambda.CfnFunction).SetFunctionName(jsii.String(name))
		self := awscdk.Stack_Of(c).FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("lambda"), Resource: jsii.String("function"), ResourceName: jsii.String(name),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})
		s.Runner.AddEnvironment(jsii.String(config.EnvScheduleTargetARN), self, nil)
		s.Runner.AddEnvironment(jsii.String(config.EnvScheduleRoleARN), s.SchedulerRole.RoleArn(), nil)
		s.GrantManageTenantSchedules(s.Runner)
	}
	return s, nil
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
