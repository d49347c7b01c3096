package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // the driver the item store uses

	"github.com/cavra-enterprise/aispm-reports/internal/clock"
	"github.com/cavra-enterprise/aispm-reports/internal/embedded/sqlitestore"
)

// storeParams are the item store's own connection settings (sqlitestore.Open's writer): WAL,
// synchronous=NORMAL, immediate transactions. The reference must write under the same ones.
const storeParams = "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"

type itemRow struct {
	pk, sk         string
	gsi1pk, gsi1sk sql.NullString
	expiresAt, ver int64
	data           []byte
}

type changeRow struct {
	kind, pk, sk string
	old, new     sql.NullString
	atUnix       int64
}

// rows are what the product wrote to its item store during a measurement.
type rows struct {
	items   []itemRow
	changes []changeRow
}

func (r rows) count() int { return len(r.items) + len(r.changes) }

func openStore(ctx context.Context, path, params string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+params)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// lastSeq is the newest change in the product's file: the rows after it are the measurement's.
func lastSeq(ctx context.Context, path string) (int64, error) {
	db, err := openStore(ctx, path, storeParams)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var seq int64
	err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq)
	return seq, err
}

// readRows reads every change after seq, and every item those changes wrote, as stored.
func readRows(ctx context.Context, path string, seq int64) (rows, error) {
	db, err := openStore(ctx, path, storeParams)
	if err != nil {
		return rows{}, err
	}
	defer db.Close()
	var out rows
	if out.items, err = readItems(ctx, db, seq); err != nil {
		return rows{}, fmt.Errorf("read items: %w", err)
	}
	if out.changes, err = readChanges(ctx, db, seq); err != nil {
		return rows{}, fmt.Errorf("read changes: %w", err)
	}
	return out, nil
}

func readItems(ctx context.Context, db *sql.DB, seq int64) ([]itemRow, error) {
	rs, err := db.QueryContext(ctx, `SELECT pk, sk, gsi1pk, gsi1sk, expires_at, ver, data FROM items
		WHERE (pk, sk) IN (SELECT pk, sk FROM changes WHERE seq > ?)`, seq)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []itemRow
	for rs.Next() {
		var r itemRow
		if err := rs.Scan(&r.pk, &r.sk, &r.gsi1pk, &r.gsi1sk, &r.expiresAt, &r.ver, &r.data); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

func readChanges(ctx context.Context, db *sql.DB, seq int64) ([]changeRow, error) {
	rs, err := db.QueryContext(ctx, `SELECT kind, pk, sk, old, new, at_unix FROM changes WHERE seq > ? ORDER BY seq`, seq)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []changeRow
	for rs.Next() {
		var r changeRow
		if err := rs.Scan(&r.kind, &r.pk, &r.sk, &r.old, &r.new, &r.atUnix); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// insertRows writes r into a fresh file with the item store's schema (created by the store
// itself) and settings, in one transaction, and returns the time from BEGIN to COMMIT.
func insertRows(ctx context.Context, path string, r rows) (time.Duration, error) {
	st, err := sqlitestore.Open(ctx, path, clock.NewManual(now))
	if err != nil {
		return 0, err
	}
	if err := st.Close(); err != nil {
		return 0, err
	}
	db, err := openStore(ctx, path, storeParams)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	if err := insertAll(ctx, tx, r); err != nil {
		tx.Rollback()
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func insertAll(ctx context.Context, tx *sql.Tx, r rows) error {
	items, err := tx.PrepareContext(ctx, `INSERT INTO items (pk, sk, gsi1pk, gsi1sk, expires_at, ver, data) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer items.Close()
	for _, it := range r.items {
		if _, err := items.ExecContext(ctx, it.pk, it.sk, it.gsi1pk, it.gsi1sk, it.expiresAt, it.ver, it.data); err != nil {
			return fmt.Errorf("insert item: %w", err)
		}
	}
	changes, err := tx.PrepareContext(ctx, `INSERT INTO changes (kind, pk, sk, old, new, at_unix) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer changes.Close()
	for _, c := range r.changes {
		if _, err := changes.ExecContext(ctx, c.kind, c.pk, c.sk, c.old, c.new, c.atUnix); err != nil {
			return fmt.Errorf("insert change: %w", err)
		}
	}
	return nil
}
