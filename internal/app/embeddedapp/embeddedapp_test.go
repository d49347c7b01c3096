package embeddedapp

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/config"
)

// TestOpenSweepsFilesOfInterruptedWrites: what a write killed mid-way leaves in the data
// folder is gone after the next start, and nothing else is.
func TestOpenSweepsFilesOfInterruptedWrites(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Embedded{Listen: "127.0.0.1:0", DataDir: dir, PublicBaseURL: "http://127.0.0.1"}
	open := func() {
		t.Helper()
		a, err := Open(context.Background(), cfg, clock.System{})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	open() // creates every adapter's folders
	old := time.Now().Add(-time.Hour)
	place := func(path string, mtime time.Time) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return path
	}
	stale := []string{
		place(filepath.Join(dir, "schedules", ".tmp-1234"), old),
		place(filepath.Join(dir, "outbox", ".tmp-5678"), old),
		place(filepath.Join(dir, "objects", "tmp", "body-42"), old),
		place(filepath.Join(dir, ".key-99"), old),
	}
	kept := []string{
		place(filepath.Join(dir, "schedules", ".tmp-live"), time.Now()),
		filepath.Join(dir, "aispm.db"),
		filepath.Join(dir, "signing.key"),
	}
	open()
	for _, p := range stale {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived the start: %v", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
}
