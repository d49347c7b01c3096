package sfngate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Error names the adapter sends with SendTaskFailure.
const (
	// ErrorExpired closes a gate the adapter found past its deadline before Step Functions
	// timed it out itself (an emulator may not enforce TimeoutSecondsPath at all).
	ErrorExpired = "ApprovalGate.Expired"
	// ErrorBadTask fails an activity task whose input names no gate.
	ErrorBadTask = "ApprovalGate.BadTask"
)

// Definition is the gate's state machine (Amazon States Language) around the activity:
// one Task waits for a single decision for at most $.timeoutSeconds, then a Choice turns
// it into {"status":"approved"|"denied","decision":{...}}. A timeout fails the execution
// with States.Timeout. The CDK app builds the same machine from this text.
func Definition(activityARN string) string {
	def := map[string]any{
		"Comment": "Approval gate: one decision on an activity task, or States.Timeout after $.timeoutSeconds.",
		"StartAt": "AwaitDecision",
		"States": map[string]any{
			"AwaitDecision": map[string]any{
				"Type":               "Task",
				"Resource":           activityARN,
				"TimeoutSecondsPath": "$.timeoutSeconds",
				"ResultPath":         "$.decision",
				"Next":               "Route",
			},
			"Route": map[string]any{
				"Type": "Choice",
				"Choices": []any{map[string]any{
					"Variable": "$.decision.approved", "BooleanEquals": true, "Next": "Approved",
				}},
				"Default": "Denied",
			},
			"Approved": map[string]any{
				"Type": "Pass", "End": true,
				"Parameters": map[string]any{"status": "approved", "decision.$": "$.decision"},
			},
			"Denied": map[string]any{
				"Type": "Pass", "End": true,
				"Parameters": map[string]any{"status": "denied", "decision.$": "$.decision"},
			},
		},
	}
	raw, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		panic(err) // a literal of maps and strings always encodes
	}
	return string(raw)
}

// ProvisionAPI is what Provision needs.
type ProvisionAPI interface {
	CreateActivity(context.Context, *sfn.CreateActivityInput, ...func(*sfn.Options)) (*sfn.CreateActivityOutput, error)
	ListActivities(context.Context, *sfn.ListActivitiesInput, ...func(*sfn.Options)) (*sfn.ListActivitiesOutput, error)
	CreateStateMachine(context.Context, *sfn.CreateStateMachineInput, ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
}

// Provision creates the activity and the state machine named name, for tests and emulator
// setup; in AWS the CDK stack owns them. roleARN is the machine's execution role.
func Provision(ctx context.Context, client ProvisionAPI, name, roleARN string) (stateMachineARN, activityARN string, err error) {
	activityARN, err = createActivity(ctx, client, name)
	if err != nil {
		return "", "", err
	}
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(name),
		Definition: aws.String(Definition(activityARN)),
		RoleArn:    aws.String(roleARN),
		Type:       types.StateMachineTypeStandard,
	})
	if err != nil {
		return "", "", fmt.Errorf("create state machine %s: %w", name, err)
	}
	return aws.ToString(sm.StateMachineArn), activityARN, nil
}

// createActivity creates the activity, or finds it when it already exists: CreateActivity
// is idempotent in AWS, but an emulator may answer a retried call (the SDK retries one
// whose answer was lost) with ActivityAlreadyExists.
func createActivity(ctx context.Context, client ProvisionAPI, name string) (string, error) {
	act, err := client.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String(name)})
	if err == nil {
		return aws.ToString(act.ActivityArn), nil
	}
	var exists *types.ActivityAlreadyExists
	if !errors.As(err, &exists) {
		return "", fmt.Errorf("create activity %s: %w", name, err)
	}
	p := sfn.NewListActivitiesPaginator(client, &sfn.ListActivitiesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("find activity %s: %w", name, err)
		}
		for _, a := range page.Activities {
			if aws.ToString(a.Name) == name {
				return aws.ToString(a.ActivityArn), nil
			}
		}
	}
	return "", fmt.Errorf("create activity %s: %w", name, err)
}
