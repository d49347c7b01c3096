package ebsched_test

import (
	"context"
	"errors"
	"testing"

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
