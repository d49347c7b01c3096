package localsched

import (
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

// record is one schedule as kept in its group's file.
type record struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
	Timezone   string `json:"timezone,omitempty"`
	// Payload is kept as a string so it comes back byte for byte, not re-indented.
	Payload string    `json:"payload,omitempty"`
	Start   time.Time `json:"start,omitzero"`
	End     time.Time `json:"end,omitzero"`
	Enabled bool      `json:"enabled"`
	Created time.Time `json:"created"`
	Next    time.Time `json:"next,omitzero"`
}

type groupFile struct {
	Schedules []record `json:"schedules"`
}

// Group names are [0-9A-Za-z_.-] (scheduler.ValidateName), so "<group>.json" never
// leaves the directory.
func (s *Scheduler) path(group string) string { return filepath.Join(s.dir, group+".json") }

// save writes the group's file atomically (temp file, fsync, rename); callers hold s.mu.
func (s *Scheduler) save(group string) error {
	entries := s.groups[group]
	if len(entries) == 0 {
		delete(s.groups, group)
		if err := os.Remove(s.path(group)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove schedules of %s: %w", group, err)
		}
		return nil
	}
	var f groupFile
	for _, e := range entries {
		f.Schedules = append(f.Schedules, record{
			Name: e.s.Name, Expression: e.s.Expression, Timezone: e.s.Timezone, Payload: string(e.s.Payload),
			Start: e.s.Start, End: e.s.End, Enabled: e.s.Enabled, Created: e.created, Next: e.next,
		})
	}
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode schedules of %s: %w", group, err)
	}
	return atomicfile.Write(s.path(group), raw, 0o600)
}

func loadAll(dir string) (map[string]map[string]*entry, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("schedule dir: %w", err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("schedule dir: %w", err)
	}
	groups := map[string]map[string]*entry{}
	for _, p := range paths {
		group := strings.TrimSuffix(filepath.Base(p), ".json")
		entries, err := loadGroup(p, group)
		if err != nil {
			return nil, err
		}
		groups[group] = entries
	}
	return groups, nil
}

func loadGroup(path, group string) (map[string]*entry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schedules: %w", err)
	}
	var f groupFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	entries := map[string]*entry{}
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
		entries[r.Name] = &entry{s: sc, created: r.Created, next: r.Next}
	}
	return entries, nil
}
