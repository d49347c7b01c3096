package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempPattern is the os.CreateTemp pattern of Write's temporary files: tempPrefix, then
// the decimal digits CreateTemp puts in place of the "*".
const (
	tempPrefix  = ".tmp-"
	tempPattern = tempPrefix + "*"
)

// MinTempAge is how old a temporary file must be before SweepTemp removes it. A younger
// one may belong to a write in progress: another process on the same data folder (a CLI
// command beside the running server) can be between creating and renaming it right now,
// and Write, which holds the whole file in memory, finishes in far less than a minute. The
// modification time moves with every write, so the age counts from the last one.
const MinTempAge = time.Minute

// IsTemp reports whether name has the form of Write's temporary files.
func IsTemp(name string) bool {
	digits, ok := strings.CutPrefix(name, tempPrefix)
	return ok && digits != "" && strings.Trim(digits, "0123456789") == ""
}

// SweepTemp removes from dir (not its subfolders) the regular files named like Write's
// temporary files whose modification time is at least minAge ago, and returns how many
// it removed. Symlinks are never followed or removed, whatever their name. A missing dir
// holds nothing to sweep. Age is judged by the wall clock, the clock file times are
// written with, never by an application clock.
func SweepTemp(dir string, minAge time.Duration) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sweep temp files in %s: %w", dir, err)
	}
	cutoff := time.Now().Add(-minAge)
	removed := 0
	var errs []error
	for _, e := range entries {
		// ReadDir reports the entry itself (lstat), so a symlink is not a regular file here.
		if !e.Type().IsRegular() || !IsTemp(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // its writer renamed or removed it meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !info.Mode().IsRegular() || info.ModTime().After(cutoff) {
			continue
		}
		// Remove never follows a symlink in the last element, even one swapped in meanwhile.
		switch err := os.Remove(filepath.Join(dir, e.Name())); {
		case err == nil:
			removed++
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("sweep temp files in %s: %w", dir, err)
	}
	return removed, nil
}
