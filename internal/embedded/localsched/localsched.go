// Package localsched is the embedded scheduler.Scheduler, with EventBridge Scheduler's
// expression semantics; schedules fire in process through a callback (the embedded
// schedule-runner).
//
// Schedules are rows of their own table in the embedded SQLite file, the one the item store
// uses: one row per schedule, a one-shot's row deleted once it has fired, so a change costs
// one row write however many schedules exist. Each change is committed durably (synchronous
// FULL) before the call returns. Schedule files of earlier versions are imported once by
// ImportFiles.
//
// Firing is at least once. A due schedule is handed to the callback first; only after the
// callback has returned nil does a second transaction delete the one-shot's row (or record
// a recurring schedule's next firing). A crash in between leaves the row as it was, so the
// firing is repeated after the restart rather than lost; the callbacks are idempotent for
// that reason, as EventBridge Scheduler's targets must be. As the table shares the item
// store's write-ahead log, the deletion is ordered after what the target wrote there, and
// its durable commit makes those writes durable too. A failed callback leaves the firing
// due for the next Tick. Only one process (the local server) runs Tick.
package localsched

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// FireFunc receives a schedule's firing: the embedded stand-in for the schedule-runner.
type FireFunc func(ctx context.Context, f scheduler.Firing) error

// Scheduler keeps the schedules of every group in one SQLite table. Safe for concurrent
// use; other processes on the same file (CLI commands) see its changes and it theirs.
type Scheduler struct {
	db    *sql.DB
	clock clock.Clock
	fire  FireFunc
}

type entry struct {
	s       scheduler.Schedule
	created time.Time // a rate() counts from here when the schedule has no Start
	next    time.Time // zero when it will not fire again
}

var _ scheduler.Scheduler = (*Scheduler)(nil)

// Open opens (creating if needed) the schedules table in the SQLite file at dbPath and
// fires through fire.
func Open(ctx context.Context, dbPath string, c clock.Clock, fire FireFunc) (*Scheduler, error) {
	db, err := openDB(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	return &Scheduler{db: db, clock: c, fire: fire}, nil
}

// Close releases the database connection.
func (s *Scheduler) Close() error { return s.db.Close() }

func (s *Scheduler) Create(ctx context.Context, sc scheduler.Schedule) error {
	if err := scheduler.Validate(sc); err != nil {
		return err
	}
	now := s.clock.Now()
	e := &entry{s: sc, created: now}
	e.next = nextAfter(e, now)
	added, err := insert(ctx, s.db, e)
	if err != nil {
		return fmt.Errorf("create %s/%s: %w", sc.Group, sc.Name, err)
	}
	if !added {
		return fmt.Errorf("create %s/%s: %w", sc.Group, sc.Name, scheduler.ErrExists)
	}
	return nil
}

func (s *Scheduler) Update(ctx context.Context, sc scheduler.Schedule) error {
	if err := scheduler.Validate(sc); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := load(ctx, tx, sc.Group, sc.Name)
		if err != nil {
			return err
		}
		r.e.s = sc
		r.e.next = nextAfter(&r.e, s.clock.Now())
		v, err := values(&r.e)
		if err != nil {
			return err
		}
		// v[2:] skips grp and name, which identify the row and do not change.
		_, err = tx.ExecContext(ctx, `UPDATE schedules SET expression = ?, timezone = ?, payload = ?,
			start_at = ?, end_at = ?, enabled = ?, created_at = ?, next_at = ?, next_unix = ?,
			version = version + 1 WHERE id = ?`, append(v[2:], r.id)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("update %s/%s: %w", sc.Group, sc.Name, err)
	}
	return nil
}

func (s *Scheduler) Delete(ctx context.Context, group, name string) error {
	if err := scheduler.ValidateName(group, name); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM schedules WHERE grp = ? AND name = ?`, group, name)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		err = scheduler.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", group, name, err)
	}
	return nil
}

func (s *Scheduler) Get(ctx context.Context, group, name string) (scheduler.Schedule, error) {
	if err := scheduler.ValidateName(group, name); err != nil {
		return scheduler.Schedule{}, err
	}
	r, err := load(ctx, s.db, group, name)
	if err != nil {
		return scheduler.Schedule{}, fmt.Errorf("get %s/%s: %w", group, name, err)
	}
	return r.e.s, nil
}

// List returns the group's schedules sorted by name.
func (s *Scheduler) List(ctx context.Context, group string) ([]scheduler.Schedule, error) {
	if err := scheduler.ValidateName(group, "x"); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `WHERE grp = ? ORDER BY name`, group)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", group, err)
	}
	out := make([]scheduler.Schedule, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.e.s)
	}
	return out, nil
}

// query returns the rows the clause selects, read in full: nothing is left holding the
// connection, so a callback fired afterwards may write.
func (s *Scheduler) query(ctx context.Context, clause string, args ...any) ([]row, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM schedules `+clause, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// NextFiring reports when a schedule fires next; ok is false when it never will or does
// not exist.
func (s *Scheduler) NextFiring(ctx context.Context, group, name string) (next time.Time, ok bool, err error) {
	r, err := load(ctx, s.db, group, name)
	if errors.Is(err, scheduler.ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil || r.e.next.IsZero() {
		return time.Time{}, false, err
	}
	return r.e.next, true, nil
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

// due is one firing taken out of the table, to be handed to the callback.
type due struct {
	firing      scheduler.Firing
	id, version int64
	oneShot     bool
}

// Tick fires every enabled schedule that is due at the clock's time, oldest first. The
// callback runs outside any transaction (it may itself create schedules). A firing whose
// callback fails stays due and is retried by the next Tick; missed recurring firings
// collapse into one.
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.clock.Now()
	ds, err := s.collectDue(ctx, now)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range ds {
		err := s.fire(ctx, d.firing)
		if err != nil {
			errs = append(errs, fmt.Errorf("fire %s/%s: %w", d.firing.Group, d.firing.Name, err))
			continue
		}
		if err := s.settle(ctx, d, now); err != nil {
			errs = append(errs, fmt.Errorf("settle %s/%s: %w", d.firing.Group, d.firing.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) collectDue(ctx context.Context, now time.Time) ([]due, error) {
	// The index holds whole seconds; the exact instant is compared below.
	rows, err := s.query(ctx, `WHERE enabled = 1 AND next_unix IS NOT NULL AND next_unix <= ?`, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("collect due schedules: %w", err)
	}
	var out []due
	for _, r := range rows {
		if r.e.next.After(now) {
			continue
		}
		expr, _ := scheduler.ParseExpression(r.e.s.Expression)
		out = append(out, due{
			firing:  scheduler.Firing{Group: r.e.s.Group, Name: r.e.s.Name, Payload: r.e.s.Payload, At: r.e.next},
			id:      r.id,
			version: r.version,
			oneShot: expr.OneShot(),
		})
	}
	slices.SortStableFunc(out, func(a, b due) int { return a.firing.At.Compare(b.firing.At) })
	return out, nil
}

// settle records a fired schedule's outcome, unless it was updated, deleted or re-created
// meanwhile: a one-shot's row goes, a recurring one moves on to its next firing.
func (s *Scheduler) settle(ctx context.Context, d due, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := scanRow(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM schedules WHERE id = ?`, d.id))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && r.version != d.version) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.oneShot {
			_, err = tx.ExecContext(ctx, `DELETE FROM schedules WHERE id = ?`, d.id)
			return err
		}
		r.e.next = nextAfter(&r.e, now)
		next, err := timeText(r.e.next)
		if err != nil {
			return err
		}
		var nextUnix any
		if !r.e.next.IsZero() {
			nextUnix = r.e.next.Unix()
		}
		_, err = tx.ExecContext(ctx, `UPDATE schedules SET next_at = ?, next_unix = ? WHERE id = ?`, next, nextUnix, d.id)
		return err
	})
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
