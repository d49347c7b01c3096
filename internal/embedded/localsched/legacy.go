package localsched

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cavra-enterprise/aispm-reports/internal/embedded/atomicfile"
	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// record is one schedule as earlier versions kept it in "<group>.json".
type record struct {
	Name       string    `json:"name"`
	Expression string    `json:"expression"`
	Timezone   string    `json:"timezone,omitempty"`
	Payload    string    `json:"payload,omitempty"`
	Start      time.Time `json:"start,omitzero"`
	End        time.Time `json:"end,omitzero"`
	Enabled    bool      `json:"enabled"`
	Created    time.Time `json:"created"`
	Next       time.Time `json:"next,omitzero"`
}

type groupFile struct {
	Schedules []record `json:"schedules"`
}

// ImportFiles moves the schedules that earlier versions kept as one JSON file per group in
// dir into the table, with their creation and next firing times, and then removes the
// files (and dir, once empty). It returns how many schedules it added. All files go in
// one transaction; a name the table already holds is kept as it is, so an import
// interrupted before the files were removed is simply redone. A file that does not
// decode, or holds a schedule Create would refuse, stops the import with nothing changed.
func (s *Scheduler) ImportFiles(ctx context.Context, dir string) (int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(paths) == 0 {
		return 0, err
	}
	var entries []entry
	for _, p := range paths {
		es, err := loadGroup(p, strings.TrimSuffix(filepath.Base(p), ".json"))
		if err != nil {
			return 0, err
		}
		entries = append(entries, es...)
	}
	added := 0
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for i := range entries {
			ok, err := insert(ctx, tx, &entries[i])
			if err != nil {
				return fmt.Errorf("import schedule %s/%s: %w", entries[i].s.Group, entries[i].s.Name, err)
			}
			if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, removeImported(dir, paths)
}

// removeImported deletes the imported files; only after the commit, so a crash before it
// leaves them to be imported again.
func removeImported(dir string, paths []string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove imported schedules: %w", err)
		}
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("remove imported schedules: %w", err)
	}
	_ = os.Remove(dir) // fails harmlessly while other files remain
	return nil
}

func loadGroup(path, group string) ([]entry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schedules: %w", err)
	}
	var f groupFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	var entries []entry
	for _, r := range f.Schedules {
		sc := scheduler.Schedule{Group: group, Name: r.Name, Expression: r.Expression, Timezone: r.Timezone,
			Start: r.Start, End: r.End, Enabled: r.Enabled}
		if r.Payload != "" {
			sc.Payload = []byte(r.Payload)
		}
		// A file edited by hand must not smuggle in what Create would refuse.
		if err := scheduler.Validate(sc); err != nil {
			return nil, fmt.Errorf("%s: schedule %q: %w", path, r.Name, err)
		}
		entries = append(entries, entry{s: sc, created: r.Created, next: r.Next})
	}
	return entries, nil
}
