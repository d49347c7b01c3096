// Package localsched is the embedded scheduler.Scheduler: schedules live in memory, are
// written to one JSON file per group under a data directory (so they survive a restart),
// and fire in process through a callback, with EventBridge Scheduler's expression semantics.
package localsched

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// FireFunc receives a schedule's firing: the embedded stand-in for the schedule-runner.
type FireFunc func(ctx context.Context, f scheduler.Firing) error

// Scheduler holds the schedules of every group.
type Scheduler struct {
	dir   string
	clock clock.Clock
	fire  FireFunc

	mu     sync.Mutex
	groups map[string]map[string]*entry
}

type entry struct {
	s       scheduler.Schedule
	created time.Time // a rate() counts from here when the schedule has no Start
	next    time.Time // zero when it will not fire again
	version uint64    // bumped by Update, so a firing in flight does not undo it
}

var _ scheduler.Scheduler = (*Scheduler)(nil)

// New loads the schedules kept in dir (created if missing) and fires through fire.
func New(dir string, c clock.Clock, fire FireFunc) (*Scheduler, error) {
	groups, err := loadAll(dir)
	if err != nil {
		return nil, err
	}
	return &Scheduler{dir: dir, clock: c, fire: fire, groups: groups}, nil
}

func (s *Scheduler) Create(ctx context.Context, sc scheduler.Schedule) error {
	if err := scheduler.Validate(sc); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[sc.Group][sc.Name]; ok {
		return fmt.Errorf("create %s/%s: %w", sc.Group, sc.Name, scheduler.ErrExists)
	}
	now := s.clock.Now()
	e := &entry{s: clone(sc), created: now}
	e.next = nextAfter(e, now)
	if s.groups[sc.Group] == nil {
		s.groups[sc.Group] = map[string]*entry{}
	}
	s.groups[sc.Group][sc.Name] = e
	return s.save(sc.Group)
}

func (s *Scheduler) Update(ctx context.Context, sc scheduler.Schedule) error {
	if err := scheduler.Validate(sc); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.groups[sc.Group][sc.Name]
	if !ok {
		return fmt.Errorf("update %s/%s: %w", sc.Group, sc.Name, scheduler.ErrNotFound)
	}
	e.s = clone(sc)
	e.version++
	e.next = nextAfter(e, s.clock.Now())
	return s.save(sc.Group)
}

func (s *Scheduler) Delete(ctx context.Context, group, name string) error {
	if err := scheduler.ValidateName(group, name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[group][name]; !ok {
		return fmt.Errorf("delete %s/%s: %w", group, name, scheduler.ErrNotFound)
	}
	delete(s.groups[group], name)
	return s.save(group)
}

func (s *Scheduler) Get(ctx context.Context, group, name string) (scheduler.Schedule, error) {
	if err := scheduler.ValidateName(group, name); err != nil {
		return scheduler.Schedule{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.groups[group][name]
	if !ok {
		return scheduler.Schedule{}, fmt.Errorf("get %s/%s: %w", group, name, scheduler.ErrNotFound)
	}
	return clone(e.s), nil
}

// List returns the group's schedules sorted by name.
func (s *Scheduler) List(ctx context.Context, group string) ([]scheduler.Schedule, error) {
	if err := scheduler.ValidateName(group, "x"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]scheduler.Schedule, 0, len(s.groups[group]))
	for _, e := range s.groups[group] {
		out = append(out, clone(e.s))
	}
	slices.SortFunc(out, func(a, b scheduler.Schedule) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// NextFiring reports when a schedule fires next; ok is false when it never will.
func (s *Scheduler) NextFiring(group, name string) (next time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.groups[group][name]
	if e == nil || e.next.IsZero() {
		return time.Time{}, false
	}
	return e.next, true
}

// nextAfter is the entry's first firing after `after`, within its Start and End. An at()
// keeps its time even when already past, so a one-shot created late still fires once.
func nextAfter(e *entry, after time.Time) time.Time {
	expr, err := scheduler.ParseExpression(e.s.Expression)
	if err != nil {
		return time.Time{}
	}
	loc, err := scheduler.Location(e.s.Timezone)
	if err != nil {
		return time.Time{}
	}
	if expr.OneShot() {
		at, _ := expr.Next(time.Time{}, time.Time{}, loc)
		return at
	}
	anchor := e.created
	if !e.s.Start.IsZero() {
		anchor = e.s.Start
		// A cron() does not fire before its Start.
		after = later(after, e.s.Start.Add(-time.Nanosecond))
	}
	next, ok := expr.Next(after, anchor, loc)
	if !ok || (!e.s.End.IsZero() && next.After(e.s.End)) {
		return time.Time{}
	}
	return next
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func clone(s scheduler.Schedule) scheduler.Schedule {
	s.Payload = slices.Clone(s.Payload)
	return s
}

// due is one firing taken out of the lock, to be handed to the callback.
type due struct {
	firing  scheduler.Firing
	version uint64
	oneShot bool
}

// Tick fires every enabled schedule that is due at the clock's time. The callback runs
// outside the lock (it may itself create schedules). A firing whose callback fails stays
// due and is retried by the next Tick; missed recurring firings collapse into one.
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.clock.Now()
	var errs []error
	for _, d := range s.collectDue(now) {
		err := s.fire(ctx, d.firing)
		if err != nil {
			errs = append(errs, fmt.Errorf("fire %s/%s: %w", d.firing.Group, d.firing.Name, err))
		}
		if serr := s.settle(d, now, err == nil); serr != nil {
			errs = append(errs, serr)
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) collectDue(now time.Time) []due {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []due
	for group, entries := range s.groups {
		for name, e := range entries {
			if !e.s.Enabled || e.next.IsZero() || e.next.After(now) {
				continue
			}
			expr, _ := scheduler.ParseExpression(e.s.Expression)
			out = append(out, due{
				firing:  scheduler.Firing{Group: group, Name: name, Payload: slices.Clone(e.s.Payload), At: e.next},
				version: e.version,
				oneShot: expr.OneShot(),
			})
		}
	}
	slices.SortFunc(out, func(a, b due) int { return a.firing.At.Compare(b.firing.At) })
	return out
}

// settle records a firing's outcome, unless the schedule was updated or deleted meanwhile.
func (s *Scheduler) settle(d due, now time.Time, fired bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	group, name := d.firing.Group, d.firing.Name
	e, ok := s.groups[group][name]
	if !ok || e.version != d.version || !fired {
		return nil
	}
	if d.oneShot {
		delete(s.groups[group], name)
	} else {
		e.next = nextAfter(e, now)
	}
	return s.save(group)
}

// Run ticks every interval until ctx ends, handing tick errors to report (may be nil).
func (s *Scheduler) Run(ctx context.Context, every time.Duration, report func(error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if err := s.Tick(ctx); err != nil && report != nil {
				report(err)
			}
		}
	}
}
