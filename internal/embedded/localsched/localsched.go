// Package localsched is the embedded scheduler.Scheduler: schedules live in memory, are
// kept one row each in a SQLite file under a data directory (so they survive a restart and
// a change costs one row whatever their number), and fire in process through a callback,
// with EventBridge Scheduler's expression semantics. A firing is at least once: a one-shot's
// row is deleted only after its callback succeeded, so a crash in between fires it again.
package localsched

import (
	"cmp"
	"context"
	"database/sql"
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
	db    *sql.DB
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

// New loads the schedules kept in dir (created if missing; schedule files of earlier
// versions there are imported once) and fires through fire. Close releases the file.
func New(dir string, c clock.Clock, fire FireFunc) (*Scheduler, error) {
	ctx := context.Background()
	db, err := openDB(ctx, dir)
	if err != nil {
		return nil, err
	}
	if _, err := importGroupFiles(ctx, db, dir); err != nil {
		db.Close()
		return nil, err
	}
	groups, err := loadAll(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Scheduler{db: db, clock: c, fire: fire, groups: groups}, nil
}

// Close closes the schedules file.
func (s *Scheduler) Close() error { return s.db.Close() }

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
	if err := s.put(ctx, sc.Group, e); err != nil {
		return err
	}
	s.groups[sc.Group][sc.Name] = e
	return nil
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
	updated := &entry{s: clone(sc), created: e.created, version: e.version + 1}
	updated.next = nextAfter(updated, s.clock.Now())
	if err := s.put(ctx, sc.Group, updated); err != nil {
		return err
	}
	s.groups[sc.Group][sc.Name] = updated
	return nil
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
	if err := s.remove(ctx, group, name); err != nil {
		return err
	}
	delete(s.groups[group], name)
	return nil
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
		if serr := s.settle(ctx, d, now, err == nil); serr != nil {
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
func (s *Scheduler) settle(ctx context.Context, d due, now time.Time, fired bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	group, name := d.firing.Group, d.firing.Name
	e, ok := s.groups[group][name]
	if !ok || e.version != d.version || !fired {
		return nil
	}
	if d.oneShot {
		if err := s.remove(ctx, group, name); err != nil {
			return err
		}
		delete(s.groups[group], name)
		return nil
	}
	next := *e
	next.next = nextAfter(e, now)
	if err := s.put(ctx, group, &next); err != nil {
		return err
	}
	e.next = next.next
	return nil
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
