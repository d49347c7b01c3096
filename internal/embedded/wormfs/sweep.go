package wormfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
)

// SweepTemp removes the sidecar temp files that interrupted writes left in the key
// directories (atomicfile's ".tmp-<digits>", at least minAge old; see
// atomicfile.MinTempAge) and returns how many it removed. Versions are untouched: a
// version is its ".json" sidecar, which a temp file never is. Symlinked entries are
// skipped, never followed. Bodies left in tmp/ are Open's business.
func (s *Store) SweepTemp(ctx context.Context, minAge time.Duration) (int, error) {
	objects := filepath.Join(s.root, "objects")
	dirs, err := os.ReadDir(objects)
	if err != nil {
		return 0, fmt.Errorf("wormfs: sweep temp files: %w", err)
	}
	removed := 0
	var errs []error
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if !d.IsDir() { // lstat type: a symlink to a folder is not one
			continue
		}
		n, err := atomicfile.SweepTemp(filepath.Join(objects, d.Name()), minAge)
		removed += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("wormfs: %w", err)
	}
	return removed, nil
}
