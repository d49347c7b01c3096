package localsched

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cavra-enterprise/aispm-reports/internal/scheduler"
)

// The table lives beside the item store's tables in the same file; CREATE ... IF NOT
// EXISTS makes opening idempotent, whichever of the two opens the file first.
const schema = `
CREATE TABLE IF NOT EXISTS schedules (
	-- id is never reused (AUTOINCREMENT): with version it tells a firing in flight whether
	-- its row is still the one it fired, even after a delete and a re-create of the name.
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	grp        TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	expression TEXT    NOT NULL,
	timezone   TEXT    NOT NULL,
	payload    BLOB,             -- byte for byte; NULL when empty
	start_at   TEXT,             -- RFC 3339; NULL = unbounded
	end_at     TEXT,
	enabled    INTEGER NOT NULL,
	created_at TEXT    NOT NULL, -- a rate() without a start counts from here
	next_at    TEXT,             -- the next firing; NULL when it will not fire again
	next_unix  INTEGER,          -- next_at in whole seconds, for the due index
	version    INTEGER NOT NULL, -- bumped by Update
	UNIQUE (grp, name)
);
CREATE INDEX IF NOT EXISTS schedules_due ON schedules (next_unix) WHERE enabled = 1 AND next_unix IS NOT NULL;`

const columns = `id, version, grp, name, expression, timezone, payload, start_at, end_at, enabled, created_at, next_at`

// openDB opens the writer connection on the SQLite file at path and creates the table.
// One connection: the scheduler's writes queue in Go instead of racing each other for the
// file's write lock; busy_timeout covers the item store's writer, which holds its own.
// synchronous=FULL makes every change durable when the call returns, as the fsynced
// schedule files were (the item store uses NORMAL).
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("open schedules %q: need a plain file path", path)
	}
	dsn := path + "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open schedules in %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schedules table in %s: %w", path, err)
	}
	return db, nil
}

// row is an entry as the table holds it.
type row struct {
	id, version int64
	e           entry
}

type scanner interface{ Scan(dest ...any) error }

func scanRow(sc scanner) (row, error) {
	var r row
	var enabled int64
	var start, end, next sql.NullString
	var created string
	s := &r.e.s
	if err := sc.Scan(&r.id, &r.version, &s.Group, &s.Name, &s.Expression, &s.Timezone, &s.Payload,
		&start, &end, &enabled, &created, &next); err != nil {
		return row{}, err
	}
	if len(s.Payload) == 0 {
		s.Payload = nil
	}
	s.Enabled = enabled != 0
	var err error
	for _, f := range []struct {
		col sql.NullString
		dst *time.Time
	}{{start, &s.Start}, {end, &s.End}, {sql.NullString{String: created, Valid: true}, &r.e.created}, {next, &r.e.next}} {
		if err == nil && f.col.Valid {
			err = f.dst.UnmarshalText([]byte(f.col.String))
		}
	}
	if err != nil {
		return row{}, fmt.Errorf("decode schedule %s/%s: %w", s.Group, s.Name, err)
	}
	return r, nil
}

// values are an entry's columns from grp to next_unix, in the order of the table.
func values(e *entry) ([]any, error) {
	start, err := timeText(e.s.Start)
	if err != nil {
		return nil, err
	}
	end, err := timeText(e.s.End)
	if err != nil {
		return nil, err
	}
	next, err := timeText(e.next)
	if err != nil {
		return nil, err
	}
	created, err := e.created.UTC().MarshalText()
	if err != nil {
		return nil, err
	}
	var nextUnix any
	if !e.next.IsZero() {
		nextUnix = e.next.Unix()
	}
	var payload any
	if len(e.s.Payload) > 0 {
		payload = e.s.Payload
	}
	return []any{e.s.Group, e.s.Name, e.s.Expression, e.s.Timezone, payload, start, end,
		e.s.Enabled, string(created), next, nextUnix}, nil
}

// timeText is t in RFC 3339 (UTC), or NULL for the zero time.
func timeText(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	b, err := t.UTC().MarshalText()
	if err != nil {
		return nil, fmt.Errorf("%w: time %s: %v", scheduler.ErrInvalid, t, err)
	}
	return string(b), nil
}

const insertRow = `INSERT INTO schedules (grp, name, expression, timezone, payload, start_at, end_at, enabled,
	created_at, next_at, next_unix, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
	ON CONFLICT (grp, name) DO NOTHING`

// insert adds the entry unless its group already has the name; it reports whether it did.
func insert(ctx context.Context, q execer, e *entry) (bool, error) {
	v, err := values(e)
	if err != nil {
		return false, err
	}
	res, err := q.ExecContext(ctx, insertRow, v...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// load returns the group's schedule of that name, or ErrNotFound.
func load(ctx context.Context, q querier, group, name string) (row, error) {
	r, err := scanRow(q.QueryRowContext(ctx, `SELECT `+columns+` FROM schedules WHERE grp = ? AND name = ?`, group, name))
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, scheduler.ErrNotFound
	}
	return r, err
}

// inTx runs fn in one IMMEDIATE transaction and commits it when fn succeeds.
func (s *Scheduler) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
