package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/sfngate"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// The functions a send, a decision or a retry runs in (internal/delivery through
// internal/app/awsapp) and only those use the gate and mail.
var (
	// Sends and their decisions, and the schedule routes that open or decide a schedule's gate.
	gateUsers = []string{"patch-schedule", "post-distribution-approve", "post-distribution-deny", "post-schedule", "post-schedule-approve",
		"post-schedule-deny", "post-schedule-resume", "post-send", scheduleRunnerName}
	mailUsers = []string{"post-distribution-approve", "post-send", scheduleRunnerName}
)

func usersOf(t *testing.T, target string, has func(Access) bool) []string {
	var got []string
	for name := range functionsByName(t, target) {
		if has(accessOf(t, name)) {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	return got
}

// The approval gate is one activity and one standard state machine built from
// sfngate.Definition; its users get its ARNs and the adapter's actions on it alone.
func TestApprovalGate(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, tp assertions.Template) {
		cfg := map[string]Config{TargetAWS: awsCfg, TargetEmulator: emuCfg}[target]
		name := cfg.StackName + "-approval-gate"
		assert(t, "one state machine", func() { tp.ResourceCountIs(jsii.String("AWS::StepFunctions::StateMachine"), jsii.Number(1)) })
		// activityRef is how the template names the activity: a Ref to its resource in AWS; on
		// the emulator (whose CloudFormation has no activity type; the deploy script creates
		// it) its ARN by name.
		activityArn := "arn:aws:states:" + cfg.Region + ":" + cfg.Account + ":activity:" + name
		var machine, activityRef string
		if target == TargetAWS {
			assert(t, "one activity", func() { tp.ResourceCountIs(jsii.String("AWS::StepFunctions::Activity"), jsii.Number(1)) })
			assert(t, "activity", func() {
				tp.HasResourceProperties(jsii.String("AWS::StepFunctions::Activity"), obj{"Name": name})
			})
			for id := range resources(target, "AWS::StepFunctions::Activity") {
				activityRef = fmt.Sprint(obj{"Ref": id})
			}
		} else {
			assert(t, "no activity resource", func() { tp.ResourceCountIs(jsii.String("AWS::StepFunctions::Activity"), jsii.Number(0)) })
			activityRef = fmt.Sprint(obj{"Fn::Join": []any{"", []any{"arn:", obj{"Ref": "AWS::Partition"}, strings.TrimPrefix(activityArn, "arn:aws")}}})
		}
		for id, r := range resources(target, "AWS::StepFunctions::StateMachine") {
			machine = id
			p := r["Properties"].(obj)
			if p["StateMachineName"] != name || p["StateMachineType"] != "STANDARD" {
				t.Errorf("state machine %v / %v, want %s STANDARD", p["StateMachineName"], p["StateMachineType"], name)
			}
			// The definition is sfngate.Definition with the activity's ARN in its place.
			parts := p["DefinitionString"].(obj)["Fn::Join"].([]any)[1].([]any)
			var def strings.Builder
			for _, part := range parts {
				switch s, ok := part.(string); {
				case ok:
					def.WriteString(s)
				case fmt.Sprint(part) == activityRef:
					def.WriteString("ACTIVITY")
				case target == TargetEmulator && fmt.Sprint(part) == fmt.Sprint(obj{"Ref": "AWS::Partition"}):
					def.WriteString("aws")
				default:
					t.Fatalf("unexpected part %v in the definition", part)
				}
			}
			if target == TargetEmulator {
				s := strings.Replace(def.String(), activityArn, "ACTIVITY", 1)
				def.Reset()
				def.WriteString(s)
			}
			var got, want any
			if err := json.Unmarshal([]byte(def.String()), &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal([]byte(sfngate.Definition("ACTIVITY")), &want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("definition\n%v\nwant sfngate.Definition\n%v", got, want)
			}
		}
		if got := usersOf(t, target, func(a Access) bool { return a.Approvals }); !slices.Equal(got, gateUsers) {
			t.Errorf("gate users %v, want %v", got, gateUsers)
		}
		scope := ":states:" + cfg.Region + ":" + cfg.Account + ":execution:" + name + ":*"
		fns := functionsByName(t, target)
		for _, user := range gateUsers {
			env := functionEnv(target, fns[user])
			if fmt.Sprint(env[config.EnvApprovalStateMachineARN]) != fmt.Sprint(obj{"Ref": machine}) ||
				fmt.Sprint(env[config.EnvApprovalActivityARN]) != activityRef {
				t.Errorf("%s: gate env %v / %v, want %s and %s", user, env[config.EnvApprovalStateMachineARN], env[config.EnvApprovalActivityARN], machine, activityRef)
			}
			seen := map[string]bool{}
			for _, s := range policyStatements(target, functionRole(target, fns[user])) {
				res := fmt.Sprint(s["Resource"])
				for _, a := range actions(s["Action"]) {
					if !strings.HasPrefix(a, "states:") {
						continue
					}
					seen[a] = true
					var ok bool
					switch {
					case slices.Contains(gateMachineActions, a):
						ok = res == fmt.Sprint(obj{"Ref": machine})
					case slices.Contains(gateExecutionActions, a):
						ok = strings.Contains(res, scope)
					case slices.Contains(gateActivityActions, a):
						ok = res == activityRef
					}
					if !ok {
						t.Errorf("%s: %s on %s, not limited to the gate", user, a, res)
					}
				}
			}
			for _, a := range slices.Concat(gateMachineActions, gateExecutionActions, gateActivityActions) {
				if !seen[a] {
					t.Errorf("%s: no %s", user, a)
				}
			}
		}
	})
}

// Mail goes out from the configured sender identity only: AISPM_SES_ENABLED and the SES
// actions on that identity's ARN, for the functions that send. The emulator target points
// SES alone at the mail moto; the AWS target never overrides an endpoint.
func TestMail(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, _ assertions.Template) {
		cfg := map[string]Config{TargetAWS: awsCfg, TargetEmulator: emuCfg}[target]
		if got := usersOf(t, target, func(a Access) bool { return a.Mail }); !slices.Equal(got, mailUsers) {
			t.Errorf("mail users %v, want %v", got, mailUsers)
		}
		identity := ":ses:" + cfg.Region + ":" + cfg.Account + ":identity/" + cfg.SenderIdentity
		for name, id := range functionsByName(t, target) {
			env := functionEnv(target, id)
			mail := slices.Contains(mailUsers, name)
			if _, ok := env[config.EnvSESEnabled]; ok != mail {
				t.Errorf("%s: %s set=%v", name, config.EnvSESEnabled, ok)
			}
			ep, ok := env[config.EnvSESEndpoint]
			if wantEP := target == TargetEmulator; ok != wantEP || (ok && ep != cfg.SESEndpoint) {
				t.Errorf("%s: %s = %v (set=%v) on %s", name, config.EnvSESEndpoint, ep, ok, target)
			}
			var sesActs []string
			for _, s := range policyStatements(target, functionRole(target, id)) {
				for _, a := range actions(s["Action"]) {
					if !strings.HasPrefix(a, "ses:") {
						continue
					}
					sesActs = append(sesActs, a)
					if res := fmt.Sprint(s["Resource"]); !strings.Contains(res, identity) || strings.Contains(res, "*") {
						t.Errorf("%s: %s on %s, want the sender identity %s only", name, a, res, cfg.SenderIdentity)
					}
				}
			}
			slices.Sort(sesActs)
			if want := map[bool][]string{true: mailActions}[mail]; !slices.Equal(sesActs, want) {
				t.Errorf("%s: SES actions %v, want %v", name, sesActs, want)
			}
		}
	})
	noSender := prodLikeConfig()
	noSender.SenderIdentity = ""
	if err := noSender.Validate(); err != nil {
		t.Fatal(err)
	}
	withSES := prodLikeConfig()
	withSES.SESEndpoint = "http://127.0.0.1:5056"
	if err := withSES.Validate(); err == nil {
		t.Error("an SES endpoint override was accepted for the aws target")
	}
}

// The schedule-runner re-schedules failed delivery retries at itself: its schedule target
// is its own ARN by physical name, with the same tenant-group grants as the render.
func TestRunnerSchedulesItself(t *testing.T) {
	eachTarget(t, func(t *testing.T, target string, _ assertions.Template) {
		cfg := map[string]Config{TargetAWS: awsCfg, TargetEmulator: emuCfg}[target]
		runner := functionsByName(t, target)[scheduleRunnerName]
		p := resources(target, "AWS::Lambda::Function")[runner]["Properties"].(obj)
		name := cfg.StackName + "-schedule-runner"
		if p["FunctionName"] != name {
			t.Fatalf("runner name %v, want %s", p["FunctionName"], name)
		}
		env := functionEnv(target, runner)
		if got := fmt.Sprint(env[config.EnvScheduleTargetARN]); !strings.Contains(got, ":lambda:"+cfg.Region+":"+cfg.Account+":function:"+name) {
			t.Errorf("runner schedule target %s, want its own ARN", got)
		}
		role := roleByPrefix(t, target, "SchedulesSchedulerRole")
		if fmt.Sprint(env[config.EnvScheduleRoleARN]) != fmt.Sprint(obj{"Fn::GetAtt": []any{role, "Arn"}}) {
			t.Errorf("runner schedule role %v, want %s", env[config.EnvScheduleRoleARN], role)
		}
		dlq := queueByPrefix(t, target, "SchedulesScheduleDeadLetters")
		if fmt.Sprint(env[config.EnvScheduleDeadLetterARN]) != fmt.Sprint(obj{"Fn::GetAtt": []any{dlq, "Arn"}}) {
			t.Errorf("runner schedule dead letters %v, want %s", env[config.EnvScheduleDeadLetterARN], dlq)
		}
	})
}
