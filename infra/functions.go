package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// FunctionsProps is what every Go Lambda of the stack shares.
type FunctionsProps struct {
	Data *Data
	// SigningKey signs for the functions whose Access has Sign.
	SigningKey awskms.IKey
	// Arch is ArchARM64 or ArchX8664; code comes from <DistDir>/<dist arch dir>/<name>.zip.
	Arch    string
	DistDir string
	// Env is added to every function's environment (for example the emulator endpoint).
	Env          map[string]string
	LogRetention awslogs.RetentionDays
	// SenderIdentity is the SES identity the functions with Access.Mail send from; empty
	// disables mail (no AISPM_SES_ENABLED, no SES grant).
	SenderIdentity string
}

// Functions builds the stack's Go Lambdas (`provided.al2023`, `bootstrap` from
// functions/<name>) and turns each one's Access into grant* calls and environment. It is a
// builder, not a construct: each function lives in the construct of its concern (API,
// Audit, Schedules), so its logical ID follows that construct.
type Functions struct {
	props FunctionsProps
	// schedules is set once the Schedules construct exists; a function with
	// Access.Schedules needs it.
	schedules *Schedules
	// approvals is the approval gate; a function with Access.Approvals needs it.
	approvals *Approvals
}

// NewFunctions returns the builder.
func NewFunctions(props FunctionsProps) *Functions { return &Functions{props: props} }

// UseSchedules makes the schedule target (the schedule-runner and the role EventBridge
// Scheduler assumes) available to the functions that create schedules.
func (f *Functions) UseSchedules(s *Schedules) { f.schedules = s }

// UseApprovals makes the approval gate available to the functions that open or decide it.
func (f *Functions) UseApprovals(a *Approvals) { f.approvals = a }

// New creates functions/<name> in scope with its log group, environment and grants.
func (f *Functions) New(scope constructs.Construct, name string, access Access, timeoutSeconds float64) (awslambda.Function, error) {
	p := f.props
	env := map[string]*string{
		config.EnvTable:          p.Data.Table.TableName(),
		config.EnvArtifactBucket: p.Data.Bucket.BucketName(),
	}
	if access.usesSigningKey() {
		env[config.EnvSigningKeyID] = p.SigningKey.KeyArn()
	}
	if access.Schedules {
		if f.schedules == nil {
			return nil, fmt.Errorf("function %s creates schedules, but the stack has no schedule target yet", name)
		}
		env[config.EnvScheduleTargetARN] = f.schedules.Runner.FunctionArn()
		env[config.EnvScheduleRoleARN] = f.schedules.SchedulerRole.RoleArn()
		env[config.EnvScheduleDeadLetterARN] = f.schedules.DeadLetters.QueueArn()
	}
	if access.Approvals {
		if f.approvals == nil {
			return nil, fmt.Errorf("function %s uses the approval gate, but the stack has none yet", name)
		}
		env[config.EnvApprovalStateMachineARN] = f.approvals.StateMachine.StateMachineArn()
		env[config.EnvApprovalActivityARN] = f.approvals.Activity.ActivityArn()
	}
	if access.Mail && p.SenderIdentity != "" {
		env[config.EnvSESEnabled] = jsii.String("true")
	}
	for k, v := range p.Env {
		env[k] = jsii.String(v)
	}
	zip := filepath.Join(p.DistDir, distArchDir[p.Arch], name+".zip")
	if _, err := os.Stat(zip); err != nil {
		return nil, fmt.Errorf("function %s: %w (build it with LAMBDA_ARCH=%s scripts/build-lambdas.sh)", name, err, distArchDir[p.Arch])
	}
	logs := awslogs.NewLogGroup(scope, jsii.String(name+"-logs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	fn := awslambda.NewFunction(scope, jsii.String(name), &awslambda.FunctionProps{
		Description:  jsii.String(functionDescriptionPrefix + name),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: architecture(p.Arch),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(zip), nil),
		MemorySize:   jsii.Number(256),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(timeoutSeconds)),
		Environment:  &env,
		LogGroup:     logs,
	})
	f.grant(fn, access)
	return fn, nil
}

// functionDescriptionPrefix + functions/<name> is every function's description (the
// assertions tests find functions by it).
const functionDescriptionPrefix = "AISPM reports: "

func architecture(arch string) awslambda.Architecture {
	if arch == ArchX8664 {
		return awslambda.Architecture_X86_64()
	}
	return awslambda.Architecture_ARM_64()
}

// tokenPartitions are the partition keys of token records (internal/auth).
const tokenPartitions = "TOKEN#*"

// grant turns an Access into grant* calls: no hand-written IAM beyond the one condition
// grant* cannot express.
func (f *Functions) grant(fn awslambda.Function, a Access) {
	d, signing := f.props.Data, f.props.SigningKey
	switch a.Table {
	case TableRead:
		d.Table.GrantReadData(fn)
	case TableReadWrite:
		d.Table.GrantReadWriteData(fn)
	}
	if a.TouchTokens {
		// No grant* covers one partition: a condition on the leading keys narrows it.
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("dynamodb:UpdateItem"),
			Resources: &[]*string{d.Table.TableArn()},
			Conditions: &map[string]any{"ForAllValues:StringLike": map[string]any{
				"dynamodb:LeadingKeys": []string{tokenPartitions}}},
		}))
	}
	if a.ObjectsRead {
		d.Bucket.GrantRead(fn, nil)
	}
	if a.ObjectsWrite {
		d.Bucket.GrantPut(fn, nil)
	}
	if a.ObjectsDelete {
		d.Bucket.GrantDelete(fn, nil)
	}
	if a.Sign {
		signing.GrantSign(fn)
	}
	if a.Sign || a.PublicKey {
		signing.Grant(fn, jsii.String("kms:GetPublicKey"))
	}
	if a.Schedules {
		f.schedules.GrantManageTenantSchedules(fn)
	}
	if a.Approvals {
		f.approvals.GrantUseGate(fn)
	}
	if a.Mail && f.props.SenderIdentity != "" {
		awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
			Grantee: fn, Actions: jsii.Strings(mailActions...),
			ResourceArns: &[]*string{senderIdentityArn(fn, f.props.SenderIdentity)},
		})
	}
}
