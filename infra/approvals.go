package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sfngate"
)

// ApprovalsProps names the approval gate.
type ApprovalsProps struct {
	// Name is the state machine's and the activity's physical name (the execution ARNs the
	// grants cover derive from it).
	Name string
	// ActivityOutsideStack leaves the activity out of the template and refers to it by its
	// ARN (this account and region, Name): MiniStack's CloudFormation has no
	// AWS::StepFunctions::Activity, so scripts/emulator-deploy.sh creates it in a named step
	// (localstack/README.md). Emulator target only.
	ActivityOutsideStack bool
}

// Approvals is the Step Functions approval gate of sends that need approval
// (internal/awsadapter/sfngate): an activity whose task token the functions record, and a
// standard state machine built from sfngate.Definition that waits on it for at most the
// execution input's timeoutSeconds (the approval window; States.Timeout after it). The
// adapter also treats a gate past the deadline in its input as expired, whatever the
// service does with the timeout.
type Approvals struct {
	constructs.Construct
	Activity     awsstepfunctions.IActivity
	StateMachine awsstepfunctions.StateMachine
	name         string
}

// NewApprovals creates the activity and the state machine. The machine's role needs no
// permission: an activity task calls nothing, the functions poll it.
func NewApprovals(scope constructs.Construct, id string, props ApprovalsProps) *Approvals {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &Approvals{Construct: c, name: props.Name}
	if props.ActivityOutsideStack {
		a.Activity = awsstepfunctions.Activity_FromActivityName(c, jsii.String("Activity"), jsii.String(props.Name))
	} else {
		a.Activity = awsstepfunctions.NewActivity(c, jsii.String("Activity"), &awsstepfunctions.ActivityProps{
			ActivityName: jsii.String(props.Name),
		})
	}
	a.StateMachine = awsstepfunctions.NewStateMachine(c, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName: jsii.String(props.Name),
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromString(jsii.String(sfngate.Definition(*a.Activity.ActivityArn()))),
		Comment:          jsii.String("AISPM approval gate: one decision per send, or States.Timeout after the approval window"),
	})
	return a
}

// Actions of the gate adapter (sfngate.API), by resource.
var (
	gateMachineActions   = []string{"states:StartExecution"}
	gateExecutionActions = []string{"states:DescribeExecution"}
	gateActivityActions  = []string{"states:GetActivityTask", "states:SendTaskSuccess", "states:SendTaskFailure"}
)

// executionArn matches the executions of the gate's state machine.
func (a *Approvals) executionArn() *string {
	return awscdk.Stack_Of(a.Construct).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("execution"), ResourceName: jsii.String(a.name + ":*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// GrantUseGate lets grantee open gates (start an execution and take its activity task),
// read them and decide them, on this gate only.
func (a *Approvals) GrantUseGate(grantee awsiam.IGrantable) {
	for _, g := range []struct {
		actions  []string
		resource *string
	}{
		{gateMachineActions, a.StateMachine.StateMachineArn()},
		{gateExecutionActions, a.executionArn()},
		{gateActivityActions, a.Activity.ActivityArn()},
	} {
		awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
			Grantee: grantee, Actions: jsii.Strings(g.actions...), ResourceArns: &[]*string{g.resource},
		})
	}
}

// mailActions: SES v2 SendEmail with raw content (internal/awsadapter/sesmail); IAM checks
// both names for it.
var mailActions = []string{"ses:SendEmail", "ses:SendRawEmail"}

// senderIdentityArn is the SES identity (address or domain) in this account and region.
func senderIdentityArn(scope constructs.Construct, identity string) *string {
	return awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ses"), Resource: jsii.String("identity"), ResourceName: jsii.String(identity),
		ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}
