package localsched_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/localsched"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler/schedulertest"
)

func TestContract(t *testing.T) {
	schedulertest.Run(t, func(t *testing.T) scheduler.Scheduler {
		return open(t, dbPath(t), clock.System{}, func(context.Context, scheduler.Firing) error { return nil })
	})
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "aispm.db") }

// open opens a scheduler on the file at path, closed when the test ends.
func open(t *testing.T, path string, c clock.Clock, fire localsched.FireFunc) *localsched.Scheduler {
	t.Helper()
	s, err := localsched.Open(context.Background(), path, c, fire)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// recorder collects firings; fail makes the next n callbacks fail.
type recorder struct {
	mu     sync.Mutex
	got    []scheduler.Firing
	failN  int
	called int
}

func (r *recorder) fire(_ context.Context, f scheduler.Firing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.called++
	if r.failN > 0 {
		r.failN--
		return errors.New("runner unavailable")
	}
	r.got = append(r.got, f)
	return nil
}

func (r *recorder) firings() []scheduler.Firing {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]scheduler.Firing(nil), r.got...)
}

var t0 = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC) // a Friday

func setup(t *testing.T) (*localsched.Scheduler, *clock.Manual, *recorder, string) {
	t.Helper()
	path := dbPath(t)
	c := clock.NewManual(t0)
	r := &recorder{}
	return open(t, path, c, r.fire), c, r, path
}

func tick(t *testing.T, s *localsched.Scheduler) {
	t.Helper()
	if err := s.Tick(context.Background()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

// next is the schedule's next firing, zero when it has none.
func next(t *testing.T, s *localsched.Scheduler, group, name string) time.Time {
	t.Helper()
	at, ok, err := s.NextFiring(context.Background(), group, name)
	if err != nil {
		t.Fatalf("NextFiring: %v", err)
	}
	if !ok && !at.IsZero() {
		t.Fatalf("NextFiring returned %s with ok false", at)
	}
	return at
}

func create(t *testing.T, s *localsched.Scheduler, sc scheduler.Schedule) {
	t.Helper()
	if err := s.Create(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
}

func TestOneShotFiresOnceAndDisappears(t *testing.T) {
	s, c, r, _ := setup(t)
	at := t0.Add(time.Hour)
	create(t, s, scheduler.Schedule{Group: "tenant-a", Name: "expire-room", Expression: scheduler.OneShot(at),
		Payload: []byte(`{"room":"r1"}`), Enabled: true})
	tick(t, s)
	c.Advance(59 * time.Minute)
	tick(t, s)
	if n := len(r.firings()); n != 0 {
		t.Fatalf("fired %d times before its time", n)
	}
	c.Advance(time.Minute)
	tick(t, s)
	tick(t, s)
	c.Advance(time.Hour)
	tick(t, s)
	got := r.firings()
	if len(got) != 1 {
		t.Fatalf("fired %d times, want 1", len(got))
	}
	if f := got[0]; f.Group != "tenant-a" || f.Name != "expire-room" || !f.At.Equal(at) || string(f.Payload) != `{"room":"r1"}` {
		t.Errorf("firing = %+v", f)
	}
	if _, err := s.Get(context.Background(), "tenant-a", "expire-room"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("Get after firing = %v, want ErrNotFound", err)
	}
}

func TestRateFiresRepeatedly(t *testing.T) {
	s, c, r, _ := setup(t)
	create(t, s, scheduler.Schedule{Group: "tenant-a", Name: "kpi", Expression: "rate(15 minutes)", Enabled: true})
	for range 3 {
		c.Advance(15 * time.Minute)
		tick(t, s)
	}
	// Late by 35 minutes: the 11:00 firing goes out, the missed 11:15 and 11:30 collapse
	// into it, and the schedule keeps its 15-minute grid.
	c.Advance(50 * time.Minute)
	tick(t, s)
	var at []time.Time
	for _, f := range r.firings() {
		at = append(at, f.At)
	}
	want := []time.Time{t0.Add(15 * time.Minute), t0.Add(30 * time.Minute), t0.Add(45 * time.Minute), t0.Add(60 * time.Minute)}
	if len(at) != len(want) {
		t.Fatalf("fired at %v, want %v", at, want)
	}
	for i := range want {
		if !at[i].Equal(want[i]) {
			t.Errorf("firing %d at %s, want %s", i, at[i], want[i])
		}
	}
	if at := next(t, s, "tenant-a", "kpi"); !at.Equal(t0.Add(105 * time.Minute)) {
		t.Errorf("next firing %s, want %s", at, t0.Add(105*time.Minute))
	}
}

func TestCronFiresOnItsDays(t *testing.T) {
	s, c, r, _ := setup(t)
	create(t, s, scheduler.Schedule{Group: "tenant-a", Name: "digest", Expression: "cron(0 9 ? * MON-FRI *)",
		Timezone: "Europe/Berlin", Enabled: true})
	// Friday 10:00 UTC: next is Monday 09:00 Berlin = 08:00 UTC.
	monday := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	if at := next(t, s, "tenant-a", "digest"); !at.Equal(monday) {
		t.Fatalf("next firing %s, want %s", at, monday)
	}
	c.Advance(monday.Sub(t0) - time.Second)
	tick(t, s)
	c.Advance(time.Second)
	tick(t, s)
	got := r.firings()
	if len(got) != 1 || !got[0].At.Equal(monday) {
		t.Fatalf("firings %+v, want one at %s", got, monday)
	}
	if at := next(t, s, "tenant-a", "digest"); !at.Equal(monday.Add(24 * time.Hour)) {
		t.Errorf("next firing %s, want Tuesday", at)
	}
}

func TestDisabledAndBoundsDoNotFire(t *testing.T) {
	s, c, r, _ := setup(t)
	create(t, s, scheduler.Schedule{Group: "g", Name: "off", Expression: "rate(1 minute)", Enabled: false})
	create(t, s, scheduler.Schedule{Group: "g", Name: "later", Expression: "rate(1 minute)", Enabled: true,
		Start: t0.Add(time.Hour)})
	create(t, s, scheduler.Schedule{Group: "g", Name: "ended", Expression: "cron(* * * * ? *)", Enabled: true,
		End: t0.Add(90 * time.Second)})
	c.Advance(5 * time.Minute)
	tick(t, s)
	for _, f := range r.firings() {
		if f.Name != "ended" {
			t.Errorf("%s fired", f.Name)
		}
	}
	if n := len(r.firings()); n != 1 {
		t.Errorf("ended fired %d times in total, want 1 (at t0+1m)", n)
	}
	if at := next(t, s, "g", "ended"); !at.IsZero() {
		t.Errorf("a schedule past its End still fires at %s", at)
	}
	if at := next(t, s, "g", "later"); !at.Equal(t0.Add(61 * time.Minute)) {
		t.Errorf("Start-bounded rate next %s, want %s", at, t0.Add(61*time.Minute))
	}
}

func TestFailedFiringIsRetried(t *testing.T) {
	s, c, r, _ := setup(t)
	r.failN = 1
	create(t, s, scheduler.Schedule{Group: "g", Name: "once", Expression: scheduler.OneShot(t0.Add(time.Minute)), Enabled: true})
	c.Advance(time.Minute)
	if err := s.Tick(context.Background()); err == nil {
		t.Fatal("Tick hid the callback's error")
	}
	if _, err := s.Get(context.Background(), "g", "once"); err != nil {
		t.Fatalf("failed one-shot was dropped: %v", err)
	}
	tick(t, s)
	if len(r.firings()) != 1 || r.called != 2 {
		t.Errorf("firings %d, calls %d; want 1 and 2", len(r.firings()), r.called)
	}
}

func TestSurvivesRestart(t *testing.T) {
	s, c, r, path := setup(t)
	want := scheduler.Schedule{Group: "tenant-a", Name: "kpi", Expression: "rate(15 minutes)",
		Payload: []byte(`{"kind":"kpi"}`), Enabled: true}
	create(t, s, want)
	create(t, s, scheduler.Schedule{Group: "tenant-b", Name: "x", Expression: "rate(1 day)"})
	c.Advance(15 * time.Minute)
	tick(t, s)

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again := open(t, path, c, r.fire)
	got, err := again.Get(context.Background(), "tenant-a", "kpi")
	if err != nil {
		t.Fatal(err)
	}
	if got.Expression != want.Expression || string(got.Payload) != string(want.Payload) || !got.Enabled {
		t.Errorf("reloaded %+v, want %+v", got, want)
	}
	if at := next(t, again, "tenant-a", "kpi"); !at.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("reloaded next firing %s, want %s", at, t0.Add(30*time.Minute))
	}
	if list, _ := again.List(context.Background(), "tenant-b"); len(list) != 1 {
		t.Errorf("tenant-b has %d schedules after restart", len(list))
	}
	if err := again.Delete(context.Background(), "tenant-b", "x"); err != nil {
		t.Fatal(err)
	}
	third := open(t, path, c, r.fire)
	if _, err := third.Get(context.Background(), "tenant-b", "x"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("deleted schedule came back after restart: %v", err)
	}
}

func TestRunTicks(t *testing.T) {
	r := &recorder{}
	s := open(t, dbPath(t), clock.System{}, r.fire)
	create(t, s, scheduler.Schedule{Group: "g", Name: "now", Expression: scheduler.OneShot(time.Now()), Enabled: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, 10*time.Millisecond, func(err error) {
			if ctx.Err() == nil { // a tick cut short by the stop below is not a failure
				t.Error(err)
			}
		})
	}()
	for len(r.firings()) == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	// Stop the loop before the store closes under it (the test's cleanup).
	cancel()
	<-done
	if len(r.firings()) != 1 {
		t.Errorf("Run fired %d times, want 1", len(r.firings()))
	}
}
