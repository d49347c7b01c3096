package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
)

// plant creates a file aged by age.
func plant(t *testing.T, path string, age time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o444); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-age)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func TestSweepTempRemovesOnlyStaleTempFiles(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	hour := time.Hour
	plant(t, filepath.Join(dir, ".tmp-123"), hour)       // stale: goes
	plant(t, filepath.Join(dir, ".tmp-4567890"), hour)   // stale: goes
	plant(t, filepath.Join(dir, ".tmp-42"), time.Second) // a write in progress: stays
	plant(t, filepath.Join(dir, "state.json"), hour)     // real file: stays
	plant(t, filepath.Join(dir, ".tmp-notdigits"), hour) // not a name Write makes
	plant(t, filepath.Join(dir, "x.tmp-1"), hour)        // nor this
	plant(t, filepath.Join(dir, ".tmp-"), hour)          // nor this
	plant(t, filepath.Join(outside, ".tmp-77"), hour)    // a symlink's target
	if err := os.Symlink(filepath.Join(outside, ".tmp-77"), filepath.Join(dir, ".tmp-77")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".tmp-9"), 0o700); err != nil { // a folder, not a file
		t.Fatal(err)
	}
	plant(t, filepath.Join(dir, ".tmp-9", ".tmp-1"), hour) // subfolders are not swept

	n, err := atomicfile.SweepTemp(dir, atomicfile.MinTempAge)
	if err != nil || n != 2 {
		t.Fatalf("SweepTemp = %d, %v; want 2 removed", n, err)
	}
	for _, gone := range []string{".tmp-123", ".tmp-4567890"} {
		if _, err := os.Lstat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("stale %s still there: %v", gone, err)
		}
	}
	for _, kept := range []string{".tmp-42", "state.json", ".tmp-notdigits", "x.tmp-1", ".tmp-", ".tmp-77", ".tmp-9/.tmp-1"} {
		if _, err := os.Lstat(filepath.Join(dir, kept)); err != nil {
			t.Errorf("%s was removed: %v", kept, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, ".tmp-77")); err != nil {
		t.Errorf("the symlink was followed: %v", err)
	}
	if n, err := atomicfile.SweepTemp(filepath.Join(dir, "missing"), atomicfile.MinTempAge); n != 0 || err != nil {
		t.Errorf("SweepTemp of a missing folder = %d, %v; want 0, nil", n, err)
	}
}
