// Package ebsched is the AWS scheduler.Scheduler: EventBridge Scheduler with one schedule
// group per tenant. Every schedule targets the same function (the schedule-runner) with the
// schedule's payload as input.
package ebsched

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sched "github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/smithy-go"

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// API is the part of the EventBridge Scheduler client the adapter uses.
type API interface {
	CreateSchedule(context.Context, *sched.CreateScheduleInput, ...func(*sched.Options)) (*sched.CreateScheduleOutput, error)
	UpdateSchedule(context.Context, *sched.UpdateScheduleInput, ...func(*sched.Options)) (*sched.UpdateScheduleOutput, error)
	DeleteSchedule(context.Context, *sched.DeleteScheduleInput, ...func(*sched.Options)) (*sched.DeleteScheduleOutput, error)
	GetSchedule(context.Context, *sched.GetScheduleInput, ...func(*sched.Options)) (*sched.GetScheduleOutput, error)
	ListSchedules(context.Context, *sched.ListSchedulesInput, ...func(*sched.Options)) (*sched.ListSchedulesOutput, error)
	CreateScheduleGroup(context.Context, *sched.CreateScheduleGroupInput, ...func(*sched.Options)) (*sched.CreateScheduleGroupOutput, error)
}

// Target is where every schedule fires: the schedule-runner function and the role
// EventBridge Scheduler assumes to invoke it.
type Target struct {
	FunctionARN string
	RoleARN     string
	// DeadLetterARN is the SQS queue that receives a firing the scheduler could not deliver
	// after its retries; RoleARN must be allowed to send to it. Empty: such a firing is
	// dropped (the scheduler only counts it in a metric).
	DeadLetterARN string
}

// A failed invocation (throttled, the function briefly unavailable) is retried at most
// targetRetryAttempts times within targetMaxEventAgeSeconds, whichever ends first, and then
// dead-lettered. The service defaults (185 attempts over 24 hours) would keep a firing
// that cannot succeed out of sight for a day; an hour covers a transient outage, and the
// dead-letter alarm brings the rest to a person.
const (
	targetRetryAttempts      = 5
	targetMaxEventAgeSeconds = 3600
)

// Store manages schedules in EventBridge Scheduler.
type Store struct {
	client API
	target Target
}

var _ scheduler.Scheduler = (*Store)(nil)

// New returns a store whose schedules fire target.
func New(client API, target Target) *Store {
	return &Store{client: client, target: target}
}

// Create creates the schedule, and its tenant's group on the tenant's first schedule.
func (s *Store) Create(ctx context.Context, sc scheduler.Schedule) error {
	if err := scheduler.Validate(sc); err != nil {
		return err
	}
	err := s.create(ctx, sc)
	if errors.Is(err, scheduler.ErrNotFound) {
		if err = s.createGroup(ctx, sc.Group); err == nil {
			err = s.create(ctx, sc)
		}
	}
	if err != nil {
		return fmt.Errorf("create schedule %s/%s: %w", sc.Group, sc.Name, err)
	}
	return nil
}

func (s *Store) create(ctx context.Context, sc scheduler.Schedule) error {
	in := s.input(sc)
	_, err := s.client.CreateSchedule(ctx, &sched.CreateScheduleInput{
		GroupName: in.GroupName, Name: in.Name, ScheduleExpression: in.ScheduleExpression,
		ScheduleExpressionTimezone: in.ScheduleExpressionTimezone, FlexibleTimeWindow: in.FlexibleTimeWindow,
		Target: in.Target, State: in.State, ActionAfterCompletion: in.ActionAfterCompletion,
		StartDate: in.StartDate, EndDate: in.EndDate,
	})
	return translate(err)
}

func (s *Store) createGroup(ctx context.Context, group string) error {
	_, err := s.client.CreateScheduleGroup(ctx, &sched.CreateScheduleGroupInput{Name: aws.String(group)})
	// Another writer creating the tenant's first schedule at the same time is fine.
	if err = translate(err); err != nil && !errors.Is(err, scheduler.ErrExists) {
		return fmt.Errorf("create schedule group %s: %w", group, err)
	}
	return nil
}

// Update replaces the schedule; UpdateSchedule is a full replace, so input sets every field.
func (s *Store) Update(ctx context.Context, sc scheduler.Schedule) error {
	if err := scheduler.Validate(sc); err != nil {
		return err
	}
	if _, err := s.client.UpdateSchedule(ctx, s.input(sc)); err != nil {
		return fmt.Errorf("update schedule %s/%s: %w", sc.Group, sc.Name, translate(err))
	}
	return nil
}

// input is the shared shape of Create and Update.
func (s *Store) input(sc scheduler.Schedule) *sched.UpdateScheduleInput {
	in := &sched.UpdateScheduleInput{
		GroupName:             aws.String(sc.Group),
		Name:                  aws.String(sc.Name),
		ScheduleExpression:    aws.String(sc.Expression),
		FlexibleTimeWindow:    &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		Target:                s.scheduleTarget(),
		State:                 types.ScheduleStateDisabled,
		ActionAfterCompletion: types.ActionAfterCompletionNone,
	}
	if sc.Timezone != "" {
		in.ScheduleExpressionTimezone = aws.String(sc.Timezone)
	}
	if len(sc.Payload) > 0 {
		in.Target.Input = aws.String(string(sc.Payload))
	}
	if sc.Enabled {
		in.State = types.ScheduleStateEnabled
	}
	// One-shots (expiries) clean up after themselves, as the port promises.
	if expr, _ := scheduler.ParseExpression(sc.Expression); expr.OneShot() {
		in.ActionAfterCompletion = types.ActionAfterCompletionDelete
	}
	if !sc.Start.IsZero() {
		in.StartDate = aws.Time(sc.Start)
	}
	if !sc.End.IsZero() {
		in.EndDate = aws.Time(sc.End)
	}
	return in
}

// scheduleTarget is the target of every schedule: the runner, with retries and, when
// configured, the dead-letter queue.
func (s *Store) scheduleTarget() *types.Target {
	t := &types.Target{
		Arn:     aws.String(s.target.FunctionARN),
		RoleArn: aws.String(s.target.RoleARN),
		RetryPolicy: &types.RetryPolicy{
			MaximumRetryAttempts:     aws.Int32(targetRetryAttempts),
			MaximumEventAgeInSeconds: aws.Int32(targetMaxEventAgeSeconds),
		},
	}
	if s.target.DeadLetterARN != "" {
		t.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(s.target.DeadLetterARN)}
	}
	return t
}

func (s *Store) Delete(ctx context.Context, group, name string) error {
	if err := scheduler.ValidateName(group, name); err != nil {
		return err
	}
	_, err := s.client.DeleteSchedule(ctx, &sched.DeleteScheduleInput{GroupName: aws.String(group), Name: aws.String(name)})
	if err != nil {
		return fmt.Errorf("delete schedule %s/%s: %w", group, name, translate(err))
	}
	return nil
}

func (s *Store) Get(ctx context.Context, group, name string) (scheduler.Schedule, error) {
	if err := scheduler.ValidateName(group, name); err != nil {
		return scheduler.Schedule{}, err
	}
	out, err := s.client.GetSchedule(ctx, &sched.GetScheduleInput{GroupName: aws.String(group), Name: aws.String(name)})
	if err != nil {
		return scheduler.Schedule{}, fmt.Errorf("get schedule %s/%s: %w", group, name, translate(err))
	}
	sc := scheduler.Schedule{
		Group:      group,
		Name:       name,
		Expression: aws.ToString(out.ScheduleExpression),
		Timezone:   aws.ToString(out.ScheduleExpressionTimezone),
		Enabled:    out.State == types.ScheduleStateEnabled,
		Start:      utc(out.StartDate),
		End:        utc(out.EndDate),
	}
	// The service reports the default zone as "UTC"; the port spells UTC as "".
	if sc.Timezone == "UTC" {
		sc.Timezone = ""
	}
	if out.Target != nil && out.Target.Input != nil {
		sc.Payload = []byte(*out.Target.Input)
	}
	return sc, nil
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// List returns the group's schedules sorted by name. ListSchedules returns summaries only,
// so each schedule is read in full; one deleted in between (a fired one-shot) is skipped.
func (s *Store) List(ctx context.Context, group string) ([]scheduler.Schedule, error) {
	if err := scheduler.ValidateName(group, "x"); err != nil {
		return nil, err
	}
	var out []scheduler.Schedule
	pages := sched.NewListSchedulesPaginator(s.client, &sched.ListSchedulesInput{GroupName: aws.String(group)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err = translate(err); errors.Is(err, scheduler.ErrNotFound) {
			return []scheduler.Schedule{}, nil // a tenant without schedules has no group yet
		} else if err != nil {
			return nil, fmt.Errorf("list schedules of %s: %w", group, err)
		}
		for _, sum := range page.Schedules {
			sc, err := s.Get(ctx, group, aws.ToString(sum.Name))
			if errors.Is(err, scheduler.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			out = append(out, sc)
		}
	}
	slices.SortFunc(out, func(a, b scheduler.Schedule) int { return cmp.Compare(a.Name, b.Name) })
	if out == nil {
		out = []scheduler.Schedule{}
	}
	return out, nil
}

// translate maps the service's errors onto the port's, keeping the SDK error for logs.
func translate(err error) error {
	var apiErr smithy.APIError
	if err == nil || !errors.As(err, &apiErr) {
		return err
	}
	switch apiErr.ErrorCode() {
	case "ConflictException":
		return fmt.Errorf("%w: %w", scheduler.ErrExists, err)
	case "ResourceNotFoundException":
		return fmt.Errorf("%w: %w", scheduler.ErrNotFound, err)
	case "ValidationException":
		return fmt.Errorf("%w: %w", scheduler.ErrInvalid, err)
	}
	return err
}
