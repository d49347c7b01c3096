package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
)

func TestSweepRemovesOnlyStaleTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "objects", "a")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	write := func(path string, age time.Duration) {
		t.Helper()
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	stale := []string{filepath.Join(root, ".tmp-111"), filepath.Join(sub, ".tmp-222")}
	for _, p := range stale {
		write(p, time.Hour)
	}
	fresh := filepath.Join(sub, ".tmp-333") // a write in progress in another process
	write(fresh, time.Second)
	object := filepath.Join(sub, "data")
	write(object, time.Hour)
	// A link named like a temporary file, pointing at a real file elsewhere: neither goes.
	outside := filepath.Join(t.TempDir(), "precious")
	write(outside, time.Hour)
	link := filepath.Join(sub, ".tmp-link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}

	n, err := atomicfile.Sweep(root, atomicfile.IsTemp, time.Minute, now)
	if err != nil || n != len(stale) {
		t.Fatalf("Sweep = %d, %v; want %d", n, err, len(stale))
	}
	for _, p := range stale {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("stale %s kept", p)
		}
	}
	for _, p := range []string{fresh, object, outside, link} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if n, err := atomicfile.Sweep(filepath.Join(root, "missing"), atomicfile.IsTemp, time.Minute, now); n != 0 || err != nil {
		t.Fatalf("missing root: %d, %v", n, err)
	}
}
