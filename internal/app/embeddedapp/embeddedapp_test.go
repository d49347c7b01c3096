package embeddedapp_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/app/embeddedapp"
	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
	"github.com/cavra-enterprise/aispm-reports/internal/objectstore"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

func open(t *testing.T, dir string) *embeddedapp.App {
	t.Helper()
	a, err := embeddedapp.Open(context.Background(), config.Embedded{DataDir: dir, PublicBaseURL: "http://127.0.0.1"}, clock.System{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return a
}

// plant writes a file whose modification time is age ago.
func plant(t *testing.T, path string, age time.Duration) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
	return path
}

// captureLog routes the default logger into a buffer for the test.
func captureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

func TestOpenSweepsStaleTempFilesOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := open(t, dir)
	info, err := a.Objects.Put(ctx, objectstore.PutInput{Key: "t/report.pdf", Body: strings.NewReader("pdf")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	keyDirs, _ := filepath.Glob(filepath.Join(dir, "objects", "objects", "*"))
	if len(keyDirs) != 1 {
		t.Fatalf("want one key folder, have %v", keyDirs)
	}
	hour := time.Hour
	stale := []string{
		plant(t, filepath.Join(dir, ".tmp-101"), hour),           // beside approval-gates.json
		plant(t, filepath.Join(dir, "outbox", ".tmp-102"), hour), // beside the .eml files
		plant(t, filepath.Join(keyDirs[0], ".tmp-103"), hour),    // beside an object's sidecar
		plant(t, filepath.Join(dir, "schedules", ".tmp-104"), hour),
	}
	fresh := []string{
		plant(t, filepath.Join(dir, ".tmp-201"), time.Second),
		plant(t, filepath.Join(keyDirs[0], ".tmp-202"), time.Second),
		plant(t, filepath.Join(dir, "outbox", "notes.txt"), hour), // not a temp name
	}
	logs := captureLog(t)

	a = open(t, dir)
	defer a.Close()
	for _, p := range stale {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("stale %s survived the start: %v", p, err)
		}
	}
	for _, p := range fresh {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	body, _, err := a.Objects.Get(ctx, "t/report.pdf", info.VersionID)
	if err != nil {
		t.Fatalf("the object after the sweep: %v", err)
	}
	body.Close()
	if !strings.Contains(logs.String(), "count=4") {
		t.Errorf("log does not report the 4 removed files:\n%s", logs)
	}
}

func TestOpenImportsScheduleFilesOfEarlierVersions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	at := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
	file := filepath.Join(dir, "schedules", "tenant-acme.json")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	raw := `{"schedules":[{"name":"artifact-expiry-x","expression":"` + scheduler.OneShot(at) +
		`","payload":"{\"kind\":\"artifact_expiry\"}","enabled":true,"created":"2026-01-01T00:00:00Z","next":"` +
		at.Format(time.RFC3339) + `"}]}`
	if err := os.WriteFile(file, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	a := open(t, dir)
	got, err := a.Scheduler.Get(ctx, "tenant-acme", "artifact-expiry-x")
	if err != nil || got.Expression != scheduler.OneShot(at) || string(got.Payload) != `{"kind":"artifact_expiry"}` {
		t.Fatalf("imported schedule = %+v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
		t.Errorf("schedule folder left after the import: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = open(t, dir) // the schedule now lives in the database file
	defer a.Close()
	if _, err := a.Scheduler.Get(ctx, "tenant-acme", "artifact-expiry-x"); err != nil {
		t.Errorf("imported schedule after a restart: %v", err)
	}
}
