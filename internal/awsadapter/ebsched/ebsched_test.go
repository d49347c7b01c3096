package ebsched_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sched "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/awsclient"
	"github.com/cavra-enterprise/aispm-reports/internal/awsadapter/ebsched"
	"github.com/cavra-enterprise/aispm-reports/internal/emulatortest"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler/schedulertest"
)

// The emulator does not check that the target exists; nothing in these tests is due.
var target = ebsched.Target{
	FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:schedule-runner",
	RoleARN:     "arn:aws:iam::000000000000:role/scheduler-invoke",
}

func client(t *testing.T) *sched.Client {
	t.Helper()
	ep := emulatortest.MiniStack(t)
	cfg, err := awsclient.Load(context.Background(), awsclient.Options{Endpoint: ep})
	if err != nil {
		t.Fatal(err)
	}
	return sched.NewFromConfig(cfg)
}

func TestContractMiniStack(t *testing.T) {
	c := client(t)
	schedulertest.Run(t, func(t *testing.T) scheduler.Scheduler { return ebsched.New(c, target) })
}

// The settings the contract suite cannot see: target, input, flexible window, one-shot
// clean-up.
func TestScheduleShape(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	s := ebsched.New(c, target)
	group := schedulertest.Group(t)
	for _, sc := range []scheduler.Schedule{
		{Group: group, Name: "expiry", Expression: "at(2099-01-02T03:04:05)", Payload: []byte(`{"room":"r"}`), Enabled: true},
		{Group: group, Name: "kpi", Expression: "rate(15 minutes)", Timezone: "Europe/Berlin"},
	} {
		if err := s.Create(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	at, err := c.GetSchedule(ctx, &sched.GetScheduleInput{GroupName: &group, Name: ptr("expiry")})
	if err != nil {
		t.Fatal(err)
	}
	if at.ActionAfterCompletion != types.ActionAfterCompletionDelete || at.State != types.ScheduleStateEnabled ||
		at.FlexibleTimeWindow == nil || at.FlexibleTimeWindow.Mode != types.FlexibleTimeWindowModeOff ||
		*at.Target.Arn != target.FunctionARN || *at.Target.RoleArn != target.RoleARN || *at.Target.Input != `{"room":"r"}` {
		t.Errorf("one-shot schedule = %+v target %+v", at, at.Target)
	}
	rate, err := c.GetSchedule(ctx, &sched.GetScheduleInput{GroupName: &group, Name: ptr("kpi")})
	if err != nil {
		t.Fatal(err)
	}
	if rate.ActionAfterCompletion == types.ActionAfterCompletionDelete || rate.State != types.ScheduleStateDisabled ||
		*rate.ScheduleExpressionTimezone != "Europe/Berlin" {
		t.Errorf("rate schedule = %+v", rate)
	}
	// The group was created on the tenant's first schedule.
	if _, err := c.GetScheduleGroup(ctx, &sched.GetScheduleGroupInput{Name: &group}); err != nil {
		t.Errorf("group %s: %v", group, err)
	}
}

func TestCreateInExistingGroup(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	group := schedulertest.Group(t)
	if _, err := c.CreateScheduleGroup(ctx, &sched.CreateScheduleGroupInput{Name: &group}); err != nil {
		t.Fatal(err)
	}
	s := ebsched.New(c, target)
	if err := s.Create(ctx, scheduler.Schedule{Group: group, Name: "x", Expression: "rate(1 day)"}); err != nil {
		t.Fatalf("Create in an existing group: %v", err)
	}
	if _, err := s.Get(ctx, group, "x"); errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
}

func ptr(s string) *string { return &s }

// recordingAPI captures what the adapter sends; the reads are not used by these tests.
type recordingAPI struct {
	ebsched.API
	creates []*sched.CreateScheduleInput
	updates []*sched.UpdateScheduleInput
}

func (r *recordingAPI) CreateSchedule(_ context.Context, in *sched.CreateScheduleInput, _ ...func(*sched.Options)) (*sched.CreateScheduleOutput, error) {
	r.creates = append(r.creates, in)
	return &sched.CreateScheduleOutput{}, nil
}

func (r *recordingAPI) UpdateSchedule(_ context.Context, in *sched.UpdateScheduleInput, _ ...func(*sched.Options)) (*sched.UpdateScheduleOutput, error) {
	r.updates = append(r.updates, in)
	return &sched.UpdateScheduleOutput{}, nil
}

const deadLetters = "arn:aws:sqs:us-east-1:000000000000:schedule-dead-letters"

// checkTarget: every schedule fires the runner through the role, retries for at most five
// attempts within an hour and then dead-letters to dlq ("" for none).
func checkTarget(t *testing.T, what string, got *types.Target, dlq string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no target", what)
	}
	if aws.ToString(got.Arn) != target.FunctionARN || aws.ToString(got.RoleArn) != target.RoleARN {
		t.Errorf("%s: target %s via %s", what, aws.ToString(got.Arn), aws.ToString(got.RoleArn))
	}
	if rp := got.RetryPolicy; rp == nil || aws.ToInt32(rp.MaximumRetryAttempts) != 5 || aws.ToInt32(rp.MaximumEventAgeInSeconds) != 3600 {
		t.Errorf("%s: retry policy %+v, want 5 attempts within 3600 s", what, rp)
	}
	switch {
	case dlq == "" && got.DeadLetterConfig != nil:
		t.Errorf("%s: dead-letter config %+v without a dead-letter queue configured", what, got.DeadLetterConfig)
	case dlq != "" && (got.DeadLetterConfig == nil || aws.ToString(got.DeadLetterConfig.Arn) != dlq):
		t.Errorf("%s: dead-letter config %+v, want %s", what, got.DeadLetterConfig, dlq)
	}
}

// Every kind of schedule, created or replaced, retries and dead-letters; only the one-shot
// deletes itself after firing.
func TestEveryScheduleRetriesAndDeadLetters(t *testing.T) {
	withDLQ := target
	withDLQ.DeadLetterARN = deadLetters
	ctx := context.Background()
	for _, c := range []struct {
		expr    string
		oneShot bool
	}{
		{"at(2099-01-02T03:04:05)", true},
		{"rate(15 minutes)", false},
		{"cron(0 6 * * ? *)", false},
	} {
		for _, tg := range []ebsched.Target{withDLQ, target} {
			api := &recordingAPI{}
			s := ebsched.New(api, tg)
			sc := scheduler.Schedule{Group: "tenant-t1", Name: "s1", Expression: c.expr, Enabled: true}
			if err := s.Create(ctx, sc); err != nil {
				t.Fatalf("Create %s: %v", c.expr, err)
			}
			if err := s.Update(ctx, sc); err != nil {
				t.Fatalf("Update %s: %v", c.expr, err)
			}
			if len(api.creates) != 1 || len(api.updates) != 1 {
				t.Fatalf("%s: %d creates, %d updates", c.expr, len(api.creates), len(api.updates))
			}
			checkTarget(t, "create "+c.expr, api.creates[0].Target, tg.DeadLetterARN)
			checkTarget(t, "update "+c.expr, api.updates[0].Target, tg.DeadLetterARN)
			want := types.ActionAfterCompletionNone
			if c.oneShot {
				want = types.ActionAfterCompletionDelete
			}
			if got := api.creates[0].ActionAfterCompletion; got != want {
				t.Errorf("create %s: action after completion %q, want %q", c.expr, got, want)
			}
			if got := api.updates[0].ActionAfterCompletion; got != want {
				t.Errorf("update %s: action after completion %q, want %q", c.expr, got, want)
			}
		}
	}
}
