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

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// record is one schedule as kept in its row.
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

// dbFile is the SQLite file in the scheduler's folder: one row per schedule, so a change
// writes one row whatever the number of schedules (a fired one-shot's row is deleted).
const dbFile = "schedules.db"

const schema = `CREATE TABLE IF NOT EXISTS schedules (
	grp    TEXT NOT NULL,
	name   TEXT NOT NULL,
	record TEXT NOT NULL,
	PRIMARY KEY (grp, name)
) WITHOUT ROWID;`

func openDB(ctx context.Context, dir string) (*sql.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("schedule dir: %w", err)
	}
	// One connection: the scheduler serialises its writes under its own lock anyway;
	// busy_timeout covers another process (an operator CLI) holding the write lock.
	db, err := sql.Open("sqlite", filepath.Join(dir, dbFile)+"?_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL")
	if err != nil {
		return nil, fmt.Errorf("open schedules: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schedules table: %w", err)
	}
	return db, nil
}

// put writes one schedule's row; callers hold s.mu.
func (s *Scheduler) put(ctx context.Context, group string, e *entry) error {
	raw, err := json.Marshal(record{
		Name: e.s.Name, Expression: e.s.Expression, Timezone: e.s.Timezone, Payload: string(e.s.Payload),
		Start: e.s.Start, End: e.s.End, Enabled: e.s.Enabled, Created: e.created, Next: e.next,
	})
	if err != nil {
		return fmt.Errorf("encode schedule %s/%s: %w", group, e.s.Name, err)
	}
	if _, err := s.db.ExecContext(context.WithoutCancel(ctx),
		`INSERT INTO schedules (grp, name, record) VALUES (?, ?, ?) ON CONFLICT (grp, name) DO UPDATE SET record = excluded.record`,
		group, e.s.Name, string(raw)); err != nil {
		return fmt.Errorf("store schedule %s/%s: %w", group, e.s.Name, err)
	}
	return nil
}

// remove deletes one schedule's row; callers hold s.mu.
func (s *Scheduler) remove(ctx context.Context, group, name string) error {
	if _, err := s.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM schedules WHERE grp = ? AND name = ?`, group, name); err != nil {
		return fmt.Errorf("delete schedule %s/%s: %w", group, name, err)
	}
	return nil
}

func loadAll(ctx context.Context, db *sql.DB) (map[string]map[string]*entry, error) {
	rows, err := db.QueryContext(ctx, `SELECT grp, record FROM schedules`)
	if err != nil {
		return nil, fmt.Errorf("read schedules: %w", err)
	}
	defer rows.Close()
	groups := map[string]map[string]*entry{}
	for rows.Next() {
		var group, raw string
		if err := rows.Scan(&group, &raw); err != nil {
			return nil, fmt.Errorf("read schedules: %w", err)
		}
		var r record
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("decode schedule of %s: %w", group, err)
		}
		e, err := r.entry(group)
		if err != nil {
			return nil, err
		}
		if groups[group] == nil {
			groups[group] = map[string]*entry{}
		}
		groups[group][r.Name] = e
	}
	return groups, rows.Err()
}

func (r record) entry(group string) (*entry, error) {
	sc := scheduler.Schedule{Group: group, Name: r.Name, Expression: r.Expression, Timezone: r.Timezone,
		Start: r.Start, End: r.End, Enabled: r.Enabled}
	if r.Payload != "" {
		sc.Payload = []byte(r.Payload)
	}
	// A row edited by hand must not smuggle in what Create would refuse.
	if err := scheduler.Validate(sc); err != nil {
		return nil, fmt.Errorf("schedule %s/%s: %w", group, r.Name, err)
	}
	return &entry{s: sc, created: r.Created, next: r.Next}, nil
}

// importGroupFiles moves schedules kept by earlier versions, one JSON file per group
// ("<group>.json" holding {"schedules":[...]}) into the table, then removes each file. A
// row already present wins, so an import interrupted half-way and run again changes nothing.
func importGroupFiles(ctx context.Context, db *sql.DB, dir string) (int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return 0, fmt.Errorf("schedule dir: %w", err)
	}
	n := 0
	for _, p := range paths {
		group := strings.TrimSuffix(filepath.Base(p), ".json")
		raw, err := os.ReadFile(p)
		if err != nil {
			return n, fmt.Errorf("read %s: %w", p, err)
		}
		var f struct {
			Schedules []record `json:"schedules"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return n, fmt.Errorf("decode %s: %w", p, err)
		}
		for _, r := range f.Schedules {
			if _, err := r.entry(group); err != nil {
				return n, fmt.Errorf("%s: %w", p, err)
			}
			b, _ := json.Marshal(r)
			res, err := db.ExecContext(ctx, `INSERT INTO schedules (grp, name, record) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, group, r.Name, string(b))
			if err != nil {
				return n, fmt.Errorf("import %s/%s: %w", group, r.Name, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				n++
			}
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove imported %s: %w", p, err)
		}
	}
	return n, nil
}
