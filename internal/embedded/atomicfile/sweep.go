package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TempPrefix starts the name of every temporary file Write creates.
const TempPrefix = ".tmp-"

// IsTemp tells whether name is one of Write's temporary files.
func IsTemp(name string) bool { return strings.HasPrefix(name, TempPrefix) }

// Sweep removes the temporary files an interrupted write left under root: regular files
// whose name isTemp accepts and that were last modified more than minAge before now. The
// age keeps it safe while another process writes into the same folders (a live temporary
// file is renamed or removed within milliseconds); symbolic links are never followed or
// removed. It returns how many files it removed.
func Sweep(root string, isTemp func(name string) bool, minAge time.Duration, now time.Time) (int, error) {
	removed := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // gone meanwhile, or root not created yet
			}
			return err
		}
		if !d.Type().IsRegular() || !isTemp(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil || now.Sub(info.ModTime()) < minAge {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	return removed, err
}
