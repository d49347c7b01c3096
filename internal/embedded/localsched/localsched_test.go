package localsched_test

import (
	"context"
	"errors"
	"fmt"
	"os"
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
		s, err := localsched.New(t.TempDir(), clock.System{}, func(context.Context, scheduler.Firing) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
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
	dir := t.TempDir()
	c := clock.NewManual(t0)
	r := &recorder{}
	s, err := localsched.New(dir, c, r.fire)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, r, dir
}

func tick(t *testing.T, s *localsched.Scheduler) {
	t.Helper()
	if err := s.Tick(context.Background()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
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
	if next, ok := s.NextFiring("tenant-a", "kpi"); !ok || !next.Equal(t0.Add(105*time.Minute)) {
		t.Errorf("next firing %s, want %s", next, t0.Add(105*time.Minute))
	}
}

func TestCronFiresOnItsDays(t *testing.T) {
	s, c, r, _ := setup(t)
	create(t, s, scheduler.Schedule{Group: "tenant-a", Name: "digest", Expression: "cron(0 9 ? * MON-FRI *)",
		Timezone: "Europe/Berlin", Enabled: true})
	// Friday 10:00 UTC: next is Monday 09:00 Berlin = 08:00 UTC.
	monday := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	if next, ok := s.NextFiring("tenant-a", "digest"); !ok || !next.Equal(monday) {
		t.Fatalf("next firing %s, want %s", next, monday)
	}
	c.Advance(monday.Sub(t0) - time.Second)
	tick(t, s)
	c.Advance(time.Second)
	tick(t, s)
	got := r.firings()
	if len(got) != 1 || !got[0].At.Equal(monday) {
		t.Fatalf("firings %+v, want one at %s", got, monday)
	}
	if next, _ := s.NextFiring("tenant-a", "digest"); !next.Equal(monday.Add(24 * time.Hour)) {
		t.Errorf("next firing %s, want Tuesday", next)
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
	if _, ok := s.NextFiring("g", "ended"); ok {
		t.Error("a schedule past its End still has a next firing")
	}
	if next, _ := s.NextFiring("g", "later"); !next.Equal(t0.Add(61 * time.Minute)) {
		t.Errorf("Start-bounded rate next %s, want %s", next, t0.Add(61*time.Minute))
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
	s, c, r, dir := setup(t)
	want := scheduler.Schedule{Group: "tenant-a", Name: "kpi", Expression: "rate(15 minutes)",
		Payload: []byte(`{"kind":"kpi"}`), Enabled: true}
	create(t, s, want)
	create(t, s, scheduler.Schedule{Group: "tenant-b", Name: "x", Expression: "rate(1 day)"})
	c.Advance(15 * time.Minute)
	tick(t, s)

	again, err := localsched.New(dir, c, r.fire)
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.Get(context.Background(), "tenant-a", "kpi")
	if err != nil {
		t.Fatal(err)
	}
	if got.Expression != want.Expression || string(got.Payload) != string(want.Payload) || !got.Enabled {
		t.Errorf("reloaded %+v, want %+v", got, want)
	}
	if next, _ := again.NextFiring("tenant-a", "kpi"); !next.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("reloaded next firing %s, want %s", next, t0.Add(30*time.Minute))
	}
	if list, _ := again.List(context.Background(), "tenant-b"); len(list) != 1 {
		t.Errorf("tenant-b has %d schedules after restart", len(list))
	}
	if err := again.Delete(context.Background(), "tenant-b", "x"); err != nil {
		t.Fatal(err)
	}
	third, err := localsched.New(dir, c, r.fire)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := third.Get(context.Background(), "tenant-b", "x"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("deleted schedule came back after restart: %v", err)
	}
}

func TestRunTicks(t *testing.T) {
	r := &recorder{}
	s, err := localsched.New(t.TempDir(), clock.System{}, r.fire)
	if err != nil {
		t.Fatal(err)
	}
	create(t, s, scheduler.Schedule{Group: "g", Name: "now", Expression: scheduler.OneShot(time.Now()), Enabled: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go s.Run(ctx, 10*time.Millisecond, func(err error) { t.Error(err) })
	for len(r.firings()) == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if len(r.firings()) != 1 {
		t.Errorf("Run fired %d times, want 1", len(r.firings()))
	}
}

// TestImportsScheduleFilesOfEarlierVersions: a group's JSON file, as earlier versions kept
// schedules, is imported once into the table and removed; the schedules keep their next
// firing.
func TestImportsScheduleFilesOfEarlierVersions(t *testing.T) {
	dir := t.TempDir()
	next := t0.Add(time.Hour)
	legacy := `{"schedules":[{"name":"artifact-expiry-1","expression":"at(2026-01-02T11:00:00)","payload":"{\"kind\":\"expiry\"}",` +
		`"enabled":true,"created":"2026-01-02T10:00:00Z","next":"` + next.Format(time.RFC3339) + `"}]}`
	if err := os.WriteFile(filepath.Join(dir, "tenant-acme.json"), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(t0)
	r := &recorder{}
	s, err := localsched.New(dir, c, r.fire)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tenant-acme.json")); !os.IsNotExist(err) {
		t.Fatalf("the imported file is still there: %v", err)
	}
	got, err := s.Get(context.Background(), "tenant-acme", "artifact-expiry-1")
	if err != nil || string(got.Payload) != `{"kind":"expiry"}` {
		t.Fatalf("imported schedule: %+v, %v", got, err)
	}
	if at, ok := s.NextFiring("tenant-acme", "artifact-expiry-1"); !ok || !at.Equal(next) {
		t.Fatalf("next firing %s, %v; want %s", at, ok, next)
	}
	s.Close()
	// Reopened: the row is there, nothing imported twice, and it fires once.
	again, err := localsched.New(dir, c, r.fire)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Hour)
	tick(t, again)
	tick(t, again)
	if len(r.firings()) != 1 {
		t.Fatalf("%d firings, want 1", len(r.firings()))
	}
	if list, _ := again.List(context.Background(), "tenant-acme"); len(list) != 0 {
		t.Fatalf("a fired one-shot is still kept: %+v", list)
	}
}

// BenchmarkCreate measures one Create beside 10 and 10,000 kept schedules: one row each,
// so the cost must not grow with the number kept.
func BenchmarkCreate(b *testing.B) {
	for _, kept := range []int{10, 10000} {
		b.Run(fmt.Sprintf("kept=%d", kept), func(b *testing.B) {
			s, err := localsched.New(b.TempDir(), clock.System{}, func(context.Context, scheduler.Firing) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			at := scheduler.OneShot(time.Now().Add(24 * time.Hour))
			for i := range kept {
				if err := s.Create(context.Background(), scheduler.Schedule{Group: "g", Name: fmt.Sprintf("kept-%d", i), Expression: at}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Create(context.Background(), scheduler.Schedule{Group: "g", Name: fmt.Sprintf("new-%d", i), Expression: at}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
