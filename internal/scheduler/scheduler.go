// Package scheduler is the port for recurring and one-shot schedules (EventBridge Scheduler
// in AWS, an in-process scheduler on the embedded default). The target that a schedule
// fires (the schedule-runner) is adapter configuration; a schedule carries only its payload.
package scheduler

import (
	"context"
	"errors"
	"time"
)

var (
	ErrNotFound = errors.New("schedule not found")
	ErrExists   = errors.New("schedule already exists")
	ErrInvalid  = errors.New("invalid schedule")
)

// Schedule is one schedule in a group. Groups separate tenants ("tenant-<id>").
type Schedule struct {
	Group string
	Name  string
	// Expression uses EventBridge Scheduler syntax: "at(2026-01-02T03:04:05)" (one-shot,
	// removed after it fires), "rate(15 minutes)" or "cron(0 9 ? * MON-FRI *)".
	Expression string
	// Timezone is an IANA name; empty means UTC.
	Timezone string
	// Payload is the JSON document handed to the target when the schedule fires.
	Payload []byte
	// Start and End bound a recurring schedule; zero means unbounded.
	Start, End time.Time
	Enabled    bool
}

// OneShot returns the "at()" expression for a single firing at t (UTC, second precision).
func OneShot(t time.Time) string {
	return "at(" + t.UTC().Format("2006-01-02T15:04:05") + ")"
}

// Scheduler is the full port.
type Scheduler interface {
	Create(ctx context.Context, s Schedule) error
	Update(ctx context.Context, s Schedule) error
	Delete(ctx context.Context, group, name string) error
	Get(ctx context.Context, group, name string) (Schedule, error)
	List(ctx context.Context, group string) ([]Schedule, error)
}

// Firing is what a target receives when a schedule fires.
type Firing struct {
	Group, Name string
	Payload     []byte
	At          time.Time
}
