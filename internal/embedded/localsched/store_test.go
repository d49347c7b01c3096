package localsched_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/localsched"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// legacyFile writes a group's schedules the way earlier versions kept them.
func legacyFile(t *testing.T, dir, group string, schedules ...map[string]any) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(map[string]any{"schedules": schedules})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, group+".json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestImportFilesMovesSchedulesIntoTheTableOnce(t *testing.T) {
	ctx := context.Background()
	s, c, r, _ := setup(t)
	dir := filepath.Join(t.TempDir(), "schedules")
	// next is the file's own bookkeeping: a rate() already fired at 10:15, due at 10:30.
	legacyFile(t, dir, "tenant-a", map[string]any{
		"name": "kpi", "expression": "rate(15 minutes)", "payload": `{"kind":"kpi"}`, "enabled": true,
		"created": t0.Add(-time.Hour), "next": t0.Add(30 * time.Minute),
	}, map[string]any{
		"name": "expire", "expression": scheduler.OneShot(t0.Add(time.Minute)), "enabled": true, "created": t0,
		"next": t0.Add(time.Minute),
	})
	legacyFile(t, dir, "tenant-b", map[string]any{
		"name": "kpi", "expression": "rate(1 day)", "enabled": false, "created": t0, "next": t0.Add(24 * time.Hour),
	})
	// A name the table already has keeps the table's version.
	create(t, s, scheduler.Schedule{Group: "tenant-b", Name: "kpi", Expression: "rate(2 hours)"})

	n, err := s.ImportFiles(ctx, dir)
	if err != nil || n != 2 {
		t.Fatalf("ImportFiles = %d, %v; want 2 imported", n, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("schedule folder still there after the import: %v", err)
	}
	got, err := s.Get(ctx, "tenant-a", "kpi")
	if err != nil || got.Expression != "rate(15 minutes)" || string(got.Payload) != `{"kind":"kpi"}` || !got.Enabled {
		t.Fatalf("imported kpi = %+v, %v", got, err)
	}
	if at := next(t, s, "tenant-a", "kpi"); !at.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("imported next firing %s, want the file's %s", at, t0.Add(30*time.Minute))
	}
	if b, _ := s.Get(ctx, "tenant-b", "kpi"); b.Expression != "rate(2 hours)" {
		t.Errorf("import overwrote an existing schedule: %+v", b)
	}
	c.Advance(time.Minute)
	tick(t, s)
	if f := r.firings(); len(f) != 1 || f[0].Name != "expire" {
		t.Errorf("firings after import %+v, want the imported one-shot", f)
	}
	if n, err := s.ImportFiles(ctx, dir); err != nil || n != 0 {
		t.Errorf("second ImportFiles = %d, %v; want 0, nil", n, err)
	}
}

func TestImportFilesRefusesABadFileAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, _, _, _ := setup(t)
	dir := t.TempDir()
	legacyFile(t, dir, "tenant-a", map[string]any{"name": "ok", "expression": "rate(1 day)", "created": t0})
	legacyFile(t, dir, "tenant-b", map[string]any{"name": "bad", "expression": "every day", "created": t0})
	if _, err := s.ImportFiles(ctx, dir); !errors.Is(err, scheduler.ErrInvalid) {
		t.Fatalf("ImportFiles of an invalid schedule = %v, want ErrInvalid", err)
	}
	if list, _ := s.List(ctx, "tenant-a"); len(list) != 0 {
		t.Errorf("a refused import added %d schedules", len(list))
	}
	if _, err := os.Stat(filepath.Join(dir, "tenant-a.json")); err != nil {
		t.Errorf("a refused import removed the files: %v", err)
	}
}

// The callback changes the schedule that is firing; settling the firing must not undo it.
func TestFiringKeepsChangesMadeWhileInFlight(t *testing.T) {
	ctx := context.Background()
	c := clock.NewManual(t0)
	var s *localsched.Scheduler
	later := scheduler.OneShot(t0.Add(time.Hour))
	s = open(t, dbPath(t), c, func(ctx context.Context, f scheduler.Firing) error {
		switch f.Name {
		case "recreated": // deleted and created anew under the same name
			if err := s.Delete(ctx, f.Group, f.Name); err != nil {
				return err
			}
			return s.Create(ctx, scheduler.Schedule{Group: f.Group, Name: f.Name, Expression: later, Enabled: true})
		case "updated":
			return s.Update(ctx, scheduler.Schedule{Group: f.Group, Name: f.Name, Expression: "rate(1 hour)", Enabled: true})
		}
		return nil
	})
	create(t, s, scheduler.Schedule{Group: "g", Name: "recreated", Expression: scheduler.OneShot(t0.Add(time.Minute)), Enabled: true})
	create(t, s, scheduler.Schedule{Group: "g", Name: "updated", Expression: "rate(1 minute)", Enabled: true})
	c.Advance(time.Minute)
	tick(t, s)
	if got, err := s.Get(ctx, "g", "recreated"); err != nil || got.Expression != later {
		t.Errorf("one-shot re-created while firing = %+v, %v; want the new one kept", got, err)
	}
	// The update's rate counts from the creation at t0; settling would have made it t0+2m.
	if at := next(t, s, "g", "updated"); !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("schedule updated while firing next fires %s, want the update's %s", at, t0.Add(time.Hour))
	}
}

const crashEnv = "LOCALSCHED_CRASH_DB"

// A process that dies after the target ran but before the firing was settled must not
// lose the firing: the next process fires it again.
func TestCrashAfterFiringRepeatsTheFiring(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashWhileFiring(path)
		return
	}
	path := dbPath(t)
	c := clock.NewManual(t0)
	r := &recorder{}
	s := open(t, path, c, r.fire)
	create(t, s, scheduler.Schedule{Group: "g", Name: "once", Expression: scheduler.OneShot(t0), Enabled: true})

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashAfterFiringRepeatsTheFiring$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("crashing process ended with %v, want exit 3 from inside the callback:\n%s", err, out)
	}
	if _, err := os.Stat(path + ".fired"); err != nil {
		t.Fatalf("the crashing process did not run the target: %v", err)
	}
	tick(t, s)
	if f := r.firings(); len(f) != 1 || f[0].Name != "once" {
		t.Fatalf("firings after the crash %+v, want the one-shot again", f)
	}
	if _, err := s.Get(context.Background(), "g", "once"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("one-shot after its repeated firing: %v, want ErrNotFound", err)
	}
}

// crashWhileFiring runs the target (it leaves a marker file) and exits before Tick can
// settle the firing.
func crashWhileFiring(path string) {
	s, err := localsched.Open(context.Background(), path, clock.NewManual(t0), func(context.Context, scheduler.Firing) error {
		if err := os.WriteFile(path+".fired", nil, 0o600); err != nil {
			os.Exit(2)
		}
		os.Exit(3)
		return nil
	})
	if err != nil {
		os.Exit(2)
	}
	_ = s.Tick(context.Background())
	os.Exit(4) // the schedule was not due
}

func TestSharesTheItemStoreFile(t *testing.T) {
	ctx := context.Background()
	path := dbPath(t)
	items, err := sqlitestore.Open(ctx, path, clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	defer items.Close()
	s := open(t, path, clock.System{}, func(context.Context, scheduler.Firing) error { return nil })
	open(t, path, clock.System{}, func(context.Context, scheduler.Firing) error { return nil }) // table creation is idempotent
	create(t, s, scheduler.Schedule{Group: "g", Name: "x", Expression: "rate(1 day)"})
	if _, err := items.Put(ctx, itemstore.Write{Item: itemstore.Item{PK: "T", SK: "a", Data: []byte(`{}`)}}); err != nil {
		t.Fatalf("item write beside the scheduler: %v", err)
	}
	if _, err := s.Get(ctx, "g", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := items.Get(ctx, "T", "a"); err != nil {
		t.Fatal(err)
	}
}

// seeded opens a scheduler whose table already holds n one-shots (imported in one go,
// as a data folder of an earlier version would be), with a clean write-ahead log.
func seeded(tb testing.TB, n int) (*localsched.Scheduler, string) {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "aispm.db")
	s, err := localsched.Open(context.Background(), path, clock.NewManual(t0), func(context.Context, scheduler.Firing) error { return nil })
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	records := make([]map[string]any, n)
	for i := range records {
		records[i] = map[string]any{"name": fmt.Sprintf("delivery-retry-%08d", i), "enabled": true, "created": t0,
			"expression": scheduler.OneShot(t0.Add(time.Duration(i) * time.Second)), "next": t0.Add(time.Duration(i) * time.Second),
			"payload": `{"kind":"delivery_sweep","tenant_id":"acme"}`}
	}
	raw, _ := json.Marshal(map[string]any{"schedules": records})
	if err := os.WriteFile(filepath.Join(dir, "tenant-acme.json"), raw, 0o600); err != nil {
		tb.Fatal(err)
	}
	if got, err := s.ImportFiles(context.Background(), dir); err != nil || got != n {
		tb.Fatalf("seed %d schedules: %d, %v", n, got, err)
	}
	checkpoint(tb, path)
	return s, path
}

// checkpoint moves the write-ahead log into the database file and empties it.
func checkpoint(tb testing.TB, path string) {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var busy, logged, done int
	if err := db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &done); err != nil || busy != 0 {
		tb.Fatalf("checkpoint: busy %d, %v", busy, err)
	}
}

func createMany(tb testing.TB, s *localsched.Scheduler, prefix string, n int) {
	tb.Helper()
	for i := range n {
		err := s.Create(context.Background(), scheduler.Schedule{Group: "tenant-acme", Name: fmt.Sprintf("%s-%d", prefix, i),
			Expression: scheduler.OneShot(t0.Add(time.Hour)), Payload: []byte(`{"kind":"delivery_sweep","tenant_id":"acme"}`), Enabled: true})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// bytesPerCreate is what n Creates append to the write-ahead log, per Create: every page a
// commit changes goes there whole, so it is the bytes written per change.
func bytesPerCreate(t *testing.T, existing, n int) float64 {
	s, path := seeded(t, existing)
	createMany(t, s, "new", n)
	info, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return float64(info.Size()) / float64(n)
}

// A Create writes about the same bytes whether 10 or 10,000 schedules exist (the schedule
// files grew with every schedule in the group and were rewritten whole on each change).
func TestCreateCostDoesNotGrowWithTheSchedules(t *testing.T) {
	const n = 50
	small, large := bytesPerCreate(t, 10, n), bytesPerCreate(t, 10_000, n)
	ratio := large / small
	t.Logf("bytes written per Create: %.0f with 10 schedules, %.0f with 10,000 (ratio %.2f)", small, large, ratio)
	if small == 0 || ratio > 1.5 {
		t.Errorf("bytes per Create grew from %.0f to %.0f (ratio %.2f) with 1000 times the schedules", small, large, ratio)
	}
}

func BenchmarkCreate(b *testing.B) {
	for _, existing := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("existing=%d", existing), func(b *testing.B) {
			s, _ := seeded(b, existing)
			b.ResetTimer()
			createMany(b, s, "bench", b.N)
		})
	}
}
