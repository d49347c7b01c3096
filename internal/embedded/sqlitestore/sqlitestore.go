// Package sqlitestore is the embedded adapter of the item store port: the single table of
// items in a SQLite file (pure Go, modernc.org/sqlite), with a change-feed table written in
// the same SQL transaction as every item write, so the feed can neither miss nor invent a
// write. It is what DynamoDB plus its stream is in AWS.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/itemstore"
)

var (
	_ itemstore.Store      = (*Store)(nil)
	_ itemstore.ChangeFeed = (*Store)(nil)
)

// Store is an item store in one SQLite file. Safe for concurrent use.
type Store struct {
	// w has exactly one connection: every write queues for it in Go instead of racing for
	// SQLite's write lock, so many concurrent writers never see SQLITE_BUSY.
	w *sql.DB
	// r serves reads; WAL lets them run beside the writer and see only committed data.
	r   *sql.DB
	clk clock.Clock
	// getR and getW are the prepared single-item select on each pool.
	getR, getW *sql.Stmt
}

const selectByKey = selectItem + ` WHERE pk = ? AND sk = ?`

const schema = `
CREATE TABLE IF NOT EXISTS items (
	pk         TEXT    NOT NULL,
	sk         TEXT    NOT NULL,
	gsi1pk     TEXT,
	gsi1sk     TEXT,
	expires_at INTEGER NOT NULL DEFAULT 0, -- epoch seconds, 0 = never
	ver        INTEGER NOT NULL,
	data       BLOB    NOT NULL,
	PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at) WHERE expires_at > 0;
CREATE TABLE IF NOT EXISTS changes (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: a seq is never reused
	kind    TEXT    NOT NULL,
	pk      TEXT    NOT NULL,
	sk      TEXT    NOT NULL,
	old     TEXT,   -- JSON image, NULL on insert
	new     TEXT,   -- JSON image, NULL on remove
	at_unix INTEGER NOT NULL -- nanoseconds
);`

// Open opens (creating if needed) the store in the SQLite file at path. path must be a
// file, not ":memory:": the reader and writer pools must share one database.
func Open(ctx context.Context, path string, clk clock.Clock) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("open item store %q: need a plain file path: %w", path, itemstore.ErrInvalid)
	}
	// busy_timeout still matters: another process (an operator CLI) may hold the write lock.
	params := "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL"
	w, err := openDB(ctx, path+params+"&_txlock=immediate", 1)
	if err != nil {
		return nil, err
	}
	if _, err := w.ExecContext(ctx, schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("create item store schema in %s: %w", path, err)
	}
	r, err := openDB(ctx, path+params+"&_pragma=query_only(1)", 8)
	if err != nil {
		w.Close()
		return nil, err
	}
	s := &Store{w: w, r: r, clk: clk}
	if s.getR, err = r.PrepareContext(ctx, selectByKey); err == nil {
		s.getW, err = w.PrepareContext(ctx, selectByKey)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("prepare item select: %w", err)
	}
	return s, nil
}

func openDB(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	return db, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.getR, s.getW} {
		if st != nil {
			st.Close()
		}
	}
	return errors.Join(s.w.Close(), s.r.Close())
}

// write runs fn in one IMMEDIATE transaction on the writer connection and commits it when
// fn succeeds. now is read once, so a transaction's conditions and changes share an instant.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin item store write: %w", err)
	}
	if err := fn(tx, s.clk.Now()); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit item store write: %w", err)
	}
	return nil
}
