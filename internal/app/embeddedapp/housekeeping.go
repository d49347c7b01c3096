package embeddedapp

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/localsched"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/wormfs"
)

// legacyScheduleDir is where earlier versions kept one schedules file per group.
const legacyScheduleDir = "schedules"

// sweepTempFiles removes the temp files that interrupted atomic writes left in the data
// folder: beside the approval gates file, in the outbox, beside the legacy schedule files
// and in the object store's key folders. Only files older than atomicfile.MinTempAge go,
// since another process on the folder may be writing right now. A failed sweep is logged,
// never fatal: the leftovers are inert.
func sweepTempFiles(ctx context.Context, dataDir string, objects *wormfs.Store) {
	removed := 0
	var errs []error
	for _, dir := range []string{dataDir, filepath.Join(dataDir, "outbox"), filepath.Join(dataDir, legacyScheduleDir)} {
		n, err := atomicfile.SweepTemp(dir, atomicfile.MinTempAge)
		removed += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	n, err := objects.SweepTemp(ctx, atomicfile.MinTempAge)
	removed += n
	if err != nil {
		errs = append(errs, err)
	}
	for _, err := range errs {
		slog.WarnContext(ctx, "temp file sweep failed", "err", err)
	}
	if removed > 0 {
		slog.InfoContext(ctx, "removed temp files left by interrupted writes", "count", removed, "data_dir", dataDir)
	}
}

// importScheduleFiles moves schedules kept as files by earlier versions into SQLite.
func importScheduleFiles(ctx context.Context, sched *localsched.Scheduler, dir string) error {
	n, err := sched.ImportFiles(ctx, dir)
	if err != nil {
		return fmt.Errorf("import schedule files: %w", err)
	}
	if n > 0 {
		slog.InfoContext(ctx, "imported schedule files into the database", "count", n, "dir", dir)
	}
	return nil
}
